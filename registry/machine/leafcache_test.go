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

// TestLeafCache checks the leaf cache against a map of what was put: a
// leaf it returns is always the one put under that node key; it keeps the
// newest leaves up to its size and evicts the oldest first.
func TestLeafCache(t *testing.T) {
	for _, c := range []struct {
		name       string
		bytes      int
		leaves     int
		size       func(i int) int
		wantNewest int // at least this many of the newest leaves are still cached
		wantMax    int // at most this many leaves are cached
	}{
		{"everything fits", 64 << 20, 10_000, func(int) int { return 700 }, 10_000, 10_000},
		{"ring turns many times", leafShards * leafSegment, 100_000, func(int) int { return 700 }, 15_000, leafShards * leafSegment / (leafHeader + 700)},
		{"sizes vary", leafShards * leafSegment, 50_000, func(i int) int { return 1 + i*7919%4000 }, 3_000, 16_000},
		{"too large to cache", 64 << 20, 100, func(int) int { return leafSegment / 8 }, 0, 0},
		{"empty leaves", 1, 1_000, func(int) int { return 0 }, 1_000, 1_000},
	} {
		t.Run(c.name, func(t *testing.T) {
			lc := newLeafCache(c.bytes)
			for i := range c.leaves {
				lc.put(testNodeKey(int64(i/100+1), uint32(i%100+1)), testLeaf(i, c.size(i)))
			}
			if got := lc.len(); got > c.wantMax {
				t.Errorf("cached %d leaves, want at most %d", got, c.wantMax)
			}
			for i := range c.leaves {
				got, ok := lc.get(nil, testNodeKey(int64(i/100+1), uint32(i%100+1)))
				if ok && !bytes.Equal(got, testLeaf(i, c.size(i))) {
					t.Fatalf("leaf %d: got %d bytes that are not the leaf put", i, len(got))
				}
				if !ok && i >= c.leaves-c.wantNewest {
					t.Fatalf("leaf %d of %d (one of the %d newest) is not cached", i, c.leaves, c.wantNewest)
				}
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

// TestLeafCacheKeepsFirst checks that a second put under a node key keeps
// the first leaf (a node key names one node for as long as it exists).
func TestLeafCacheKeepsFirst(t *testing.T) {
	lc := newLeafCache(1 << 20)
	nk := testNodeKey(7, 3)
	lc.put(nk, []byte("first"))
	lc.put(nk, []byte("second"))
	if got, _ := lc.get([]byte("x:"), nk); string(got) != "x:first" {
		t.Errorf("got %q, want x:first", got)
	}
	var nilCache *leafCache
	nilCache.put(nk, []byte("a"))
	if _, ok := nilCache.get(nil, nk); ok || nilCache.len() != 0 {
		t.Error("a nil cache holds something")
	}
	nilCache.reset()
}

// TestLeafCacheConcurrent puts and gets from many goroutines (run with
// -race): every leaf returned is the one put under its node key.
func TestLeafCacheConcurrent(t *testing.T) {
	lc := newLeafCache(leafShards * leafSegment)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 20_000 {
				i := rng.IntN(50_000)
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
