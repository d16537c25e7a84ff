package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/node/nodetest"
)

// resolveLoad runs b.N GETs of u from 16 goroutines per CPU over keep-alive
// connections and returns requests per second.
func resolveLoad(b *testing.B, u string) float64 {
	return resolveLoadWith(b, u, &http.Transport{})
}

// BenchmarkResolveHTTP measures did:medid resolutions per second over HTTP
// on loopback (the full API: routing, Accept negotiation, a read of the
// committed IAVL state, metrics), against a baseline in the same run: a bare
// net/http handler serving the same resolution bytes from memory.
func BenchmarkResolveHTTP(b *testing.B) {
	s := nodetest.Start(b, nodetest.Options{})
	c, err := client.New(client.Config{URL: s.URL})
	if err != nil {
		b.Fatal(err)
	}
	id := nodetest.NewIdentity(b, "bench-resolve")
	if _, err := c.Submit(context.Background(), id.CreateTx(b)); err != nil {
		b.Fatal(err)
	}
	u := s.URL + "/1.0/identifiers/" + id.DID
	resp, err := http.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ct := resp.Header.Get("Content-Type")

	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(body)
	}))
	defer bare.Close()

	b.ResetTimer()
	rps := resolveLoad(b, u)
	b.StopTimer()
	bareRPS := resolveLoad(b, bare.URL+"/1.0/identifiers/"+id.DID)
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(bareRPS, "bare-req/s")
	b.ReportMetric(rps/bareRPS, "ratio")
	b.ReportMetric(float64(len(body)), "body-bytes")
}
