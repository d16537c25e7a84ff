package tokenstatus

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"math/bits"
	"sync"
)

// Allocator hands out the indexes of one status list, each drawn uniformly
// at random among the entries not yet handed out, so that an index says
// nothing about when its credential was issued (herd privacy). It is safe
// for concurrent use. Its state (which entries are taken) round-trips
// through MarshalBinary and UnmarshalBinary, so an issuer can persist it.
type Allocator struct {
	rand io.Reader

	mu   sync.Mutex // guards used and free
	used []uint64   // bit i set: entry i is taken
	n    int
	free int
}

// NewAllocator returns an Allocator for a list of size entries, which must
// be at least MinEntries.
func NewAllocator(size int) (*Allocator, error) {
	if size < MinEntries {
		return nil, fmt.Errorf("%w: a list of %d entries is smaller than %d: too few credentials to hide among", ErrRange, size, MinEntries)
	}
	return &Allocator{rand: rand.Reader, used: make([]uint64, (size+63)/64), n: size, free: size}, nil
}

// Len returns the size of the list.
func (a *Allocator) Len() int { return a.n }

// Free returns how many entries are not yet handed out.
func (a *Allocator) Free() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.free
}

// Allocate returns a free index, drawn uniformly at random among the free
// ones, and marks it taken. It returns [ErrListFull] when none is left.
func (a *Allocator) Allocate() (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.free == 0 {
		return 0, fmt.Errorf("%w: all %d entries are taken; start a new list", ErrListFull, a.n)
	}
	k, err := rand.Int(a.rand, big.NewInt(int64(a.free)))
	if err != nil {
		return 0, fmt.Errorf("status list index: %w", err)
	}
	i := a.kthFree(int(k.Int64()))
	a.used[i/64] |= 1 << (i % 64)
	a.free--
	return i, nil
}

// kthFree returns the index of the k-th (from 0) free entry. It counts
// free entries 64 at a time, about 2,000 word operations for the smallest
// list, so every free entry is equally likely whatever the list's fill.
func (a *Allocator) kthFree(k int) int {
	for w, word := range a.used {
		valid := 64
		if rem := a.n - w*64; rem < 64 {
			valid = rem
		}
		freeWord := ^word
		if valid < 64 {
			freeWord &= 1<<valid - 1
		}
		c := bits.OnesCount64(freeWord)
		if k >= c {
			k -= c
			continue
		}
		for ; ; k-- {
			b := bits.TrailingZeros64(freeWord)
			if k == 0 {
				return w*64 + b
			}
			freeWord &^= 1 << b
		}
	}
	panic("tokenstatus: free count out of step with the bitmap")
}

// Taken reports whether index i has been handed out.
func (a *Allocator) Taken(i int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return i >= 0 && i < a.n && a.used[i/64]&(1<<(i%64)) != 0
}

// MarshalBinary returns the allocator's state: the list size and the
// bitmap of taken entries.
func (a *Allocator) MarshalBinary() ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]byte, 8+8*len(a.used))
	binary.BigEndian.PutUint64(out, uint64(a.n))
	for i, w := range a.used {
		binary.BigEndian.PutUint64(out[8+8*i:], w)
	}
	return out, nil
}

// UnmarshalBinary restores a state written by MarshalBinary.
func (a *Allocator) UnmarshalBinary(b []byte) error {
	if len(b) < 8 {
		return fmt.Errorf("%w: allocator state too short", ErrMalformed)
	}
	n := binary.BigEndian.Uint64(b)
	if n < MinEntries || n > MaxDecodedBytes*8 || uint64(len(b)) != 8+8*((n+63)/64) {
		return fmt.Errorf("%w: allocator state: %d bytes that are not the state of an index allocator", ErrMalformed, len(b))
	}
	used := make([]uint64, (n+63)/64)
	free := int(n)
	for i := range used {
		used[i] = binary.BigEndian.Uint64(b[8+8*i:])
		free -= bits.OnesCount64(used[i])
	}
	if rem := int(n) % 64; rem != 0 && used[len(used)-1]>>rem != 0 {
		return fmt.Errorf("%w: allocator state marks entries beyond the list", ErrMalformed)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rand == nil {
		a.rand = rand.Reader
	}
	a.used, a.n, a.free = used, int(n), free
	return nil
}
