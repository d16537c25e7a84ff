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
// four-validator network holding syncDIDs DIDs (MEDID_STATESYNC_DIDS) under
// a light write load (5 did.create/s, so the chain moves on as it does in
// service): by state sync (a snapshot every 20 blocks) against block sync,
// replaying every block since genesis (the baseline), in the same run. One
// op is one node joining.
func BenchmarkJoin(b *testing.B) {
	if testing.Short() {
		b.Skip("runs registryd processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	nw, err := Start(ctx, Config{Dir: b.TempDir(), BlockTime: 100 * time.Millisecond, Quotas: nodetest.UnlimitedCreates(),
		App: node.AppSettings{SnapshotInterval: 20, KeepVersions: 10}})
	if err != nil {
		b.Fatal(err)
	}
	defer nw.Close()
	n := syncDIDs(b)
	start := time.Now()
	if _, err := nw.CreateDIDs(ctx, n, 256); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d DIDs registered in %s", n, time.Since(start).Round(time.Millisecond))
	load := nw.StartLoad(ctx, 5, 4)
	defer load.Stop()
	top, _ := nw.Nodes[0].Height(ctx)
	for {
		ni, err := nw.Nodes[0].Client().Network(ctx)
		if err == nil && ni.SnapshotHeight > top {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
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
				target, _ := nw.Nodes[0].Height(ctx)
				if err := nd.WaitHeight(ctx, target); err != nil {
					b.Fatal(err)
				}
				took := time.Since(t0)
				b.StopTimer()
				if base := nd.base(ctx); (base > 1) != mode.sync {
					b.Fatalf("%s: the node serves blocks from %d", mode.name, base)
				}
				b.Logf("%s: joined at height %d in %s", mode.name, target, took.Round(time.Millisecond))
				if err := nd.Stop(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n), "DIDs")
		})
	}
}
