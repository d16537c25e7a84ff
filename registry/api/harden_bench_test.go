package api_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medid/medid/internal/httpserver"
	"github.com/medid/medid/internal/tlsfiles"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/node/nodetest"
)

// getOK GETs u and reads the body; it reports false (after b.Error) unless
// the answer is 200.
func getOK(b *testing.B, hc *http.Client, u string) bool {
	resp, err := hc.Get(u)
	if err != nil {
		b.Error(err)
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Errorf("status %d", resp.StatusCode)
		return false
	}
	return true
}

// resolveLoadWith runs b.N GETs of u from 16 goroutines per CPU over
// keep-alive connections of tr and returns requests per second.
func resolveLoadWith(b *testing.B, u string, tr *http.Transport) float64 {
	b.Helper()
	tr.MaxIdleConnsPerHost = 256
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	b.SetParallelism(16)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() && getOK(b, hc, u) {
		}
	})
	return float64(b.N) / time.Since(start).Seconds()
}

// serveHardened serves h through internal/httpserver (as registryd does)
// until the benchmark ends.
func serveHardened(b *testing.B, h http.Handler, files tlsfiles.Server) *httpserver.Server {
	b.Helper()
	s, err := httpserver.New(httpserver.Config{Addr: "127.0.0.1:0", Handler: h, TLS: files, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	return s
}

// loadFor sends n GETs of u from conc goroutines over hc's keep-alive
// connections and returns how long they took.
func loadFor(b *testing.B, hc *http.Client, u string, n, conc int) time.Duration {
	b.Helper()
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < conc; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 && getOK(b, hc, u) {
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkResolveHardenedHTTP is issue 11's cost measure: did:medid
// resolutions per second through the HTTP server registryd now runs
// (internal/httpserver: connection cap and per-address share, the
// bookkeeping that lets a new client evict idle connections, the body
// limit, timeouts on every phase) against the same API handler on a plain
// net/http server, as registryd served it before; and the hardened server
// over TLS 1.3. The three are measured in the same run, alternating in
// rounds of b.N/20 requests each (32 concurrent keep-alive clients), in a
// rotating order, so that a busy machine slows them alike; the ratios
// compare the totals.
func BenchmarkResolveHardenedHTTP(b *testing.B) {
	s := nodetest.Start(b, nodetest.Options{})
	c, err := client.New(client.Config{URL: s.URL})
	if err != nil {
		b.Fatal(err)
	}
	id := nodetest.NewIdentity(b, "bench-hardened")
	if _, err := c.Submit(context.Background(), id.CreateTx(b)); err != nil {
		b.Fatal(err)
	}
	path := "/1.0/identifiers/" + id.DID
	plain := httptest.NewServer(s.API)
	defer plain.Close()
	hard := serveHardened(b, s.API, tlsfiles.Server{})
	dir := b.TempDir()
	if _, err := tlsfiles.DevCerts(tlsfiles.DevCertConfig{Dir: dir}); err != nil {
		b.Fatal(err)
	}
	n := tlsfiles.DevCertNames
	secure := serveHardened(b, s.API, tlsfiles.Server{Cert: filepath.Join(dir, n.Cert), Key: filepath.Join(dir, n.Key)})
	tcfg, err := tlsfiles.Client{CA: filepath.Join(dir, n.CA)}.Config()
	if err != nil {
		b.Fatal(err)
	}
	tcfg.MinVersion = tls.VersionTLS13
	const conc, rounds = 32, 20
	targets := []struct {
		url string
		hc  *http.Client
	}{
		{plain.URL + path, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}},
		{hard.URL() + path, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}},
		{secure.URL() + path, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, TLSClientConfig: tcfg}}},
	}
	for _, t := range targets {
		loadFor(b, t.hc, t.url, 2*conc, conc) // open the connections
	}
	per := max(b.N/rounds, conc)
	var took [3]time.Duration
	b.ResetTimer()
	for r := 0; r < rounds; r++ {
		for i := range targets {
			k := (i + r) % len(targets)
			took[k] += loadFor(b, targets[k].hc, targets[k].url, per, conc)
		}
	}
	b.StopTimer()
	total := float64(per * rounds)
	rps := func(i int) float64 { return total / took[i].Seconds() }
	b.ReportMetric(float64(took[1].Nanoseconds())/total, "ns/op")
	b.ReportMetric(rps(0), "before-req/s")
	b.ReportMetric(rps(1), "req/s")
	b.ReportMetric(rps(1)/rps(0), "ratio")
	b.ReportMetric(rps(2), "tls-req/s")
	b.ReportMetric(rps(2)/rps(0), "tls-ratio")
}
