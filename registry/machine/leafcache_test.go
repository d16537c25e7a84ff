package machine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

func testNodeKey(version int64, nonce uint32) []byte {
	nk := binary.BigEndian.AppendUint64(nil, uint64(version))
	return binary.BigEndian.AppendUint32(nk, nonce)
}

func testLeaf(i, n int) []byte {
	return bytes.Repeat([]byte{byte(i), byte(i >> 8), byte(i >> 16)}, n/3+1)[:n]
}

// TestLeafCache checks the leaf cache against what was put: a leaf it
// returns is always the one put under that node key; it keeps the newest
// leaves up to its size (evicting the oldest first) and never more than
// its size holds. In "rings turn many times" each of fastcache's 512
// buckets (one 64 KiB ring at 32 MiB) receives ~390 leaves of 700 bytes,
// so keys sharing a bucket overwrite each other's place many times.
func TestLeafCache(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		name       string
		bytes      int
		leaves     int
		size       func(i int) int
		wantNewest int // at least this many of the newest leaves are still cached
		wantMax    int // at most this many leaves are cached
	}{
		{"everything fits", 64 * mb, 10_000, func(int) int { return 700 }, 10_000, 10_000},
		{"rings turn many times", 32 * mb, 200_000, func(int) int { return 700 }, 10_000, 32 * mb / (4 + 12 + 700)},
		{"sizes vary", 32 * mb, 50_000, func(i int) int { return 1 + i*7919%4000 }, 2_000, 32 * mb / (4 + 12 + 1)},
		{"largest cached", 64 * mb, 100, func(int) int { return leafMaxEntry - 12 - 1 }, 100, 100},
		{"too large to cache", 64 * mb, 100, func(int) int { return leafMaxEntry - 12 }, 0, 0},
		{"much too large", 64 * mb, 10, func(int) int { return 1 << 17 }, 0, 0},
		{"empty leaves", 1, 1_000, func(int) int { return 0 }, 1_000, 1_000},
	} {
		t.Run(c.name, func(t *testing.T) {
			lc := newLeafCache(c.bytes)
			for i := range c.leaves {
				lc.put(testNodeKey(int64(i/100+1), uint32(i%100+1)), testLeaf(i, c.size(i)))
			}
			held := 0
			for i := range c.leaves {
				got, ok := lc.get(nil, testNodeKey(int64(i/100+1), uint32(i%100+1)))
				if ok {
					held++
					if !bytes.Equal(got, testLeaf(i, c.size(i))) {
						t.Fatalf("leaf %d: got %d bytes that are not the leaf put", i, len(got))
					}
				}
				if !ok && i >= c.leaves-c.wantNewest {
					t.Fatalf("leaf %d of %d (one of the %d newest) is not cached", i, c.leaves, c.wantNewest)
				}
			}
			if held > c.wantMax {
				t.Errorf("cached %d leaves, want at most %d", held, c.wantMax)
			}
			if _, ok := lc.get(nil, testNodeKey(999_999, 1)); ok {
				t.Error("a node key never put is cached")
			}
			lc.reset()
			if n := lc.len(); n != 0 {
				t.Errorf("after reset: %d leaves", n)
			}
			if _, ok := lc.get(nil, testNodeKey(int64((c.leaves-1)/100+1), uint32((c.leaves-1)%100+1))); ok {
				t.Error("after reset: the newest leaf is still cached")
			}
			// The cache works on after a reset.
			lc.put(testNodeKey(1, 1), []byte("again"))
			if got, ok := lc.get(nil, testNodeKey(1, 1)); !ok || string(got) != "again" {
				t.Errorf("after reset: got %q, %v", got, ok)
			}
		})
	}
}

// TestLeafCacheOverwriteAndDrop: a second put under a node key replaces
// the first (fastcache keeps one entry per key), get appends to dst, drop
// removes an entry and nothing else, and a nil cache (the disable switch)
// holds nothing.
func TestLeafCacheOverwriteAndDrop(t *testing.T) {
	lc := newLeafCache(1 << 20)
	nk, other := testNodeKey(7, 3), testNodeKey(7, 4)
	lc.put(nk, []byte("first"))
	lc.put(other, []byte("other"))
	lc.put(nk, []byte("second"))
	if got, _ := lc.get([]byte("x:"), nk); string(got) != "x:second" {
		t.Errorf("got %q, want x:second", got)
	}
	if n := lc.len(); n != 2 {
		t.Errorf("%d entries, want 2", n)
	}
	lc.drop(nk)
	if got, ok := lc.get(nil, nk); ok {
		t.Errorf("dropped entry still served: %q", got)
	}
	if got, ok := lc.get(nil, other); !ok || string(got) != "other" {
		t.Errorf("drop removed another entry: %q, %v", got, ok)
	}
	var nilCache *leafCache
	if newLeafCache(0) != nil || newLeafCache(-1) != nil {
		t.Error("a cache of no bytes is not nil")
	}
	nilCache.put(nk, []byte("a"))
	if _, ok := nilCache.get(nil, nk); ok || nilCache.len() != 0 {
		t.Error("a nil cache holds something")
	}
	nilCache.drop(nk)
	nilCache.reset()
}

// TestLeafCacheConcurrent puts, overwrites and gets from many goroutines
// (run with -race): every leaf returned is the one put under its node key.
func TestLeafCacheConcurrent(t *testing.T) {
	lc := newLeafCache(32 << 20)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 40_000 {
				i := rng.IntN(80_000)
				nk := testNodeKey(int64(i/100+1), uint32(i%100+1))
				want := testLeaf(i, 300+i%900)
				if got, ok := lc.get(nil, nk); ok {
					if !bytes.Equal(got, want) {
						panic(fmt.Sprintf("leaf %d: wrong bytes", i))
					}
					continue
				}
				lc.put(nk, want)
			}
		}()
	}
	wg.Wait()
}
