package loadtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/syndtr/goleveldb/leveldb/opt"

	"github.com/medid/medid/internal/benchbase"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/machine"
)

// ProbeConfig configures [Probe].
type ProbeConfig struct {
	// Dir is the big state: a registry/machine state folder holding blocks
	// (a [BulkLoad] state). The probe's blocks are committed to it.
	Dir string
	// Txs is how many did.create each state commits per round (0 =
	// 20,000); BlockTxs how many per block (0 = 1,000).
	Txs, BlockTxs int
	// Rounds is how many times the probe alternates big, fresh (0 = 3).
	Rounds int
	// First is the number of the probe's first identity (see [Identity]);
	// 0 means 1<<40, far past any bulk load. Round r of both states
	// creates identities First+r*Txs…: the same transactions on both.
	First uint64
	// NodeCacheSize is the IAVL node cache of both states (0 = the App's
	// default, machine.DefaultNodeCacheSize, as registryd runs).
	NodeCacheSize int
	// ReaderNodeCacheSize is the node cache of both states' reads of
	// committed versions (0 = NodeCacheSize, as the App).
	ReaderNodeCacheSize int
	// KeepVersions is how many state versions both states keep (0 = the
	// App's default, 100, as registryd runs; negative: every version, no
	// pruning).
	KeepVersions int64
	// WarmTxs, if positive, is how many did.create each state commits,
	// untimed and in blocks of BlockTxs, after the padding and before the
	// first round: a running validator's caches are warm, the big state
	// reopened by the probe starts cold. Both states get the same warm-up.
	WarmTxs int
	// SnapshotInterval is both states' snapshot interval (0 = the App's
	// default, 1,000, as registryd runs; negative: no snapshots). A probe
	// that carries the big state past a multiple of it exports the whole
	// big state in the background during a timed round.
	SnapshotInterval int64
	// TuneStore, if not nil, changes both states' LevelDB options
	// (machine.Config.TuneStore).
	TuneStore func(*opt.Options)
	// BigOnly leaves the fresh state out: the process holds the big
	// state alone, as a validator does, so its heap and collector are
	// one state's (no ratio then: compare big-only runs of different
	// settings with each other).
	BigOnly bool
	// Workers sign the probe's transactions before each round, untimed
	// (0 = NumCPU).
	Workers int
	// Progress, if not nil, is told about every round.
	Progress *slog.Logger
}

// ProbeRun is one state's part of one round of [Probe].
type ProbeRun struct {
	State string // "big" or "fresh"
	Round int    // from 1
	// Txs committed; Elapsed is the wall time and CPU the process CPU
	// (all threads) of CheckTx, FinalizeBlock and Commit of all blocks.
	Txs     int
	Elapsed time.Duration
	CPU     time.Duration
	// Height is the state's height after the round.
	Height int64
	// Reads are the state's node reads during the round (the difference
	// of machine.App.NodeReads), ReadBytes the bytes the process read by
	// system calls (/proc/self/io rchar: LevelDB table reads that missed
	// its block cache, from the page cache or the disk; 0 where unknown).
	Reads     machine.NodeReads
	ReadBytes int64
	// GCCPU is the Go runtime's estimate of the CPU its garbage collector
	// spent during the round (runtime/metrics /cpu/classes/gc/total,
	// all goroutines: part of CPU). Each round starts from a collected
	// heap, so with GOGC 400 a round often holds no collection at all:
	// GCSteady is what the round's allocations cost a process that runs
	// for long, a cycle's CPU (the collection before the round) times the
	// share of a cycle the round allocated (Alloc over the headroom GOGC
	// and the memory limit allow above the live heap Live).
	GCCPU, GCSteady time.Duration
	// Alloc is the bytes the process allocated during the round, Live the
	// live heap at its start.
	Alloc, Live int64
}

// SteadyCPU is the run's CPU with its own collections replaced by its
// steady-state share (GCSteady).
func (r ProbeRun) SteadyCPU() time.Duration { return r.CPU - r.GCCPU + r.GCSteady }

// MissesPerTx is the run's node cache misses per transaction: blocks',
// pruning's and the reader's.
func (r ProbeRun) MissesPerTx() (block, prune, reader float64) {
	n := float64(max(r.Txs, 1))
	return float64(r.Reads.Misses) / n, float64(r.Reads.PruneMisses) / n, float64(r.Reads.ReaderMisses) / n
}

// TPS is the run's committed transactions per second.
func (r ProbeRun) TPS() float64 { return float64(r.Txs) / r.Elapsed.Seconds() }

// CPUPerTx is the run's process CPU per transaction.
func (r ProbeRun) CPUPerTx() time.Duration { return r.CPU / time.Duration(max(r.Txs, 1)) }

// ProbeResult is what [Probe] measured.
type ProbeResult struct {
	// BigHeight is the big state's height before the probe.
	BigHeight int64
	// Layout is the state layout of both states (the big state's).
	Layout ledger.StateLayout
	// Runs are big then fresh, round after round.
	Runs []ProbeRun
	// VerifyCPU is one bare ed25519.Verify's CPU time, measured before
	// and after the rounds (the mean of the two medians).
	VerifyCPU time.Duration
	// Load is the machine's load average after the rounds.
	Load benchbase.Load
	// Heap is the Go heap in use after a collection at the end (both
	// states open, caches full as the rounds left them); RSS and PeakRSS
	// are the process's resident memory then and at its peak
	// (/proc/self/status VmRSS, VmHWM; 0 where unknown).
	Heap, RSS, PeakRSS int64
	// GCPercent and MemoryLimit are the Go runtime's collector settings
	// the probe ran with (GOGC, -1 off; the soft memory limit in bytes,
	// math.MaxInt64 none): the caller's (medid-loadtest applies
	// registryd's, node.SetGCDefault and node.SetMemoryDefault, unless
	// told otherwise).
	GCPercent, MemoryLimit int64
}

// Totals sums the runs of one state ("big" or "fresh").
func (r *ProbeResult) Totals(state string) ProbeRun {
	t := ProbeRun{State: state}
	for _, x := range r.Runs {
		if x.State == state {
			t.Txs += x.Txs
			t.Elapsed += x.Elapsed
			t.CPU += x.CPU
			t.Height = x.Height
			t.Reads = addReads(t.Reads, x.Reads)
			t.ReadBytes += x.ReadBytes
			t.GCCPU += x.GCCPU
			t.GCSteady += x.GCSteady
			t.Alloc += x.Alloc
			t.Live = x.Live
		}
	}
	return t
}

// SigEq is a run's CPU per transaction in bare ed25519.Verify calls.
func (r *ProbeResult) SigEq(x ProbeRun) float64 {
	return float64(x.CPUPerTx()) / float64(max(r.VerifyCPU, 1))
}

// Ratio is the big state's throughput over the fresh state's, all rounds
// together (issue 18's goal: at least 0.8 on a 1,000,000-DID state); NaN
// when the probe ran without the fresh state (ProbeConfig.BigOnly).
func (r *ProbeResult) Ratio() float64 {
	return r.Totals("big").TPS() / r.Totals("fresh").TPS()
}

// Probe measures write throughput on the big state in cfg.Dir against a
// fresh state of the same layout in a temporary folder, in the same
// process: round after round, it commits cfg.Txs new did.create
// transactions (real keys and signatures, signed beforehand and untimed)
// to the big state, then the same transactions to the fresh state, each
// through [machine.RunNodePath] (CheckTx, then FinalizeBlock and Commit in
// blocks of cfg.BlockTxs), with the App's defaults as registryd runs it
// (node cache unless cfg.NodeCacheSize, versions kept, pruning, snapshot
// interval). Both states
// stay open for all rounds, like two running validators. Before the first
// round, each state commits empty blocks (untimed) until it holds more
// versions than the App keeps, so that both prune from the start; the
// versions pruned hold transactions only once a state has committed more
// probe blocks than it keeps versions (with the default 100, choose
// Txs/BlockTxs over 100 for a round past the first to include pruning's
// real cost). The
// fresh folder is removed on return. Probe fails if any transaction is
// rejected.
func Probe(ctx context.Context, cfg ProbeConfig) (*ProbeResult, error) {
	if cfg.Dir == "" {
		return nil, errors.New("loadtest.ProbeConfig needs Dir")
	}
	cfg.Txs = cmp.Or(cfg.Txs, 20_000)
	cfg.BlockTxs = cmp.Or(cfg.BlockTxs, 1_000)
	cfg.Rounds = cmp.Or(cfg.Rounds, 3)
	cfg.Workers = cmp.Or(cfg.Workers, runtime.NumCPU())
	if cfg.First == 0 {
		cfg.First = 1 << 40
	}
	if cfg.Txs < 0 || cfg.BlockTxs < 0 || cfg.Rounds < 0 || cfg.WarmTxs < 0 {
		return nil, fmt.Errorf("loadtest.ProbeConfig: Txs %d, BlockTxs %d, Rounds %d, WarmTxs %d: want positive values (WarmTxs may be 0)", cfg.Txs, cfg.BlockTxs, cfg.Rounds, cfg.WarmTxs)
	}

	big, err := openProbeState(ctx, cfg.Dir, "big", 0, cfg)
	if err != nil {
		return nil, fmt.Errorf("big state: %w", err)
	}
	defer big.app.Close()
	if big.height == 0 {
		return nil, fmt.Errorf("big state %s holds no blocks", cfg.Dir)
	}
	layout := big.app.StateLayout()
	states := []*probeState{big}
	if !cfg.BigOnly {
		freshDir, err := os.MkdirTemp("", "medid-probe-fresh-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(freshDir)
		fresh, err := openProbeState(ctx, freshDir, "fresh", layout, cfg)
		if err != nil {
			return nil, fmt.Errorf("fresh state: %w", err)
		}
		defer fresh.app.Close()
		states = append(states, fresh)
	}
	res := &ProbeResult{BigHeight: big.height, Layout: layout}
	res.GCPercent, res.MemoryLimit = gcSettings()

	// Pruning from the start in both: the versions kept plus one (the
	// App's default keeps 100).
	pad := cmp.Or(cfg.KeepVersions, 100) + 1
	if cfg.KeepVersions < 0 {
		pad = 0
	}
	for _, s := range states {
		for s.height-s.start < pad {
			if err := s.block(ctx, nil); err != nil {
				return nil, err
			}
		}
	}
	if cfg.WarmTxs > 0 {
		// After the timed rounds' identities: no transaction repeats.
		txs, err := probeTxs(cfg.First+uint64(cfg.Rounds*cfg.Txs), cfg.WarmTxs, cfg.Workers)
		if err != nil {
			return nil, err
		}
		for _, s := range states {
			for lo := 0; lo < len(txs); lo += cfg.BlockTxs {
				if err := s.block(ctx, txs[lo:min(lo+cfg.BlockTxs, len(txs))]); err != nil {
					return nil, err
				}
			}
		}
	}

	verify0 := benchbase.Ed25519VerifyCPU(5, 200)
	for round := range cfg.Rounds {
		txs, err := probeTxs(cfg.First+uint64(round*cfg.Txs), cfg.Txs, cfg.Workers)
		if err != nil {
			return nil, err
		}
		for _, s := range states {
			// Each run starts from a collected heap; what that collection
			// cost is a cycle's CPU at this heap.
			c0 := gcCPU()
			runtime.GC()
			cycle := gcCPU() - c0
			run := ProbeRun{State: s.name, Round: round + 1, Txs: len(txs)}
			reads0, rchar0 := s.app.NodeReads(), readBytes()
			alloc0, live := heapAllocLive()
			run.Live = int64(live)
			t0, cpu0, gc0 := time.Now(), benchbase.ProcessCPU(), gcCPU()
			// A CPU profile of the probe tells the states apart by the
			// label probe=big|fresh (go tool pprof -tagfocus).
			pprof.Do(ctx, pprof.Labels("probe", s.name), func(ctx context.Context) {
				for lo := 0; lo < len(txs) && err == nil; lo += cfg.BlockTxs {
					err = s.block(ctx, txs[lo:min(lo+cfg.BlockTxs, len(txs))])
				}
			})
			if err != nil {
				return nil, err
			}
			run.Elapsed, run.CPU, run.Height = time.Since(t0), benchbase.ProcessCPU()-cpu0, s.height
			run.Reads, run.ReadBytes = subReads(s.app.NodeReads(), reads0), readBytes()-rchar0
			run.GCCPU = gcCPU() - gc0
			alloc1, _ := heapAllocLive()
			run.Alloc = int64(alloc1 - alloc0)
			run.GCSteady = steadyGC(cycle, run.Alloc, run.Live, res.GCPercent, res.MemoryLimit)
			res.Runs = append(res.Runs, run)
			if cfg.Progress != nil {
				cfg.Progress.Info("probe", "state", s.name, "round", run.Round, "tx/s", run.TPS(), "cpu-µs/tx", run.CPUPerTx().Microseconds())
			}
		}
	}
	res.VerifyCPU = (verify0 + benchbase.Ed25519VerifyCPU(5, 200)) / 2
	res.Load, _ = benchbase.LoadAvg()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.Heap = int64(ms.HeapInuse)
	res.RSS, res.PeakRSS = procStatusKB("VmRSS")<<10, procStatusKB("VmHWM")<<10
	return res, nil
}

func addReads(a, b machine.NodeReads) machine.NodeReads {
	return machine.NodeReads{Hits: a.Hits + b.Hits, Misses: a.Misses + b.Misses,
		PruneHits: a.PruneHits + b.PruneHits, PruneMisses: a.PruneMisses + b.PruneMisses,
		ReaderHits: a.ReaderHits + b.ReaderHits, ReaderMisses: a.ReaderMisses + b.ReaderMisses}
}

func subReads(a, b machine.NodeReads) machine.NodeReads {
	return machine.NodeReads{Hits: a.Hits - b.Hits, Misses: a.Misses - b.Misses,
		PruneHits: a.PruneHits - b.PruneHits, PruneMisses: a.PruneMisses - b.PruneMisses,
		ReaderHits: a.ReaderHits - b.ReaderHits, ReaderMisses: a.ReaderMisses - b.ReaderMisses}
}

// gcCPU is the Go runtime's estimate of its collector's CPU so far
// (updated at each collection's end, so a round's figure may include part
// of a collection that began in the round before).
func gcCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}

// heapAllocLive are the bytes allocated so far and the live heap as of
// the last collection.
func heapAllocLive() (alloc, live uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		alloc = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		live = s[1].Value.Uint64()
	}
	return alloc, live
}

// steadyGC is the collector's CPU for alloc bytes in a process whose
// cycles cost cycle each: a cycle starts once the heap grows past live by
// GOGC percent, or reaches the soft memory limit, whichever comes first.
// (An estimate: the runtime also counts stacks and globals, and paces
// early; 0 when the collector is off.)
func steadyGC(cycle time.Duration, alloc, live, gcPercent, limit int64) time.Duration {
	room := int64(1<<63 - 1)
	if gcPercent > 0 {
		room = live * gcPercent / 100
	}
	if limit > 0 && limit-live < room {
		room = max(limit-live, live/100) // a limit below the live heap: a cycle per 1% of it
	}
	if room <= 0 || room == 1<<63-1 {
		return 0
	}
	return time.Duration(float64(cycle) * float64(alloc) / float64(room))
}

// gcSettings are the runtime's GOGC and soft memory limit in effect.
func gcSettings() (gcPercent, limit int64) {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		gcPercent = int64(s[0].Value.Uint64())
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		limit = int64(min(s[1].Value.Uint64(), 1<<63-1))
	}
	return gcPercent, limit
}

// readBytes is the process's rchar from /proc/self/io (0 if unreadable).
func readBytes() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// procStatusKB is a kB field of /proc/self/status (0 if unreadable).
func procStatusKB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// probeState is one of the probe's two states, open for all rounds.
type probeState struct {
	name          string
	app           *machine.App
	height, start int64
	t             time.Time
}

// openProbeState opens the state in dir with the App's defaults but
// cfg's node cache and versions kept; a state
// without blocks gets a load-test genesis in layout l.
func openProbeState(ctx context.Context, dir, name string, l ledger.StateLayout, cfg ProbeConfig) (*probeState, error) {
	a, err := machine.New(machine.Config{Dir: dir, NodeCacheSize: cfg.NodeCacheSize, ReaderNodeCacheSize: cfg.ReaderNodeCacheSize, KeepVersions: cfg.KeepVersions,
		SnapshotInterval: cfg.SnapshotInterval, TuneStore: cfg.TuneStore})
	if err != nil {
		return nil, err
	}
	s := &probeState{name: name, app: a}
	s.height, _ = a.LastCommit()
	if s.height == 0 && l != 0 {
		if _, err := a.InitChain(ctx, &abci.RequestInitChain{ChainId: "medid-loadtest", InitialHeight: 1, AppStateBytes: loadGenesis(l)}); err != nil {
			a.Close()
			return nil, err
		}
	}
	s.start = s.height
	// Block times follow BulkLoad's (one second per block from 2026-01-01).
	s.t = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s.height) * time.Second)
	return s, nil
}

// block commits txs as the state's next block and fails if one is
// rejected.
func (s *probeState) block(ctx context.Context, txs [][]byte) error {
	s.height++
	s.t = s.t.Add(time.Second)
	res, err := machine.RunNodePath(ctx, s.app, s.height, s.t, txs)
	if err != nil {
		return fmt.Errorf("%s state: %w", s.name, err)
	}
	for i, r := range res {
		if r.Code != 0 {
			return fmt.Errorf("%s state block %d tx %d rejected: code %d: %s", s.name, s.height, i, r.Code, r.Log)
		}
	}
	return nil
}

// probeTxs signs the did.create transactions of identities first… in
// parallel.
func probeTxs(first uint64, n, workers int) ([][]byte, error) {
	txs, _, err := signIdentities(first, n, workers)
	return txs, err
}

// signIdentities signs the did.create transactions of identities first…
// first+n-1 (Identity) on workers goroutines, and returns them with their
// DIDs, in order.
func signIdentities(first uint64, n, workers int) ([][]byte, []string, error) {
	txs, dids := make([][]byte, n), make([]string, n)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if dids[i], txs[i], errs[w] = Identity(first + uint64(i)); errs[w] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return txs, dids, errors.Join(errs...)
}
