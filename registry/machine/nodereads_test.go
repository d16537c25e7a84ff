package machine

import (
	"context"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/registry/ledger"
)

// TestNodeReads: the node read counters tell pruning's reads from the
// blocks' and count the misses of a cache that starts cold.
func TestNodeReads(t *testing.T) {
	tests := []struct {
		name string
		keep int64
		// wantPrune: pruning deleted versions that held writes, so it
		// read nodes.
		wantPrune bool
	}{
		{"every version kept", -1, false},
		{"two versions kept", 2, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessCfg(t, Config{KeepVersions: tc.keep, SnapshotInterval: -1, NodeCacheSize: 1000})
			for b := range 8 {
				h.register(byte(10 + b))
			}
			r := h.app.NodeReads()
			if got := r.PruneHits+r.PruneMisses > 0; got != tc.wantPrune {
				t.Errorf("pruning's reads: %+v; want some: %v", r, tc.wantPrune)
			}
			if r.Hits == 0 {
				t.Errorf("no block node reads counted: %+v", r)
			}
			// Reopened, the caches are cold: opening reads the latest
			// root and a little more, and the next block's writes miss.
			h.app.Close()
			h.open()
			if r := h.app.NodeReads(); r.Hits+r.Misses+r.ReaderMisses > 20 || r.PruneHits+r.PruneMisses > 0 {
				t.Errorf("a reopened App starts with counters %+v; want at most a few reads", r)
			}
			before := h.app.NodeReads()
			h.register(30)
			if r := h.app.NodeReads(); r.Misses <= before.Misses {
				t.Errorf("a block on a cold cache counted no misses: %+v, before it %+v", r, before)
			}
		})
	}
}

// TestReaderNodeCache: the reads of committed versions have their own node
// cache, of ReaderNodeCacheSize nodes when given: a cache of a few nodes
// misses again when the same proofs are asked twice, one as large as the
// writer's (the default) does not.
func TestReaderNodeCache(t *testing.T) {
	tests := []struct {
		name   string
		reader int // Config.ReaderNodeCacheSize
		// wantMissAgain: the second pass over the same queries misses.
		wantMissAgain bool
	}{
		{"as the writer's (0)", 0, false},
		{"two nodes", 2, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessCfg(t, Config{SnapshotInterval: -1, NodeCacheSize: 1000, ReaderNodeCacheSize: tc.reader})
			var dids []string
			for b := range 8 {
				dids = append(dids, h.register(byte(10+b)).did)
			}
			pass := func() uint64 {
				before := h.app.NodeReads().ReaderMisses
				for _, d := range dids {
					res, err := h.app.Query(context.Background(), &abci.RequestQuery{Path: ledger.QueryDID, Data: []byte(d), Prove: true})
					if err != nil || res.Code != 0 {
						t.Fatalf("query %s: %v, code %d %s", d, err, res.GetCode(), res.GetLog())
					}
				}
				return h.app.NodeReads().ReaderMisses - before
			}
			pass()
			if got := pass() > 0; got != tc.wantMissAgain {
				t.Errorf("second pass missed: %v, want %v", got, tc.wantMissAgain)
			}
		})
	}
}
