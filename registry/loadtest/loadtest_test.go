package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/registry/node"
)

var (
	flagDIDs  = flag.Uint64("loadtest.dids", 20_000, "DIDs BenchmarkResolve bulk-loads (ignored with -loadtest.dir)")
	flagCache = flag.Int("loadtest.cache", 0, "IAVL node cache of the served state (0 = app default)")
	flagDir   = flag.String("loadtest.dir", "", "an existing medid-loadtest folder (app/ and dids.txt) for BenchmarkResolve, e.g. one with 1M DIDs made by medid-loadtest -keep")
)

// TestBulkLoadServe loads a few DIDs, serves them and resolves each one.
func TestBulkLoadServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "app")
	var list bytes.Buffer
	res, err := BulkLoad(context.Background(), BulkConfig{Dir: dir, DIDs: 250, BlockTxs: 100, DIDList: &list, NodeCacheSize: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	if res.DIDs != 250 || res.Blocks != 3 || res.Height != 3 {
		t.Fatalf("got %d DIDs in %d blocks (height %d), want 250 in 3 (height 3)", res.DIDs, res.Blocks, res.Height)
	}
	if res.DiskBytes <= 0 || res.BytesPerDID <= 0 {
		t.Fatalf("disk figures not measured: %+v", res)
	}
	// Extending the state continues at the next height; replaying the same
	// identities would be rejected.
	if _, err := BulkLoad(context.Background(), BulkConfig{Dir: dir, First: 250, DIDs: 10, NodeCacheSize: 10_000}); err != nil {
		t.Fatalf("extend: %v", err)
	}
	if _, err := BulkLoad(context.Background(), BulkConfig{Dir: dir, First: 0, DIDs: 10, NodeCacheSize: 10_000}); err == nil || !strings.Contains(err.Error(), "rejected") {
		t.Fatalf("reloading identities 0-9: err = %v, want a rejection", err)
	}
	dids := strings.Fields(list.String())
	if len(dids) != 250 {
		t.Fatalf("DID list has %d entries, want 250", len(dids))
	}
	srv, err := Serve(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, i := range []int{0, 99, 100, 249} {
		_, body, err := Fetch(srv.URL + "/1.0/identifiers/" + dids[i])
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			DIDDocument struct {
				ID string `json:"id"`
			} `json:"didDocument"`
		}
		if err := json.Unmarshal(body, &r); err != nil || r.DIDDocument.ID != dids[i] {
			t.Fatalf("resolution of %s: id %q, err %v\n%s", dids[i], r.DIDDocument.ID, err, body)
		}
	}
	if _, _, err := Fetch(srv.URL + "/1.0/identifiers/did:medid:zNotThere"); err == nil {
		t.Fatal("unknown DID resolved")
	}

	// Warm resolves every DID once; the server's own histogram counts them.
	before, err := ReadServerLatency(srv.URL, "identifiers")
	if err != nil {
		t.Fatal(err)
	}
	if err := Warm(context.Background(), srv.URL, dids, 4); err != nil {
		t.Fatal(err)
	}
	after, err := ReadServerLatency(srv.URL, "identifiers")
	if err != nil {
		t.Fatal(err)
	}
	if n := after.Count - before.Count; n != float64(len(dids)) || after.Within5ms < before.Within5ms {
		t.Errorf("server counted %.0f resolutions during the warm-up, want %d (within 5 ms: %.0f -> %.0f)", n, len(dids), before.Within5ms, after.Within5ms)
	}
	if err := Warm(context.Background(), srv.URL, []string{"did:medid:zNotThere"}, 1); err == nil {
		t.Error("warm-up of an unknown DID succeeded")
	}
	if _, err := ReadServerLatency(srv.URL, "no-such-route"); err == nil {
		t.Error("latency of an unknown route read")
	}
}

func TestParseWrk(t *testing.T) {
	out := `Running 8s test @ http://127.0.0.1:40000
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms    2.00ms  40.00ms   90.00%
    Req/Sec    15.00k     1.00k   18.00k    70.00%
  Latency Distribution
     50%  412.00us
     75%  800.00us
     90%    1.50ms
     99%   12.34ms
  240000 requests in 8.00s, 150.00MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:  30000.12
Transfer/sec:     18.75MB
`
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"requests", r.Requests, int64(240000)},
		{"duration", r.Duration, 8 * time.Second},
		{"rps", r.RPS, 30000.12},
		{"p50", r.P50, 412 * time.Microsecond},
		{"p99", r.P99, 12340 * time.Microsecond},
		{"errors", r.Errors, int64(7)},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if _, err := parseWrk("wrk: connection refused"); err == nil {
		t.Error("garbage parsed")
	}
}

// BenchmarkResolve measures DID resolutions per second over loopback HTTP
// (Go client, 32 connections, random DIDs) against the registry API served
// from a bulk-loaded state, with p50/p99, against a bare net/http handler
// serving one real resolution response statically, in the same run.
// Default: 20,000 DIDs loaded first (untimed); with -loadtest.dir the state
// of an earlier `medid-loadtest -keep` (e.g. 1M DIDs) is used.
func BenchmarkResolve(b *testing.B) {
	node.SetGCDefault() // as registryd serves
	dir, listPath := *flagDir, ""
	if dir == "" {
		dir = b.TempDir()
		var list bytes.Buffer
		if _, err := BulkLoad(context.Background(), BulkConfig{Dir: filepath.Join(dir, "app"), DIDs: *flagDIDs, DIDList: &list}); err != nil {
			b.Fatal(err)
		}
		listPath = filepath.Join(dir, "dids.txt")
		if err := writeFile(listPath, list.Bytes()); err != nil {
			b.Fatal(err)
		}
	} else {
		listPath = filepath.Join(dir, "dids.txt")
	}
	dids, err := ReadDIDList(listPath)
	if err != nil || len(dids) == 0 {
		b.Fatalf("DID list %s: %v (%d entries)", listPath, err, len(dids))
	}
	srv, err := Serve(filepath.Join(dir, "app"), *flagCache)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ct, body, err := Fetch(srv.URL + "/1.0/identifiers/" + dids[0])
	if err != nil {
		b.Fatal(err)
	}
	bare, err := ServeStatic(ct, body)
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Close()

	b.ResetTimer()
	reg := httpLoad(b, srv.URL, dids)
	b.StopTimer()
	base := httpLoad(b, bare.URL, dids)
	b.ReportMetric(reg.RPS, "req/s")
	b.ReportMetric(float64(reg.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(reg.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(base.RPS, "bare-req/s")
	b.ReportMetric(float64(base.P99.Microseconds())/1000, "bare-p99-ms")
	b.ReportMetric(reg.RPS/base.RPS, "ratio")
	b.ReportMetric(float64(len(dids)), "dids-requested")
}

// httpLoad runs b.N GETs of random DIDs from 32 goroutines over keep-alive
// connections.
func httpLoad(b *testing.B, base string, dids []string) *LoadResult {
	b.Helper()
	const conns = 32
	tr := &http.Transport{MaxIdleConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int, conns)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := range next {
				t0 := time.Now()
				resp, err := hc.Get(base + "/1.0/identifiers/" + dids[(i*7919)%len(dids)])
				if err != nil {
					b.Error(err)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	for i := range b.N {
		next <- i
	}
	close(next)
	wg.Wait()
	el := time.Since(start)
	slices.Sort(lat)
	if len(lat) == 0 {
		b.Fatal("no request succeeded")
	}
	return &LoadResult{Requests: int64(len(lat)), Duration: el, RPS: float64(len(lat)) / el.Seconds(),
		P50: lat[len(lat)/2], P99: lat[min(len(lat)-1, len(lat)*99/100)]}
}
