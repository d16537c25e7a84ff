// Command medid-loadtest measures DID resolution over HTTP against a
// registry state holding many DIDs, with wrk, and the bare net/http
// baseline in the same run.
//
// Procedure (what `medid-loadtest` does, in order):
//
//  1. Bulk load: create -dids identities (real Ed25519 keys, real signed
//     did.create transactions) in a registry/machine state folder by calling
//     the application's ABCI methods directly — InitChain, then
//     FinalizeBlock with blocks of -block transactions and Commit — with no
//     CometBFT (consensus is measured by the registry/node benchmarks).
//     Every transaction must be accepted. Reports tx/s of block execution,
//     bytes on disk per DID and per million transactions.
//  2. Serve: open that state with registry/machine and serve registry/api (the
//     handler registryd serves) on 127.0.0.1:0, read-only (no node: proofs
//     and submissions are refused; plain resolution reads only app state).
//  3. Baseline: a bare net/http handler on 127.0.0.1:0 serving the bytes
//     of one real resolution response, static.
//  4. wrk -t2 -c32 --latency with a Lua script requesting
//     /1.0/identifiers/<random DID> from a list of every -list-every-th
//     loaded DID: bare, registry, bare again (the baseline is the mean of
//     the two bare runs); then the same with a Go client.
//  5. Unless -rate-share is 0: from a Go client process (this binary
//     with -rate-client; plain wrk has no fixed rate), the bare handler's
//     and then the registry's peak under that client (closed loop, -conns
//     connections, -duration), then each at a fixed rate, -rate-share
//     (0.8) of its own peak, open loop, for -duration: p50 and p99 from
//     each request's due time (the bare handler's tail is what the machine
//     gives any server at that load). The
//     peak is the Go client's, not wrk's: on a small machine the client
//     shares the cores, and the Go client costs more CPU per request than
//     wrk, so a share of wrk's peak may be more than the machine can
//     serve through it.
//  6. Stop both servers; remove the state unless -keep.
//
// With -server-cpus and -client-cpus (Linux), the serving process runs on
// the first list of CPUs only and wrk and the Go client process on the
// second (taskset), as if the client had its own machine; the in-process
// Go-client runs of step 4 are then skipped.
//
// Beside the registry's runs it prints the serving process's garbage
// collector share of its CPU and its resident memory (the load
// generators are other processes, except the Go-client runs of step 4).
//
// With -hardened, step 4 instead alternates the registry served by a plain
// net/http server (as before issue 11) and by registryd's hardened server
// (internal/httpserver), twice each between two bare runs, and reports
// hardened/plain.
//
// With -probe-txs N, step 2 onwards is replaced by the write probe
// (loadtest.Probe, issue 18): N new did.create per round through CheckTx,
// FinalizeBlock and Commit (machine.RunNodePath, blocks of -probe-block)
// on the loaded state and then on a fresh state of the same layout, for
// -probe-rounds rounds in the same process, with registryd's defaults;
// it prints tx/s, CPU per tx (µs and sig-eq) and the ratio big/fresh.
// -probe-big-only leaves the fresh state out (one state's heap and
// collector, as a validator's). The whole process runs the collector as
// registryd does (GOGC 400 and its soft memory limit) unless -gc go.
//
// Example: medid-loadtest -dids 1000000 -duration 8s
//
// Example: medid-loadtest -dids 200000 -probe-txs 20000 -probe-block 1000
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syndtr/goleveldb/leveldb/opt"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/loadtest"
	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/node"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "medid-loadtest:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("dir", "", "state folder (default: a new temporary folder)")
	dids := flag.Uint64("dids", 100_000, "DIDs to bulk-load")
	skipLoad := flag.Bool("skip-load", false, "reuse the state in -dir (loaded before with the same -dids and -list-every)")
	block := flag.Int("block", 5000, "transactions per block in the bulk load")
	listEvery := flag.Uint64("list-every", 5, "put every n-th DID into the request list")
	dur := flag.Duration("duration", 8*time.Second, "duration of each load run")
	threads := flag.Int("threads", 2, "wrk threads")
	conns := flag.Int("conns", 32, "connections")
	keep := flag.Bool("keep", false, "keep the state folder")
	verbose := flag.Bool("v", false, "log every block of the bulk load")
	resume := flag.Bool("resume", false, "continue an interrupted bulk load in -dir (blocks of -block transactions) up to -dids")
	serveCache := flag.Int("serve-cache", 0, "IAVL node cache of the served state (0 = the app default, as registryd)")
	warm := flag.Bool("warm", false, "resolve every DID of the list once before measuring (a server that has been up for a while)")
	cache := flag.Int("cache", 0, "IAVL node cache of the bulk load (0 = 4,000,000 nodes)")
	layout := flag.Int("state-layout", int(ledger.CurrentLayout), "state layout of a new state: 2 each DID record once (what registryd init writes), 1 every version under didv/ (chains of before; docs/design/0021)")
	hardened := flag.Bool("hardened", false, "also serve the registry through registryd's hardened HTTP server (internal/httpserver) and compare it with the plain one (issue 11)")
	probeTxs := flag.Int("probe-txs", 0, "after the bulk load (or on the state kept in -dir with -skip-load), measure write throughput: commit this many new did.create per round to the loaded state and to a fresh one, alternately, and print the ratio (no HTTP load then)")
	probeBlock := flag.Int("probe-block", 1000, "transactions per block of the write probe (pruning deletes versions that held transactions only after more than -probe-keep-versions (100) probe blocks: e.g. -probe-txs 20000 -probe-block 100)")
	probeRounds := flag.Int("probe-rounds", 3, "rounds of the write probe (each: loaded state, then fresh state)")
	probeCache := flag.String("probe-node-cache", "", "IAVL node cache of both states in the write probe: a number of nodes, or auto (as registryd --node-cache auto: machine.NodeCacheFor of the Go runtime's memory limit, the reads' cache at the default); empty = the app default, as registryd")
	probeKeep := flag.Int64("probe-keep-versions", 0, "state versions both states keep in the write probe (0 = the app default, 100, as registryd; -1 every version)")
	probeWarm := flag.Int("probe-warm", 0, "did.create each state of the write probe commits untimed before its rounds (warm caches, as a running validator's; the same for both states)")
	probeSnap := flag.Int64("probe-snapshot-interval", 0, "snapshot interval of both states in the write probe (0 = the app default, 1000, as registryd; -1 no snapshots)")
	gcMode := flag.String("gc", "registryd", "the Go runtime's collector settings: registryd (GOGC 400 and a soft memory limit at 75% of the machine's or cgroup's memory, as registryd sets them; the GOGC, GOMEMLIMIT and AUTOMEMLIMIT environment variables choose as for registryd) or go (Go's own: GOGC 100 unless the environment says, no limit)")
	probeBigOnly := flag.Bool("probe-big-only", false, "write probe on the loaded state alone (no fresh state in the process, no ratio): one state's heap and collector, as a validator's; compare runs of different settings")
	probeLevelDB := flag.String("probe-leveldb", "", "LevelDB options of both states in the write probe, comma-separated key=value over registryd's: write-buffer-mib, table-mib, table-multiplier, total-mib, total-multiplier, block-cache-mib, l0-trigger, compression (none|snappy)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the write probe to this file (samples labelled probe=big|fresh)")
	rateShare := flag.Float64("rate-share", 0.8, "after the wrk runs, measure the registry's peak req/s with a Go client process, then load it at this share of that peak for -duration at a fixed rate, and print p50/p99 (0: skip)")
	serverCPUs := flag.String("server-cpus", "", "run the serving process on these CPUs only (a taskset -c list, e.g. 0; Linux), with -client-cpus: the load generators then do not take the server's cores, as a client on its own machine")
	clientCPUs := flag.String("client-cpus", "", "run wrk and the Go client process on these CPUs only (e.g. 1), under taskset; with -server-cpus, the two lists must not overlap")
	rateClient := flag.String("rate-client", "", "internal: be the Go client process of registry URL (with -rate, -conns, -duration and -dir's DID list) and print its result")
	rate := flag.Float64("rate", 0, "internal: requests per second of -rate-client (0: closed loop, as fast as it answers)")
	flag.Parse()
	if *rateClient != "" {
		return runRateClient(*rateClient, filepath.Join(*dir, "dids.txt"), *conns, *rate, *dur)
	}
	if *rateShare < 0 || *rateShare > 1 {
		fmt.Fprintln(os.Stderr, "medid-loadtest: -rate-share must be within [0, 1]")
		os.Exit(2)
	}
	if *probeTxs < 0 || *probeBlock <= 0 || *probeRounds <= 0 || *probeWarm < 0 {
		fmt.Fprintln(os.Stderr, "medid-loadtest: -probe-txs and -probe-warm must be >= 0, -probe-block and -probe-rounds > 0")
		os.Exit(2)
	}
	tune, err := levelDBOptions(*probeLevelDB)
	if err != nil {
		fmt.Fprintln(os.Stderr, "medid-loadtest: -probe-leveldb:", err)
		os.Exit(2)
	}
	if l := ledger.StateLayout(*layout); !l.Valid() {
		fmt.Fprintf(os.Stderr, "medid-loadtest: -state-layout %d: want 1 or 2\n", *layout)
		os.Exit(2)
	}
	if (*serverCPUs == "") != (*clientCPUs == "") {
		fmt.Fprintln(os.Stderr, "medid-loadtest: -server-cpus and -client-cpus go together (e.g. -server-cpus 0 -client-cpus 1)")
		os.Exit(2)
	}
	if *serverCPUs != "" {
		n := runtime.NumCPU()
		sc, err := loadtest.ParseCPUList(*serverCPUs, n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "medid-loadtest: -server-cpus:", err)
			os.Exit(2)
		}
		cc, err := loadtest.ParseCPUList(*clientCPUs, n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "medid-loadtest: -client-cpus:", err)
			os.Exit(2)
		}
		for _, a := range sc {
			if slices.Contains(cc, a) {
				fmt.Fprintf(os.Stderr, "medid-loadtest: CPU %d is in both -server-cpus and -client-cpus: give each its own\n", a)
				os.Exit(2)
			}
		}
		if err := loadtest.PinProcess(sc); err != nil {
			return err
		}
		fmt.Printf("serving process on CPUs %s (GOMAXPROCS %d), load generators on CPUs %s\n", *serverCPUs, runtime.GOMAXPROCS(0), *clientCPUs)
	}
	// Serve and write as registryd does (its garbage collector settings
	// included), unless told otherwise.
	switch *gcMode {
	case "registryd":
		node.SetGCDefault()
		if _, err := node.SetMemoryDefault(slog.Default()); err != nil {
			return err
		}
	case "go":
	default:
		fmt.Fprintf(os.Stderr, "medid-loadtest: -gc %q: want registryd or go\n", *gcMode)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if *dir == "" {
		d, err := os.MkdirTemp("", "medid-loadtest-")
		if err != nil {
			return err
		}
		*dir = d
	}
	if !*keep {
		defer os.RemoveAll(*dir)
	}
	state := filepath.Join(*dir, "app")
	listPath := filepath.Join(*dir, "dids.txt")

	if !*skipLoad {
		var first uint64
		if *resume {
			h, err := loadtest.Height(state)
			if err != nil {
				return err
			}
			first = uint64(h) * uint64(*block)
		}
		lf, err := os.Create(listPath)
		if err != nil {
			return err
		}
		// The list of the identities already loaded is rebuilt from their
		// numbers.
		for n := uint64(0); n < first; n += max(1, *listEvery) {
			d, _, err := loadtest.Identity(n)
			if err != nil {
				return err
			}
			fmt.Fprintln(lf, d)
		}
		if first >= *dids {
			return fmt.Errorf("state already holds %d DIDs", first)
		}
		cfg := loadtest.BulkConfig{Dir: state, First: first, DIDs: *dids - first, BlockTxs: *block, DIDList: lf, ListEvery: *listEvery, NodeCacheSize: *cache,
			StateLayout: ledger.StateLayout(*layout)}
		if *verbose {
			cfg.Progress = slog.Default()
		}
		res, err := loadtest.BulkLoad(ctx, cfg)
		if cerr := lf.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		fmt.Printf("bulk load: %d DIDs in %d blocks of %d: block execution %.1f s (%.0f tx/s), total with generation %.1f s, process CPU %.1f s (%.0f µs/DID incl. generation)\n",
			res.DIDs, res.Blocks, *block, res.Elapsed.Seconds(), res.TxPerSec, res.Total.Seconds(), res.AppCPU.Seconds(), float64(res.AppCPU.Microseconds())/float64(res.DIDs))
		fmt.Printf("state on disk: %d bytes for %d DIDs = %.0f bytes/DID; %.2f GB per million did.create transactions (all versions kept, LevelDB, uncompacted)\n",
			res.DiskBytes, res.StateDIDs, res.BytesPerDID, res.BytesPerDID*1e6/1e9)
	}
	if *probeTxs > 0 {
		pc := loadtest.ProbeConfig{Dir: state, Txs: *probeTxs, BlockTxs: *probeBlock, Rounds: *probeRounds, KeepVersions: *probeKeep,
			WarmTxs: *probeWarm, SnapshotInterval: *probeSnap, TuneStore: tune, BigOnly: *probeBigOnly}
		switch *probeCache {
		case "":
		case "auto":
			pc.NodeCacheSize, pc.ReaderNodeCacheSize = machine.NodeCacheFor(debug.SetMemoryLimit(-1)), machine.DefaultNodeCacheSize
		default:
			n, err := strconv.Atoi(*probeCache)
			if err != nil || n < 0 {
				return fmt.Errorf("-probe-node-cache %q: want auto or a number of nodes (0: the app default)", *probeCache)
			}
			pc.NodeCacheSize = n
		}
		return probe(ctx, pc, *cpuProfile, *probeLevelDB)
	}
	list, err := loadtest.ReadDIDList(listPath)
	if err != nil {
		return err
	}
	srv, err := loadtest.Serve(state, *serveCache)
	if err != nil {
		return err
	}
	defer srv.Close()
	ct, body, err := loadtest.Fetch(srv.URL + "/1.0/identifiers/" + list[len(list)/2])
	if err != nil {
		return err
	}
	bare, err := loadtest.ServeStatic(ct, body)
	if err != nil {
		return err
	}
	defer bare.Close()
	fmt.Printf("request list: %d DIDs; response %d bytes (%s)\n", len(list), len(body), ct)
	if *warm {
		t0 := time.Now()
		if err := loadtest.Warm(ctx, srv.URL, list, 8); err != nil {
			return err
		}
		fmt.Printf("warm-up: every DID of the list resolved once in %.1f s\n", time.Since(t0).Seconds())
	}
	if ps, err := loadtest.ReadProcStats(); err == nil {
		fmt.Printf("serving process before the runs: %s\n", ps)
	}

	wc := loadtest.WrkConfig{DIDListFile: listPath, Threads: *threads, Connections: *conns, Duration: *dur, CPUs: *clientCPUs}
	runs := []struct {
		name string
		url  string
	}{{"bare", bare.URL}, {"registry", srv.URL}, {"bare", bare.URL}}
	if *hardened {
		hs, err := srv.Hardened()
		if err != nil {
			return err
		}
		defer hs.Close()
		return compareHardened(ctx, wc, bare.URL, srv.URL, hs.URL)
	}
	var bareRPS []float64
	var reg *loadtest.LoadResult
	for _, r := range runs {
		c := wc
		c.URL = r.url
		var before loadtest.ServerLatency
		var ps0 loadtest.ProcStats
		if r.name == "registry" {
			if before, err = loadtest.ReadServerLatency(srv.URL, "identifiers"); err != nil {
				return err
			}
			if ps0, err = loadtest.ReadProcStats(); err != nil {
				return err
			}
		}
		res, err := loadtest.Wrk(ctx, c)
		if err != nil {
			return err
		}
		fmt.Printf("wrk %-8s %9.0f req/s  p50 %-9v p99 %-9v errors %d\n", r.name, res.RPS, res.P50, res.P99, res.Errors)
		if r.name == "registry" {
			after, err := loadtest.ReadServerLatency(srv.URL, "identifiers")
			if err != nil {
				return err
			}
			n := after.Count - before.Count
			fmt.Printf("    registry handler (its own /metrics): %.3f%% of %.0f requests took more than 5 ms\n",
				100*(n-(after.Within5ms-before.Within5ms))/max(n, 1), n)
			if err := printProc(ps0); err != nil {
				return err
			}
		}
		if r.name == "bare" {
			bareRPS = append(bareRPS, res.RPS)
		} else {
			reg = res
		}
	}
	base := (bareRPS[0] + bareRPS[1]) / 2
	fmt.Printf("wrk ratio registry/bare: %.3f (bare mean %.0f req/s)\n", reg.RPS/base, base)
	if *rateShare > 0 {
		// The bare handler under the same client at the same share of its
		// own peak: the tail the machine gives any server at that load.
		rc := rateConfig{dir: *dir, conns: *conns, share: *rateShare, dur: *dur, cpus: *clientCPUs}
		if err := rateRun(ctx, "bare", bare.URL, rc); err != nil {
			return err
		}
		if err := rateRun(ctx, "registry", srv.URL, rc); err != nil {
			return err
		}
	}
	if *serverCPUs != "" {
		// The in-process Go client would run on the server's CPUs.
		fmt.Println("go (in-process client) runs skipped: with -server-cpus the client would share the server's CPUs")
		return nil
	}

	gb, err := loadtest.GoLoad(ctx, bare.URL, list, *conns, *dur)
	if err != nil {
		return err
	}
	gr, err := loadtest.GoLoad(ctx, srv.URL, list, *conns, *dur)
	if err != nil {
		return err
	}
	fmt.Printf("go   bare     %9.0f req/s  p50 %-9v p99 %-9v errors %d\n", gb.RPS, gb.P50.Round(time.Microsecond), gb.P99.Round(time.Microsecond), gb.Errors)
	fmt.Printf("go   registry %9.0f req/s  p50 %-9v p99 %-9v errors %d\n", gr.RPS, gr.P50.Round(time.Microsecond), gr.P99.Round(time.Microsecond), gr.Errors)
	fmt.Printf("go ratio registry/bare: %.3f\n", gr.RPS/gb.RPS)
	return nil
}

// compareHardened runs wrk against bare, plain, hardened, plain, hardened,
// bare and prints the ratios of the means.
func compareHardened(ctx context.Context, wc loadtest.WrkConfig, bare, plain, hardened string) error {
	runs := []struct{ name, url string }{{"bare", bare}, {"plain", plain}, {"hardened", hardened}, {"plain", plain}, {"hardened", hardened}, {"bare", bare}}
	sum := map[string]float64{}
	for _, r := range runs {
		c := wc
		c.URL = r.url
		res, err := loadtest.Wrk(ctx, c)
		if err != nil {
			return err
		}
		fmt.Printf("wrk %-8s %9.0f req/s  p50 %-9v p99 %-9v errors %d\n", r.name, res.RPS, res.P50, res.P99, res.Errors)
		sum[r.name] += res.RPS / 2
	}
	fmt.Printf("wrk ratio hardened/plain: %.3f (plain mean %.0f req/s, hardened mean %.0f req/s; bare mean %.0f req/s: plain %.3f, hardened %.3f of bare)\n",
		sum["hardened"]/sum["plain"], sum["plain"], sum["hardened"], sum["bare"], sum["plain"]/sum["bare"], sum["hardened"]/sum["bare"])
	return nil
}

// probe runs the write probe and prints each run, the totals and the
// ratio big/fresh.
func probe(ctx context.Context, cfg loadtest.ProbeConfig, cpuProfile, levelDB string) error {
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	res, err := loadtest.Probe(ctx, cfg)
	if err != nil {
		return err
	}
	cache := "registryd's defaults"
	if cfg.NodeCacheSize > 0 {
		cache = fmt.Sprintf("registryd's defaults but a node cache of %d nodes", cfg.NodeCacheSize)
	}
	if cfg.ReaderNodeCacheSize > 0 {
		cache += fmt.Sprintf(" (reads' cache %d)", cfg.ReaderNodeCacheSize)
	}
	if cfg.KeepVersions != 0 {
		cache += fmt.Sprintf(", keeping %d versions", cfg.KeepVersions)
	}
	if cfg.SnapshotInterval != 0 {
		cache += fmt.Sprintf(", snapshot interval %d", cfg.SnapshotInterval)
	}
	if levelDB != "" {
		cache += ", LevelDB " + levelDB
	}
	if cfg.WarmTxs > 0 {
		cache += fmt.Sprintf(", after %d untimed did.create each (warm)", cfg.WarmTxs)
	} else {
		cache += ", cold (no warm-up)"
	}
	limit := "none"
	if res.MemoryLimit > 0 && res.MemoryLimit < math.MaxInt64 {
		limit = fmt.Sprintf("%d MiB", res.MemoryLimit>>20)
	}
	fmt.Printf("write probe: state layout %d, loaded state at height %d, %d did.create per round in blocks of %d, CheckTx+FinalizeBlock+Commit with %s; GOGC %d, soft memory limit %s; bare ed25519.Verify %.1f µs CPU; load %s\n",
		res.Layout, res.BigHeight, cfg.Txs, cfg.BlockTxs, cache, res.GCPercent, limit, float64(res.VerifyCPU.Nanoseconds())/1000, res.Load)
	line := func(r loadtest.ProbeRun, round string) {
		bm, pm, rm := r.MissesPerTx()
		n := float64(max(r.Txs, 1))
		fmt.Printf("  %-5s %-6s %8.0f tx/s  %7.1f CPU-µs/tx  %6.2f sig-eq/tx  GC %.1f µs/tx (steady %.1f: %.1f CPU-µs/tx, alloc %.0f KB/tx, live %d MB)  node misses/tx block %.1f prune %.1f reader %.1f  read %.1f KB/tx  (height %d)\n",
			r.State, round, r.TPS(), float64(r.CPUPerTx().Nanoseconds())/1000, res.SigEq(r), float64(r.GCCPU.Nanoseconds())/1000/n,
			float64(r.GCSteady.Nanoseconds())/1000/n, float64(r.SteadyCPU().Nanoseconds())/1000/n, float64(r.Alloc)/1024/n, r.Live>>20,
			bm, pm, rm, float64(r.ReadBytes)/1024/n, r.Height)
	}
	for i, r := range res.Runs {
		line(r, fmt.Sprintf("round %d", r.Round))
		if r.State == "fresh" && i > 0 {
			b := res.Runs[i-1]
			fmt.Printf("        round %d big/fresh: throughput %.3f, CPU per tx %.3f\n", r.Round, b.TPS()/r.TPS(), float64(b.CPUPerTx())/float64(r.CPUPerTx()))
		}
	}
	big, fresh := res.Totals("big"), res.Totals("fresh")
	line(big, "all")
	if cfg.BigOnly {
		fmt.Printf("memory at the end (the loaded state alone): Go heap in use %d MB, RSS %d MB, peak RSS %d MB\n", res.Heap>>20, res.RSS>>20, res.PeakRSS>>20)
		return nil
	}
	line(fresh, "all")
	fmt.Printf("write probe ratio big/fresh: throughput %.3f, CPU per tx %.3f (with the collector's steady share in place of the rounds' own collections: %.3f)\n",
		res.Ratio(), float64(big.CPUPerTx())/float64(fresh.CPUPerTx()), float64(big.SteadyCPU())/float64(max(fresh.SteadyCPU(), 1))*float64(fresh.Txs)/float64(max(big.Txs, 1)))
	fmt.Printf("memory at the end (both states open): Go heap in use %d MB, RSS %d MB, peak RSS %d MB\n", res.Heap>>20, res.RSS>>20, res.PeakRSS>>20)
	return nil
}

// levelDBOptions parses -probe-leveldb: comma-separated key=value pairs
// that change the state database's LevelDB options ("" changes nothing).
func levelDBOptions(s string) (func(*opt.Options), error) {
	if s == "" {
		return nil, nil
	}
	var set []func(*opt.Options)
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want key=value", kv)
		}
		if k == "compression" {
			switch v {
			case "none":
				set = append(set, func(o *opt.Options) { o.Compression = opt.NoCompression })
			case "snappy":
				set = append(set, func(o *opt.Options) { o.Compression = opt.SnappyCompression })
			default:
				return nil, fmt.Errorf("compression %q: want none or snappy", v)
			}
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return nil, fmt.Errorf("%s=%q: want a positive number", k, v)
		}
		mib := int(f * (1 << 20))
		switch k {
		case "write-buffer-mib":
			set = append(set, func(o *opt.Options) { o.WriteBuffer = mib })
		case "table-mib":
			set = append(set, func(o *opt.Options) { o.CompactionTableSize = mib })
		case "table-multiplier":
			set = append(set, func(o *opt.Options) { o.CompactionTableSizeMultiplier = f })
		case "total-mib":
			set = append(set, func(o *opt.Options) { o.CompactionTotalSize = mib })
		case "total-multiplier":
			set = append(set, func(o *opt.Options) { o.CompactionTotalSizeMultiplier = f })
		case "block-cache-mib":
			set = append(set, func(o *opt.Options) { o.BlockCacheCapacity = mib })
		case "l0-trigger":
			set = append(set, func(o *opt.Options) { o.CompactionL0Trigger = int(f) })
		default:
			return nil, fmt.Errorf("unknown key %q", k)
		}
	}
	return func(o *opt.Options) {
		for _, f := range set {
			f(o)
		}
	}, nil
}

// printProc prints the serving process's collector share and memory since
// ps0.
func printProc(ps0 loadtest.ProcStats) error {
	ps, err := loadtest.ReadProcStats()
	if err != nil {
		return err
	}
	gc, cycles, cores := ps.Since(ps0)
	fmt.Printf("    serving process: GC %.1f%% of its CPU (%d cycles), %.2f cores busy; %s\n", 100*gc, cycles, cores, ps)
	return nil
}

// rateConfig is what the fixed-rate runs share: the state folder (its DID
// list), the client's connections, the share of peak, each run's duration
// and the client process's CPUs ("" = any).
type rateConfig struct {
	dir   string
	conns int
	share float64
	dur   time.Duration
	cpus  string
}

// rateRun measures the registry's peak under a Go client process (closed
// loop), then loads it at share of that peak from the same client at a
// fixed rate, and prints both with the handler's own >5 ms share and the
// serving process's figures.
func rateRun(ctx context.Context, name, url string, rc rateConfig) error {
	peak, err := clientRun(ctx, url, rc, 0)
	if err != nil {
		return err
	}
	fmt.Printf("go-process %-8s %6.0f req/s peak (closed loop)  p50 %-9v p99 %-9v errors %d\n",
		name, peak.RPS, peak.P50.Round(time.Microsecond), peak.P99.Round(time.Microsecond), peak.Errors)
	rate := rc.share * peak.RPS
	registry := name == "registry" // the bare handler has no /metrics
	var before loadtest.ServerLatency
	var ps0 loadtest.ProcStats
	if registry {
		if before, err = loadtest.ReadServerLatency(url, "identifiers"); err != nil {
			return err
		}
		if ps0, err = loadtest.ReadProcStats(); err != nil {
			return err
		}
	}
	res, err := clientRun(ctx, url, rc, rate)
	if err != nil {
		return err
	}
	fmt.Printf("go-process %-8s %6.0f req/s asked (%.0f%% of peak), %.0f achieved  p50 %-9v p99 %-9v errors %d (from each request's due time)\n",
		name, rate, 100*rc.share, res.RPS, res.P50.Round(time.Microsecond), res.P99.Round(time.Microsecond), res.Errors)
	if !registry {
		return nil
	}
	after, err := loadtest.ReadServerLatency(url, "identifiers")
	if err != nil {
		return err
	}
	n := after.Count - before.Count
	fmt.Printf("    registry handler (its own /metrics): %.3f%% of %.0f requests took more than 5 ms\n",
		100*(n-(after.Within5ms-before.Within5ms))/max(n, 1), n)
	return printProc(ps0)
}

// clientRun runs this binary as the -rate-client process at rate (0:
// closed loop) and returns its result.
func clientRun(ctx context.Context, url string, rc rateConfig, rate float64) (*loadtest.LoadResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := loadtest.Pinned(exec.CommandContext(ctx, self, "-rate-client", url, "-rate", strconv.FormatFloat(rate, 'f', 1, 64),
		"-conns", strconv.Itoa(rc.conns), "-duration", rc.dur.String(), "-dir", rc.dir), rc.cpus)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("client process: %w: %.500s", err, out)
	}
	return loadtest.ParseRateResult(string(out))
}

// runRateClient is the -rate-client process: it loads url with random DIDs
// of the list at rate req/s (0: closed loop) and prints the result line.
func runRateClient(url, list string, conns int, rate float64, dur time.Duration) error {
	dids, err := loadtest.ReadDIDList(list)
	if err != nil {
		return err
	}
	var res *loadtest.LoadResult
	if rate == 0 {
		res, err = loadtest.GoLoad(context.Background(), url, dids, conns, dur)
	} else {
		res, err = loadtest.RateLoad(context.Background(), url, dids, conns, rate, dur)
	}
	if err != nil {
		return err
	}
	fmt.Println(loadtest.FormatRateResult(res))
	return nil
}
