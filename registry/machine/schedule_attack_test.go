package machine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/multiformats/go-multibase"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Red team of the scheduled governance changes (protocol upgrades at a
// height, docs/design/0021; the move of the state layout): the attacker's
// moves, not the designed cases, which protocol_test.go and
// layoutmove_test.go cover. docs/design/0013 lists them with their
// outcomes.

// rawGovTx signs payload, JSON bytes as given (not re-encoded: duplicate
// or unknown members, numbers out of range), with governance key i.
func (n *netHarness) rawGovTx(i int, payload string) []byte {
	n.tb.Helper()
	k := n.govs[i]
	d := did.KeyDID(k.Public())
	hb, err := json.Marshal(tx.Header{Alg: string(k.Alg().JWS()), Typ: tx.MediaType, Kid: d + "#" + k.Public().Multikey()})
	if err != nil {
		n.tb.Fatal(err)
	}
	tok, err := jose.Sign(hb, []byte(payload), k)
	if err != nil {
		n.tb.Fatal(err)
	}
	return []byte(tok)
}

// TestScheduleHostileBytes: proposals whose JSON a well-behaved client
// never writes, signed by a real governance key, are refused as malformed
// by CheckTx and FinalizeBlock alike and change nothing; the extreme
// values the decoder lets through schedule only what they say.
func TestScheduleHostileBytes(t *testing.T) {
	n := newNetHarness(t, nil)
	gov := n.gov(0)
	payload := func(nonce, proposal string) string {
		return fmt.Sprintf(`{"type":"network.propose","did":%q,"nonce":%q,"proposal":%s}`, gov, nonce, proposal)
	}
	for i, tc := range []struct{ name, proposal string }{
		{"version 0", `{"id":"h0","action":"protocol.schedule","protocol":{"version":0,"height":500}}`},
		{"version 2^53 (beyond exact doubles)", `{"id":"h1","action":"protocol.schedule","protocol":{"version":9007199254740992,"height":500}}`},
		{"version MaxUint64", `{"id":"h2","action":"protocol.schedule","protocol":{"version":18446744073709551615,"height":500}}`},
		{"version -1", `{"id":"h3","action":"protocol.schedule","protocol":{"version":-1,"height":500}}`},
		{"version as a string", `{"id":"h4","action":"protocol.schedule","protocol":{"version":"3","height":500}}`},
		{"huge version as a string", `{"id":"h5","action":"protocol.schedule","protocol":{"version":"99999999999999999999999999","height":500}}`},
		{"version as a float", `{"id":"h6","action":"protocol.schedule","protocol":{"version":3.0,"height":500}}`},
		{"version in exponent form", `{"id":"h7","action":"protocol.schedule","protocol":{"version":3e0,"height":500}}`},
		{"height 0", `{"id":"h8","action":"protocol.schedule","protocol":{"version":3,"height":0}}`},
		{"height negative", `{"id":"h9","action":"protocol.schedule","protocol":{"version":3,"height":-500}}`},
		{"height MinInt64", `{"id":"h10","action":"protocol.schedule","protocol":{"version":3,"height":-9223372036854775808}}`},
		{"height MaxInt64", `{"id":"h11","action":"protocol.schedule","protocol":{"version":3,"height":9223372036854775807}}`},
		{"height above MaxInt64", `{"id":"h12","action":"protocol.schedule","protocol":{"version":3,"height":9223372036854775808}}`},
		{"duplicate version member", `{"id":"h13","action":"protocol.schedule","protocol":{"version":3,"version":1,"height":500}}`},
		{"duplicate protocol member", `{"id":"h14","action":"protocol.schedule","protocol":{"version":3,"height":500},"protocol":{"version":9,"height":500}}`},
		{"duplicate action member", `{"id":"h15","action":"protocol.cancel","action":"protocol.schedule","protocol":{"version":3,"height":500}}`},
		{"unknown member in protocol", `{"id":"h16","action":"protocol.schedule","protocol":{"version":3,"height":500,"force":true}}`},
		{"unknown member in proposal", `{"id":"h17","action":"protocol.schedule","protocol":{"version":3,"height":500},"proposalBy":"x"}`},
		{"case variant of a member", `{"id":"h18","action":"protocol.schedule","protocol":{"Version":3,"height":500}}`},
		{"protocol null", `{"id":"h19","action":"protocol.schedule","protocol":null}`},
		{"protocol an array", `{"id":"h20","action":"protocol.schedule","protocol":[3,500]}`},
		{"protocol and layout", `{"id":"h21","action":"protocol.schedule","protocol":{"version":3,"height":500},"layout":{"layout":2,"height":500}}`},
		{"layout and protocol on a layout action", `{"id":"h22","action":"layout.schedule","layout":{"layout":2,"height":500},"protocol":{"version":3,"height":500}}`},
		{"layout 0", `{"id":"h23","action":"layout.schedule","layout":{"layout":0,"height":500}}`},
		{"layout MaxInt64", `{"id":"h24","action":"layout.schedule","layout":{"layout":9223372036854775807,"height":500}}`},
		{"layout height negative", `{"id":"h25","action":"layout.schedule","layout":{"layout":2,"height":-1}}`},
		{"layout height above 2^53", `{"id":"h26","action":"layout.schedule","layout":{"layout":2,"height":9007199254740993}}`},
		{"governance member on a cancel", `{"id":"h27","action":"protocol.cancel","protocol":{"version":3,"height":500},"governance":"did:key:z6Mk"}`},
		{"trailing data", `{"id":"h28","action":"protocol.schedule","protocol":{"version":3,"height":500}} {}`},
	} {
		raw := n.rawGovTx(0, payload(fmt.Sprintf("hostile-%d", i), tc.proposal))
		n.refuses(t, tc.name, raw, ledger.CodeMalformed, "")
	}
	// One byte over the size limit (a nonce cannot make it that long:
	// whitespace inside the payload does) is refused before it is parsed.
	big := `{"type":"network.propose","did":"` + gov + `","nonce":"big",` + strings.Repeat(" ", tx.MaxSize) +
		`"proposal":{"id":"big","action":"protocol.schedule","protocol":{"version":3,"height":500}}}`
	n.refuses(t, "over the size limit", n.rawGovTx(0, big), ledger.CodeTooLarge, "the limit is")

	// The largest values the decoder lets through mean what they say: an
	// upgrade to protocol 2^53-1 at height 2^53-1 is recorded (every
	// release warns it cannot make it; nothing overflows: blocks_to_go is
	// a subtraction of two heights) and can be cancelled.
	const maxSafe = 1<<53 - 1
	far := upgradeProposal("far", maxSafe, maxSafe)
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, far), n.approve(1, "far"), n.approve(2, "far"))
	if u := n.app.Protocol().Upgrade; u == nil || u.Version != maxSafe || u.Height != maxSafe {
		t.Fatalf("upgrade at 2^53-1: %+v", u)
	}
	if v, h := n.app.UpgradePending(); v != maxSafe || h != maxSafe {
		t.Fatalf("UpgradePending: %d at %d", v, h)
	}
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(1, upgradeCancel("far-x", maxSafe, maxSafe)), n.approve(2, "far-x"), n.approve(3, "far-x"))
	if u := n.app.Protocol().Upgrade; u != nil {
		t.Fatalf("cancel of the far upgrade left %+v", u)
	}
}

// TestScheduleForgedAuthority: approvals that must not count toward the
// quorum of a protocol.schedule: the same transaction bytes twice (in one
// block and in a later one), the same key approving twice in one block,
// a key of another network's keys, a governance key removed after it
// approved, an approval after the proposal expired. None of them carries
// the schedule, and each refusal leaves the app hash as it was.
func TestScheduleForgedAuthority(t *testing.T) {
	n := newNetHarness(t, &ledger.NetworkPolicy{ProposalLifetime: "30m"})
	lead := ledger.MinScheduleLead
	H := n.height() + 1 + lead + 50
	n.blockUpdates([]uint32{0}, n.propose(0, upgradeProposal("up", 3, H)))

	// The same approval twice in one block: the second is a replay.
	a1 := n.approve(1, "up")
	res := n.block(a1, a1)
	if res[0].Code != 0 || res[1].Code != ledger.CodeReplay {
		t.Fatalf("one approval twice in a block: codes %d, %d (%s)", res[0].Code, res[1].Code, res[1].Log)
	}
	n.refuses(t, "the same approval bytes in a later block", a1, ledger.CodeReplay, "committed before")
	n.refuses(t, "the same key approving again with a fresh nonce", n.approve(1, "up"), ledger.CodeExists, "already approved")
	// The proposer approving its own proposal, twice in one block.
	res = n.block(n.approve(0, "up"), n.approve(0, "up"))
	if res[0].Code != ledger.CodeExists || res[1].Code != ledger.CodeExists {
		t.Fatalf("the proposer approving twice: codes %d, %d", res[0].Code, res[1].Code)
	}
	// A key that does not govern, signing an approval well formed in
	// every other way.
	out := testKey(t, 98)
	od := did.KeyDID(out.Public())
	n.refuses(t, "an outsider's approval", n.sign(n.must(tx.NewNetworkApproval(od, "up")), out, od+"#"+out.Public().Multikey()), ledger.CodeUnauthorized, "")
	if u := n.app.Protocol().Upgrade; u != nil {
		t.Fatalf("two approvals of four scheduled: %+v", u)
	}

	// Governance key 2 approves a second schedule, then is removed (after
	// a fifth key is added, so three of four are still needed): its approval
	// no longer counts, so 0, 2 (retired) and 3 are two of three. Key 3
	// approving twice in one block: the second is refused (the working
	// state holds the first).
	n2 := newNetHarness(t, nil)
	H2 := n2.height() + 1 + lead + 50
	n2.blockUpdates([]uint32{0, 0}, n2.propose(0, upgradeProposal("up2", 3, H2)), n2.approve(2, "up2"))
	fifth := did.KeyDID(testKey(t, 204).Public())
	add := tx.Proposal{ID: "add-5", Action: tx.ActionGovernanceAdd, Governance: fifth}
	rm := tx.Proposal{ID: "rm-2", Action: tx.ActionGovernanceRemove, Governance: n2.gov(2)}
	n2.blockUpdates([]uint32{0, 0, 0}, n2.propose(0, add), n2.approve(1, add.ID), n2.approve(3, add.ID))
	n2.blockUpdates([]uint32{0, 0, 0, 0}, n2.propose(0, rm), n2.approve(1, rm.ID), n2.approve(3, rm.ID), n2.approve(2, rm.ID)) // 4 of 5
	n2.blockUpdates([]uint32{0, ledger.CodeExists}, n2.approve(3, "up2"), n2.approve(3, "up2"))
	if p, _ := n2.app.Proposal("up2"); p.Status != ledger.ProposalOpen || n2.app.Protocol().Upgrade != nil {
		t.Fatalf("a retired key's approval counted: %s, upgrade %+v", p.Status, n2.app.Protocol().Upgrade)
	}
	n2.refuses(t, "the retired key approving again", n2.approve(2, "up2"), ledger.CodeUnauthorized, "")
	n2.blockUpdates([]uint32{0}, n2.approve(1, "up2"))
	if u := n2.app.Protocol().Upgrade; u == nil || u.Proposal != "up2" {
		t.Fatalf("three current keys of four: %+v", u)
	}

	// Expiry: the lifetime (30 blocks of one minute) runs out before the
	// third approval, though the lead has not.
	for n.height() < 40 {
		n.block()
	}
	n.refuses(t, "an approval after the proposal expired", n.approve(2, "up"), ledger.CodeInvalid, "expired")
	if u := n.app.Protocol().Upgrade; u != nil {
		t.Fatalf("an expired proposal scheduled: %+v", u)
	}
	// Its id cannot be proposed again with other content.
	n.refuses(t, "the expired id proposed again", n.propose(1, upgradeProposal("up", 3, H)), ledger.CodeExists, "choose another id")
}

// TestScheduleStaleCancel: a cancel names the upgrade by version and
// height only. A second cancel proposal of the same upgrade, left open
// with approvals when the first carried, must not cancel a later upgrade
// the quorum schedules to the same version at the same height: those
// approvals were given before that decision. (Found by this test: one
// fresh approval on the stale cancel used to cancel the new upgrade.)
func TestScheduleStaleCancel(t *testing.T) {
	n := newNetHarness(t, nil)
	H := n.height() + 1 + ledger.MinScheduleLead + 50
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, upgradeProposal("u1", 3, H)), n.approve(1, "u1"), n.approve(2, "u1"))
	// Two cancels of u1 proposed by different keys; the first carries,
	// the second is left open with two approvals.
	n.blockUpdates([]uint32{0, 0, 0, 0, 0},
		n.propose(0, upgradeCancel("c1", 3, H)), n.approve(1, "c1"),
		n.propose(3, upgradeCancel("c2", 3, H)), n.approve(1, "c2"),
		n.approve(2, "c1"))
	if u := n.app.Protocol().Upgrade; u != nil {
		t.Fatalf("c1 did not cancel: %+v", u)
	}
	// The network changes its mind again: the same upgrade, by a new
	// proposal and a fresh quorum.
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, upgradeProposal("u2", 3, H)), n.approve(1, "u2"), n.approve(2, "u2"))
	if u := n.app.Protocol().Upgrade; u == nil || u.Proposal != "u2" {
		t.Fatalf("u2: %+v", u)
	}
	n.refuses(t, "one approval on a cancel proposed before the upgrade was scheduled", n.approve(2, "c2"), ledger.CodeInvalid, "proposed at height")
	if u := n.app.Protocol().Upgrade; u == nil || u.Proposal != "u2" {
		t.Fatalf("the stale cancel cancelled u2: %+v", u)
	}
	// A cancel proposed in the block that carries the schedule is refused
	// too (it may stand in the block before the carrying approval); one
	// proposed after it, carried by the quorum, cancels.
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(3, upgradeCancel("c3", 3, H)), n.approve(0, "c3"), n.approve(1, "c3"))
	if u := n.app.Protocol().Upgrade; u != nil {
		t.Fatalf("a fresh cancel by the quorum: %+v", u)
	}
}

// TestScheduleSameBlockCancelOrder: a schedule and a stale cancel in one
// block, the schedule carried first: the cancel proposed before it in the
// same block does not count either.
func TestScheduleSameBlockCancelOrder(t *testing.T) {
	n := newNetHarness(t, nil)
	H := n.height() + 1 + ledger.MinScheduleLead + 50
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, upgradeProposal("u1", 3, H)), n.approve(1, "u1"), n.approve(2, "u1"))
	n.blockUpdates([]uint32{0, 0}, n.propose(0, upgradeCancel("c1", 3, H)), n.approve(1, "c1"))
	n.blockUpdates([]uint32{0, 0, 0}, n.approve(2, "c1"), n.propose(2, upgradeProposal("u2", 3, H)), n.approve(3, "u2")) // c1 carried: u1 gone
	if u := n.app.Protocol().Upgrade; u != nil {
		t.Fatalf("c1: %+v", u)
	}
	// u2 carried, then in the same block a cancel proposed in the same
	// block as u2's carry, and its quorum.
	res := n.block(n.approve(0, "u2"), n.propose(3, upgradeCancel("c-same", 3, H)))
	if res[0].Code != 0 || res[1].Code != ledger.CodeInvalid {
		t.Fatalf("carry then a cancel in one block: codes %d, %d (%s)", res[0].Code, res[1].Code, res[1].Log)
	}
	if u := n.app.Protocol().Upgrade; u == nil || u.Proposal != "u2" {
		t.Fatalf("u2: %+v", u)
	}
}

// schedNode is a four-validator chain (in layout l) whose release executes
// protocols up to max.
func schedNode(t *testing.T, max uint64, l ledger.StateLayout, cfg Config) *netHarness {
	t.Helper()
	h := &harness{tb: t, dir: t.TempDir(), gov: testKey(t, 200), maxProtocol: max}
	h.govDID = did.KeyDID(h.gov.Public())
	cfg.Dir, cfg.MaxProtocol = h.dir, max
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.app = a
	t.Cleanup(func() { a.Close() })
	return initNetwork(t, h, &Genesis{StateLayout: l})
}

// lockstep runs the same blocks on several nodes and fails when their app
// hashes part.
type lockstep []*netHarness

func (ls lockstep) block(t *testing.T, txs ...[]byte) []*abci.ExecTxResult {
	t.Helper()
	var first []*abci.ExecTxResult
	for i, n := range ls {
		r := n.block(txs...)
		if i == 0 {
			first = r
			continue
		}
		if !bytes.Equal(n.hash(), ls[0].hash()) {
			t.Fatalf("node %d parts from node 0 at height %d", i, n.height())
		}
		for j := range r {
			if r[j].Code != first[j].Code {
				t.Fatalf("node %d: tx %d code %d, node 0 %d", i, j, r[j].Code, first[j].Code)
			}
		}
	}
	return first
}

// TestScheduleCrashAroundUpgradeBlock: a node restarted (its App reopened
// from its folder) between FinalizeBlock H and Commit H of the upgrade
// block shows nothing of H: height H-1, protocol 2 with the upgrade still
// scheduled, Info's app version 2; replaying H gives the reference node's
// app hash and the app version 3 update. Restarted between Commit H and
// H+1, it reports protocol 3 and no upgrade, and goes on in step.
func TestScheduleCrashAroundUpgradeBlock(t *testing.T) {
	ctx := context.Background()
	ref, crash := schedNode(t, 3, ledger.CurrentLayout, Config{}), schedNode(t, 3, ledger.CurrentLayout, Config{})
	ls := lockstep{ref, crash}
	H := ref.height() + 1 + ledger.MinScheduleLead
	ls.block(t, ref.propose(0, upgradeProposal("to-3", 3, H)), ref.approve(1, "to-3"), ref.approve(2, "to-3"))
	for ref.height() < H-1 {
		ls.block(t)
	}
	before := crash.hash()
	req := &abci.RequestFinalizeBlock{Height: H, Time: blockTime(H), Txs: [][]byte{ref.createTx(newIdentity(t, 31))}}
	if _, err := crash.app.FinalizeBlock(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := crash.app.Close(); err != nil { // the process dies before Commit
		t.Fatal(err)
	}
	crash.open()
	info, _ := crash.app.Info(ctx, &abci.RequestInfo{})
	p := crash.app.Protocol()
	if h, x := crash.app.LastCommit(); h != H-1 || !bytes.Equal(x, before) || info.AppVersion != 2 || p.Version != 2 || p.Upgrade == nil || p.Upgrade.Height != H {
		t.Fatalf("reopened after FinalizeBlock H: height %d (want %d), hash kept %v, Info app version %d, protocol %+v",
			h, H-1, bytes.Equal(x, before), info.AppVersion, p)
	}
	// Replay H on both.
	want, err := ref.app.FinalizeBlock(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	ref.commit()
	got, err := crash.app.FinalizeBlock(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	crash.commit()
	if !bytes.Equal(got.AppHash, want.AppHash) || !bytes.Equal(crash.hash(), ref.hash()) ||
		got.ConsensusParamUpdates.GetVersion().GetApp() != 3 || got.TxResults[0].Code != want.TxResults[0].Code {
		t.Fatalf("replayed H: hash equal %v, params %+v", bytes.Equal(got.AppHash, want.AppHash), got.ConsensusParamUpdates)
	}
	// Between Commit H and H+1.
	crash.app.Close()
	crash.open()
	info, _ = crash.app.Info(ctx, &abci.RequestInfo{})
	if p := crash.app.Protocol(); p.Version != 3 || p.Upgrade != nil || info.AppVersion != 3 || info.LastBlockHeight != H {
		t.Fatalf("reopened after Commit H: %+v, Info app version %d at %d", p, info.AppVersion, info.LastBlockHeight)
	}
	if r := ls.block(t, ref.createTx(newIdentity(t, 32))); r[0].Code != 0 {
		t.Fatalf("a create after H: %d (%s)", r[0].Code, r[0].Log)
	}
}

// TestScheduleSnapshotAroundUpgrade: snapshots taken at H-1 (the upgrade
// scheduled, not made) and at H (made) restore on a release that knows
// the version: Info reports the state's protocol (2 at H-1, 3 at H: what
// CometBFT's state sync compares with the header above the snapshot), and
// the restored node executes the next blocks to the source's app hashes,
// making the upgrade at H itself when restored from H-1. A release that
// does not know the version restores H-1 (and would stop at H) and
// refuses H.
func TestScheduleSnapshotAroundUpgrade(t *testing.T) {
	ctx := context.Background()
	src := schedNode(t, 3, ledger.CurrentLayout, Config{SnapshotInterval: 1})
	H := src.height() + 1 + ledger.MinScheduleLead
	src.blockUpdates([]uint32{0, 0, 0}, src.propose(0, upgradeProposal("to-3", 3, H)), src.approve(1, "to-3"), src.approve(2, "to-3"))
	src.emptyBlocksSnapshotted(int(H - 1 - src.height()))
	if hs, _ := src.app.LastSnapshot(); src.height() != H-1 || hs != H-1 {
		t.Fatalf("snapshot at %d, want %d", src.height(), H-1)
	}
	for _, tc := range []struct {
		name   string
		max    uint64
		want   abci.ResponseApplySnapshotChunk_Result
		protoc uint64
	}{
		{"H-1 on a release of 2", 2, abci.ResponseApplySnapshotChunk_ACCEPT, 2},
		{"H-1 on a release of 3", 3, abci.ResponseApplySnapshotChunk_ACCEPT, 2},
	} {
		dst, res := restoreIntoWith(t, src.harness, nil, src.hash(), func(a *App) { a.maxProtocol = tc.max })
		if res != tc.want {
			t.Fatalf("%s: %v", tc.name, res)
		}
		info, _ := dst.Info(ctx, &abci.RequestInfo{})
		p := dst.Protocol()
		if info.AppVersion != tc.protoc || p.Upgrade == nil || p.Upgrade.Height != H {
			t.Fatalf("%s: Info app version %d, protocol %+v", tc.name, info.AppVersion, p)
		}
		if v, _ := dst.UpgradePending(); (v != 0) != (tc.max < 3) {
			t.Fatalf("%s: UpgradePending %d", tc.name, v)
		}
		req := &abci.RequestFinalizeBlock{Height: H, Time: blockTime(H)}
		res2, err := dst.FinalizeBlock(ctx, req)
		if tc.max < 3 {
			if err == nil || !strings.Contains(err.Error(), "protocol upgrade required at height") {
				t.Fatalf("%s: FinalizeBlock H: %v", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dst.Commit(ctx, &abci.RequestCommit{}); err != nil {
			t.Fatal(err)
		}
		want, err := src.app.FinalizeBlock(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		src.commit()
		if !bytes.Equal(res2.AppHash, want.AppHash) || res2.ConsensusParamUpdates.GetVersion().GetApp() != 3 || dst.Protocol().Version != 3 {
			t.Fatalf("%s: block H after the restore: hash equal %v, params %+v", tc.name, bytes.Equal(res2.AppHash, want.AppHash), res2.ConsensusParamUpdates)
		}
	}
	// The source is now at H (committed above); its snapshot of H.
	if err := src.app.WaitSnapshots(ctx); err != nil {
		t.Fatal(err)
	}
	if hs, _ := src.app.LastSnapshot(); src.height() != H || hs != H {
		t.Fatalf("snapshot at %d, want %d", src.height(), H)
	}
	dst, res := restoreIntoWith(t, src.harness, nil, src.hash(), func(a *App) { a.maxProtocol = 3 })
	if info, _ := dst.Info(ctx, &abci.RequestInfo{}); res != abci.ResponseApplySnapshotChunk_ACCEPT || info.AppVersion != 3 || dst.Protocol().Upgrade != nil {
		t.Fatalf("H on a release of 3: %v, Info app version %d", res, info.AppVersion)
	}
	if _, res := restoreIntoWith(t, src.harness, nil, src.hash(), func(a *App) { a.maxProtocol = 2 }); res != abci.ResponseApplySnapshotChunk_ABORT {
		t.Fatalf("H on a release of 2: %v, want ABORT", res)
	}
}

// TestScheduleUpgradeDuringLayoutMove: a layout move spread over several
// blocks and a protocol upgrade in the middle of it (and one at the move's
// first block). The cursor goes on across the upgrade; a node whose
// release stops at the upgrade writes nothing of that block, so its
// cursor is the one of H-1, and once its release is replaced it replays H
// to the others' app hash and finishes the move in step; a node that dies
// between FinalizeBlock H and Commit H shows nothing of H when reopened
// (protocol 2, the move's cursor of H-1) and replays H in step.
func TestScheduleUpgradeDuringLayoutMove(t *testing.T) {
	defer func(c int) { layoutMoveChunk = c }(layoutMoveChunk)
	layoutMoveChunk = 2
	for _, tc := range []struct {
		name string
		off  int64 // the upgrade's height after the move's
	}{
		{"same height", 0},
		{"mid-move", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			v3 := schedNode(t, 3, ledger.LayoutEveryVersion, Config{})
			v2 := schedNode(t, 2, ledger.LayoutEveryVersion, Config{})
			crash := schedNode(t, 3, ledger.LayoutEveryVersion, Config{})
			ls := lockstep{v3, v2, crash}
			for i := range 9 {
				ls.block(t, v3.createTx(newIdentity(t, byte(40+i))))
			}
			M := v3.height() + 1 + ledger.MinScheduleLead
			H := M + tc.off
			ls.block(t, v3.propose(0, scheduleProposal("mv", M)), v3.approve(1, "mv"), v3.approve(2, "mv"),
				v3.propose(1, upgradeProposal("up", 3, H)), v3.approve(2, "up"), v3.approve(3, "up"))
			for v3.height() < H-1 {
				ls.block(t)
			}
			req := &abci.RequestFinalizeBlock{Height: H, Time: blockTime(H)}
			if _, err := v2.app.FinalizeBlock(ctx, req); err == nil {
				t.Fatal("the release of protocol 2 executed the upgrade block")
			}
			// Nothing of H in the working state: neither the upgrade nor
			// the move's next chunk.
			if !bytes.Equal(v2.app.tree.WorkingHash(), v2.hash()) || v2.height() != H-1 {
				t.Fatalf("the stopped node wrote part of block %d", H)
			}
			v2.app.Close()
			v2.maxProtocol = 3
			v2.open()
			// crash executes H (the upgrade and the move's chunk) and
			// dies before Commit: reopened, it shows neither, and
			// replays H in step below.
			if _, err := crash.app.FinalizeBlock(ctx, req); err != nil {
				t.Fatal(err)
			}
			crash.app.Close()
			crash.open()
			if mv, _ := layoutMoveOf(crash.app.tree); crash.height() != H-1 || !bytes.Equal(crash.hash(), v3.hash()) || crash.app.Protocol().Version != 2 || (tc.off == 0 && (mv == nil || mv.Cursor != "")) {
				t.Fatalf("reopened after FinalizeBlock H: height %d, protocol %d, move %+v", crash.height(), crash.app.Protocol().Version, mv)
			}
			for v3.height() < H+8 {
				ls.block(t)
			}
			for _, n := range ls {
				if p := n.app.Protocol(); p.Version != 3 || n.app.layout != ledger.LayoutRecordsOnce {
					t.Fatalf("after the move and the upgrade: protocol %d, layout %d", p.Version, n.app.layout)
				}
			}
		})
	}
}

// TestSchedulePendingProposalsBounded: how much one governance key can
// make the state hold through schedule proposals it alone files (none
// carries). Governance signers have no write quota (ledger.OriginGovernance),
// so their number is bounded only by the block space the key is given;
// what each holds is bounded by the shape of a protocol proposal (an id
// of at most tx.MaxIDLen, two numbers, one approval): this test pins that
// bound. docs/design/0013 records the count as accepted risk of a stolen
// key (the other keys retire it).
func TestSchedulePendingProposalsBounded(t *testing.T) {
	n := newNetHarness(t, nil)
	H := n.height() + 1 + ledger.MinScheduleLead + 10
	const per = 50
	var txs [][]byte
	for i := range per {
		id := fmt.Sprintf("%s-%03d", strings.Repeat("p", tx.MaxIDLen-4), i)
		txs = append(txs, n.propose(0, upgradeProposal(id, 3, H+int64(i))))
	}
	for i, r := range n.block(txs...) {
		if r.Code != 0 {
			t.Fatalf("proposal %d: %d (%s)", i, r.Code, r.Log)
		}
	}
	view, _ := n.app.view()
	largest := 0
	for i := range per {
		id := fmt.Sprintf("%s-%03d", strings.Repeat("p", tx.MaxIDLen-4), i)
		v, err := view.Get(ledger.ProposalKey(id))
		if err != nil || v == nil {
			t.Fatalf("proposal %s: %v", id, err)
		}
		largest = max(largest, len(v)+len(ledger.ProposalKey(id)))
	}
	// An id of MaxIDLen, a did:key, two times and two heights: well under
	// a kilobyte a proposal, whatever its numbers.
	if largest > 1024 {
		t.Fatalf("a pending protocol proposal holds %d bytes of state", largest)
	}
	if u := n.app.Protocol().Upgrade; u != nil {
		t.Fatalf("one key scheduled: %+v", u)
	}
	t.Logf("%d pending schedule proposals by one key, largest record %d bytes", per, largest)
}

// TestScheduleEdgesOfTheLead: the block that carries a schedule may be
// exactly MinScheduleLead blocks before its height (one later is refused:
// TestProtocolUpgradeRefusals); a cancel carried in block H-1 leaves
// block H an ordinary block on every release (no app version update, the
// release of protocol 2 goes on); a cancel whose carrying approval is in
// block H itself comes too late: the upgrade is made before the block's
// transactions, and the approval is refused (nothing to cancel) with the
// app hash of a block without it.
func TestScheduleEdgesOfTheLead(t *testing.T) {
	ctx := context.Background()
	lead := ledger.MinScheduleLead
	t.Run("carried exactly the lead before", func(t *testing.T) {
		n := newNetHarness(t, nil)
		H := n.height() + 1 + lead + 1
		n.blockUpdates([]uint32{0, 0}, n.propose(0, upgradeProposal("up", 3, H)), n.approve(1, "up"))
		n.blockUpdates([]uint32{0}, n.approve(2, "up")) // block H-lead
		if u := n.app.Protocol().Upgrade; u == nil || u.Scheduled != H-lead {
			t.Fatalf("carried at H-lead: %+v", u)
		}
	})
	t.Run("cancel in H-1", func(t *testing.T) {
		v3, v2 := schedNode(t, 3, ledger.CurrentLayout, Config{}), schedNode(t, 2, ledger.CurrentLayout, Config{})
		ls := lockstep{v3, v2}
		H := v3.height() + 1 + lead
		ls.block(t, v3.propose(0, upgradeProposal("up", 3, H)), v3.approve(1, "up"), v3.approve(2, "up"))
		ls.block(t, v3.propose(3, upgradeCancel("no", 3, H)), v3.approve(0, "no"))
		for v3.height() < H-2 {
			ls.block(t)
		}
		if r := ls.block(t, v3.approve(1, "no")); r[0].Code != 0 {
			t.Fatalf("cancel in H-1: %d (%s)", r[0].Code, r[0].Log)
		}
		for _, n := range ls {
			res := n.finalize()
			n.commit()
			if res.ConsensusParamUpdates != nil || n.app.Protocol().Version != 2 || n.app.CheckProtocol(ctx) != nil {
				t.Fatalf("block H after a cancel in H-1: params %+v, protocol %+v", res.ConsensusParamUpdates, n.app.Protocol())
			}
		}
		if !bytes.Equal(v3.hash(), v2.hash()) {
			t.Fatal("the releases part at H after the cancel")
		}
	})
	t.Run("cancel in H", func(t *testing.T) {
		with, without := schedNode(t, 3, ledger.CurrentLayout, Config{}), schedNode(t, 3, ledger.CurrentLayout, Config{})
		ls := lockstep{with, without}
		H := with.height() + 1 + lead
		ls.block(t, with.propose(0, upgradeProposal("up", 3, H)), with.approve(1, "up"), with.approve(2, "up"))
		// (Filed under its content's id: block H runs protocol 3, which
		// refuses approvals of a proposal filed under a chosen id.)
		no := upgradeCancel("", 3, H)
		no.ID = tx.ProposalID(&no)
		ls.block(t, with.propose(3, no), with.approve(0, no.ID))
		for with.height() < H-1 {
			ls.block(t)
		}
		late := with.approve(1, no.ID)
		// CheckTx reads the committed state of H-1, where the upgrade is
		// still scheduled: it admits the approval that block H refuses
		// (a governance key's transaction; the cost is its block space).
		t.Logf("CheckTx of the late cancel in H-1's state: code %d", with.checkTx(late).Code)
		res := with.finalize(late)
		with.commit()
		if r := res.TxResults[0]; r.Code != ledger.CodeNotFound || !strings.Contains(r.Log, "nothing to cancel") {
			t.Fatalf("cancel carried in block H: %d (%s)", r.Code, r.Log)
		}
		if res.ConsensusParamUpdates.GetVersion().GetApp() != 3 || with.app.Protocol().Version != 3 {
			t.Fatalf("block H with a late cancel: params %+v, protocol %+v", res.ConsensusParamUpdates, with.app.Protocol())
		}
		without.block()
		if !bytes.Equal(with.hash(), without.hash()) {
			t.Fatal("a refused cancel in block H changed the app hash")
		}
		if p, _ := with.app.Proposal(no.ID); p.Status != ledger.ProposalOpen || len(p.Approvals) != 2 {
			t.Fatalf("the refused cancel's proposal: %s with %d approvals", p.Status, len(p.Approvals))
		}
	})
}

// TestScheduleRacesInOneBlock: two schedules whose quorums land in one
// block: the first carries, the second is refused (the working state
// holds the first) and stays open; a schedule and the cancel of the one
// before it carried in one block, the cancel first: the new one stands.
func TestScheduleRacesInOneBlock(t *testing.T) {
	n := newNetHarness(t, nil)
	H := n.height() + 1 + ledger.MinScheduleLead + 20
	n.blockUpdates([]uint32{0, 0, 0, 0}, n.propose(0, upgradeProposal("a", 3, H)), n.approve(1, "a"),
		n.propose(2, upgradeProposal("b", 4, H+1)), n.approve(3, "b"))
	res := n.block(n.approve(2, "a"), n.approve(0, "b"))
	if res[0].Code != 0 || res[1].Code != ledger.CodeExists || !strings.Contains(res[1].Log, "cancel it first") {
		t.Fatalf("two quorums in one block: %d, %d (%s)", res[0].Code, res[1].Code, res[1].Log)
	}
	if u := n.app.Protocol().Upgrade; u == nil || u.Proposal != "a" {
		t.Fatalf("after the race: %+v", u)
	}
	if p, _ := n.app.Proposal("b"); p.Status != ledger.ProposalOpen || len(p.Approvals) != 2 {
		t.Fatalf("the refused schedule: %s, %d approvals", p.Status, len(p.Approvals))
	}
	// Cancel a, then b's last approval, in one block: b is scheduled.
	n.blockUpdates([]uint32{0, 0}, n.propose(3, upgradeCancel("no-a", 3, H)), n.approve(0, "no-a"))
	n.blockUpdates([]uint32{0, 0}, n.approve(1, "no-a"), n.approve(1, "b"))
	if u := n.app.Protocol().Upgrade; u == nil || u.Proposal != "b" || u.Version != 4 {
		t.Fatalf("cancel then schedule in one block: %+v", u)
	}
}

// TestScheduleProposalAtSizeLimit: a protocol.schedule padded with
// whitespace to the largest transaction the registry takes is accepted,
// and what the state holds of it is the proposal record (re-encoded, under
// 1 KiB), not the bytes sent.
func TestScheduleProposalAtSizeLimit(t *testing.T) {
	n := newNetHarness(t, nil)
	H := n.height() + 1 + ledger.MinScheduleLead
	build := func(pad int) []byte {
		return n.rawGovTx(0, `{"type":"network.propose","did":"`+n.gov(0)+`","nonce":"pad",`+strings.Repeat(" ", pad)+
			fmt.Sprintf(`"proposal":{"id":"padded","action":"protocol.schedule","protocol":{"version":3,"height":%d}}}`, H))
	}
	// Base64 turns 3 bytes into 4: find the largest padding that fits.
	pad := (tx.MaxSize - len(build(0))) * 3 / 4
	for len(build(pad+1)) <= tx.MaxSize {
		pad++
	}
	for len(build(pad)) > tx.MaxSize {
		pad--
	}
	raw := build(pad)
	if len(raw) > tx.MaxSize || len(build(pad+3)) <= tx.MaxSize {
		t.Fatalf("padding: %d bytes", len(raw))
	}
	if r := n.block(raw); r[0].Code != 0 {
		t.Fatalf("a schedule of %d bytes: %d (%s)", len(raw), r[0].Code, r[0].Log)
	}
	view, _ := n.app.view()
	v, err := view.Get(ledger.ProposalKey("padded"))
	if err != nil || v == nil || len(v) > 1024 {
		t.Fatalf("the padded proposal's record: %d bytes, %v", len(v), err)
	}
	t.Logf("a %d-byte proposal holds %d bytes of state", len(raw), len(v))
}

// TestScheduleOneKeyTwoSpellings: a quorum cannot be made of one key
// counted under two did:key spellings (the multicodec varint written
// non-minimally: the same Ed25519 key). The other spelling is not a
// governance key (its approval is unauthorized) and cannot be added as one
// (did:key parsing refuses any spelling but the canonical one: here the
// varint decoder already).
func TestScheduleOneKeyTwoSpellings(t *testing.T) {
	n := newNetHarness(t, nil)
	k := n.govs[1]
	b := append([]byte{0xed, 0x81, 0x00}, k.Public().Bytes()...) // 0xed as a 3-byte varint
	mb, err := multibase.Encode(multibase.Base58BTC, b)
	if err != nil {
		t.Fatal(err)
	}
	alt := "did:key:" + mb
	if alt == n.gov(1) {
		t.Fatal("the other spelling is the canonical one")
	}
	H := n.height() + 1 + ledger.MinScheduleLead + 20
	n.blockUpdates([]uint32{0, 0}, n.propose(0, upgradeProposal("up", 3, H)), n.approve(1, "up"))
	n.refuses(t, "an approval by the other spelling of an approving key", n.sign(n.must(tx.NewNetworkApproval(alt, "up")), k, alt+"#"+mb), ledger.CodeUnauthorized, "not a governance DID")
	n.refuses(t, "the other spelling proposed as a governance key", n.propose(0, tx.Proposal{ID: "alt", Action: tx.ActionGovernanceAdd, Governance: alt}), ledger.CodeInvalid, "invalidDid")
	if u := n.app.Protocol().Upgrade; u != nil {
		t.Fatalf("two approvals of four scheduled: %+v", u)
	}
}

// TestScheduleLeadNearMaxHeight: on a chain whose genesis starts near the
// largest height (CometBFT takes any initial_height), block +
// MinScheduleLead would overflow: a schedule must still be refused as too
// close, not wrap around and accept a height in the past (which would
// halt every node at the next block: the upgrade it names could never be
// made).
func TestScheduleLeadNearMaxHeight(t *testing.T) {
	const start = math.MaxInt64 - 20
	// (Pruning off: IAVL's search for the oldest version overflows at
	// such heights and never returns; see the report.)
	h := &harness{tb: t, dir: t.TempDir(), gov: testKey(t, 200)}
	h.govDID = did.KeyDID(h.gov.Public())
	a, err := New(Config{Dir: h.dir, KeepVersions: -1, SnapshotInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	h.app = a
	t.Cleanup(func() { a.Close() })
	g, err := (&Genesis{Governance: []string{h.govDID}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.app.InitChain(context.Background(), &abci.RequestInitChain{AppStateBytes: g, InitialHeight: start, Time: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.app.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: start, Time: t0}); err != nil {
		t.Fatal(err)
	}
	h.commit()
	var txs [][]byte
	for _, p := range []tx.Proposal{upgradeProposal("past", 3, 1), upgradeProposal("max-safe", 3, 1<<53-1)} {
		raw := h.propose1(p)
		if r := h.checkTx(raw); r.Code != ledger.CodeInvalid || !strings.Contains(r.Log, "too close") {
			t.Fatalf("%s: CheckTx %d (%s), want too close", p.ID, r.Code, r.Log)
		}
		txs = append(txs, raw)
	}
	// FinalizeBlock only: IAVL cannot commit a second version this high
	// (its search for the first version computes (first+latest)/2 and
	// overflows: Commit never returns; see the report).
	res, err := h.app.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: start + 1, Time: t0.Add(time.Minute), Txs: txs})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res.TxResults {
		if r.Code != ledger.CodeInvalid || !strings.Contains(r.Log, "too close") {
			t.Fatalf("tx %d: FinalizeBlock %d (%s), want too close", i, r.Code, r.Log)
		}
	}
}

// TestLayoutMoveStaleCancel: TestScheduleStaleCancel for the layout move.
// A layout.cancel names the move by its height only; one left open from an
// earlier, cancelled move does not cancel a later move to the same height
// with one fresh approval; a cancel proposed after the carrying block, by
// the quorum, does.
func TestLayoutMoveStaleCancel(t *testing.T) {
	n := newNetHarnessLayout(t, ledger.LayoutEveryVersion)
	H := n.height() + 1 + ledger.MinLayoutMoveLead + 50
	move := func() *ledger.LayoutMove {
		t.Helper()
		_, mv, err := n.app.LayoutMove()
		if err != nil {
			t.Fatal(err)
		}
		return mv
	}
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, scheduleProposal("m1", H)), n.approve(1, "m1"), n.approve(2, "m1"))
	n.blockUpdates([]uint32{0, 0, 0, 0, 0},
		n.propose(0, cancelProposal("c1", H)), n.approve(1, "c1"),
		n.propose(3, cancelProposal("c2", H)), n.approve(1, "c2"),
		n.approve(2, "c1"))
	if mv := move(); mv != nil {
		t.Fatalf("c1 did not cancel: %+v", mv)
	}
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, scheduleProposal("m2", H)), n.approve(1, "m2"), n.approve(2, "m2"))
	if mv := move(); mv == nil || mv.Proposal != "m2" {
		t.Fatalf("m2: %+v", mv)
	}
	n.refuses(t, "one approval on a cancel proposed before the move was scheduled", n.approve(2, "c2"), ledger.CodeInvalid, "proposed at height")
	if mv := move(); mv == nil || mv.Proposal != "m2" {
		t.Fatalf("the stale cancel cancelled m2: %+v", mv)
	}
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(3, cancelProposal("c3", H)), n.approve(0, "c3"), n.approve(1, "c3"))
	if mv := move(); mv != nil {
		t.Fatalf("a fresh cancel by the quorum: %+v", mv)
	}
}
