package node

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	"github.com/prometheus/client_golang/prometheus"
)

// TestMetricsGather registers the node's metrics on a running
// single-validator node and gathers them as /metrics does: every gauge
// answers (none panics) with this node's values.
func TestMetricsGather(t *testing.T) {
	home := t.TempDir()
	if _, err := Init(InitConfig{Home: home}); err != nil {
		t.Fatal(err)
	}
	p2p, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Config{Home: home, App: kvstore.NewPersistentApplication(filepath.Join(home, "data", "kvstore")),
		P2PAddr: p2p, BlockTime: 20 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	snapAt := time.Now().Add(-time.Minute)
	if err := n.RegisterMetrics(reg, MetricSources{
		Rejections:   func() map[string]map[uint32]int64 { return map[string]map[uint32]int64{"check": {12: 3}} },
		LastSnapshot: func() (int64, time.Time) { return 7, snapAt },
		TrailBacklog: func() (int, error) { return 5, nil },
	}); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := n.Submit(ctx, []byte("k=v")); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetGauge() != nil:
				got[mf.GetName()] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				got[mf.GetName()] += m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				got[mf.GetName()] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	for _, tc := range []struct {
		name string
		ok   func(v float64) bool
		want string
	}{
		{"medid_node_consensus_height", func(v float64) bool { return v >= 1 }, ">= 1"},
		{"medid_node_voting_power", func(v float64) bool { return v == 10 }, "10 (the node validates)"},
		{"medid_node_peers", func(v float64) bool { return v == 0 }, "0"},
		{"medid_node_catching_up", func(v float64) bool { return v == 0 }, "0"},
		{"medid_node_catchup_asks_total", func(v float64) bool { return v >= 0 }, ">= 0 (it may ask before block sync hands over)"},
		{"medid_node_catchup_answers_total", func(v float64) bool { return v == 0 }, "0 (no peers)"},
		{"medid_node_tx_rejections_total", func(v float64) bool { return v == 3 }, "3"},
		{"medid_node_snapshot_height", func(v float64) bool { return v == 7 }, "7"},
		{"medid_node_snapshot_age_seconds", func(v float64) bool { return v >= 60 }, ">= 60"},
		{"medid_node_trail_backlog", func(v float64) bool { return v == 5 }, "5"},
		{"medid_node_last_block_age_seconds", func(v float64) bool { return v >= 0 && v < 20 }, "a few seconds"},
	} {
		v, ok := got[tc.name]
		if !ok || !tc.ok(v) {
			t.Errorf("%s = %v (present %v), want %s", tc.name, v, ok, tc.want)
		}
	}
}
