package node_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/benchbase"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/node/proctest"
	"github.com/medid/medid/registry/tx"
)

// The validator-process benchmarks run every validator as its own registryd
// process (registry/node/proctest, validators peering directly), submit signed did.create transactions over
// HTTP (POST /1.0/transactions, which answers once the transaction is
// committed) round-robin to the validators, and read each validator's CPU
// from /proc. This is how a hospital network runs; the in-process variants
// (BenchmarkCommitDIDCreate, BenchmarkCommitDIDCreate4Nodes) share one heap,
// one garbage collector and one scheduler between the validators and the
// submitters and do not go through HTTP.

// registryd returns the registryd binary (built once per test process).
func registryd(b *testing.B) string {
	b.Helper()
	bin, err := proctest.Binary()
	if err != nil {
		b.Fatal(err)
	}
	return bin
}

// probeRun reports whether this is the testing package's first run of a
// benchmark with b.N = 1 before the -benchtime Nx run: the process
// benchmarks skip it rather than start a network for one transaction.
func probeRun(b *testing.B) bool {
	if b.N != 1 {
		return false
	}
	f := flag.Lookup("test.benchtime")
	return f != nil && strings.HasSuffix(f.Value.String(), "x") && f.Value.String() != "1x"
}

// startProcs starts a fresh network of n validator processes for one run.
// With -cpuprofile, each validator writes its own profile next to it
// (<profile>.<name>.node<i>), completed when the network stops.
func startProcs(b *testing.B, n int, name string) *proctest.Network {
	return startProcsGossip(b, n, name, "", 0)
}

// startProcsGossip is startProcs with every validator's
// Settings.MempoolRelay set to relay ("": the default, node.RelayDirect)
// and Settings.GossipPeers to gossipPeers (0: every peer; with
// node.RelayFlood only).
func startProcsGossip(b *testing.B, n int, name, relay string, gossipPeers int) *proctest.Network {
	b.Helper()
	dir, err := os.MkdirTemp("", "medid-bench-procs-")
	if err != nil {
		b.Fatal(err)
	}
	testnets.mu.Lock()
	testnets.dirs = append(testnets.dirs, dir)
	testnets.mu.Unlock()
	cfg := proctest.Config{Binary: registryd(b), Validators: n, Dir: dir, BlockTime: benchBlockTime,
		// No did.create budget: the benchmark sends far more than the
		// default hourly quota of self-made DIDs (as the in-process
		// benchmarks do, nodetest.SetQuotas).
		Quotas:       nodetest.UnlimitedCreates(),
		GossipPeers:  gossipPeers,
		MempoolRelay: relay,
		// Validators dial each other, as `registryd testnet` writes them:
		// no proxy in this process, whose CPU is the load generator's.
		Direct:   true,
		LogLevel: "warn",
		// $MEDID_BENCH_REGISTRYD_ARGS: more registryd flags for every
		// validator, e.g. "--block-time 300ms" to measure a setting.
		Args: append([]string{"--max-conns", "8192"}, strings.Fields(os.Getenv("MEDID_BENCH_REGISTRYD_ARGS"))...),
		NodeArgs: func(i int) []string {
			var a []string
			if p := profilePath("test.cpuprofile"); p != "" {
				a = append(a, "--cpuprofile", fmt.Sprintf("%s.%s.node%d", p, name, i))
			}
			// -test.memprofile: each validator's allocations too
			// (GODEBUG=memprofilerate=N in the environment sets their rate).
			if p := profilePath("test.memprofile"); p != "" {
				a = append(a, "--memprofile", fmt.Sprintf("%s.%s.node%d", p, name, i))
			}
			return a
		}}
	net, err := proctest.Start(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		// MEDID_BENCH_LOGS=1 prints the logs of a run that passed too
		// (e.g. with a validator's warnings about its peers).
		if b.Failed() || os.Getenv("MEDID_BENCH_LOGS") != "" {
			// Say what the validators did before their folders go.
			// Without the API's per-request errors, which a failure
			// multiplies by the submitters and which hide the cause.
			for i, nd := range net.Nodes {
				var keep []string
				for _, l := range strings.Split(nd.LogTail(8<<20), "\n") {
					if !strings.Contains(l, "registry api error") {
						keep = append(keep, l)
					}
				}
				tail := strings.Join(keep, "\n")
				tail = tail[max(0, len(tail)-6000):]
				// At the benchmarks' log level (warn) a healthy validator
				// logs only its two start-up lines, so its state says
				// more: height, peers and the readiness checks (a stall
				// names how long transactions waited without a block).
				b.Logf("validator %d (running: %v), end of its log (API request errors left out):\n%s\nits /readyz now: %s", i, nd.Running(), tail, readyz(nd.URL))
			}
		}
		net.Close()
	})
	return net
}

// readyz returns the body of a validator's GET /readyz (or why there is
// none), for the report of a failed run.
func readyz(url string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
	if err != nil {
		return err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
	return fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
}

// profilePath is the file of test flag name (-test.cpuprofile,
// -test.memprofile), made absolute (go test runs
// the binary in the package folder and writes the profile there).
func profilePath(name string) string {
	f := flag.Lookup(name)
	if f == nil || f.Value.String() == "" {
		return ""
	}
	p := f.Value.String()
	if o := flag.Lookup("test.outputdir"); o != nil && o.Value.String() != "" && !filepath.IsAbs(p) {
		p = filepath.Join(o.Value.String(), p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return abs
}

// httpSubmitter posts transactions to the validators' APIs.
type httpSubmitter struct {
	urls []string
	hc   *http.Client
}

func newHTTPSubmitter(net *proctest.Network, conns int) *httpSubmitter {
	// At most conns connections per validator, idle ones included: a
	// validator holds 2,048 connections per client address (--max-conns
	// 8192) and, at that cap, closes an idle one for a newcomer.
	//
	// Idle connections are not reused after submitIdleConn. A validator
	// (net/http with internal/httpserver's ReadHeaderTimeout of 5 s) closes
	// a new connection whose first request has not arrived 5 s after it
	// accepted it, without a reply. The Transport dials a connection for a
	// request that then takes another one freed meanwhile, and keeps the
	// new one idle; reused after the validator closed it (more likely the
	// more loaded the machine: the client notices the close late), it ends
	// the run in `Post ...: EOF`, with either relay and at any size (seen
	// in 2 of 6 runs at load 35-42, and most likely the quick failure of a
	// seven-validator run on the quiet machine, BENCHMARKS.md, issue 19).
	// The Idempotency-Key makes the Transport retry a POST that met such a
	// close on a reused connection before any reply (it resends the same
	// transaction, which the ledger would take as the same one anyway).
	s := &httpSubmitter{hc: &http.Client{Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
		IdleConnTimeout: submitIdleConn, DisableCompression: true,
	}}}
	for _, nd := range net.Nodes {
		s.urls = append(s.urls, nd.URL+"/1.0/transactions")
	}
	return s
}

// submitIdleConn is how long the submitters' idle connections may wait
// for their next request: below the validators' 5 s for a connection's
// first request (see newHTTPSubmitter).
const submitIdleConn = 2 * time.Second

// submit posts raw to validator i mod n and waits for its commit; a 503
// (mempool full) is retried after a short pause.
func (s *httpSubmitter) submit(ctx context.Context, i int, raw []byte) error {
	resets := 0
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.urls[i%len(s.urls)], bytes.NewReader(raw))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/jose")
		req.Header.Set("Idempotency-Key", strconv.Itoa(i))
		resp, err := s.hc.Do(req)
		if err != nil {
			// A connection the validator closed unused (see
			// newHTTPSubmitter) can still meet a request the Transport
			// does not retry itself: one it had dialed but never used
			// ends in EOF or a reset. Such a request never reached the
			// handler, so it is sent again; had it reached it, the resend
			// is refused as a duplicate (409) and the run fails saying so.
			if resets < 3 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) && ctx.Err() == nil {
				resets++
				continue
			}
			return err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return nil
		case http.StatusServiceUnavailable:
			select {
			case <-time.After(50 * time.Millisecond):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if resets > 0 {
			return fmt.Errorf("validator %d answered %d to a resend after a closed connection: %s", i%len(s.urls), resp.StatusCode, bytes.TrimSpace(body))
		}
		return fmt.Errorf("validator %d answered %d: %s", i%len(s.urls), resp.StatusCode, bytes.TrimSpace(body))
	}
}

// submitBatch posts txs (transactions first … first+len(txs)-1) to
// validator first/batch mod n through POST /1.0/transactions/batch and
// waits for every one's outcome; transactions answered 503 (mempool full)
// are sent again after a short pause, any other failure ends the run.
func (s *httpSubmitter) submitBatch(ctx context.Context, first, batch int, txs [][]byte) error {
	url := s.urls[(first/batch)%len(s.urls)] + "/batch"
	pending := make([]int, len(txs))
	for i := range pending {
		pending[i] = i
	}
	for len(pending) > 0 {
		list := make([]string, len(pending))
		for j, i := range pending {
			list[j] = string(txs[i])
		}
		body, err := json.Marshal(map[string][]string{"transactions": list})
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", strconv.Itoa(first))
		resp, err := s.hc.Do(req)
		if err != nil {
			return err
		}
		rb, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("batch at %d: answered %d: %.300s", first, resp.StatusCode, bytes.TrimSpace(rb))
		}
		var r struct {
			Results []struct {
				Status  int             `json:"status"`
				Problem json.RawMessage `json:"problem"`
			} `json:"results"`
		}
		if err := json.Unmarshal(rb, &r); err != nil || len(r.Results) != len(pending) {
			return fmt.Errorf("batch at %d: %d results for %d transactions (%v): %.300s", first, len(r.Results), len(pending), err, rb)
		}
		var again []int
		for j, it := range r.Results {
			switch it.Status {
			case http.StatusOK:
			case http.StatusServiceUnavailable:
				again = append(again, pending[j])
			default:
				return fmt.Errorf("tx %d of the batch at %d: %d %s", pending[j], first, it.Status, it.Problem)
			}
		}
		if pending = again; len(pending) > 0 {
			select {
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// batchSize is $MEDID_PROCS_BATCH: how many transactions each request of
// the closed loop carries (POST /1.0/transactions/batch); 1 (the
// default) posts each to /1.0/transactions.
func batchSize(b *testing.B) int {
	v := os.Getenv("MEDID_PROCS_BATCH")
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > ledger.MaxTxBatch {
		b.Fatalf("MEDID_PROCS_BATCH=%q: want a number from 1 to %d", v, ledger.MaxTxBatch)
	}
	return n
}

// closedLoop submits txs from workers goroutines, each waiting for its
// commit before the next, and returns the elapsed time and the latencies.
// With $MEDID_PROCS_BATCH = k > 1, workers/k goroutines (rounded up) each
// submit k transactions per request, so as many are in flight.
func (s *httpSubmitter) closedLoop(b *testing.B, txs [][]byte, workers int) (time.Duration, []time.Duration) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var next atomic.Int64
	lat := make([]time.Duration, len(txs))
	var firstErr atomic.Value
	var wg sync.WaitGroup
	batch := batchSize(b)
	start := time.Now()
	for range (workers + batch - 1) / batch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(int64(batch))) - batch
				if i >= len(txs) || ctx.Err() != nil {
					return
				}
				j := min(i+batch, len(txs))
				t0 := time.Now()
				var err error
				if batch == 1 {
					err = s.submit(ctx, i, txs[i])
				} else {
					err = s.submitBatch(ctx, i, batch, txs[i:j])
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, fmt.Errorf("tx %d: %w", i, err))
					cancel()
					return
				}
				for k := i; k < j; k++ {
					lat[k] = time.Since(t0)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := firstErr.Load().(error); err != nil {
		b.Fatal(err)
	}
	return elapsed, lat
}

// openLoop submits txs at rate per second whatever the commits do (each
// transaction on its own goroutine), as independent clients would, and
// returns the elapsed time and the latencies.
func (s *httpSubmitter) openLoop(b *testing.B, txs [][]byte, rate float64) (time.Duration, []time.Duration) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	lat := make([]time.Duration, len(txs))
	var firstErr atomic.Value
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for i := range txs {
		// Sleep to the i-th slot: no drift however late a wake-up is.
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			if err := s.submit(ctx, i, txs[i]); err != nil {
				firstErr.CompareAndSwap(nil, fmt.Errorf("tx %d: %w", i, err))
				cancel()
				return
			}
			lat[i] = time.Since(t0)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := firstErr.Load().(error); err != nil {
		b.Fatal(err)
	}
	return elapsed, lat
}

// nodeStats reads every validator's CPU time and page faults.
func nodeStats(b *testing.B, net *proctest.Network) []benchbase.PidStat {
	b.Helper()
	out := make([]benchbase.PidStat, len(net.Nodes))
	for i, nd := range net.Nodes {
		st, err := benchbase.ReadPidStat(nd.Pid())
		if err != nil {
			b.Fatalf("CPU of validator %d: %v", i, err)
		}
		out[i] = st
	}
	return out
}

// warmupTxs is $MEDID_PROCS_WARMUP: how many did.create the closed loop
// commits before the measured ones (0, the default: only the first
// block's one). A validator process starts with a small heap and grows it
// to its collector's goal (GOGC) the first time through, every new page
// zeroed by the kernel; a warm-up of a few thousand transactions per
// validator measures the node as it runs for months instead, its heap
// grown (docs/design/0022, sixth round).
func warmupTxs(b *testing.B) int {
	v := os.Getenv("MEDID_PROCS_WARMUP")
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1_000_000 {
		b.Fatalf("MEDID_PROCS_WARMUP=%q: want a number of transactions from 0 to 1000000", v)
	}
	return n
}

// procsWorkers is the closed loop's concurrency: enough transactions in
// flight to fill 100 ms blocks at a few thousand tx/s, within each
// validator's per-client HTTP connection share (--max-conns 8192: 2,048;
// the default cap would refuse a single validator's 1,025th connection
// from the one load-generating address).
const procsWorkers = 1024

// workers is the closed loop's concurrency: procsWorkers, or
// $MEDID_PROCS_WORKERS (1 to procsWorkers). On a machine whose load
// average is far above its cores, 1,024 transactions in flight queue for
// longer than the API's 30 s commit wait (a 504 ends the run whatever the
// variant); fewer keep the queue short while blocks stay full.
func workers(b *testing.B) int {
	v := os.Getenv("MEDID_PROCS_WORKERS")
	if v == "" {
		return procsWorkers
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > procsWorkers {
		b.Fatalf("MEDID_PROCS_WORKERS=%q: want a number from 1 to %d", v, procsWorkers)
	}
	return n
}

// maxPeakRSS returns the largest peak resident set (VmHWM) of the
// validators' processes so far: what a garbage-collector setting costs in
// memory.
func maxPeakRSS(b *testing.B, net *proctest.Network) int64 {
	b.Helper()
	var most int64
	for i, nd := range net.Nodes {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", nd.Pid()))
		if err != nil {
			b.Fatalf("memory of validator %d: %v", i, err)
		}
		for _, l := range strings.Split(string(st), "\n") {
			if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				if err != nil {
					b.Fatalf("memory of validator %d: %q: %v", i, l, err)
				}
				most = max(most, kb<<10)
			}
		}
	}
	return most
}

// peakTPS remembers the closed-loop throughput of each network size
// measured in this process, for the open-loop runs at a fraction of it.
var peakTPS sync.Map // validators -> float64

// BenchmarkCommitDIDCreateProcs measures signed did.create transactions
// committed per second by a network of 1, 4 or 7 validators, each its own
// registryd process on loopback (a fresh network per run), from
// procsWorkers concurrent HTTP submitters, with p50/p99 commit latency and
// each validator's CPU per committed transaction in sig-equivalents (one
// bare ed25519.Verify measured in this process). The submitters' own CPU
// is reported apart (loadgen-sigeq/tx): they share the machine but are not
// part of any validator.
func BenchmarkCommitDIDCreateProcs(b *testing.B) {
	for _, n := range []int{1, 4, 7} {
		b.Run(fmt.Sprintf("validators=%d", n), func(b *testing.B) { benchProcs(b, n, 0) })
	}
}

// BenchmarkCommitDIDCreateProcsGossip is BenchmarkCommitDIDCreateProcs on
// four and seven validator processes with each way transactions can reach
// the other validators' mempools: the registry's direct relay (the
// default, Settings.MempoolRelay "direct"), and CometBFT's gossip
// ("flood") to every peer and to one or two peers only
// (Settings.GossipPeers). -count repeats each variant back to back, so
// compare variants by running them alternately, one -bench pattern per
// invocation (BENCHMARKS.md).
func BenchmarkCommitDIDCreateProcsGossip(b *testing.B) {
	for _, n := range []int{4, 7} {
		b.Run(fmt.Sprintf("validators=%d", n), func(b *testing.B) {
			b.Run("relay=direct", func(b *testing.B) { benchProcsGossip(b, n, 0, node.RelayDirect, 0) })
			for _, g := range []int{0, 1, 2} {
				name := "all"
				if g > 0 {
					name = fmt.Sprint(g)
				}
				b.Run("relay=flood/gossipPeers="+name, func(b *testing.B) { benchProcsGossip(b, n, 0, node.RelayFlood, g) })
			}
		})
	}
}

// BenchmarkCommitLatencyProcs measures commit latency under an open-loop
// load of 50%, 80% and 90% of the peak throughput of the same network size
// measured earlier in this process (by BenchmarkCommitDIDCreateProcs, or a
// closed-loop run of its own first). b.N transactions per run.
func BenchmarkCommitLatencyProcs(b *testing.B) {
	for _, n := range []int{1, 4} {
		for _, f := range []float64{0.5, 0.8, 0.9} {
			b.Run(fmt.Sprintf("validators=%d/load=%.0f%%", n, 100*f), func(b *testing.B) { benchProcs(b, n, f) })
		}
	}
}

// benchProcs runs b.N did.create transactions through a fresh network of n
// validator processes: a closed loop when fraction is 0, otherwise an open
// loop at fraction × the peak measured for n.
func benchProcs(b *testing.B, n int, fraction float64) { benchProcsGossip(b, n, fraction, "", 0) }

// benchProcsGossip is benchProcs with Settings.MempoolRelay = relay and
// Settings.GossipPeers = gossipPeers.
func benchProcsGossip(b *testing.B, n int, fraction float64, relay string, gossipPeers int) {
	if probeRun(b) {
		return
	}
	b.StopTimer()
	run := bench4Runs.Add(1)
	name := fmt.Sprintf("procs%d-%d", n, run)
	rate := 0.0
	if fraction > 0 {
		peak, ok := peakTPS.Load(n)
		if !ok {
			b.Logf("no peak measured for %d validators in this process: measuring one (closed loop, 6,000 txs)", n)
			peak = measurePeak(b, n)
		}
		rate = fraction * peak.(float64)
	}
	txs := makeCreateTxs(b, name, b.N)
	net := startProcsGossip(b, n, name, relay, gossipPeers)
	w := workers(b)
	sub := newHTTPSubmitter(net, w)
	// Warm up: one transaction (the first block, connections), and
	// $MEDID_PROCS_WARMUP more.
	if err := sub.submit(context.Background(), 0, nodetest.NewIdentity(b, name+"-warm").CreateTx(b)); err != nil {
		b.Fatal(err)
	}
	if n := warmupTxs(b); n > 0 {
		sub.closedLoop(b, makeCreateTxs(b, name+"-warmup", n), w)
	}
	verify0 := benchbase.Ed25519VerifyCPU(5, 200)
	h0, err := net.Nodes[0].Height(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	disk0 := homeSizes(net)
	st0, self0 := nodeStats(b, net), benchbase.ProcessCPU()
	b.StartTimer()
	var elapsed time.Duration
	var lat []time.Duration
	if fraction == 0 {
		elapsed, lat = sub.closedLoop(b, txs, w)
	} else {
		elapsed, lat = sub.openLoop(b, txs, rate)
	}
	b.StopTimer()
	st1, self1 := nodeStats(b, net), benchbase.ProcessCPU()
	// What the timed transactions added to each validator's home (its
	// whole folder: CometBFT's block store, state store and WAL, the
	// application's state), and of it CometBFT's state store.
	var home, state int64
	for i, d := range homeSizes(net) {
		home += d.home - disk0[i].home
		state += d.state - disk0[i].state
	}
	b.ReportMetric(float64(home)/float64(b.N)/float64(n), "disk-B/tx/node")
	b.ReportMetric(float64(state)/float64(b.N)/float64(n), "state.db-B/tx/node")
	// Blocks carry the measured transactions (and the empty proof block
	// after each app hash change): what each block's fixed work is shared by.
	if h1, err := net.Nodes[0].Height(context.Background()); err == nil && h1 > h0 {
		b.ReportMetric(float64(b.N)/float64(h1-h0), "txs/block")
	}
	used := make([]time.Duration, n)
	var sys time.Duration
	var faults int64
	for i := range used {
		used[i] = st1[i].User + st1[i].System - st0[i].User - st0[i].System
		sys += st1[i].System - st0[i].System
		faults += st1[i].MinorFaults - st0[i].MinorFaults
	}
	r := &benchbase.LedgerRun{Name: b.Name(), Variant: "processes", Validators: n, Txs: b.N, Elapsed: elapsed,
		OfferedRate: rate, Latencies: lat, NodeCPU: used}
	if fraction == 0 {
		r.Workers = w
	}
	finishRun(b, r, verify0)
	b.ReportMetric(float64(self1-self0)/float64(b.N)/float64(r.VerifyCPU), "loadgen-sigeq/tx")
	b.ReportMetric(float64(maxPeakRSS(b, net))/(1<<20), "max-peak-rss-MiB")
	// The validators' kernel time (system calls, and the page faults of a
	// growing heap: minflt/tx/node) as a share of their CPU.
	var total time.Duration
	for _, u := range used {
		total += u
	}
	if total > 0 {
		b.ReportMetric(100*float64(sys)/float64(total), "sys-%")
	}
	b.ReportMetric(float64(faults)/float64(b.N)/float64(n), "minflt/tx/node")
	if fraction == 0 {
		b.ReportMetric(float64(batchSize(b)), "txs/request")
	}
	if fraction == 0 {
		peakTPS.Store(n, r.TPS())
	} else {
		b.ReportMetric(rate, "offered-tx/s")
	}
}

// homeSize is the bytes of a validator's home folder and, of them, of
// CometBFT's state store (data/state.db).
type homeSize struct{ home, state int64 }

// homeSizes measures every validator's home (regular files, apparent size).
func homeSizes(net *proctest.Network) []homeSize {
	out := make([]homeSize, len(net.Nodes))
	for i, nd := range net.Nodes {
		out[i] = homeSize{home: filesBytes(nd.Home), state: filesBytes(filepath.Join(nd.Home, "data", "state.db"))}
	}
	return out
}

// filesBytes is the total size of the regular files under dir (files
// that vanish while it walks, as LevelDB compacts, are skipped).
func filesBytes(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if info, err := e.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

// measurePeak runs an untimed closed loop of 6,000 transactions on a fresh
// network of n validators and returns its throughput.
func measurePeak(b *testing.B, n int) float64 {
	b.Helper()
	name := fmt.Sprintf("peak%d-%d", n, bench4Runs.Add(1))
	txs := makeCreateTxs(b, name, 6000)
	net := startProcs(b, n, name)
	w := workers(b)
	elapsed, _ := newHTTPSubmitter(net, w).closedLoop(b, txs, w)
	net.Close()
	tps := float64(len(txs)) / elapsed.Seconds()
	peakTPS.Store(n, tps)
	return tps
}

// makeCreateTxs signs n did.create transactions of fresh identities named
// after prefix (the identities nodetest.NewIdentity derives), on all CPUs.
func makeCreateTxs(b *testing.B, prefix string, n int) [][]byte {
	b.Helper()
	txs := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				txs[i], errs[i] = createTx(fmt.Sprintf("%s-%d", prefix, i))
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
	return txs
}

// createTx is nodetest.NewIdentity(seed).CreateTx with errors returned
// (it runs on several goroutines).
func createTx(seed string) ([]byte, error) {
	sum := sha256.Sum256([]byte(seed))
	k, err := key.NewEd25519FromSeed(sum[:])
	if err != nil {
		return nil, err
	}
	p, kid, err := tx.NewKeyDIDCreate(k.Public())
	if err != nil {
		return nil, err
	}
	p.Nonce = tx.NewNonce()
	return tx.Sign(p, k, kid)
}
