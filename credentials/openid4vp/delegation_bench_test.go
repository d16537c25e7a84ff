package openid4vp

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/delegation/delegationtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/benchbase"
)

// BenchmarkPresentFor compares a verifier's decision on a presentation
// made by a representative under a delegation (delegation verified and
// cached as a running verifier has it, status list for 5 s, then
// present, period, patient and class checked, then the presentation with
// the patient as subject) with a direct one (the holder's own credential),
// in the same run. Each op decides one direct and one delegated response
// to fresh requests (no HTTP), alternating. It reports both rates, the
// delegated rate as a ratio to direct (x-direct, goal ≥ 0.5) and to bare
// ed25519.Verify on all CPUs.
func BenchmarkPresentFor(b *testing.B) {
	w := delegationtest.New(b)
	hosp := credtest.NewParty(b, key.Ed25519, "bench hospital")
	ana := credtest.Party{DID: w.Patient.DID}
	v := newDelegationVerifier(b, w, true)
	chk, err := delegation.NewChecker(delegation.CheckerConfig{Resolver: did.KeyResolver{}, Status: w, Trust: w, Now: w.Clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	v.cfg.Delegations = chk
	anaCred := issue(b, hosp, ana, allergyType, map[string]any{"allergy": "penicillin"})
	mariaCred := issue(b, hosp, w.Parent, allergyType, map[string]any{"allergy": "nuts"})
	tok := w.Sign(w.Guardianship(delegation.ActionPresent), w.Registry)
	ctx := context.Background()

	type job struct {
		req  *Request
		form url.Values
	}
	jobs := func(n int, delegated bool) []job {
		out := make([]job, n)
		for i := range out {
			st, err := v.CreateRequest(query())
			if err != nil {
				b.Fatal(err)
			}
			req := v.requests[st.State].req
			vp := present(b, w.Parent, req.ClientID, req.Nonce, mariaCred)
			if delegated {
				vp = presentFor(b, w.Parent, req.ClientID, req.Nonce, tok, anaCred)
			}
			out[i] = job{req, url.Values{"state": {st.State}, "vp_token": {`{"allergies":["` + vp + `"]}`}}}
		}
		return out
	}
	check := func(j job) time.Duration {
		t0 := time.Now()
		if res := v.check(ctx, j.req, j.form); res.Status != StatusValid {
			b.Fatalf("%s: %s", res.Status, res.Description)
		}
		return time.Since(t0)
	}
	check(jobs(1, true)[0]) // the delegation verified and cached, as on a running verifier
	// Direct and delegated decisions alternate, so load on a shared
	// machine weighs on both alike.
	direct, delegated := jobs(b.N, false), jobs(b.N, true)
	var dDirect, dDelegated time.Duration
	b.ResetTimer()
	for i := range b.N {
		dDirect += check(direct[i])
		dDelegated += check(delegated[i])
	}
	b.StopTimer()
	rate := float64(b.N) / dDelegated.Seconds()
	b.ReportMetric(float64(b.N)/dDirect.Seconds(), "direct/s")
	b.ReportMetric(rate, "delegated/s")
	b.ReportMetric(dDirect.Seconds()/dDelegated.Seconds(), "x-direct")
	b.ReportMetric(rate/benchbase.Ed25519VerifyRate(time.Second), "x-bare-verify")
}
