package statuslist

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/internal/atomicfile"
)

// AllocBlock is how many indices a [FileAllocator] reserves with one write
// of its state file.
const AllocBlock = 256

// Errors of [FileAllocator].
var (
	// ErrListFull: every entry of the list has been handed out; start
	// issuing against a new list.
	ErrListFull = errors.New("status list is full")
	// ErrAllocatorState: the allocator's state file does not hold an index
	// (see [StateError]).
	ErrAllocatorState = errors.New("unreadable status list allocator state")
)

// StateError reports a [FileAllocator] state file that does not hold the
// next free index. It wraps [ErrAllocatorState].
type StateError struct{ Path string }

func (e *StateError) Error() string {
	return e.Path + " does not hold the next free index: fix or delete it"
}

// Unwrap returns [ErrAllocatorState].
func (e *StateError) Unwrap() error { return ErrAllocatorState }

// FileAllocator hands out the entries of one status list in order, for an
// issuer that gives every credential its own entry (it implements
// openid4vci.StatusAllocator). The next free index lives in a state file,
// and indices are reserved in blocks of [AllocBlock]: before handing out an
// index of a new block the allocator durably records the block's end
// (atomic replace, synced), so after a crash it resumes at that end. An
// index is therefore never handed out twice, at worst the rest of a block
// is skipped. Safe for concurrent use; two allocators (or two processes)
// MUST NOT share a state file.
type FileAllocator struct {
	state   string // the state file
	id      string // the status list credential id
	purpose Purpose
	size    int

	mu       sync.Mutex // guards next, reserved
	next     int        // the next index to hand out
	reserved int        // indices below this are recorded as used in state
}

// NewFileAllocator returns an allocator over list d (a list owned by
// issuer, see [ParseToken]) whose state file is state (conventionally the
// list file's name + ".next"). A missing state file starts at index 0.
// Errors: an [*OwnerError] when d is not issuer's, a [*StateError] for a
// state file that holds no index, or the file system's.
func NewFileAllocator(state string, d *Decoded, issuer string) (*FileAllocator, error) {
	if d == nil || d.List == nil || d.ID == "" {
		return nil, errors.New("statuslist: allocator: no decoded status list with an id")
	}
	if d.Issuer != issuer {
		return nil, &OwnerError{List: d.ID, Owner: d.Issuer, Issuer: issuer}
	}
	a := &FileAllocator{state: state, id: d.ID, purpose: d.Purpose, size: d.List.Len()}
	b, err := os.ReadFile(state)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || n < 0 {
			return nil, &StateError{Path: state}
		}
		a.next, a.reserved = n, n
	}
	return a, nil
}

// Allocate returns the status entry of the next free index (see [Entry]).
// Errors: one wrapping [ErrListFull] when the list is used up, or the
// state file's write error (nothing was handed out).
func (a *FileAllocator) Allocate(ctx context.Context) (vc.Status, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next >= a.size {
		return vc.Status{}, fmt.Errorf("%w: %s (%d entries): start the issuer with a new list", ErrListFull, a.id, a.size)
	}
	if a.next >= a.reserved {
		r := min(a.next+AllocBlock, a.size)
		if err := atomicfile.WriteFile(a.state, []byte(strconv.Itoa(r)+"\n"), 0o644); err != nil {
			return vc.Status{}, err
		}
		a.reserved = r
	}
	i := a.next
	a.next++
	return Entry(a.id, a.purpose, i), nil
}
