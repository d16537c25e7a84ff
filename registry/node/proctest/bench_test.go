package proctest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/node/nodetest"
)

// BenchmarkJoin measures how long a new registryd process takes from
// `registryd join` to serving the network's latest block, on a
// four-validator network holding syncDIDs DIDs (MEDID_STATESYNC_DIDS; built
// once and reused with MEDID_STATESYNC_SEED, see syncNetwork) under
// a light write load (5 did.create/s, so the chain moves on as it does in
// service): by state sync (a snapshot every 20 blocks) against block sync,
// replaying every block since genesis (the baseline), in the same run, with
// the bytes the new node's peer links carried until then. One op is one
// node joining.
func BenchmarkJoin(b *testing.B) {
	if testing.Short() {
		b.Skip("runs registryd processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	nw, dids := syncNetwork(b, ctx, Config{Dir: b.TempDir(), BlockTime: 100 * time.Millisecond, Quotas: nodetest.UnlimitedCreates(),
		App: node.AppSettings{SnapshotInterval: 20, KeepVersions: 10}})
	defer nw.Close()
	n := len(dids)
	load := nw.StartLoad(ctx, 5, 4)
	defer load.Stop()
	top, _ := nw.Nodes[0].Height(ctx)
	waitSnapshotAbove(b, ctx, nw, top, false)
	joined := 0
	for _, mode := range []struct {
		name string
		sync bool
	}{{"state-sync", true}, {"block-sync", false}} {
		b.Run(mode.name, func(b *testing.B) {
			for range b.N {
				joined++
				t0 := time.Now()
				nd, err := nw.Join(ctx, fmt.Sprintf("join%d", joined), mode.sync)
				if err != nil {
					b.Fatal(err)
				}
				target, err := nd.WaitCaughtUpWith(ctx, nw.Nodes[0])
				if err != nil {
					b.Fatal(err)
				}
				took := time.Since(t0)
				b.StopTimer()
				traffic := nw.Traffic(nd.Index)
				b.ReportMetric(float64(traffic), "p2p-bytes/op")
				if base := nd.base(ctx); (base > 1) != mode.sync {
					b.Fatalf("%s: the node serves blocks from %d", mode.name, base)
				}
				b.Logf("%s: joined at height %d in %s, %.1f MB of peer traffic", mode.name, target, took.Round(time.Millisecond), float64(traffic)/1e6)
				if err := nd.Stop(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n), "DIDs")
		})
	}
}
