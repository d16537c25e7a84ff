package machine

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkLeafCache gets random leaves of 700 bytes (a DID record's
// leaf) from a leaf cache of 128 MiB holding 100,000 of them ("get"), and
// puts new ones into a full cache ("put"), one goroutine, for the cache's
// own cost beside a resolution's 8-11 µs (BENCHMARKS.md, issue 19).
func BenchmarkLeafCache(b *testing.B) {
	const n = 100_000
	lc := newLeafCache(128 << 20)
	leaf := testLeaf(1, 700)
	for i := range n {
		lc.put(testNodeKey(int64(i/100+1), uint32(i%100+1)), leaf)
	}
	keys := make([][]byte, 1<<16)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range keys {
		j := rng.IntN(n)
		keys[i] = testNodeKey(int64(j/100+1), uint32(j%100+1))
	}
	b.Run("get", func(b *testing.B) {
		var buf []byte
		miss := 0
		for i := range b.N {
			var ok bool
			if buf, ok = lc.get(buf[:0], keys[i&(len(keys)-1)]); !ok {
				miss++
			}
		}
		if miss > 0 {
			b.Fatalf("%d misses", miss)
		}
	})
	b.Run("put", func(b *testing.B) {
		for i := range b.N {
			j := n + i
			lc.put(testNodeKey(int64(j/100+1), uint32(j%100+1)), leaf)
		}
	})
}
