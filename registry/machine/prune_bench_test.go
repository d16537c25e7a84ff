package machine

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/medid/medid/internal/benchbase"
	"github.com/medid/medid/registry/ledger"

	abci "github.com/cometbft/cometbft/abci/types"
)

// benchDIDs is the state size of the issue 18 benchmarks: 20,000 DIDs, or
// MEDID_BENCH_DIDS.
func benchDIDs(tb testing.TB) int {
	if s := os.Getenv("MEDID_BENCH_DIDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 {
			tb.Fatalf("MEDID_BENCH_DIDS=%q: want a number of at least 100", s)
		}
		return n
	}
	return 20000
}

// benchBlocks returns n did.create transactions in blocks of perBlock.
func benchBlocks(tb testing.TB, n, perBlock int) [][][]byte {
	var blocks [][][]byte
	for i := 0; i < n; i += perBlock {
		var txs [][]byte
		for j := i; j < min(i+perBlock, n); j++ {
			txs = append(txs, createTxN(tb, j))
		}
		blocks = append(blocks, txs)
	}
	return blocks
}

// BenchmarkDiskPerDIDCreate commits the same blocks of did.create (100 a
// block) into a state that keeps every version (the baseline: no pruning,
// no snapshots) and into one with the defaults of a node (the 100 newest
// versions, a snapshot every 100 blocks here, two kept), and reports the
// bytes on disk per DID, snapshots included, in each state layout
// (docs/design/0021, "State layout": layout1 stores each record three
// times, layout2 once). One op is one block; run with -benchtime=Nx for N
// blocks. growth-bytes/DID is the logical bytes added per DID over the
// second half of the run: the old versions kept for the proof window (a
// fixed number of blocks) no longer grow with the chain there, so it is
// what each further did.create costs.
func BenchmarkDiskPerDIDCreate(b *testing.B) {
	for _, c := range []struct {
		name   string
		cfg    Config
		layout ledger.StateLayout
	}{
		{"layout1/every-version", Config{KeepVersions: -1, SnapshotInterval: -1}, ledger.LayoutEveryVersion},
		{"layout1/pruned", Config{KeepVersions: 100, SnapshotInterval: 100, SnapshotKeep: 2}, ledger.LayoutEveryVersion},
		{"layout2/every-version", Config{KeepVersions: -1, SnapshotInterval: -1}, ledger.LayoutRecordsOnce},
		{"layout2/pruned", Config{KeepVersions: 100, SnapshotInterval: 100, SnapshotKeep: 2}, ledger.LayoutRecordsOnce},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := newHarnessLayout(b, c.cfg, unlimitedCreates(), c.layout)
			h.mustBlock()
			const perBlock = 100
			n := 0
			var midBytes int64
			midN := 0
			for i := range b.N {
				if i == b.N/2 {
					b.StopTimer()
					midBytes, midN = stateBreakdown(b, h.app.db.RawDB()).total(), n
					b.StartTimer()
				}
				b.StopTimer()
				txs := make([][]byte, perBlock)
				for j := range txs {
					txs[j] = createTxN(b, n)
					n++
				}
				b.StartTimer()
				for j, r := range h.block(txs...) {
					if r.Code != 0 {
						b.Fatalf("tx %d: %d %s", j, r.Code, r.Log)
					}
				}
			}
			b.StopTimer()
			if err := h.app.WaitSnapshots(context.Background()); err != nil {
				b.Fatal(err)
			}
			snaps := dirSize(b, h.app.cfg.SnapshotDir)
			total := dirSize(b, h.dir)
			b.ReportMetric(float64(total)/float64(n), "disk-bytes/DID")
			b.ReportMetric(float64(snaps)/float64(n), "snapshot-bytes/DID")
			b.ReportMetric(float64(n), "DIDs")
			// Where the bytes go: the state database's entries by kind,
			// logical key+value bytes before LevelDB's compression (its
			// files also hold, uncompressed, up to a 64 MiB journal of
			// recent writes, and deleted versions until compaction).
			bd := stateBreakdown(b, h.app.db.RawDB())
			per := func(kinds ...string) float64 {
				var t int64
				for _, k := range kinds {
					if e := bd[k]; e != nil {
						t += e.bytes
					}
				}
				return float64(t) / float64(n)
			}
			b.ReportMetric(float64(bd.total())/float64(n), "logical-bytes/DID")
			if n > midN {
				b.ReportMetric(float64(bd.total()-midBytes)/float64(n-midN), "growth-bytes/DID")
			}
			b.ReportMetric(per("tree leaf did/"), "did-leaf-bytes/DID")
			b.ReportMetric(per("tree leaf didv/"), "didv-leaf-bytes/DID")
			b.ReportMetric(per("latest-DID index x/"), "index-bytes/DID")
			b.ReportMetric(per("tree inner node"), "inner-bytes/DID")
			if e := bd["tree inner node"]; e != nil {
				b.ReportMetric(float64(e.entries)/float64(n), "inner-nodes/DID")
			}
		})
	}
}

// BenchmarkJoinRestoreVsReplay is what a joining node's application does
// with a state of benchDIDs DIDs (blocks of 500): restore the newest
// snapshot chunk by chunk (state sync), in each state layout (layout2
// stores each record once, so its snapshot holds about half the tree
// nodes), against replay every block since genesis (the baseline, as block
// sync does, in layout 2). Network transfer and block verification are not
// in either figure; registry/node/proctest's BenchmarkJoin measures whole
// registryd processes.
func BenchmarkJoinRestoreVsReplay(b *testing.B) {
	n := benchDIDs(b)
	blocks := benchBlocks(b, n, 500)
	for _, l := range []ledger.StateLayout{ledger.LayoutEveryVersion, ledger.LayoutRecordsOnce} {
		src := newHarnessLayout(b, Config{SnapshotInterval: int64(len(blocks)) + 1, KeepVersions: 10}, unlimitedCreates(), l)
		src.mustBlock()
		for _, txs := range blocks {
			src.mustBlock(txs...)
		}
		snapshotNow(b, src)
		height, appHash := src.app.LastCommit()
		snapBytes := dirSize(b, src.app.cfg.SnapshotDir)
		restore := func(walk bool) func(b *testing.B) {
			return func(b *testing.B) {
				cpu := time.Duration(0)
				for range b.N {
					cpu0 := benchbase.ProcessCPU()
					dst, res := restoreIntoWith(b, src, nil, appHash, func(a *App) { a.indexAfterImport = walk })
					cpu += benchbase.ProcessCPU() - cpu0
					if res != abci.ResponseApplySnapshotChunk_ACCEPT {
						b.Fatalf("restore: %v", res)
					}
					b.StopTimer()
					dst.Close()
					b.StartTimer()
				}
				b.ReportMetric(float64(n), "DIDs")
				b.ReportMetric(float64(snapBytes)/float64(n), "snapshot-bytes/DID")
				// Process CPU (every goroutine: import, index and LevelDB
				// writes, compaction) moves less with other load than wall
				// time does.
				b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
			}
		}
		b.Run(fmt.Sprintf("layout%d/state-sync-restore", l), restore(false))
		if l == ledger.LayoutEveryVersion {
			// The index written by a walk of the restored tree after the
			// import, as before it was written while importing.
			b.Run(fmt.Sprintf("layout%d/state-sync-restore-walk", l), restore(true))
		}
		if l != ledger.LayoutRecordsOnce {
			continue
		}
		g, err := (&Genesis{Governance: []string{src.govDID}, Quotas: unlimitedCreates(), StateLayout: l}).Marshal()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("layout%d/replay", l), func(b *testing.B) {
			for range b.N {
				dst, err := New(Config{Dir: b.TempDir(), SnapshotInterval: -1, KeepVersions: 10})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				if _, err := dst.InitChain(ctx, &abci.RequestInitChain{AppStateBytes: g, InitialHeight: 1, Time: t0}); err != nil {
					b.Fatal(err)
				}
				r := &harness{tb: b, app: dst}
				r.mustBlock()
				for _, txs := range blocks {
					r.mustBlock(txs...)
				}
				for r.height() < height {
					r.block()
				}
				if _, got := dst.LastCommit(); string(got) != string(appHash) {
					b.Fatalf("replayed state hash %X, want %X", got, appHash)
				}
				b.StopTimer()
				dst.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n), "DIDs")
		})
	}
}

// breakdown counts a state database's entries by kind.
type breakdown map[string]*entryCount

type entryCount struct{ entries, bytes int64 }

func (bd breakdown) add(kind string, n int) {
	c := bd[kind]
	if c == nil {
		c = &entryCount{}
		bd[kind] = c
	}
	c.entries++
	c.bytes += int64(n)
}

func (bd breakdown) kinds() []string {
	var ks []string
	for k := range bd {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (bd breakdown) total() int64 {
	var t int64
	for _, c := range bd {
		t += c.bytes
	}
	return t
}

// stateBreakdown sorts every entry of the state database (key and value
// bytes) into: IAVL leaf nodes by the prefix of the state key they hold
// (did/, didv/, …), IAVL inner nodes, the latest-DID index (x/), the
// directory index and IAVL metadata. IAVL v1 stores a node under
// 's'<version><nonce>; its value starts with the subtree height (a
// varint, 0 for a leaf), then the size, then the length-prefixed key.
func stateBreakdown(tb testing.TB, db *leveldb.DB) breakdown {
	bd := breakdown{}
	it := db.NewIterator(nil, nil)
	defer it.Release()
	for it.Next() {
		k, v := it.Key(), it.Value()
		n := len(k) + len(v)
		switch {
		case len(k) == 13 && k[0] == 's':
			height, m := binary.Varint(v)
			if m <= 0 {
				tb.Fatalf("tree node %x: bad height", k)
			}
			if height > 0 {
				bd.add("tree inner node", n)
				continue
			}
			_, m2 := binary.Varint(v[m:])
			kl, m3 := binary.Uvarint(v[m+m2:])
			if m2 <= 0 || m3 <= 0 {
				tb.Fatalf("tree leaf %x: bad encoding", k)
			}
			sk := v[m+m2+m3:][:kl]
			prefix := string(sk)
			if i := strings.IndexByte(prefix, '/'); i >= 0 {
				prefix = prefix[:i+1]
			}
			bd.add("tree leaf "+prefix, n)
		case bytes.HasPrefix(k, indexPrefix):
			bd.add("latest-DID index x/", n)
		default:
			p := string(k[:1])
			if i := bytes.IndexAny(k, "/!"); i >= 0 && i < 8 {
				p = string(k[:i+1])
			}
			bd.add("other "+p, n)
		}
	}
	if err := it.Error(); err != nil {
		tb.Fatal(err)
	}
	return bd
}
