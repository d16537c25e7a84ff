package machine

import (
	"testing"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// FuzzDirectorySearch checks that a search of any query, kind, status,
// cursor and limit either answers within the limit or fails with
// ErrInvalid, and never panics.
func FuzzDirectorySearch(f *testing.F) {
	ix := newDirIndex()
	var writes []write
	for i, n := range []string{"St Mary's Hospital", "Saint Thomas", "Hôpital Sainte-Marie", "東京病院"} {
		rec := ledger.DirectoryRecord{DID: "did:medid:" + string(rune('a'+i)), Versions: []ledger.DirectoryVersion{{Version: 1, Status: ledger.DirectoryActive,
			Entry: tx.DirectoryEntry{DisplayName: n, LegalName: n + " Ltd", Kind: tx.KindHospital, Country: "GB"}}}}
		v, _ := marshal(rec)
		writes = append(writes, write{ledger.DirectoryKey(rec.DID), v})
	}
	ix.apply(writes)
	f.Add("mary", "", "", "", 0)
	f.Add("", "hospital", "all", "c3QAZGlkOm1lZGlkOmE", 1)
	f.Add("s t", "clinic", "removed", "!!", 101)
	f.Fuzz(func(t *testing.T, q, kind, status, cursor string, limit int) {
		p, err := ix.search(ledger.DirectorySearch{Query: q, Kind: kind, Status: status, Cursor: cursor, Limit: limit})
		if err != nil {
			return
		}
		if len(p.Results) > ledger.MaxSearchLimit || (limit > 0 && len(p.Results) > limit) {
			t.Fatalf("%d results for limit %d", len(p.Results), limit)
		}
	})
}
