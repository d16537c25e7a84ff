package node_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/logbuf"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

// gaugeValue reads a gauge of reg by its full name (NaN-free: -1 if absent).
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

// TestProtocolUpgradeFourNodes: four in-process validators of a chain
// started at protocol 2 (as every chain before protocol 3), three whose
// release executes protocol 3 (this release) and one whose release
// executes protocol 2 only (machine.Config.MaxProtocol). The quorum
// schedules protocol 3 at H. From the carrying block the
// fourth says the upgrade is pending (metrics); at H the three upgrade
// (CometBFT's header carries app version 3 from H+1 on) and go on as 3 of
// 4, and a client that trusts only the genesis verifies a read written
// after H; the fourth stops before executing H, logging what to do, with H
// neither executed nor committed by its app. Restarted with a release of
// protocol 3, its handshake replays block H and it agrees on every app
// hash. A fifth node, of a release that knows protocols up to 4, joins by
// state sync from a snapshot after H: CometBFT checks that the restored
// app's version (Info: the state's protocol) is the header's, 3. A
// proposal under a chosen id is taken before H and refused after it, as
// is the approval of the one taken before.
func TestProtocolUpgradeFourNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five nodes and makes over a hundred blocks")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	out, res := newTestnet(t, "upgrade", 5, 0, ledger.BaseProtocol) // a chain of before protocol 3
	var ms []*member
	logs := make([]*logbuf.Buffer, 5)
	for i, r := range res {
		logs[i] = &logbuf.Buffer{}
		max := uint64(3)
		if i == 3 {
			max = 2
		}
		ms = append(ms, startLoggedMember(t, r.Home, machine.Config{SnapshotInterval: 40, MaxProtocol: max}, logs[i], 0))
	}
	old := ms[3]
	reg := prometheus.NewRegistry()
	if err := old.node.RegisterMetrics(reg, node.MetricSources{Protocol: func() uint64 { return old.app.Protocol().Version }, UpgradePending: old.app.UpgradePending}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the first block", func() bool { h, _ := ms[0].app.LastCommit(); return h >= 1 })
	if v := ms[0].node.Block(1).Header.Version.App; v != 2 {
		t.Fatalf("block 1's header says app version %d, want 2 (genesis)", v)
	}
	c0, err := client.New(client.Config{URL: ms[0].url})
	if err != nil {
		t.Fatal(err)
	}
	create := func(name string) {
		t.Helper()
		id := nodetest.NewIdentity(t, name)
		if _, err := c0.Submit(ctx, id.CreateTx(t)); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	create("before")

	H := ms[0].node.Height() + ledger.MinScheduleLead + 20
	carryByThree(ctx, t, c0, res, tx.Proposal{ID: "to-3", Action: tx.ActionProtocolSchedule, Protocol: &tx.ProposedProtocol{Version: 3, Height: H}})
	ni, err := c0.Network(ctx)
	if err != nil || ni.Protocol == nil || ni.Protocol.Version != 2 || ni.Protocol.NodeMax != 3 || ni.Protocol.Upgrade == nil || ni.Protocol.Upgrade.Height != H {
		t.Fatalf("GET /1.0/network after the schedule: %+v (%v)", ni.Protocol, err)
	}
	waitFor(t, time.Minute, "the old release to see the upgrade", func() bool { v, _ := old.app.UpgradePending(); return v == 3 })
	if p, h := gaugeValue(t, reg, "medid_node_protocol_upgrade_pending"), gaugeValue(t, reg, "medid_node_protocol_upgrade_height"); p != 1 || h != float64(H) {
		t.Errorf("the old release's metrics: pending %v at %v, want 1 at %d", p, h, H)
	}
	if v, _ := ms[0].app.UpgradePending(); v != 0 {
		t.Errorf("a release of protocol 3 says it cannot make the upgrade")
	}
	t.Logf("upgrade to protocol 3 scheduled at height %d (carried at %d)", H, ni.Protocol.Upgrade.Scheduled)

	// Protocol 2's hole, before H: a proposal under an id its proposer
	// chose is taken (docs/design/0021, "Protocol 3").
	newGov := func(i int) string {
		k, err := key.NewEd25519FromSeed([]byte(fmt.Sprintf("protocol3 attack %015d", i)))
		if err != nil {
			t.Fatal(err)
		}
		return did.KeyDID(k.Public())
	}
	if _, _, err := c0.Propose(ctx, govKey(t, res[3].Home), tx.Proposal{ID: "routine", Action: tx.ActionGovernanceAdd, Governance: newGov(1)}); err != nil {
		t.Fatalf("protocol 2, a chosen id: %v", err)
	}

	// Blocks up to and past H: each write makes a block.
	writeUntil(ctx, t, ms[:3], H+6, create)
	waitAgree(t, time.Minute, "the three validators at one height", ms[:3]...)
	for i, m := range ms[:3] {
		if p := m.app.Protocol(); p.Version != 3 || p.Upgrade != nil {
			t.Errorf("node %d after H: %+v", i, p)
		}
		if want := fmt.Sprintf("msg=\"protocol upgraded\" height=%d from=2 protocol=3 proposal=to-3", H); !strings.Contains(logs[i].String(), want) {
			t.Errorf("node %d did not log %q", i, want)
		}
	}
	for h, want := range map[int64]uint64{H - 1: 2, H: 2, H + 1: 3, H + 2: 3} {
		if v := ms[0].node.Block(h).Header.Version.App; v != want {
			t.Errorf("block %d's header says app version %d, want %d", h, v, want)
		}
	}
	// After H every node refuses a chosen id, and the approval of the
	// proposal filed under one before H.
	if _, _, err := c0.Propose(ctx, govKey(t, res[0].Home), tx.Proposal{ID: "routine-2", Action: tx.ActionGovernanceAdd, Governance: newGov(2)}); err == nil || !strings.Contains(err.Error(), "must be filed as gov-") {
		t.Errorf("protocol 3, a chosen id: %v", err)
	}
	c1, err := client.New(client.Config{URL: ms[1].url})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c1.Approve(ctx, govKey(t, res[1].Home), "routine"); err == nil || !strings.Contains(err.Error(), "filed under an id its proposer chose") {
		t.Errorf("protocol 3, an approval of a chosen id of protocol 2: %v", err)
	}
	// A client that trusts only the genesis verifies a read written after
	// H (headers of app version 3 on the way).
	after := nodetest.NewIdentity(t, "after-the-upgrade")
	wrote, err := c0.Submit(ctx, after.CreateTx(t))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "node 1 to have the write", func() bool { h, _ := ms[1].app.LastCommit(); return h >= wrote.Height })
	genesisJSON, err := ms[0].node.GenesisJSON()
	if err != nil {
		t.Fatal(err)
	}
	chainID, root, err := client.TrustFromGenesis(genesisJSON)
	if err != nil {
		t.Fatal(err)
	}
	verifying, err := client.New(client.Config{URL: ms[1].url, VerifyProofs: true, ChainID: chainID, TrustedValidators: root})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := verifying.Resolve(ctx, after.DID); err != nil || r.Document.ID != after.DID {
		t.Fatalf("a verified read after the upgrade: %+v, %v", r, err)
	}
	// The old release stopped before H: its app is at H-1, its log says
	// what to do, once.
	if h, _ := old.app.LastCommit(); h != H-1 {
		t.Fatalf("the old release's app is at height %d, want %d", h, H-1)
	}
	line := fmt.Sprintf("protocol upgrade required at height %d: the network executes blocks from this one on by protocol 3 (proposal to-3), this release of registryd executes protocols up to 2: stop the node, install a release that knows protocol 3 and start it again", H)
	if n := strings.Count(logs[3].String(), line); n != 1 {
		t.Fatalf("the old release logged %d lines %q", n, line)
	}
	if n := strings.Count(logs[3].String(), "protocol upgrade pending: the network moves to protocol 3 at height "+fmt.Sprint(H)); n < int(H-1-ni.Protocol.Upgrade.Scheduled) {
		t.Errorf("the old release warned %d times, want one per block from the carrying one (%d)", n, H-ni.Protocol.Upgrade.Scheduled)
	}
	if err := old.node.Progress(); err == nil {
		t.Error("the stopped node reports progress")
	}
	if err := old.app.CheckProtocol(ctx); err == nil || !strings.Contains(err.Error(), "install a release that knows protocol 3") {
		t.Errorf("the stopped node's protocol check (readiness): %v", err)
	}

	// Its release replaced: the node restarts from its home and replays H.
	if err := old.node.Stop(); err != nil {
		t.Logf("stop the old release's node: %v", err)
	}
	old.srv.Close()
	if err := old.app.Close(); err != nil {
		t.Fatal(err)
	}
	// Restarted with the same release, it refuses to start: CometBFT's
	// handshake replays block H (in its block store, not in the app) and
	// the app stops again before executing it, saying what to do.
	again, err := machine.New(machine.Config{Dir: filepath.Join(res[3].Home, "data", "registry"), SnapshotInterval: 40, MaxProtocol: 2})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := node.New(node.Config{Home: res[3].Home, App: again, ConcurrentApp: true, Logger: nodetest.Discard}); err == nil {
		n.Stop()
		t.Fatal("the old release started again at height H")
	} else if !strings.Contains(err.Error(), "protocol upgrade required at height "+fmt.Sprint(H)) || !strings.Contains(err.Error(), "install a release that knows protocol 3") {
		t.Fatalf("the old release's restart: %v", err)
	}
	if h, _ := again.LastCommit(); h != H-1 {
		t.Fatalf("the old release's failed restart left its app at %d", h)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	logs[3] = &logbuf.Buffer{}
	ms[3] = startLoggedMember(t, res[3].Home, machine.Config{SnapshotInterval: 40, MaxProtocol: 3}, logs[3], 0)
	create("after-restart")
	waitAgree(t, 2*time.Minute, "the restarted node to agree", ms[0], ms[3])
	if !strings.Contains(logs[3].String(), fmt.Sprintf("msg=\"protocol upgraded\" height=%d from=2 protocol=3 proposal=to-3", H)) {
		t.Errorf("the restarted node did not replay the upgrade at %d:\n%s", H, logs[3].String())
	}

	// A fifth node joins by state sync from a snapshot made after H.
	snapshotAbove(ctx, t, ms, H, create)
	logs[4] = &logbuf.Buffer{}
	// Its release knows protocols up to 4: Info must report the state's
	// protocol (3), which CometBFT compares with the header above the
	// snapshot, not the release's highest.
	joined := joinByStateSync(ctx, t, out, res, ms, c0, machine.Config{SnapshotInterval: -1, MaxProtocol: 4}, logs[4], 0, create)
	if p := joined.app.Protocol(); p.Version != 3 {
		t.Errorf("the joined node is at protocol %d", p.Version)
	}
	waitAgree(t, time.Minute, "the joined node to agree", ms[0], joined)
	stopAtEnd("upgrade", out, append(ms, joined))
}
