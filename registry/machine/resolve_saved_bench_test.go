package machine

import (
	"bufio"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/medid/medid/internal/benchbase"
	"github.com/medid/medid/registry/ledger"
)

// BenchmarkResolveSavedState resolves random DIDs with App.ResolveDID from
// a state saved on disk, as registryd opens it (the defaults of Config: its
// block cache and node cache), for states too big to build in a benchmark:
// MEDID_RESOLVE_STATE is the state folder (e.g. medid-loadtest -keep's
// DIR/app) and MEDID_RESOLVE_DIDS a file of its DIDs, one a line (DIR/dids.txt).
// It first resolves every listed DID once (as medid-loadtest -warm does),
// then b.N random ones, and reports per resolution the process CPU, the
// bytes LevelDB read from its files (block cache misses), and the share
// answered through a leaf pointer (layout 2). MEDID_RESOLVE_PROFILE names a
// file for a CPU profile of the b.N resolutions alone (the warm-up left
// out). Skipped without the first two variables.
func BenchmarkResolveSavedState(b *testing.B) {
	dir, list := os.Getenv("MEDID_RESOLVE_STATE"), os.Getenv("MEDID_RESOLVE_DIDS")
	if dir == "" || list == "" {
		b.Skip("MEDID_RESOLVE_STATE and MEDID_RESOLVE_DIDS name a saved state and its DIDs")
	}
	dids := readLines(b, list)
	a, err := New(Config{Dir: dir, SnapshotInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	b.Logf("layout %d, %d DIDs listed", a.layout, len(dids))
	resolve := func(d string) {
		if _, err := a.ResolveDID(d, ledger.ResolveOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	raw := a.db.RawDB()
	stats := func() leveldb.DBStats {
		var s leveldb.DBStats
		if err := raw.Stats(&s); err != nil {
			b.Fatal(err)
		}
		return s
	}
	if b.N > 1 && os.Getenv("MEDID_RESOLVE_COLD") == "" {
		// MEDID_RESOLVE_WARM_GOROUTINES resolves the list from that many
		// goroutines (as medid-loadtest -warm does over HTTP, with 8).
		g, _ := strconv.Atoi(os.Getenv("MEDID_RESOLVE_WARM_GOROUTINES"))
		g = max(g, 1)
		s0, cpu0, t0 := stats(), benchbase.ProcessCPU(), time.Now()
		var wg sync.WaitGroup
		for w := range g {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(dids); i += g {
					if _, err := a.ResolveDID(dids[i], ledger.ResolveOptions{}); err != nil {
						panic(err)
					}
				}
			}()
		}
		wg.Wait()
		s1 := stats()
		b.Logf("warm-up: %d resolutions from %d goroutines in %.1f s, %.1f CPU-µs and %.0f bytes read each; block cache %d MB",
			len(dids), g, time.Since(t0).Seconds(), float64((benchbase.ProcessCPU()-cpu0).Microseconds())/float64(len(dids)),
			float64(s1.IORead-s0.IORead)/float64(len(dids)), s1.BlockCacheSize>>20)
	}
	if p := os.Getenv("MEDID_RESOLVE_PROFILE"); p != "" && b.N > 1 {
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	s0, cpu0, hits := stats(), benchbase.ProcessCPU(), a.idx.leafHits.Load()
	for range b.N {
		resolve(dids[rng.IntN(len(dids))])
	}
	b.StopTimer()
	s1 := stats()
	b.ReportMetric(float64((benchbase.ProcessCPU()-cpu0).Nanoseconds())/1000/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(s1.IORead-s0.IORead)/float64(b.N), "read-B/op")
	b.ReportMetric(float64(s1.BlockCacheSize>>20), "cache-MB")
	b.ReportMetric(float64(a.idx.leafHits.Load()-hits)/float64(b.N), "leaf-hits")
	b.Logf("levels: tables %v, sizes %v MB; seek compactions %d", s1.LevelTablesCounts, mb(s1.LevelSizes), s1.SeekComp)
}

func mb(s leveldb.Sizes) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = v >> 20
	}
	return out
}

func readLines(tb testing.TB, path string) []string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
