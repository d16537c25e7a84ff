package machine

import (
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// syntheticDirectory indexes n organisations with names made of common
// words ("St Mary General Hospital 4711"), as a national directory has.
func syntheticDirectory(tb testing.TB, n int) *dirIndex {
	tb.Helper()
	first := []string{"St", "Saint", "Royal", "City", "County", "General", "Central", "North", "South", "East", "West", "Queen", "King", "University", "Community", "Children's"}
	second := []string{"Mary's", "Thomas'", "George's", "Luke's", "James's", "Anne's", "Elizabeth", "Victoria", "Albert", "Hope", "Grace", "Valley", "River", "Park", "Hill", "Bridge", "Lake", "Forest", "Harbour", "Abbey"}
	third := []string{"Hospital", "Clinic", "Pharmacy", "Laboratory", "Medical Centre", "Health Centre", "Surgery", "Infirmary"}
	r := rand.New(rand.NewPCG(1, 2))
	ix := newDirIndex()
	for i := range n {
		name := fmt.Sprintf("%s %s %s %d", first[r.IntN(len(first))], second[r.IntN(len(second))], third[r.IntN(len(third))], i)
		rec := ledger.DirectoryRecord{DID: fmt.Sprintf("did:medid:org%07d", i), Versions: []ledger.DirectoryVersion{{Version: 1, Status: ledger.DirectoryActive,
			Entry: tx.DirectoryEntry{DisplayName: name, LegalName: name + " Trust", Kind: tx.Kinds[r.IntN(len(tx.Kinds))], Country: "GB"}}}}
		ix.add(&rec)
	}
	// As the index is built at start: one sort.
	ix.sort()
	return ix
}

// BenchmarkDirectorySearch100k measures directory searches over 100,000
// organisations (the server's SearchDirectory, without HTTP): single- and
// multi-word prefixes of one to a few letters, with and without a kind
// filter, 20 results a page. It reports the p50 and p99 of the per-search
// latency and, as the baseline measured in the same run, one bare
// ed25519.Verify.
func BenchmarkDirectorySearch100k(b *testing.B) {
	ix := syntheticDirectory(b, 100_000)
	queries := []ledger.DirectorySearch{
		{Query: "s"}, {Query: "st mary"}, {Query: "hosp"}, {Query: "royal infirm"}, {Query: "queen", Kind: tx.KindPharmacy},
		{Query: "c", Kind: tx.KindResearch}, {Kind: tx.KindLicensingBody}, {}, {Query: "saint thomas clinic"}, {Query: "zzz"},
		{Query: "general", Status: ledger.SearchAll}, {Query: "ch"},
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 600)
	sig := ed25519.Sign(priv, msg)
	start := time.Now()
	for range 200 {
		ed25519.Verify(pub, msg, sig)
	}
	base := time.Since(start) / 200
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t := time.Now()
		p, err := ix.search(queries[i%len(queries)])
		lat = append(lat, time.Since(t))
		if err != nil || p == nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(base.Microseconds()), "ed25519-verify-µs")
}
