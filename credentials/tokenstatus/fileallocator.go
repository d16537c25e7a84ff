package tokenstatus

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/medid/medid/internal/atomicfile"
)

// FileAllocator hands out random free entries of one Token Status List
// (an [Allocator]) and keeps which ones are taken in a state file, written
// ([Allocator.MarshalBinary], atomic replace, synced) before each index is
// returned: after a crash an index may be lost, never handed out twice.
// It implements openid4vci.TokenStatusAllocator. Safe for concurrent use;
// two allocators (or two processes) MUST NOT share a state file.
type FileAllocator struct {
	path string
	uri  string

	mu sync.Mutex // guards a and the state file
	a  *Allocator
}

// ErrOwner is returned by [OpenFileAllocator] for a list that is not the
// issuer's: verifiers only trust a list signed by a credential's issuer.
var ErrOwner = errors.New("token status list of another issuer")

// OpenFileAllocator returns the allocator whose state is in path, for the
// list t issued by issuer. The state file must exist (it is written with
// the list: [NewAllocator], [Allocator.MarshalBinary]) and describe at most
// as many entries as t holds. Errors: one wrapping [ErrOwner], one wrapping
// [ErrMalformed] for a state file that is not an allocator's (or is for a
// longer list), fs.ErrNotExist's, or the file system's.
func OpenFileAllocator(path string, t *Token, issuer string) (*FileAllocator, error) {
	if t == nil || t.List == nil || t.URI == "" {
		return nil, fmt.Errorf("%w: allocator: no token status list with a URI", ErrMalformed)
	}
	if err := t.ownedBy(issuer); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("allocator state %s: %w", path, err)
		}
		return nil, err
	}
	a := &Allocator{}
	if err := a.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("allocator state %s: %w", path, err)
	}
	if a.Len() > t.List.Len() {
		return nil, fmt.Errorf("%w: allocator state %s is for a list of %d entries, but %s has %d", ErrMalformed, path, a.Len(), clip(t.URI), t.List.Len())
	}
	return &FileAllocator{path: path, uri: t.URI, a: a}, nil
}

// Allocate draws a random free entry, records it in the state file and
// returns its reference. Errors: one wrapping [ErrListFull] when every
// entry is taken, or the state file's write error (the entry is then not
// handed out, nor ever offered again by this allocator).
func (f *FileAllocator) Allocate(context.Context) (Reference, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.a.Allocate()
	if err != nil {
		return Reference{}, err
	}
	state, err := f.a.MarshalBinary()
	if err != nil {
		return Reference{}, err
	}
	// The state says which credentials exist: the issuer's only.
	if err := atomicfile.WriteFile(f.path, state, 0o600); err != nil {
		return Reference{}, fmt.Errorf("save allocator state: %w", err)
	}
	return Reference{Index: i, URI: f.uri}, nil
}

// Free returns how many entries are still free.
func (f *FileAllocator) Free() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.a.Free()
}
