// Command tree-store replays a did.create-shaped write workload (the keys
// and value sizes registry/machine writes in state layout 2, 100
// transactions a block, one version a block, 100 versions kept) on a tree
// store, and measures the CPU per transaction on a fresh state and on a
// big one in the same process, alternating round by round. It is a study
// (docs/design/0021, "A store whose cost does not grow with the state:
// study"), not part of the product: see README.md for the commands.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tree-store:", err)
		os.Exit(1)
	}
}

type config struct {
	mode      string
	kind      string
	dir       string
	dids      uint64
	block     int
	cache     int
	keep      int64
	txs       int
	rounds    int
	warm      int
	pad       int
	label     string
	warmTree  bool
	evict     int
	ckpt      int64
	hfilter   int
	profile   string
	freshBase string
}

func run(args []string) error {
	var c config
	fs := flag.NewFlagSet("tree-store", flag.ContinueOnError)
	fs.StringVar(&c.mode, "mode", "probe", "load (bulk-load -dids into -dir) or probe (fresh against -dir, alternated)")
	fs.StringVar(&c.kind, "store", "v1", "v1 (cosmos/iavl v1.3.6 on goleveldb) or v2 (cosmos/iavl/v2 alpha.4 on SQLite)")
	fs.StringVar(&c.dir, "dir", "", "the big state's folder")
	fs.Uint64Var(&c.dids, "dids", 1_000_000, "load: DIDs to create")
	fs.IntVar(&c.block, "block", 0, "transactions per block (0: 5,000 for load, 100 for probe)")
	fs.IntVar(&c.cache, "node-cache", 400_000, "v1: IAVL node cache (nodes)")
	fs.Int64Var(&c.keep, "keep", 100, "versions kept")
	fs.IntVar(&c.txs, "txs", 20_000, "probe: did.create per state per round")
	fs.IntVar(&c.rounds, "rounds", 3, "probe: rounds (big, fresh alternate in each)")
	fs.IntVar(&c.warm, "warm", 2_000, "probe: untimed did.create per state before the rounds")
	fs.IntVar(&c.pad, "pad", 101, "probe: empty blocks per state before the warm-up (pruning from the start)")
	fs.BoolVar(&c.warmTree, "warm-tree", false, "probe: read every node of both states once before the warm-up (a node cache warm as a long-running validator's)")
	fs.IntVar(&c.evict, "v2-eviction-depth", 0, "v2: TreeOptions.EvictionDepth (0: alpha.4's default, -1; its authors' benchmark: 22)")
	fs.Int64Var(&c.ckpt, "v2-checkpoint", 0, "v2: TreeOptions.CheckpointInterval (0: alpha.4's default, 1,000; its authors' benchmark: 80)")
	fs.IntVar(&c.hfilter, "v2-height-filter", -1, "v2: TreeOptions.HeightFilter (-1: alpha.4's default, 1: leaves leave memory after each version; 0 keeps them)")
	fs.StringVar(&c.profile, "cpuprofile", "", "probe: write a CPU profile of the timed rounds (labels state=big|fresh)")
	fs.StringVar(&c.label, "label", "", "probe: a name printed on every line")
	fs.StringVar(&c.freshBase, "fresh-dir", "", "probe: where the fresh state goes (default: a temporary folder, removed after)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.dir == "" {
		return errors.New("-dir is required")
	}
	if c.kind != "v1" && c.kind != "v2" {
		return fmt.Errorf("-store %q: want v1 or v2", c.kind)
	}
	// IAVL v2 logs every checkpoint and prune through zerolog's global
	// logger; its warnings and errors stay.
	zerolog.SetGlobalLevel(zerolog.WarnLevel)
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400) // registryd's node.DefaultGCPercent
	}
	switch c.mode {
	case "load":
		return load(c)
	case "probe":
		return probe(c)
	}
	return fmt.Errorf("-mode %q: want load or probe", c.mode)
}

func open(c config, dir string) (store, error) {
	if c.kind == "v2" {
		return openV2(dir, c.keep, int8(c.evict), c.ckpt, int8(c.hfilter))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return openV1(dir, c.cache, c.keep)
}

// block applies n did.create of identities first… as one block: for each,
// a read of its key in the working tree (it must be absent), then its
// record; then the block's origin counter; then Commit with one index
// entry per DID.
func block(s store, first uint64, n int, counted *int64) error {
	h := s.Version() + 1
	index := make([][2][]byte, 0, n)
	for i := range n {
		id := first + uint64(i)
		k := didKey(id)
		found, err := s.Has(k)
		if err != nil {
			return err
		}
		if found {
			return fmt.Errorf("identity %d exists already", id)
		}
		v := recordOf(id, h)
		if err := s.Set(k, v); err != nil {
			return err
		}
		sum := sha256.Sum256(v)
		index = append(index, [2][]byte{indexKey(k), sum[:16]})
	}
	if n > 0 {
		*counted += int64(n)
		if err := s.Set(quotaKey, quotaValue(h/1000, *counted, *counted*600)); err != nil {
			return err
		}
	}
	_, _, err := s.Commit(index)
	return err
}

func load(c config) error {
	if c.block == 0 {
		c.block = 5_000
	}
	s, err := open(c, c.dir)
	if err != nil {
		return err
	}
	var counted int64
	t0, cpu0 := time.Now(), processCPU()
	for lo := uint64(0); lo < c.dids; lo += uint64(c.block) {
		n := int(min(uint64(c.block), c.dids-lo))
		if v2, ok := s.(*v2Store); ok && lo+uint64(n) >= c.dids {
			// The last block ends on a checkpoint, so a probe's open
			// loads the state instead of replaying the load's changelog.
			v2.tree.SetShouldCheckpoint()
		}
		if err := block(s, lo, n, &counted); err != nil {
			s.Close()
			return err
		}
		if s.Version()%20 == 0 {
			fmt.Printf("load %s: %d DIDs, %.0f s, rss %d MiB\n", c.kind, lo+uint64(n), time.Since(t0).Seconds(), statusKB("VmRSS")>>10)
		}
	}
	el, cpu := time.Since(t0), processCPU()-cpu0
	if err := s.Close(); err != nil {
		return err
	}
	disk, err := du(c.dir)
	if err != nil {
		return err
	}
	fmt.Printf("load %s: %d DIDs in %.1f s (%.0f DIDs/s, CPU %.1f s), height %d, disk %d MiB = %d B/DID, peak RSS %d MiB, node cache %d, GOGC %d, limit %s, load %s\n",
		c.kind, c.dids, el.Seconds(), float64(c.dids)/el.Seconds(), cpu.Seconds(), s.Version(), disk>>20, disk/int64(c.dids),
		statusKB("VmHWM")>>10, c.cache, gogc(), limitString(), loadavg())
	return nil
}

type roundRun struct {
	state             string
	round             int
	el, cpu, gc, gcSt time.Duration
	alloc, live       int64
	misses, pruneMiss int64
}

func probe(c config) error {
	if c.block == 0 {
		c.block = 100
	}
	big, err := open(c, c.dir)
	if err != nil {
		return err
	}
	defer big.Close()
	if big.Version() == 0 {
		return fmt.Errorf("%s holds no state: load it first (-mode load)", c.dir)
	}
	freshDir := c.freshBase
	if freshDir == "" {
		if freshDir, err = os.MkdirTemp("", "tree-store-fresh-"); err != nil {
			return err
		}
		defer os.RemoveAll(freshDir)
	}
	fresh, err := open(c, freshDir)
	if err != nil {
		return err
	}
	defer fresh.Close()
	states := []struct {
		name    string
		s       store
		counted int64
	}{{"big", big, 0}, {"fresh", fresh, 0}}
	// Identities past any load and any earlier probe of this big state
	// (each probe raises its version).
	first := uint64(1)<<40 + uint64(big.Version())*10_000
	for i := range states {
		st := &states[i]
		for range c.pad {
			if err := block(st.s, 0, 0, &st.counted); err != nil {
				return err
			}
		}
		if c.warmTree {
			t0 := time.Now()
			if err := st.s.Warm(); err != nil {
				return fmt.Errorf("%s: read the tree: %w", st.name, err)
			}
			fmt.Printf("%s %s %s: read the whole tree in %.1f s\n", c.label, c.kind, st.name, time.Since(t0).Seconds())
		}
		for lo := 0; lo < c.warm; lo += c.block {
			if err := block(st.s, first+uint64(lo), min(c.block, c.warm-lo), &st.counted); err != nil {
				return fmt.Errorf("%s warm-up: %w", st.name, err)
			}
		}
	}
	first += uint64(c.warm)
	if c.profile != "" {
		f, err := os.Create(c.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	verify0 := verifyCPU()
	var runs []roundRun
	for r := range c.rounds {
		base := first + uint64(r*c.txs)
		for i := range states {
			st := &states[i]
			c0 := gcCPU()
			runtime.GC()
			cycle := gcCPU() - c0
			alloc0, live := heapAllocLive()
			m0, p0 := st.s.Misses()
			t0, cpu0, gc0 := time.Now(), processCPU(), gcCPU()
			pprof.Do(context.Background(), pprof.Labels("state", st.name), func(context.Context) {
				for lo := 0; lo < c.txs && err == nil; lo += c.block {
					err = block(st.s, base+uint64(lo), min(c.block, c.txs-lo), &st.counted)
				}
			})
			if err != nil {
				return fmt.Errorf("%s round %d: %w", st.name, r+1, err)
			}
			run := roundRun{state: st.name, round: r + 1, el: time.Since(t0), cpu: processCPU() - cpu0, gc: gcCPU() - gc0, live: int64(live)}
			alloc1, _ := heapAllocLive()
			run.alloc = int64(alloc1 - alloc0)
			run.gcSt = steadyGC(cycle, run.alloc, run.live)
			run.misses, run.pruneMiss = -1, -1
			if m1, p1 := st.s.Misses(); m0 >= 0 {
				run.misses, run.pruneMiss = m1-m0, p1-p0
			}
			runs = append(runs, run)
			perTx := run.cpu / time.Duration(c.txs)
			misses := "n/a"
			if run.misses >= 0 {
				misses = fmt.Sprintf("%.2f/tx (blocks %.2f, pruning %.2f)", float64(run.misses)/float64(c.txs),
					float64(run.misses-run.pruneMiss)/float64(c.txs), float64(run.pruneMiss)/float64(c.txs))
			}
			fmt.Printf("%s %s round %d %s: %.0f tx/s, %.1f CPU-µs/tx (GC %.1f, steady GC %.1f), alloc %d B/tx, live %d MiB, node misses %s, load %s\n",
				c.label, c.kind, run.round, run.state, float64(c.txs)/run.el.Seconds(), us(perTx), us(run.gc/time.Duration(c.txs)), us(run.gcSt/time.Duration(c.txs)),
				run.alloc/int64(c.txs), run.live>>20, misses, loadavg())
		}
	}
	verify := (verify0 + verifyCPU()) / 2
	var bigCPU, freshCPU, bigEl, freshEl, bigSt, freshSt time.Duration
	for _, r := range runs {
		steady := r.cpu - r.gc + r.gcSt
		if r.state == "big" {
			bigCPU, bigEl, bigSt = bigCPU+r.cpu, bigEl+r.el, bigSt+steady
		} else {
			freshCPU, freshEl, freshSt = freshCPU+r.cpu, freshEl+r.el, freshSt+steady
		}
	}
	n := time.Duration(c.txs * c.rounds)
	fmt.Printf("%s %s SUMMARY big height %d, node cache %d, keep %d, v2 eviction depth %d, checkpoint %d, height filter %d: CPU per tx big %.1f µs (%.2f sig-eq), fresh %.1f µs (%.2f sig-eq), big/fresh CPU %.3f, with steady GC %.3f (big %.1f, fresh %.1f µs), big/fresh throughput %.3f; ed25519.Verify %.1f µs; GOGC %d, limit %s; peak RSS %d MiB; load %s\n",
		c.label, c.kind, big.Version(), c.cache, c.keep, c.evict, c.ckpt, c.hfilter,
		us(bigCPU/n), float64(bigCPU/n)/float64(verify), us(freshCPU/n), float64(freshCPU/n)/float64(verify),
		float64(bigCPU)/float64(freshCPU), float64(bigSt)/float64(freshSt), us(bigSt/n), us(freshSt/n),
		freshEl.Seconds()/bigEl.Seconds(), us(verify), gogc(), limitString(), statusKB("VmHWM")>>10, loadavg())
	return nil
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// processCPU is the process's user+system CPU so far (all threads).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// verifyCPU is the median thread CPU of one ed25519.Verify of a
// 600-byte message (internal/benchbase.Ed25519VerifyCPU's method): the
// unit "sig-eq" that carries over between machines.
func verifyCPU() time.Duration {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 600)
	sig := ed25519.Sign(priv, msg)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var per []time.Duration
	for range 5 {
		c0 := threadCPU()
		for range 200 {
			if !ed25519.Verify(pub, msg, sig) {
				panic("baseline signature did not verify")
			}
		}
		per = append(per, (threadCPU()-c0)/200)
	}
	sort.Slice(per, func(i, j int) bool { return per[i] < per[j] })
	return per[len(per)/2]
}

func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}

func gcCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}

func heapAllocLive() (alloc, live uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

// steadyGC is registry/loadtest's estimate of what alloc bytes cost a
// long-running process in collections: a cycle's CPU times the share of
// a cycle alloc is (a cycle starts when the heap grows past live by GOGC
// percent or reaches the soft memory limit).
func steadyGC(cycle time.Duration, alloc, live int64) time.Duration {
	room := int64(1<<63 - 1)
	if p := int64(gogc()); p > 0 {
		room = live * p / 100
	}
	if l := debug.SetMemoryLimit(-1); l > 0 && l-live < room {
		room = max(l-live, live/100)
	}
	if room <= 0 || room == 1<<63-1 {
		return 0
	}
	return time.Duration(float64(cycle) * float64(alloc) / float64(room))
}

func gogc() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

func limitString() string {
	l := debug.SetMemoryLimit(-1)
	if l == 1<<63-1 {
		return "none"
	}
	return fmt.Sprintf("%d MiB", l>>20)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}

func statusKB(field string) int64 {
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

// du is the bytes the files under dir take on disk (allocated blocks).
func du(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		} else {
			n += fi.Size()
		}
		return nil
	})
	return n, err
}
