package node_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/medid/medid/internal/logbuf"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/tx"
)

// newTestnet writes a four-validator testnet (30 ms blocks) of chain
// "medid-"+name in a processDir folder, with ports free for slots nodes
// (the four and any that join later), its genesis in state layout layout
// at protocol protocol (0: the current ones). It returns the folder and the
// four homes.
func newTestnet(t *testing.T, name string, slots int, layout ledger.StateLayout, protocol uint64) (string, []node.InitResult) {
	t.Helper()
	out := processDir(t, name)
	base, err := node.FreeBasePort(slots)
	if err != nil {
		t.Fatal(err)
	}
	res, err := node.Testnet(node.TestnetConfig{Validators: 4, OutDir: out, BasePort: base, BlockTime: 30 * time.Millisecond,
		ChainID: "medid-" + name, StateLayout: layout, Protocol: protocol})
	if err != nil {
		t.Fatal(err)
	}
	return out, res
}

// carryByThree proposes p with the governance key of res[0] through c and
// approves it with those of res[1] and res[2], which carries it on a
// four-key network.
func carryByThree(ctx context.Context, t *testing.T, c *client.Client, res []node.InitResult, p tx.Proposal) {
	t.Helper()
	rec, _, err := c.Propose(ctx, govKey(t, res[0].Home), p)
	for _, r := range res[1:3] {
		if err == nil {
			rec, _, err = c.Approve(ctx, govKey(t, r.Home), p.ID)
		}
	}
	if err != nil || rec.Status != ledger.ProposalExecuted {
		t.Fatalf("proposal %s: %+v, %v", p.ID, rec, err)
	}
}

// writeUntil makes blocks (create writes one DID each) until every app of
// ms has committed height h.
func writeUntil(ctx context.Context, t *testing.T, ms []*member, h int64, create func(name string)) {
	t.Helper()
	low := func() int64 {
		low := int64(-1)
		for _, m := range ms {
			if c, _ := m.app.LastCommit(); low < 0 || c < low {
				low = c
			}
		}
		return low
	}
	for n := 0; low() < h; n++ {
		if ctx.Err() != nil {
			t.Fatalf("at height %d of %d: %v", low(), h, ctx.Err())
		}
		create(fmt.Sprintf("filler-%d", n))
	}
}

// waitAgree waits up to d until every app of ms has committed the same
// height with the same app hash (what, for the failure message).
func waitAgree(t *testing.T, d time.Duration, what string, ms ...*member) {
	t.Helper()
	waitFor(t, d, what, func() bool {
		h0, x0 := ms[0].app.LastCommit()
		for _, m := range ms[1:] {
			if h, x := m.app.LastCommit(); h != h0 || !bytes.Equal(x, x0) {
				return false
			}
		}
		return true
	})
}

// snapshotAbove makes blocks (create writes one DID each) until the first
// two of ms offer a snapshot above height h.
func snapshotAbove(ctx context.Context, t *testing.T, ms []*member, h int64, create func(name string)) {
	t.Helper()
	snapshotted := func() bool {
		for _, m := range ms[:2] {
			if s, _ := m.app.LastSnapshot(); s <= h {
				return false
			}
		}
		return true
	}
	for n := 0; !snapshotted(); n++ {
		if ctx.Err() != nil {
			t.Fatalf("no snapshot above %d: %v", h, ctx.Err())
		}
		create(fmt.Sprintf("until-snapshot-%d", n))
		time.Sleep(20 * time.Millisecond)
	}
}

// joinByStateSync writes the home of a fifth node (out/node4) that joins
// the network of res by state sync from the first two nodes, trusting the
// latest block c serves, starts it with cfg (logging its app to log, the
// genesis naming layout) and returns it once it restored a snapshot and
// reached the height ms[0] had after one more write by create.
func joinByStateSync(ctx context.Context, t *testing.T, out string, res []node.InitResult, ms []*member, c *client.Client,
	cfg machine.Config, log *logbuf.Buffer, layout ledger.StateLayout, create func(name string)) *member {
	t.Helper()
	genesis, err := ms[0].node.GenesisJSON()
	if err != nil {
		t.Fatal(err)
	}
	var rpcs, peers []string
	for _, r := range res[:2] {
		s, _ := node.LoadSettings(r.Home)
		rpcs = append(rpcs, s.RPCAddr)
		peers = append(peers, r.NodeID+"@"+s.P2PAddr)
	}
	lb, err := c.LightBlock(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(out, "node4")
	p2p, _ := node.FreeAddr()
	if _, err := node.Join(node.JoinConfig{Home: home, Moniker: "node4", Genesis: genesis, PersistentPeers: strings.Join(peers, ","), P2PAddr: p2p,
		BlockTime: 30 * time.Millisecond, StateSync: &node.StateSyncSettings{RPCServers: rpcs, TrustHeight: lb.Height(), TrustHash: fmt.Sprintf("%X", lb.Hash())}}); err != nil {
		t.Fatal(err)
	}
	joined := startLoggedMember(t, home, cfg, log, layout)
	// One more write, so the joined node has a block to follow.
	create("after-join")
	last, _ := ms[0].app.LastCommit()
	waitFor(t, 2*time.Minute, "the joined node to catch up", func() bool { h, _ := joined.app.LastCommit(); return h >= last })
	if !strings.Contains(log.String(), "restoring a snapshot") {
		t.Fatalf("the fifth node did not restore a snapshot:\n%s", log.String())
	}
	// While catching up the node asks its peers' heights (catchup.go),
	// from 200-300 ms after its start on, and state sync waits its 5 s
	// discovery_time before it restores: a join without asks means the
	// catch-up's asking never ran. (TestAskPeerHeightsReachesBlockSync
	// checks block sync takes the answers in.)
	reg := prometheus.NewRegistry()
	if err := joined.node.RegisterMetrics(reg, node.MetricSources{}); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	asks := -1.0
	for _, mf := range mfs {
		if mf.GetName() == "medid_node_catchup_asks_total" && len(mf.GetMetric()) == 1 {
			asks = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if asks <= 0 {
		t.Fatalf("medid_node_catchup_asks_total = %v after a join by state sync, want > 0 (-1: missing)", asks)
	}
	t.Logf("the joined node asked its peers' heights %v times", asks)
	return joined
}

// TestFreeBasePortRangesDoNotOverlap: ranges FreeBasePort hands out at the
// same time never overlap, even before anything binds their ports: each
// is reserved for the rest of the process (a lock per node's slot, which
// other processes respect too). Without the reservation, 40 random ranges
// of five nodes would overlap somewhere in all but ~0.2% of runs.
func TestFreeBasePortRangesDoNotOverlap(t *testing.T) {
	const calls, nodes = 40, 5
	bases := make([]int, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := node.FreeBasePort(nodes)
			if err != nil {
				t.Error(err)
			}
			bases[i] = b
		}()
	}
	wg.Wait()
	slices.Sort(bases)
	for i := 1; i < calls; i++ {
		if bases[i] < bases[i-1]+10*nodes {
			t.Fatalf("ranges from %d and %d overlap (%d nodes, 10 ports each)", bases[i-1], bases[i], nodes)
		}
	}
}
