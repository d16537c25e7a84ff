package node

import (
	"testing"
	"time"
)

// TestCatchUpPacer: a catching-up node asks its peers' heights while it
// is far behind the median peer, stops for holdNearTip once near it, and
// asks again after the hold if block sync did not hand over.
func TestCatchUpPacer(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	type step struct {
		at    time.Duration // since t0
		ours  int64
		peers []int64 // consensus heights: newest block + 1
		ask   bool
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"no peer heights yet: ask", []step{{0, 0, nil, true}}},
		{"restoring a snapshot, far behind: ask", []step{{0, 0, []int64{105, 105, 105}, true}}},
		{"far behind: ask every time", []step{
			{0, 40, []int64{300, 300, 301}, true},
			{250 * time.Millisecond, 200, []int64{303, 303, 303}, true},
		}},
		{"one block over the margin: ask", []step{{0, 100, []int64{110, 110, 110, 110}, true}}},
		{"at the margin: hold", []step{{0, 101, []int64{110, 110, 110, 110}, false}}},
		// The CI failure: block sync 3 blocks short of a 10-blocks/s chain.
		{"near the tip: hold, then ask again once the hold ends", []step{
			{0, 101, []int64{105, 105, 105, 105}, false},
			{250 * time.Millisecond, 104, []int64{107, 108, 108, 108}, false},
			{holdNearTip - time.Millisecond, 104, []int64{120, 120, 120, 120}, false},
			{holdNearTip, 104, []int64{120, 120, 120, 120}, true},
		}},
		{"near again after asking: a new hold", []step{
			{0, 101, []int64{105, 105, 105}, false},
			{holdNearTip, 104, []int64{125, 125, 125}, true},
			{holdNearTip + 250*time.Millisecond, 120, []int64{127, 127, 127}, false},
			{2*holdNearTip + 249*time.Millisecond, 120, []int64{140, 140, 140}, false},
			{2*holdNearTip + 250*time.Millisecond, 120, []int64{140, 140, 140}, true},
		}},
		{"one peer announcing a height far ahead does not keep the node asking", []step{
			{0, 101, []int64{105, 105, 1 << 40, 105}, false},
		}},
		{"one peer announcing a low height does not make the node stop", []step{
			{0, 50, []int64{51, 200, 200, 200}, true},
		}},
		{"two peers: the lower one counts", []step{
			{0, 100, []int64{105, 300}, false},
		}},
		{"the node ahead of its peers (they lag): hold", []step{
			{0, 200, []int64{150, 150, 150}, false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p catchUpPacer
			for i, s := range tc.steps {
				peers := append([]int64(nil), s.peers...)
				if got := p.ask(t0.Add(s.at), s.ours, s.peers); got != s.ask {
					t.Fatalf("step %d (at %s, ours %d, peers %v): ask = %v, want %v", i, s.at, s.ours, s.peers, got, s.ask)
				}
				for j := range peers {
					if peers[j] != s.peers[j] {
						t.Fatalf("step %d: ask reordered its argument: %v", i, s.peers)
					}
				}
			}
		})
	}
}
