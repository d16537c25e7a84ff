package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/internal/benchbase"
)

// RateLoad GETs random DIDs from dids at a fixed rate (requests per
// second) for d over conns keep-alive connections, open loop, as wrk2's
// -R does (plain wrk has no fixed rate): request i is due at start + i/rate
// and connection i mod conns sends it then, or as soon as it is free if it
// is behind. A latency runs from the time the request was due, not from
// when it was sent, so a server that stalls is charged for the requests
// that queued behind the stall (no coordinated omission). The client's
// own lateness is not charged: a sleeping goroutine wakes up to a
// millisecond after its due time on a loaded machine, which would
// otherwise be most of a 100 µs answer. So each connection keeps the
// clock of a punctual client: request i starts at max(due_i, end of
// request i-conns on that clock) and takes what it took the server
// (answer time minus send time); its latency is that end minus due_i.
// Achieved RPS below rate means the server (or the client) could not keep
// up.
func RateLoad(ctx context.Context, base string, dids []string, conns int, rate float64, d time.Duration) (*LoadResult, error) {
	if conns <= 0 || rate <= 0 || d <= 0 || len(dids) == 0 {
		return nil, fmt.Errorf("rate load: want conns, rate, duration > 0 and DIDs (got %d, %g, %v, %d)", conns, rate, d, len(dids))
	}
	n := int(rate * d.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	hc := keepAliveClient(conns)
	defer hc.CloseIdleConnections()
	// Every connection first sends one request, so the measured ones do
	// not pay for dialling.
	for range conns {
		if _, _, err := Fetch(base + "/1.0/identifiers/" + dids[0]); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	start := time.Now().Add(10 * time.Millisecond)
	lat := make([]time.Duration, n)
	ok := make([]bool, n)
	var wg sync.WaitGroup
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			var end time.Time // of the previous request, on a punctual client's clock
			for i := w; i < n && ctx.Err() == nil; i += conns {
				due := start.Add(time.Duration(i) * interval)
				if wait := time.Until(due); wait > 0 {
					time.Sleep(wait)
				}
				sent := time.Now()
				resp, err := hc.Get(base + "/1.0/identifiers/" + dids[r.IntN(len(dids))])
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				took := time.Since(sent)
				if end.Before(due) {
					end = due
				}
				end = end.Add(took)
				lat[i], ok[i] = end.Sub(due), resp.StatusCode == http.StatusOK
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	var good []time.Duration
	for i := range n {
		if ok[i] {
			good = append(good, lat[i])
		}
	}
	if len(good) == 0 {
		return nil, fmt.Errorf("rate load: no successful request")
	}
	return loadResult(good, el, int64(n-len(good))), nil
}

// FormatRateResult is the one line a rate client process prints for
// [ParseRateResult].
func FormatRateResult(r *LoadResult) string {
	return fmt.Sprintf("rate-result requests=%d duration=%d rps=%g p50=%d p99=%d errors=%d",
		r.Requests, r.Duration, r.RPS, r.P50, r.P99, r.Errors)
}

// ParseRateResult reads the line of [FormatRateResult] from a rate client
// process's output.
func ParseRateResult(out string) (*LoadResult, error) {
	for _, l := range strings.Split(out, "\n") {
		rest, found := strings.CutPrefix(strings.TrimSpace(l), "rate-result ")
		if !found {
			continue
		}
		r := &LoadResult{Raw: out}
		seen := 0
		for _, f := range strings.Fields(rest) {
			k, v, _ := strings.Cut(f, "=")
			var err error
			switch k {
			case "requests":
				r.Requests, err = strconv.ParseInt(v, 10, 64)
			case "duration", "p50", "p99":
				var x int64
				x, err = strconv.ParseInt(v, 10, 64)
				*map[string]*time.Duration{"duration": &r.Duration, "p50": &r.P50, "p99": &r.P99}[k] = time.Duration(x)
			case "rps":
				r.RPS, err = strconv.ParseFloat(v, 64)
			case "errors":
				r.Errors, err = strconv.ParseInt(v, 10, 64)
			default:
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("rate client output %q: %w", l, err)
			}
			seen++
		}
		if seen != 6 {
			return nil, fmt.Errorf("rate client output %q: want 6 fields", l)
		}
		return r, nil
	}
	return nil, fmt.Errorf("rate client output has no rate-result line:\n%.500s", out)
}

// ProcStats is a reading of this process's memory and CPU, for the
// difference over a load run ([ProcStats.Since]).
type ProcStats struct {
	At          time.Time
	CPU         time.Duration // process CPU (user + system)
	GCCPU       time.Duration // the collector's CPU (runtime/metrics: mark assist, dedicated mark workers, pauses; idle-time marking left out)
	GCCycles    uint64
	RSS, MaxRSS uint64 // resident bytes now, and at most since the process started (VmRSS, VmHWM)
	GoHeap      uint64 // bytes of live and not yet swept heap objects
	GoTotal     uint64 // bytes mapped by the Go runtime (heap, stacks, its own); memory outside it (mmap'ed caches, C) is RSS minus this at most
}

var procMetrics = []string{
	"/cpu/classes/gc/mark/assist:cpu-seconds",
	"/cpu/classes/gc/mark/dedicated:cpu-seconds",
	"/cpu/classes/gc/pause:cpu-seconds",
	"/gc/cycles/total:gc-cycles",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/total:bytes",
}

// ReadProcStats reads the process's figures now.
func ReadProcStats() (ProcStats, error) {
	s := ProcStats{At: time.Now(), CPU: benchbase.ProcessCPU()}
	m := make([]metrics.Sample, len(procMetrics))
	for i, n := range procMetrics {
		m[i].Name = n
	}
	metrics.Read(m)
	for _, x := range m[:3] {
		if x.Value.Kind() == metrics.KindFloat64 {
			s.GCCPU += time.Duration(x.Value.Float64() * float64(time.Second))
		}
	}
	s.GCCycles, s.GoHeap, s.GoTotal = m[3].Value.Uint64(), m[4].Value.Uint64(), m[5].Value.Uint64()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return s, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, found := strings.Cut(sc.Text(), ":")
		if !found || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return s, fmt.Errorf("/proc/self/status %s: %w", k, err)
		}
		if k == "VmRSS" {
			s.RSS = kb << 10
		} else {
			s.MaxRSS = kb << 10
		}
	}
	return s, sc.Err()
}

// Since describes the interval from earlier to s: the collector's share of
// the process's CPU, its cycles, and the process CPU per second of wall
// time (cores busy).
func (s ProcStats) Since(earlier ProcStats) (gcShare float64, cycles uint64, cores float64) {
	cpu := s.CPU - earlier.CPU
	if cpu > 0 {
		gcShare = float64(s.GCCPU-earlier.GCCPU) / float64(cpu)
	}
	if wall := s.At.Sub(earlier.At); wall > 0 {
		cores = float64(cpu) / float64(wall)
	}
	return gcShare, s.GCCycles - earlier.GCCycles, cores
}

// String is the memory part of a reading, in MB.
func (s ProcStats) String() string {
	return fmt.Sprintf("RSS %d MB (peak %d MB), Go heap objects %d MB, Go runtime total %d MB",
		s.RSS>>20, s.MaxRSS>>20, s.GoHeap>>20, s.GoTotal>>20)
}
