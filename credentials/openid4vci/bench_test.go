package openid4vci

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/internal/benchbase"
)

// latencies collects per-operation durations from parallel goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

func (l *latencies) p99() time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	return l.d[(len(l.d)*99)/100]
}

// BenchmarkIssuance measures full pre-authorized code issuance round trips
// against one issuer over loopback HTTP: token, nonce and credential
// requests, the wallet's proof JWT and the issuer's credential signature
// (offers are made beforehand, metadata is cached by wallets). It reports
// issuances/s and the p99 latency of one issuance.
func BenchmarkIssuance(b *testing.B) {
	f := newFixture(b)
	f.now = time.Time{} // use the real clock
	f.is.cfg.Now = time.Now
	codes := make(chan string, b.N)
	for range b.N {
		codes <- f.offer(b, false).Offer.Grants.PreAuthorized.Code
	}
	close(codes)
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	c := &Client{HTTP: &http.Client{Transport: tr}}
	tokenURL, nonceURL, credURL := f.srv.URL+"/token", f.srv.URL+"/nonce", f.srv.URL+"/credential"
	var lat latencies
	ctx := context.Background()
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			tok, err := c.Token(ctx, tokenURL, <-codes, "")
			if err != nil {
				b.Error(err)
				return
			}
			n, err := c.Nonce(ctx, nonceURL)
			if err != nil {
				b.Error(err)
				return
			}
			p, err := MakeProof(f.holder, f.hKid, f.srv.URL, n, time.Now())
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := c.Credential(ctx, credURL, tok.AccessToken, testType, p); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		lat.add(mine)
	})
	elapsed := time.Since(start)
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "issuances/s")
	// Baseline in the same run: bare ed25519.Verify calls per second on all CPUs.
	b.ReportMetric(rate/benchbase.Ed25519VerifyRate(time.Second), "x-bare-verify")
	b.ReportMetric(float64(lat.p99().Microseconds())/1000, "p99-ms")
}
