package vault

import (
	"context"
	"crypto/ed25519"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDecideCPU is BenchmarkDecide on one goroutine, in CPU: the
// process CPU per access decision (authenticate: parse the signed request,
// resolve its issuer, verify its signature, record its nonce; then decide
// on the consent grant) against the process CPU of a bare ed25519.Verify
// measured right after it in the same process. Run with -cpu 1. The same
// file sits in the tree before issue 12 (registry/vault) with a shim for
// the names that moved (decidecpu_shim_test.go), so the two compare.
func BenchmarkDecideCPU(b *testing.B) {
	h := newHarness(b)
	prov := newParty(b, 10)
	rec := h.put(h.patient, "AllergyIntolerance", allergy)
	grant := h.grant(h.patient, benchDID(prov), []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	m, _ := h.v.Meta(rec.ID)
	toks := make([]string, b.N)
	for i := range toks {
		toks[i] = h.sign(prov, benchReadRequest(rec.ID, grant))
	}
	ctx := context.Background()
	now := benchNow(h)
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 600)
	sig := ed25519.Sign(priv, msg)
	b.ResetTimer()
	c0 := processCPU()
	for i := range b.N {
		r, err := h.v.auth.authenticate(ctx, toks[i], now)
		if err != nil {
			b.Fatal(err)
		}
		if err := h.v.decide(ctx, r, m, now); err != nil {
			b.Fatal(err)
		}
	}
	c1 := processCPU()
	b.StopTimer()
	for range b.N {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("verify")
		}
	}
	c2 := processCPU()
	per := float64((c1 - c0).Nanoseconds()) / float64(b.N)
	bare := float64((c2 - c1).Nanoseconds()) / float64(b.N)
	b.ReportMetric(per/1000, "cpu-µs/op")
	b.ReportMetric(bare/1000, "bare-cpu-µs/op")
	b.ReportMetric(per/bare, "x-bare-cpu")
}

// processCPU is the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
