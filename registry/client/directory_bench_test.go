package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

// BenchmarkDirectoryLookupUncached is directory.Lookup of an organisation
// with nothing cached, over HTTP to an in-process registry, with proofs
// checked (its entry and its accreditations: two proven reads), against a
// plain proven DID resolution of the same DID measured in the same run
// (the baseline).
func BenchmarkDirectoryLookupUncached(b *testing.B) {
	s := nodetest.Start(b, nodetest.Options{})
	_, proving := newClients(b, s)
	plain, _ := newClients(b, s)
	ctx := context.Background()
	org := nodetest.NewIdentity(b, "bench-org")
	if _, err := plain.Submit(ctx, org.CreateTx(b)); err != nil {
		b.Fatal(err)
	}
	e := &tx.DirectoryEntry{LegalName: "St Mary's Hospital", DisplayName: "St Mary's Hospital", Kind: tx.KindHospital, Country: "GB"}
	if _, err := plain.Submit(ctx, nodetest.Sign(b, &tx.Payload{Type: tx.DirectoryAdd, DID: s.GovernanceDID, Org: org.DID, Entry: e}, s.Governance, s.GovernanceKID())); err != nil {
		b.Fatal(err)
	}
	if _, err := proving.Resolve(ctx, org.DID); err != nil { // waits for a signed header over the state
		b.Fatal(err)
	}
	const baseN = 50
	start := time.Now()
	for range baseN {
		if _, err := proving.Resolve(ctx, org.DID); err != nil {
			b.Fatal(err)
		}
	}
	base := time.Since(start) / baseN
	b.ResetTimer()
	for range b.N {
		d := directory.New(directory.Config{Source: proving, Proven: true})
		id, err := d.Lookup(ctx, org.DID)
		if err != nil || id.Label() != "St Mary's Hospital" {
			b.Fatalf("%q, %v", id.Label(), err)
		}
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(base.Microseconds()), "resolve-proven-µs")
	b.ReportMetric(float64(per)/float64(base), "x-resolve")
}
