package machine

import (
	"math/rand/v2"
	"testing"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// BenchmarkResolveDID resolves random DIDs of a state of benchDIDs DIDs
// (blocks of 500) from the latest committed state: App.ResolveDID as the
// API calls it (sub-benchmark "resolve"), against a direct Get of the
// current record from the IAVL tree with the JSON decoding ("tree-get",
// the baseline of the same run: what a read costs without the node-local
// latest-DID index). docs/design/0021, "State layout".
func BenchmarkResolveDID(b *testing.B) {
	n := benchDIDs(b)
	h := newHarnessWithGenesis(b, Config{SnapshotInterval: -1, KeepVersions: 10}, unlimitedCreates())
	h.mustBlock()
	dids := make([]string, 0, n)
	for _, txs := range benchBlocks(b, n, 500) {
		for _, raw := range txs {
			t, err := tx.Decode(raw)
			if err != nil {
				b.Fatal(err)
			}
			dids = append(dids, t.Payload.DID)
		}
		h.mustBlock(txs...)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.Run("resolve", func(b *testing.B) {
		for range b.N {
			if _, err := h.app.ResolveDID(dids[rng.IntN(len(dids))], ledger.ResolveOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(dids)), "DIDs")
	})
	b.Run("tree-get", func(b *testing.B) {
		for range b.N {
			view, _ := h.app.view()
			if _, err := getJSON[ledger.DIDRecord](view, ledger.DIDKey(dids[rng.IntN(len(dids))])); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(dids)), "DIDs")
	})
	b.Run("absent", func(b *testing.B) {
		// The did.create check of a new DID: the current record is absent.
		for i := range b.N {
			r, _ := h.app.committedState()
			if v, err := r.Get(ledger.DIDKey("did:medid:absent" + string(rune('a'+i%26)) + dids[i%len(dids)][10:])); err != nil || v != nil {
				b.Fatal(err, v)
			}
		}
	})
}
