package machine

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/medid/medid/internal/benchbase"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// BenchmarkResolveDID resolves random DIDs of a state of benchDIDs DIDs
// (blocks of 500) from the latest committed state with App.ResolveDID, as
// the API calls it, in each state layout (docs/design/0021, "State
// layout"): layout1 reads the record from the latest-DID index's copy (the
// baseline, as before), layout2 reads the index's pointer and then the
// record's IAVL leaf by its node key (the index keeps no copy); "leaf-hits"
// is the share of layout 2 reads the pointer answered. "absent" is the
// did.create check of a new DID (the current record is absent), which the
// index answers in both layouts.
//
// MEDID_BENCH_CACHE_MB sets the block cache (Config.BlockCacheBytes) and
// three quarters of it as the leaf cache (Config.LeafCacheBytes), so a
// state of a few hundred thousand DIDs meets its caches as a million DIDs
// meet the defaults (1 GiB and 768 MiB): e.g. 200,000 DIDs with 205 MB.
// Every DID is then resolved once before the rounds (as a server that has
// been up for a while); "read-B/op" is what LevelDB read from its files
// per resolution (block cache misses).
func BenchmarkResolveDID(b *testing.B) {
	n := benchDIDs(b)
	cfg := Config{SnapshotInterval: -1, KeepVersions: 10}
	warm := false
	if s := os.Getenv("MEDID_BENCH_CACHE_MB"); s != "" {
		mb, err := strconv.Atoi(s)
		if err != nil || mb < 1 {
			b.Fatalf("MEDID_BENCH_CACHE_MB=%q: want a number of megabytes", s)
		}
		cfg.BlockCacheBytes, cfg.LeafCacheBytes, warm = mb<<20, mb<<20*3/4, true
	}
	blocks := benchBlocks(b, n, 500)
	dids := make([]string, 0, n)
	for _, txs := range blocks {
		for _, raw := range txs {
			t, err := tx.Decode(raw)
			if err != nil {
				b.Fatal(err)
			}
			dids = append(dids, t.Payload.DID)
		}
	}
	// Both states first, then the reads in alternating rounds, so that a
	// change of the machine's load meets both layouts alike.
	apps := map[ledger.StateLayout]*App{}
	layouts := []ledger.StateLayout{ledger.LayoutEveryVersion, ledger.LayoutRecordsOnce}
	for _, l := range layouts {
		h := newHarnessLayout(b, cfg, unlimitedCreates(), l)
		h.mustBlock()
		for _, txs := range blocks {
			h.mustBlock(txs...)
		}
		apps[l] = h.app
	}
	ioRead := func(a *App) uint64 {
		var s leveldb.DBStats
		if err := a.db.RawDB().Stats(&s); err != nil {
			b.Fatal(err)
		}
		return s.IORead
	}
	if warm {
		for _, l := range layouts {
			for _, d := range dids {
				if _, err := apps[l].ResolveDID(d, ledger.ResolveOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3 {
		for _, l := range layouts {
			a := apps[l]
			b.Run(fmt.Sprintf("layout%d/resolve", l), func(b *testing.B) {
				hits, read0 := a.idx.leafHits.Load(), ioRead(a)
				cpu0 := benchbase.ProcessCPU()
				for range b.N {
					if _, err := a.ResolveDID(dids[rng.IntN(len(dids))], ledger.ResolveOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				// Process CPU per resolution moves less with other load on
				// the machine than wall time does.
				b.ReportMetric(float64((benchbase.ProcessCPU()-cpu0).Nanoseconds())/1000/float64(b.N), "cpu-µs/op")
				b.ReportMetric(float64(len(dids)), "DIDs")
				b.ReportMetric(float64(ioRead(a)-read0)/float64(b.N), "read-B/op")
				if l == ledger.LayoutRecordsOnce {
					b.ReportMetric(float64(a.idx.leafHits.Load()-hits)/float64(b.N), "leaf-hits")
				}
			})
			b.Run(fmt.Sprintf("layout%d/absent", l), func(b *testing.B) {
				for i := range b.N {
					r, _ := a.committedState()
					if v, err := r.Get(ledger.DIDKey(fmt.Sprintf("did:medid:absent%d", i))); err != nil || v != nil {
						b.Fatal(err, v)
					}
				}
			})
		}
	}
}
