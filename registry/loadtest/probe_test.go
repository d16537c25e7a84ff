package loadtest

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/registry/ledger"
)

// TestProbe runs the write probe on a small loaded state in each layout
// and checks that it measured what it says: every round of both states,
// the transactions committed (the big state resolves them afterwards),
// non-zero times and CPU, and a finite ratio.
func TestProbe(t *testing.T) {
	if testing.Short() {
		t.Skip("bulk-loads 2,000 DIDs per layout")
	}
	tests := []struct {
		name               string
		layout             ledger.StateLayout
		txs, block, rounds int
		wantBlocksPerRound int64
		keep               int64 // ProbeConfig.KeepVersions
		wantPad            int64 // empty blocks before the first round
		warm               int   // ProbeConfig.WarmTxs
		bigOnly            bool  // ProbeConfig.BigOnly: runs of the big state only
		wantWarmBlocks     int64 // blocks of the warm-up
		// wantPruneReads: every run prunes versions that held 100
		// transactions each, whose replaced nodes pruning reads
		// (hundreds); pruning an empty version reads its root and
		// little else.
		wantPruneReads bool
	}{
		{name: "layout2", layout: ledger.LayoutRecordsOnce, txs: 300, block: 100, rounds: 2, wantBlocksPerRound: 3, wantPad: 101},
		{name: "layout1 uneven blocks", layout: ledger.LayoutEveryVersion, txs: 250, block: 100, rounds: 1, wantBlocksPerRound: 3, wantPad: 101},
		{name: "keep 5 versions", layout: ledger.LayoutRecordsOnce, txs: 200, block: 100, rounds: 2, wantBlocksPerRound: 2, keep: 5, wantPad: 6},
		{name: "keep every version", layout: ledger.LayoutRecordsOnce, txs: 100, block: 100, rounds: 1, wantBlocksPerRound: 1, keep: -1, wantPad: 0},
		{name: "warm-up, keep 2 versions", layout: ledger.LayoutRecordsOnce, txs: 200, block: 100, rounds: 2, wantBlocksPerRound: 2, keep: 2, wantPad: 3,
			warm: 300, wantWarmBlocks: 3, wantPruneReads: true},
		{name: "big state only", layout: ledger.LayoutRecordsOnce, txs: 200, block: 100, rounds: 2, wantBlocksPerRound: 2, keep: 5, wantPad: 6, bigOnly: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "app")
			if _, err := BulkLoad(context.Background(), BulkConfig{Dir: dir, DIDs: 2000, BlockTxs: 500, StateLayout: tc.layout, NodeCacheSize: 50_000}); err != nil {
				t.Fatal(err)
			}
			res, err := Probe(context.Background(), ProbeConfig{Dir: dir, Txs: tc.txs, BlockTxs: tc.block, Rounds: tc.rounds, KeepVersions: tc.keep, WarmTxs: tc.warm, BigOnly: tc.bigOnly})
			if err != nil {
				t.Fatal(err)
			}
			if res.BigHeight != 4 || res.Layout != tc.layout {
				t.Errorf("big state at height %d in layout %d, want 4 in %d", res.BigHeight, res.Layout, tc.layout)
			}
			states := []string{"big", "fresh"}
			if tc.bigOnly {
				states = states[:1]
			}
			if got, want := len(res.Runs), len(states)*tc.rounds; got != want {
				t.Fatalf("%d runs, want %d", got, want)
			}
			// Both states first commit tc.wantPad empty blocks (pruning
			// from the start) and the warm-up's blocks, then
			// tc.wantBlocksPerRound per round.
			start := map[string]int64{"big": 4 + tc.wantPad + tc.wantWarmBlocks, "fresh": tc.wantPad + tc.wantWarmBlocks}
			for i, r := range res.Runs {
				wantState, wantRound := states[i%len(states)], i/len(states)+1
				wantHeight := start[wantState] + int64(wantRound)*tc.wantBlocksPerRound
				if r.State != wantState || r.Round != wantRound || r.Txs != tc.txs || r.Height != wantHeight {
					t.Errorf("run %d: %s round %d, %d txs, height %d; want %s round %d, %d txs, height %d",
						i, r.State, r.Round, r.Txs, r.Height, wantState, wantRound, tc.txs, wantHeight)
				}
				if r.Elapsed <= 0 || r.CPU <= 0 || r.TPS() <= 0 || res.SigEq(r) <= 0 {
					t.Errorf("run %d not measured: %+v, sig-eq %v", i, r, res.SigEq(r))
				}
				if r.Alloc <= 0 || r.Live <= 0 || r.GCCPU < 0 || r.GCSteady < 0 || r.SteadyCPU() <= 0 {
					t.Errorf("run %d: allocation %d B, live heap %d B, collector %v (steady %v): want positive allocation and heap", i, r.Alloc, r.Live, r.GCCPU, r.GCSteady)
				}
				if r.State == "big" && r.Reads.Hits+r.Reads.Misses == 0 {
					t.Errorf("run %d counted no node reads of blocks: %+v", i, r.Reads)
				}
				if got := r.Reads.PruneHits+r.Reads.PruneMisses > 100; got != tc.wantPruneReads {
					t.Errorf("run %d: pruning's node reads %+v; want over 100: %v", i, r.Reads, tc.wantPruneReads)
				}
			}
			if res.GCPercent == 0 || res.MemoryLimit <= 0 {
				t.Errorf("collector settings not read: GOGC %d, limit %d", res.GCPercent, res.MemoryLimit)
			}
			if res.VerifyCPU <= 0 {
				t.Errorf("baseline not measured: %v", res.VerifyCPU)
			}
			if got := res.Totals("big").Txs; got != tc.txs*tc.rounds {
				t.Errorf("big state total %d txs, want %d", got, tc.txs*tc.rounds)
			}
			if r := res.Ratio(); !tc.bigOnly && (r <= 0 || math.IsInf(r, 0) || math.IsNaN(r)) {
				t.Errorf("ratio %v", r)
			}

			// The probe's identities are in the big state now.
			srv, err := Serve(dir, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			for _, n := range []uint64{1 << 40, 1<<40 + uint64(tc.txs*tc.rounds+tc.warm) - 1} {
				did, _, err := Identity(n)
				if err != nil {
					t.Fatal(err)
				}
				if _, body, err := Fetch(srv.URL + "/1.0/identifiers/" + did); err != nil || !strings.Contains(string(body), did) {
					t.Errorf("probe identity %d (%s) not in the big state: %v", n, did, err)
				}
			}
		})
	}
}

func TestProbeErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(t *testing.T) ProbeConfig
		want string
	}{
		{name: "no dir", cfg: func(*testing.T) ProbeConfig { return ProbeConfig{} }, want: "needs Dir"},
		{name: "empty state", cfg: func(t *testing.T) ProbeConfig { return ProbeConfig{Dir: t.TempDir()} }, want: "holds no blocks"},
		{name: "negative txs", cfg: func(t *testing.T) ProbeConfig { return ProbeConfig{Dir: t.TempDir(), Txs: -1} }, want: "want positive"},
		{name: "negative warm-up", cfg: func(t *testing.T) ProbeConfig { return ProbeConfig{Dir: t.TempDir(), WarmTxs: -1} }, want: "want positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Probe(context.Background(), tc.cfg(t)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestSteadyGC checks the collector's steady share of a round's
// allocations: a cycle per GOGC percent of the live heap allocated, or per
// what the memory limit leaves above it when that is less.
func TestSteadyGC(t *testing.T) {
	const cycle = 100 * time.Millisecond
	const gib = 1 << 30
	tests := []struct {
		name                   string
		alloc, live, gc, limit int64
		want                   time.Duration
	}{
		{name: "GOGC 100, no limit", alloc: 1 * gib, live: 2 * gib, gc: 100, limit: math.MaxInt64, want: 50 * time.Millisecond},
		{name: "GOGC 400, no limit", alloc: 1 * gib, live: 2 * gib, gc: 400, limit: math.MaxInt64, want: 12500 * time.Microsecond},
		{name: "GOGC 400, limit binds", alloc: 1 * gib, live: 2 * gib, gc: 400, limit: 4 * gib, want: 50 * time.Millisecond},
		{name: "GOGC 400, limit above the room", alloc: 1 * gib, live: 2 * gib, gc: 400, limit: 12 * gib, want: 12500 * time.Microsecond},
		{name: "collector off, limit", alloc: 1 * gib, live: 2 * gib, gc: -1, limit: 3 * gib, want: 100 * time.Millisecond},
		{name: "collector off, no limit", alloc: 1 * gib, live: 2 * gib, gc: -1, limit: math.MaxInt64, want: 0},
		{name: "limit below the live heap", alloc: 1 << 20, live: 100 << 20, gc: 400, limit: 50 << 20, want: cycle},
		{name: "nothing allocated", alloc: 0, live: 2 * gib, gc: 100, limit: math.MaxInt64, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := steadyGC(cycle, tc.alloc, tc.live, tc.gc, tc.limit); got != tc.want {
				t.Errorf("steadyGC(%v, %d, %d, %d, %d) = %v, want %v", cycle, tc.alloc, tc.live, tc.gc, tc.limit, got, tc.want)
			}
		})
	}
}
