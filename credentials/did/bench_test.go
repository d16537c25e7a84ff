package did

import (
	"context"
	"sync"
	"testing"
	"time"
)

// BenchmarkKeyResolve measures resolving a did:key from scratch (decode the
// multibase value, check the key, build the document).
func BenchmarkKeyResolve(b *testing.B) {
	ctx := context.Background()
	for _, did := range []string{zeroSeedDID, p256DID1} {
		b.Run(did[:12], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (KeyResolver{}).Resolve(ctx, did); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCacheHit measures a cache hit. As the baseline it times
// uncached P-256 did:key resolution (which decompresses the point) in the
// same run and reports "speedup" = uncached ns / hit ns.
func BenchmarkCacheHit(b *testing.B) {
	ctx := context.Background()
	baseline.once.Do(func() {
		const n = 2000
		start := time.Now()
		for i := 0; i < n; i++ {
			if _, err := (KeyResolver{}).Resolve(ctx, p256DID1); err != nil {
				b.Fatal(err)
			}
		}
		baseline.ns = float64(time.Since(start).Nanoseconds()) / n
	})
	c := NewCache(KeyResolver{}, CacheConfig{})
	if _, err := c.Resolve(ctx, p256DID1); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Resolve(ctx, p256DID1); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	hit := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(baseline.ns, "uncached-ns/op")
	if hit > 0 {
		b.ReportMetric(baseline.ns/hit, "speedup")
	}
}

// baseline is the uncached resolution time, measured once per process.
var baseline struct {
	once sync.Once
	ns   float64
}

// BenchmarkCacheHitParallel measures hits from all cores on one DID (lock
// contention on the LRU).
func BenchmarkCacheHitParallel(b *testing.B) {
	ctx := context.Background()
	c := NewCache(KeyResolver{}, CacheConfig{})
	c.Resolve(ctx, zeroSeedDID)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Resolve(ctx, zeroSeedDID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParseDocument measures parsing a did:key document (the shape
// medid writes, so aries' schema check is skipped as proven; see
// BenchmarkParseDocumentWithAries).
func BenchmarkParseDocument(b *testing.B) {
	data, err := KeyDocument(zeroSeedKey(b)).MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDocument(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseDocumentSorted parses the same document with its members
// in sorted (RFC 8785) order, as registry transactions carry it.
func BenchmarkParseDocumentSorted(b *testing.B) {
	data := sortedJSON(b, KeyDocument(zeroSeedKey(b)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDocument(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseDocumentWithAries is the same parse followed by aries'
// did.ParseDocument, as every call did before the proven fast path
// (ariesProven): the baseline for BenchmarkParseDocument.
func BenchmarkParseDocumentWithAries(b *testing.B) {
	data, err := KeyDocument(zeroSeedKey(b)).MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDocument(data); err != nil {
			b.Fatal(err)
		}
		if err := ariesValidate(data); err != nil {
			b.Fatal(err)
		}
	}
}
