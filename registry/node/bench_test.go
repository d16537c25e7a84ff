package node_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/internal/benchbase"
	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/node/nodetest"
)

// benchBlockTime is the block time of the commit benchmarks (the registryd
// default).
const benchBlockTime = node.DefaultBlockTime

// startBench starts a node over application a in a fresh home.
func startBench(b *testing.B, a abci.Application, concurrent bool) *node.Node {
	return startBenchConfig(b, a, node.Config{ConcurrentApp: concurrent})
}

// startBenchConfig is startBench with further node settings in c (Home,
// App, P2PAddr, BlockTime and Logger are filled in).
func startBenchConfig(b *testing.B, a abci.Application, c node.Config) *node.Node {
	b.Helper()
	home := b.TempDir()
	if _, err := node.Init(node.InitConfig{Home: home}); err != nil {
		b.Fatal(err)
	}
	nodetest.SetQuotas(b, home, nodetest.UnlimitedCreates())
	p2p, err := node.FreeAddr()
	if err != nil {
		b.Fatal(err)
	}
	c.Home, c.App, c.P2PAddr, c.BlockTime, c.Logger = home, a, p2p, benchBlockTime, nodetest.Discard
	n, err := node.New(c)
	if err != nil {
		b.Fatal(err)
	}
	if err := n.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = n.Stop() })
	return n
}

// submitAll submits txs from `workers` goroutines and returns the elapsed
// time and each transaction's commit latency.
func submitAll(b *testing.B, n *node.Node, txs [][]byte, workers int) (time.Duration, []time.Duration) {
	b.Helper()
	ctx := context.Background()
	next := make(chan []byte)
	lat := make([]time.Duration, 0, len(txs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range next {
				t0 := time.Now()
				if _, err := n.Submit(ctx, t); err != nil {
					errs <- err
					return
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	for _, t := range txs {
		next <- t
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errs:
		b.Fatalf("submit: %v", err)
	default:
	}
	return elapsed, lat
}

func percentile(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// BenchmarkCommitDIDCreate measures signed did.create transactions
// committed per second by one in-process validator running the registry
// app (signature checks in CheckTx and FinalizeBlock, IAVL writes), with
// p50/p99 commit latency as seen by Node.Submit, against a baseline in the
// same run: the same node wiring over CometBFT's trivial kvstore app with
// the same number of tiny transactions (bare-engine-tx/s).
func BenchmarkCommitDIDCreate(b *testing.B) {
	benchCommitDIDCreate(b, "bench", node.Config{ConcurrentApp: true})
}

// benchCommitDIDCreate is BenchmarkCommitDIDCreate with the node settings
// in c and transactions of identities named after prefix.
func benchCommitDIDCreate(b *testing.B, prefix string, c node.Config) {
	node.SetGCDefault()
	const workers = 2048
	b.StopTimer()
	txs := makeCreateTxs(b, fmt.Sprintf("%s-%d", prefix, b.N), b.N)
	a, err := machine.New(machine.Config{Dir: filepath.Join(b.TempDir(), "app")})
	if err != nil {
		b.Fatal(err)
	}
	var abciApp abci.Application = a
	if os.Getenv("MEDID_BENCH_TRACE") != "" {
		abciApp = timedApp{a, "node"}
	}
	n := startBenchConfig(b, abciApp, c)
	b.Cleanup(func() { _ = a.Close() })
	verify0 := benchbase.Ed25519VerifyCPU(5, 200)
	if mb, err := strconv.Atoi(os.Getenv("MEDID_BENCH_PREFAULT_MB")); err == nil && mb > 0 {
		prefaultHeap(mb)
	}
	b.StartTimer()
	gc0 := gcCPU()
	ru0 := selfUsage(b)
	cpu0 := benchbase.ProcessCPU()
	h0 := n.Height()
	elapsed, lat := submitAll(b, n, txs, workers)
	cpu := benchbase.ProcessCPU() - cpu0
	ru1 := selfUsage(b)
	gc := gcCPU() - gc0
	b.StopTimer()
	// The collector's share of the run's CPU (runtime/metrics' estimate:
	// mark workers, assists and pauses).
	b.ReportMetric(100*gc/cpu.Seconds(), "gc-%")
	// The kernel's share (system calls, and the first touch of the pages a
	// growing heap takes: minflt/tx).
	sys := time.Duration(ru1.Stime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(100*sys.Seconds()/cpu.Seconds(), "sys-%")
	b.ReportMetric(float64(ru1.Minflt-ru0.Minflt)/float64(b.N), "minflt/tx")
	run := finishRun(b, &benchbase.LedgerRun{Name: b.Name(), Variant: "in-process", Validators: 1, Txs: b.N, Elapsed: elapsed,
		Workers: workers, Latencies: lat, NodeCPU: []time.Duration{cpu}, Blocks: n.Height() - h0}, verify0)
	if os.Getenv("MEDID_BENCH_NO_BASELINE") != "" {
		// A profile of the registry node alone (no kvstore run after it).
		return
	}

	kvTxs := make([][]byte, b.N)
	for i := range kvTxs {
		kvTxs[i] = []byte(fmt.Sprintf("%s-key-%d-%d=value", prefix, b.N, i))
	}
	kv := startBench(b, kvstore.NewInMemoryApplication(), false)
	kvCPU0 := benchbase.ProcessCPU()
	kvElapsed, _ := submitAll(b, kv, kvTxs, workers)
	kvCPU := benchbase.ProcessCPU() - kvCPU0

	bare := float64(b.N) / kvElapsed.Seconds()
	b.ReportMetric(bare, "bare-engine-tx/s")
	b.ReportMetric(run.TPS()/bare, "ratio")
	// What the engine alone costs per (tiny) transaction, in the same unit.
	b.ReportMetric(float64(kvCPU)/float64(b.N)/float64(run.VerifyCPU), "bare-sigeq/tx")
}

// finishRun completes r (the baseline measured now and verify0, measured
// before the run; the load average; the time), reports it, logs its
// summary and saves it for the plots (benchbase.ResultsDirEnv).
func finishRun(b *testing.B, r *benchbase.LedgerRun, verify0 time.Duration) *benchbase.LedgerRun {
	b.Helper()
	r.VerifyCPU = (verify0 + benchbase.Ed25519VerifyCPU(5, 200)) / 2
	r.Load, _ = benchbase.LoadAvg()
	r.When = time.Now()
	r.Report(b)
	if b.N > 1 {
		b.Log(r.Summary())
		if err := r.Save(); err != nil {
			b.Fatal(err)
		}
	}
	return r
}

// BenchmarkCommitLatencySequential measures the commit latency of one
// did.create at a time (no load) at the default block time, against the
// same for a kvstore transaction on the same wiring.
func BenchmarkCommitLatencySequential(b *testing.B) {
	node.SetGCDefault()
	b.StopTimer()
	txs := make([][]byte, b.N)
	kvTxs := make([][]byte, b.N)
	for i := range txs {
		txs[i] = nodetest.NewIdentity(b, fmt.Sprintf("seq-%d-%d", b.N, i)).CreateTx(b)
		kvTxs[i] = []byte(fmt.Sprintf("seq-%d-%d=v", b.N, i))
	}
	a, err := machine.New(machine.Config{Dir: filepath.Join(b.TempDir(), "app")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.Close() })
	n := startBench(b, a, true)
	b.StartTimer()
	_, lat := submitAll(b, n, txs, 1)
	b.StopTimer()
	kv := startBench(b, kvstore.NewInMemoryApplication(), false)
	_, kvLat := submitAll(b, kv, kvTxs, 1)
	b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(percentile(kvLat, 0.50).Microseconds())/1000, "bare-p50-ms")
}

// BenchmarkCommitDIDCreateSerialCheckTx is BenchmarkCommitDIDCreate with
// CheckTx serialised on the mempool connection (node.Config.SerialCheckTx),
// as before parallel CheckTx: the "before" figure for that change, with the
// kvstore baseline of the same run.
func BenchmarkCommitDIDCreateSerialCheckTx(b *testing.B) {
	benchCommitDIDCreate(b, "serial", node.Config{ConcurrentApp: true, SerialCheckTx: true})
}

// gcCPU is the CPU the garbage collector has used so far, in seconds
// (runtime/metrics' /cpu/classes/gc/total, an estimate from the runtime's
// own accounting).
// prefaultHeap is a diagnostic (MEDID_BENCH_PREFAULT_MB, never on by
// default): it touches mb MiB of heap and frees it, so the run's
// allocations reuse pages the process already has, as a node that has been
// running a while does (its collector frees what the next blocks reuse),
// instead of taking a first-touch page fault for every 4 KiB a fresh
// process allocates. The difference to a run without it is what those
// faults cost.
func prefaultHeap(mb int) {
	buf := make([]byte, mb<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	runtime.KeepAlive(buf)
	buf = nil
	runtime.GC()
}

// selfUsage is getrusage(RUSAGE_SELF): the process's user and system
// time and its minor page faults.
func selfUsage(b *testing.B) syscall.Rusage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru
}

func gcCPU() float64 {
	m := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(m)
	if m[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return m[0].Value.Float64()
}
