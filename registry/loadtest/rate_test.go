package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medid/medid/internal/benchbase"
)

// TestRateLoad: the fixed-rate client sends what it was asked for, and a
// server that stalls is charged for the requests due during the stall
// (latency from the due time), where a closed-loop client would see one
// slow request.
func TestRateLoad(t *testing.T) {
	var n atomic.Int64
	stall := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/1.0/identifiers/") {
			http.NotFound(w, r)
			return
		}
		if n.Add(1) == 40 {
			time.Sleep(400 * time.Millisecond)
			close(stall)
		}
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()
	// 200 requests a second leave each request 5 ms, so a loaded CI machine
	// keeps up outside the stall (at 1,000 a second one connection could not).
	const rate, d = 200.0, 2 * time.Second
	r, err := RateLoad(context.Background(), srv.URL, []string{"did:medid:a", "did:medid:b"}, 1, rate, d)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-stall:
	default:
		t.Fatal("the server never stalled")
	}
	if r.Requests != int64(rate*d.Seconds()) || r.Errors != 0 {
		t.Errorf("%d requests, %d errors; want %d and none", r.Requests, r.Errors, int64(rate*d.Seconds()))
	}
	// ~80 requests of 400 were due during the 400 ms stall: the slowest 1%
	// waited most of it.
	if r.P99 < 150*time.Millisecond {
		t.Errorf("p99 %v: the stall was not charged to the requests queued behind it", r.P99)
	}
	if r.P50 > 100*time.Millisecond {
		t.Errorf("p50 %v: want most requests answered promptly", r.P50)
	}
	if _, err := RateLoad(context.Background(), srv.URL, []string{"x"}, 1, 0, d); err == nil {
		t.Error("rate 0 accepted")
	}
}

// TestRateResultRoundTrip: the line a client process prints reads back as
// the same result; other output is refused.
func TestRateResultRoundTrip(t *testing.T) {
	want := &LoadResult{Requests: 12345, Duration: 8*time.Second + 3*time.Millisecond, RPS: 1543.25, P50: 140 * time.Microsecond, P99: 4900 * time.Microsecond, Errors: 2}
	got, err := ParseRateResult("noise\n" + FormatRateResult(want) + "\n")
	if err != nil {
		t.Fatal(err)
	}
	got.Raw = ""
	if *got != *want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "rate-result requests=1", "rate-result requests=x duration=1 rps=1 p50=1 p99=1 errors=0"} {
		if _, err := ParseRateResult(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestReadProcStats reads this process's memory and CPU figures.
func TestReadProcStats(t *testing.T) {
	a, err := ReadProcStats()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([][]byte, 0, 64)
	for range 64 {
		buf = append(buf, make([]byte, 1<<20))
	}
	// The collector's CPU is the runtime's estimate (its workers' time on
	// a P, whether or not the kernel ran them), the process's is the
	// kernel's count: over the few milliseconds of the allocations alone,
	// on a loaded machine or under -race, the estimate can exceed the
	// count. Measure over at least 200 ms of the process's CPU, mostly
	// signature checks, as a load run does over seconds.
	for deadline := time.Now().Add(10 * time.Second); benchbase.ProcessCPU()-a.CPU < 200*time.Millisecond && time.Now().Before(deadline); {
		benchbase.Ed25519VerifyCPU(1, 200)
	}
	b, err := ReadProcStats()
	if err != nil {
		t.Fatal(err)
	}
	// The buffers must still be reachable when b is read: the check below
	// uses only len(buf), so without this the collector may free them
	// during the signature checks (CI, 2026-12-05: "Go heap objects 4 MB").
	runtime.KeepAlive(buf)
	if a.RSS == 0 || b.MaxRSS < b.RSS || b.GoTotal == 0 || b.GoHeap < 32<<20 || b.CPU < a.CPU {
		t.Errorf("implausible readings: %+v then %+v (%d buffers)", a, b, len(buf))
	}
	if gc, _, _ := b.Since(a); gc < 0 || gc > 1 {
		t.Errorf("GC share %g", gc)
	}
}
