package vault

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/hospital/batch"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/registry/node/nodetest"
)

// BenchmarkDecide measures access decisions on one node with cached ledger
// state: each op authenticates a fresh signed request (Ed25519 verify,
// nonce cache) and decides it under a consent grant the checker has
// verified before (hash, LRU lookup, Permits, cached ledger answer). It
// reads no record and writes no trail.
//
//	go test ./registry/vault -run '^$' -bench Decide -benchtime 3s
func BenchmarkDecide(b *testing.B) {
	h := newHarness(b)
	prov := newParty(b, 10)
	rec := h.put(h.patient, "AllergyIntolerance", allergy)
	grant := h.grant(h.patient, prov.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	m, _ := h.v.Meta(rec.ID)
	toks := make([]string, b.N)
	for i := range toks {
		toks[i] = h.sign(prov, &vaultapi.Request{Op: vaultapi.OpRead, Record: rec.ID, Purpose: "TREAT", Consent: grant})
	}
	ctx := context.Background()
	now := h.clock.Now()
	b.ResetTimer()
	start := time.Now()
	var next = make(chan int, 1024)
	go func() {
		for i := range toks {
			next <- i
		}
		close(next)
	}()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := <-next
			r, err := h.v.auth.authenticate(ctx, toks[i], now)
			if err != nil {
				b.Fatal(err)
			}
			if err := h.v.decide(ctx, r, m, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "decisions/s")
}

// BenchmarkRead is a whole granted read: authenticate, decide, decrypt the
// record from disk, seal the trail entry to the patient and queue it.
func BenchmarkRead(b *testing.B) {
	h := newHarness(b)
	prov := newParty(b, 10)
	rec := h.put(h.patient, "AllergyIntolerance", allergy)
	grant := h.grant(h.patient, prov.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	toks := make([]string, b.N)
	for i := range toks {
		toks[i] = h.sign(prov, &vaultapi.Request{Op: vaultapi.OpRead, Record: rec.ID, Purpose: "TREAT", Consent: grant})
	}
	b.ResetTimer()
	start := time.Now()
	for i := range toks {
		if _, _, err := h.v.Read(context.Background(), toks[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reads/s")
}

// BenchmarkTrailAnchor measures trail entries anchored per second including
// encryption to the patient: seal (JWE ECDH-ES+A256KW, X25519, with the
// vault's trail.Sealer reusing one ephemeral key per patient), queue, cut
// the batch, build the Merkle tree and proofs, sign one audit.anchor per
// batch of 8192 (the ledger round trip is the fake's; one commit per batch
// adds ~20-100 ms per 8192 entries on a real node).
//
//	go test ./registry/vault -run '^$' -bench TrailAnchor -benchtime 20000x
func BenchmarkTrailAnchor(b *testing.B) {
	h := newHarness(b)
	rk, err := h.v.recipient(context.Background(), h.patient.DID)
	if err != nil {
		b.Fatal(err)
	}
	e := &trail.Entry{ID: "x", Patient: h.patient.DID, Provider: h.hosp.DID, Record: "r-0", Class: "AllergyIntolerance",
		Action: trail.ActionRead, Purpose: "TREAT", Outcome: trail.OutcomeGranted, Type: trail.DCMPatientRecord, Time: time.Now()}
	// 32 goroutines per core: a vault answers many requests at once, and
	// each waits for its entry to be durable (they share the fsyncs).
	b.SetParallelism(benchParallelism())
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sealed, err := h.v.sealer.Seal(e, rk)
			if err != nil {
				b.Fatal(err)
			}
			if err := h.v.log.Append(h.patient.DID, sealed); err != nil {
				b.Fatal(err)
			}
		}
	})
	if err := h.v.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
}

// BenchmarkReadParallel is BenchmarkRead with many requests in flight (32
// goroutines per core), as a vault serving many providers sees them: each
// read waits for its trail entry to be durable, and concurrent reads share
// the fsyncs.
func BenchmarkReadParallel(b *testing.B) {
	h := newHarness(b)
	prov := newParty(b, 10)
	rec := h.put(h.patient, "AllergyIntolerance", allergy)
	grant := h.grant(h.patient, prov.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	toks := make([]string, b.N)
	for i := range toks {
		toks[i] = h.sign(prov, &vaultapi.Request{Op: vaultapi.OpRead, Record: rec.ID, Purpose: "TREAT", Consent: grant})
	}
	next := make(chan string, len(toks))
	for _, t := range toks {
		next <- t
	}
	close(next)
	b.SetParallelism(benchParallelism())
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := h.v.Read(context.Background(), <-next); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reads/s")
}

// BenchmarkFetchVerifyTrail10k measures a patient fetching a trail of
// 10,000 entries (with proofs) and verifying and decrypting every one.
//
//	go test ./registry/vault -run '^$' -bench FetchVerify -benchtime 3x
func BenchmarkFetchVerifyTrail10k(b *testing.B) {
	h := newHarness(b)
	rk, _ := h.v.recipient(context.Background(), h.patient.DID)
	e := &trail.Entry{ID: "x", Patient: h.patient.DID, Provider: h.hosp.DID, Record: "r-0", Action: trail.ActionRead,
		Purpose: "TREAT", Outcome: trail.OutcomeGranted, Type: trail.DCMPatientRecord, Time: time.Now()}
	for range 10000 {
		sealed, _ := h.v.sealer.Seal(e, rk)
		_ = h.v.log.Append(h.patient.DID, sealed)
	}
	if err := h.v.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	priv, _ := trail.DecryptionKey(h.patient.Key)
	b.ResetTimer()
	for range b.N {
		es, err := h.v.AccessLog(context.Background(), h.sign(h.patient, &vaultapi.Request{Op: vaultapi.OpAccessLog, Patient: h.patient.DID}))
		if err != nil {
			b.Fatal(err)
		}
		out, err := vaultclient.VerifyTrail(context.Background(), &vaultapi.AccessLogResponse{Vault: h.hosp.DID, Entries: es}, h.patient.DID, h.ledger, priv)
		if err != nil || len(out) != 10000 {
			b.Fatalf("%d entries, %v", len(out), err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/trail")
}

// BenchmarkTrailAnchorLedger is BenchmarkTrailAnchor with every batch root
// committed by a real in-process registry node (CometBFT, 20 ms blocks)
// through its HTTP API: sealing, batching and one audit.anchor commit per
// 8192 entries.
//
//	go test ./registry/vault -run '^$' -bench TrailAnchorLedger -benchtime 50000x
func BenchmarkTrailAnchorLedger(b *testing.B) {
	s := nodetest.Start(b, nodetest.Options{})
	reg, err := client.New(client.Config{URL: s.URL})
	if err != nil {
		b.Fatal(err)
	}
	h := newHarness(b)
	h.v.cfg.Anchors = reg
	h.v.log, err = batch.OpenLog(batch.Config{Dir: b.TempDir(), MaxBatch: 8192, Anchor: h.v.anchor, Lookup: h.v.lookupAnchor})
	if err != nil {
		b.Fatal(err)
	}
	h.v.cfg.Submit = func(ctx context.Context, raw []byte) error { _, err := reg.Submit(ctx, raw); return err }
	rk, err := h.v.recipient(context.Background(), h.patient.DID)
	if err != nil {
		b.Fatal(err)
	}
	e := &trail.Entry{ID: "x", Patient: h.patient.DID, Provider: h.hosp.DID, Record: "r-0", Class: "AllergyIntolerance",
		Action: trail.ActionRead, Purpose: "TREAT", Outcome: trail.OutcomeGranted, Type: trail.DCMPatientRecord, Time: time.Now()}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		sealed, err := h.v.sealer.Seal(e, rk)
		if err != nil {
			b.Fatal(err)
		}
		_ = h.v.log.Append(h.patient.DID, sealed)
		if i%8192 == 8191 {
			if err := h.v.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := h.v.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
}

// benchParallelism is how many goroutines per core the parallel benchmarks
// run (requests in flight): 32 unless MEDID_BENCH_PARALLELISM says.
func benchParallelism() int {
	if n, err := strconv.Atoi(os.Getenv("MEDID_BENCH_PARALLELISM")); err == nil && n > 0 {
		return n
	}
	return 32
}
