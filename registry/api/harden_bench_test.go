package api_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/medid/medid/internal/httpserver"
	"github.com/medid/medid/internal/tlsfiles"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/node/nodetest"
)

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
		for pb.Next() {
			resp, err := hc.Get(u)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
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

// BenchmarkResolveHardenedHTTP is issue 11's cost measure: did:medid
// resolutions per second through the HTTP server registryd now runs
// (internal/httpserver: connection cap and per-address share, the
// bookkeeping that lets a new client evict idle connections, the body
// limit, timeouts on every phase) against the same API handler on a plain
// net/http server, as registryd served it before, measured before and
// after in the same run (the baseline is their mean); and the same
// hardened server over TLS 1.3 with keep-alive connections.
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

	before1 := resolveLoadWith(b, plain.URL+path, &http.Transport{})
	b.ResetTimer()
	rps := resolveLoadWith(b, hard.URL()+path, &http.Transport{})
	b.StopTimer()
	before2 := resolveLoadWith(b, plain.URL+path, &http.Transport{})
	tlsRPS := resolveLoadWith(b, secure.URL()+path, &http.Transport{TLSClientConfig: tcfg})
	before := (before1 + before2) / 2
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(before, "before-req/s")
	b.ReportMetric(rps/before, "ratio")
	b.ReportMetric(tlsRPS, "tls-req/s")
	b.ReportMetric(tlsRPS/before, "tls-ratio")
}
