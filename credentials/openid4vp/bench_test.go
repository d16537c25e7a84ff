package openid4vp

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/benchbase"
)

// BenchmarkVerifyResponse measures presentation verifications at the
// verifier: one direct_post over loopback HTTP per operation, each a fresh
// request's vp+jwt (holder signature, audience, nonce, the credential's
// issuer signature, holder binding and the DCQL match). Requests and
// presentations are made beforehand (that is the wallet's work). It reports
// verifications/s and the p99 latency of one response.
func BenchmarkVerifyResponse(b *testing.B) {
	iss, holder := credtest.NewParty(b, key.Ed25519, "issuer"), credtest.NewParty(b, key.Ed25519, "holder")
	cred := issue(b, iss, holder, allergyType, map[string]any{"allergy": "penicillin"})
	v, srv := newVerifier(b)
	type job struct{ state, vp string }
	jobs := make(chan job, b.N)
	for range b.N {
		st, err := v.CreateRequest(query())
		if err != nil {
			b.Fatal(err)
		}
		p := v.requests[st.State].req
		jobs <- job{st.State, present(b, holder, p.ClientID, p.Nonce, cred)}
	}
	close(jobs)
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			j := <-jobs
			form := url.Values{"state": {j.state}, "vp_token": {`{"allergies":["` + j.vp + `"]}`}}
			t0 := time.Now()
			resp, err := hc.Post(srv.URL+"/response", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("HTTP %d", resp.StatusCode)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "verifications/s")
	// Baseline in the same run: bare ed25519.Verify calls per second on all CPUs.
	b.ReportMetric(rate/benchbase.Ed25519VerifyRate(time.Second), "x-bare-verify")
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}
