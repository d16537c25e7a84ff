package machine

import (
	"fmt"
	"math/rand/v2"
	"testing"

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
func BenchmarkResolveDID(b *testing.B) {
	n := benchDIDs(b)
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
		h := newHarnessLayout(b, Config{SnapshotInterval: -1, KeepVersions: 10}, unlimitedCreates(), l)
		h.mustBlock()
		for _, txs := range blocks {
			h.mustBlock(txs...)
		}
		apps[l] = h.app
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3 {
		for _, l := range layouts {
			a := apps[l]
			b.Run(fmt.Sprintf("layout%d/resolve", l), func(b *testing.B) {
				hits := a.idx.leafHits.Load()
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
