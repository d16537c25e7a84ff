package machine

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/multiformats/go-multibase"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Protocol 3 (docs/design/0021, "Protocol 3"): every proposal's id is the
// hash of its content, and one governance key has at most
// ledger.MaxOpenProposals open proposals. Each test plays the attacker's
// move on a chain at protocol 2, where it must behave as it always did,
// and at protocol 3, where it is refused.

// newNet3 is newNetHarness on a chain whose genesis starts at protocol 3
// (what registryd init and testnet write).
func newNet3(tb testing.TB, policy *ledger.NetworkPolicy) *netHarness {
	tb.Helper()
	return newNetHarnessWith(tb, policy, &harness{genesisProtocol: 3})
}

// netNode is a four-key network whose genesis (g: its network policy,
// state layout) starts at protocol, opened with cfg (snapshots, a
// release's maximum).
func netNode(t *testing.T, protocol uint64, cfg Config, g *Genesis) *netHarness {
	t.Helper()
	h := &harness{tb: t, dir: t.TempDir(), gov: testKey(t, 200), genesisProtocol: protocol}
	h.govDID = did.KeyDID(h.gov.Public())
	cfg.Dir = h.dir
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.app = a
	t.Cleanup(func() { h.app.Close() })
	return initNetwork(t, h, g)
}

// govAddFilings signs count governance.add proposals by key by, under
// their content ids, each naming a key derived from from+i; it returns
// the proposals and their transactions (not yet in a block).
func govAddFilings(n *netHarness, by int, from byte, count int) ([]tx.Proposal, [][]byte) {
	var ps []tx.Proposal
	var txs [][]byte
	for i := range count {
		p := byContent(govAdd(n.tb, "", from+byte(i)))
		ps = append(ps, p)
		txs = append(txs, n.propose(by, p))
	}
	return ps, txs
}

// byContent is p under its content's id.
func byContent(p tx.Proposal) tx.Proposal {
	p.ID = tx.ProposalID(&p)
	return p
}

// govAdd proposes the governance key of test key b.
func govAdd(t testing.TB, id string, b byte) tx.Proposal {
	return tx.Proposal{ID: id, Action: tx.ActionGovernanceAdd, Governance: did.KeyDID(testKey(t, b).Public())}
}

// TestProtocol3ContentIDs: under protocol 2 a proposal of any action may
// have any id; under protocol 3 one whose id is not its content's hash is
// refused, in CheckTx and FinalizeBlock, with the id it must have, and
// changes nothing; the content's id is taken by both.
func TestProtocol3ContentIDs(t *testing.T) {
	// (Layout 1, so that a layout.schedule can be proposed.)
	l1 := func() *Genesis { return &Genesis{StateLayout: ledger.LayoutEveryVersion} }
	n2 := newNetHarnessGenesis(t, l1(), &harness{})
	n3 := newNetHarnessGenesis(t, l1(), &harness{genesisProtocol: 3})
	if p := n3.app.Protocol(); p.Version != 3 {
		t.Fatalf("a genesis at protocol 3 runs %d", p.Version)
	}
	lead := ledger.MinScheduleLead
	for i, p := range []tx.Proposal{
		{Action: tx.ActionValidatorAdd, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(9)), Power: 5, Org: n2.gov(1), Name: "st-marys"}},
		{Action: tx.ActionValidatorPower, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(0)), Power: 20}},
		{Action: tx.ActionValidatorRemove, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(1))}, AllowBelowMinimum: true},
		govAdd(t, "", 50),
		{Action: tx.ActionGovernanceRemove, Governance: n2.gov(3)},
		{Action: tx.ActionLayoutSchedule, Layout: &tx.ProposedLayout{Layout: 2, Height: n2.height() + 100 + lead}},
		{Action: tx.ActionProtocolSchedule, Protocol: &tx.ProposedProtocol{Version: 4, Height: n2.height() + 100 + lead}},
		{Action: ledger.ActionDirectoryQuorum},
	} {
		chosen := p
		chosen.ID = fmt.Sprintf("routine-%d", i)
		want := tx.ProposalID(&p)
		if !strings.HasPrefix(want, map[string]string{"validator": "val-", "governance": "gov-", "layout": "layout-", "protocol": "protocol-", "policy": "policy-"}[strings.Split(p.Action, ".")[0]]) {
			t.Fatalf("%s: content id %s", p.Action, want)
		}
		t.Run(p.Action, func(t *testing.T) {
			if r := n2.block(n2.propose(0, chosen)); r[0].Code != 0 {
				t.Fatalf("protocol 2, chosen id: %d (%s)", r[0].Code, r[0].Log)
			}
			n3.refuses(t, "protocol 3, chosen id", n3.propose(0, chosen), ledger.CodeInvalid, "must be filed as "+want)
			for _, n := range []*netHarness{n2, n3} {
				if r := n.block(n.propose(1, byContent(p))); r[0].Code != 0 {
					t.Fatalf("content id: %d (%s)", r[0].Code, r[0].Log)
				}
			}
		})
	}
	// The same content twice while open: refused, naming the open one.
	p := byContent(govAdd(t, "", 50))
	n3.refuses(t, "the same content again while open", n3.propose(2, p), ledger.CodeExists, "proposed already, as "+p.ID)
	// The ids of directory changes and accreditations did not change.
	c := tx.Proposal{Action: tx.ActionIssuerAccredit, Accreditation: &tx.AccreditationChange{Issuer: n2.gov(1), CredentialTypes: []string{"X"}, ValidFrom: "2026-01-01T00:00:00Z", AccreditationID: "a"}}
	if tx.ProposalID(&c) != tx.ChangeID(&c) {
		t.Fatal("ProposalID of a change is not its ChangeID")
	}
}

// TestProtocol3DisguisedUpgrade: the hole of protocol 2 (issue 18's red
// team): a stolen governance key files "upgrade to protocol 999", which
// stops every node at its height, under the reassuring id "to-3", and
// the approvers, who approve by id, carry it. Under protocol 3 it cannot
// be filed under that id; under the id it must have, the id names 999.
func TestProtocol3DisguisedUpgrade(t *testing.T) {
	evil := func(n *netHarness, id string) tx.Proposal {
		return tx.Proposal{ID: id, Action: tx.ActionProtocolSchedule, Protocol: &tx.ProposedProtocol{Version: 999, Height: n.height() + 50 + ledger.MinScheduleLead}}
	}
	n2 := newNetHarness(t, nil)
	n2.blockUpdates([]uint32{0, 0, 0}, n2.propose(0, evil(n2, "to-3")), n2.approve(1, "to-3"), n2.approve(2, "to-3"))
	if u := n2.app.Protocol().Upgrade; u == nil || u.Version != 999 {
		t.Fatalf("protocol 2: the disguised upgrade was not carried (the hole is not reproduced): %+v", u)
	}

	n3 := newNet3(t, nil)
	p := evil(n3, "to-3")
	want := tx.ProposalID(&p)
	n3.refuses(t, "under a chosen id", n3.propose(0, p), ledger.CodeInvalid, "this protocol.schedule must be filed as "+want)
	if r := n3.block(n3.approve(1, "to-3")); r[0].Code != ledger.CodeNotFound {
		t.Fatalf("an approval of the reassuring id: %d (%s)", r[0].Code, r[0].Log)
	}
	// Under its content's id: what the id names is 999, whatever the
	// proposer would like it to say.
	p.ID = want
	n3.blockUpdates([]uint32{0}, n3.propose(0, p))
	rec, err := n3.app.Proposal(want)
	if err != nil || rec.Protocol.Version != 999 || rec.ContentID() != want {
		t.Fatalf("the proposal under its content's id: %+v, %v", rec, err)
	}
	honest := tx.Proposal{Action: tx.ActionProtocolSchedule, Protocol: &tx.ProposedProtocol{Version: 4, Height: p.Protocol.Height}}
	if tx.ProposalID(&honest) == want {
		t.Fatal("two contents, one id")
	}
	if u := n3.app.Protocol().Upgrade; u != nil {
		t.Fatalf("scheduled: %+v", u)
	}
}

// TestProtocol3FileAgain: identical content has one id, so it must be
// possible to file it again once its proposal was carried (a validator
// added again after its removal, an upgrade scheduled again after its
// cancel) or expired; the new filing starts with its proposer's approval
// only, so no approval given to an earlier filing counts for it.
func TestProtocol3FileAgain(t *testing.T) {
	t.Run("validator added again after its removal", func(t *testing.T) {
		n := newNet3(t, nil)
		add := byContent(tx.Proposal{Action: tx.ActionValidatorAdd, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(9)), Power: 5, Org: n.gov(1)}})
		rm := byContent(tx.Proposal{Action: tx.ActionValidatorRemove, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(9))}})
		n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, add), n.approve(1, add.ID), n.approve(2, add.ID))
		n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, rm), n.approve(1, rm.ID), n.approve(2, rm.ID))
		if n.activeValidators()[ledger.ValidatorAddress(consensusKey(9))] != 0 {
			t.Fatal("not removed")
		}
		n.blockUpdates([]uint32{0}, n.propose(3, add))
		rec, _ := n.app.Proposal(add.ID)
		if rec.Status != ledger.ProposalOpen || len(rec.Approvals) != 1 || rec.ProposedBy != n.gov(3) || rec.Height != n.height() {
			t.Fatalf("filed again: %+v", rec)
		}
		n.blockUpdates([]uint32{0}, n.approve(0, add.ID))
		if n.activeValidators()[ledger.ValidatorAddress(consensusKey(9))] != 0 {
			t.Fatal("the earlier filing's approvals counted for the new one")
		}
		n.blockUpdates([]uint32{0}, n.approve(1, add.ID))
		if n.activeValidators()[ledger.ValidatorAddress(consensusKey(9))] != 5 {
			t.Fatal("not added again")
		}
	})
	t.Run("upgrade scheduled again after its cancel", func(t *testing.T) {
		n := newNet3(t, nil)
		H := n.height() + 20 + ledger.MinScheduleLead
		up := byContent(upgradeProposal("", 4, H))
		no := byContent(upgradeCancel("", 4, H))
		n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, up), n.approve(1, up.ID), n.approve(2, up.ID))
		n.blockUpdates([]uint32{0, 0, 0}, n.propose(3, no), n.approve(1, no.ID), n.approve(2, no.ID))
		if u := n.app.Protocol().Upgrade; u != nil {
			t.Fatalf("not cancelled: %+v", u)
		}
		n.blockUpdates([]uint32{0}, n.propose(3, up))
		if u := n.app.Protocol().Upgrade; u != nil {
			t.Fatalf("the earlier filing's approvals carried the new one: %+v", u)
		}
		n.blockUpdates([]uint32{0, 0}, n.approve(1, up.ID), n.approve(2, up.ID))
		if u := n.app.Protocol().Upgrade; u == nil || u.Proposal != up.ID {
			t.Fatalf("scheduled again: %+v", u)
		}
		// The cancel too, and its earlier approvals count no more.
		n.blockUpdates([]uint32{0, 0}, n.propose(0, no), n.approve(1, no.ID))
		if u := n.app.Protocol().Upgrade; u == nil {
			t.Fatal("two approvals of the new cancel filing carried it")
		}
	})
	t.Run("expired", func(t *testing.T) {
		n := newNet3(t, &ledger.NetworkPolicy{ProposalLifetime: "3m"})
		p := byContent(govAdd(t, "", 50))
		n.blockUpdates([]uint32{0, 0}, n.propose(0, p), n.approve(1, p.ID))
		n.refuses(t, "open", n.propose(3, p), ledger.CodeExists, "proposed already")
		n.block()
		n.block()
		n.blockUpdates([]uint32{0}, n.propose(3, p))
		n.blockUpdates([]uint32{0}, n.approve(2, p.ID))
		if rec, _ := n.app.Proposal(p.ID); rec.Status != ledger.ProposalOpen || len(rec.Approvals) != 2 {
			t.Fatalf("approvals of the expired filing counted: %+v", rec)
		}
	})
	t.Run("a directory change carried is not filed again", func(t *testing.T) {
		n := newNet3(t, quorumPolicy())
		org := did.KeyDID(testKey(t, 60).Public())
		add := dirPayload(n.gov(0), tx.DirectoryAdd, org, stMarys(), 0, "")
		id := n.carried(add, 0, 1, 2)
		raw, _ := n.changeTx(3, dirPayload(n.gov(3), tx.DirectoryAdd, org, stMarys(), 0, ""))
		n.refuses(t, "again", raw, ledger.CodeExists, "this change was proposed as "+id+" and carried")
	})
}

// TestProtocol3StaleCancelGivesWay: a cancel filed (under its content's
// id) before the block that carried the change it names can never carry
// (staleCancel). Under protocol 3 the same cancel has the same id, so the
// stale one, still open, would keep the network from cancelling until it
// expired: a new filing replaces it instead. The stale cancel is made on
// protocol 2 (two cancels of one move under two ids), then the chain
// moves to protocol 3.
func TestProtocol3StaleCancelGivesWay(t *testing.T) {
	n := newNetHarnessGenesis(t, &Genesis{StateLayout: ledger.LayoutEveryVersion}, &harness{})
	lead := ledger.MinScheduleLead
	HM := n.height() + 3*lead
	move := tx.Proposal{ID: "move", Action: tx.ActionLayoutSchedule, Layout: &tx.ProposedLayout{Layout: 2, Height: HM}}
	stale := byContent(tx.Proposal{Action: tx.ActionLayoutCancel, Layout: &tx.ProposedLayout{Layout: 2, Height: HM}})
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, move), n.approve(1, move.ID), n.approve(2, move.ID))
	n.blockUpdates([]uint32{0}, n.propose(3, stale)) // open, one approval
	other := stale
	other.ID = "keep-layout-1"
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, other), n.approve(1, other.ID), n.approve(2, other.ID))
	again := move
	again.ID = "move-again"
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, again), n.approve(1, again.ID), n.approve(2, again.ID))
	H := n.height() + 1 + lead
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, byContent(upgradeProposal("", 3, H))), n.approve(1, tx.ProposalID(&tx.Proposal{Action: tx.ActionProtocolSchedule, Protocol: &tx.ProposedProtocol{Version: 3, Height: H}})), n.approve(2, tx.ProposalID(&tx.Proposal{Action: tx.ActionProtocolSchedule, Protocol: &tx.ProposedProtocol{Version: 3, Height: H}})))
	for n.height() < H {
		n.block()
	}
	if p := n.app.Protocol(); p.Version != 3 {
		t.Fatalf("protocol %d at H", p.Version)
	}
	if r := n.block(n.approve(2, stale.ID)); r[0].Code != ledger.CodeInvalid || !strings.Contains(r[0].Log, "only a cancel proposed after") {
		t.Fatalf("the stale cancel: %d (%s)", r[0].Code, r[0].Log)
	}
	n.blockUpdates([]uint32{0}, n.propose(1, stale))
	if rec, _ := n.app.Proposal(stale.ID); len(rec.Approvals) != 1 || rec.ProposedBy != n.gov(1) {
		t.Fatalf("the new filing: %+v", rec)
	}
	n.blockUpdates([]uint32{0, 0}, n.approve(2, stale.ID), n.approve(3, stale.ID))
	if m, _ := layoutMoveOf(n.app.tree); m != nil {
		t.Fatalf("not cancelled: %+v", m)
	}
}

// TestProtocol3OpenProposalCap: under protocol 3 one governance key has
// at most ledger.MaxOpenProposals open proposals; the next is refused with
// CodeQuota, in CheckTx and FinalizeBlock, saying how many are open and
// what to do. A carried one and an expired one free a slot; other keys
// are not charged; the same key under another did:key spelling files
// nothing; the count survives a restart and a snapshot restored on a
// fresh node. Under protocol 2 there is no cap (as before) and no record.
func TestProtocol3OpenProposalCap(t *testing.T) {
	const max = ledger.MaxOpenProposals
	fill := func(n *netHarness, by int, from byte) []tx.Proposal {
		ps, txs := govAddFilings(n, by, from, max)
		n.blockUpdates(make([]uint32, max), txs...)
		return ps
	}
	t.Run("protocol 2", func(t *testing.T) {
		n := newNetHarness(t, nil)
		fill(n, 0, 10)
		n.blockUpdates([]uint32{0, 0}, n.propose(0, govAdd(t, "more", 40)), n.propose(0, byContent(govAdd(t, "", 41))))
		if v, _ := n.app.tree.Get(ledger.OpenProposalsKey(n.gov(0))); v != nil {
			t.Fatal("protocol 2 wrote a record of open proposals")
		}
	})
	n := netNode(t, 3, Config{SnapshotInterval: 1}, &Genesis{Network: &ledger.NetworkPolicy{ProposalLifetime: "60m"}})
	ps := fill(n, 0, 10)
	next := byContent(govAdd(t, "", 40))
	n.refuses(t, "one more", n.propose(0, next), ledger.CodeQuota, fmt.Sprintf("has %d open proposals, the most one governance key may have", max))
	n.refuses(t, "one more, under a chosen id", n.propose(0, govAdd(t, "x", 40)), ledger.CodeInvalid, "must be filed as")
	// Another key is not charged.
	n.blockUpdates([]uint32{0}, n.propose(1, byContent(govAdd(t, "", 41))))
	// The same key under another spelling (the multicodec varint written
	// non-minimally) is not a governance key: it files nothing.
	k := n.govs[0]
	mb, err := multibase.Encode(multibase.Base58BTC, append([]byte{0xed, 0x81, 0x00}, k.Public().Bytes()...))
	if err != nil {
		t.Fatal(err)
	}
	alt := "did:key:" + mb
	altNext := next
	n.refuses(t, "the same key under another spelling", n.sign(n.must(tx.NewNetworkProposal(alt, altNext)), k, alt+"#"+mb), ledger.CodeUnauthorized, "not a governance DID")

	// Restart: the count is in the state.
	n.app.Close()
	if n.app, err = New(Config{Dir: n.dir, SnapshotInterval: 1}); err != nil {
		t.Fatal(err)
	}
	if r := n.block(n.propose(0, next)); r[0].Code != ledger.CodeQuota {
		t.Fatalf("after a restart: %d (%s)", r[0].Code, r[0].Log)
	}

	// A snapshot restored on a fresh node gives the same verdicts and
	// app hashes.
	snapshotNow(t, n.harness)
	dst, res := restoreInto(t, n.harness, nil, n.hash())
	if res != abci.ResponseApplySnapshotChunk_ACCEPT {
		t.Fatalf("restore: %v", res)
	}
	both := func(name string, want uint32, txs ...[]byte) {
		t.Helper()
		h := n.height() + 1
		req := &abci.RequestFinalizeBlock{Height: h, Time: blockTime(h).Add(n.skew), Txs: txs}
		got, err := dst.FinalizeBlock(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dst.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
			t.Fatal(err)
		}
		r := n.block(txs...)
		if r[0].Code != want || got.TxResults[0].Code != want || !bytes.Equal(got.AppHash, n.hash()) {
			t.Fatalf("%s: code %d (%s), restored node %d, hashes equal %v", name, r[0].Code, r[0].Log, got.TxResults[0].Code, bytes.Equal(got.AppHash, n.hash()))
		}
	}
	both("one more on the restored node", ledger.CodeQuota, n.propose(0, next))

	// A carried proposal frees its slot.
	n.skew = 0
	both("carry one", 0, n.approve(1, ps[0].ID), n.approve(2, ps[0].ID))
	both("one more after a carry", 0, n.propose(0, next))
	both("and no more", ledger.CodeQuota, n.propose(0, byContent(govAdd(t, "", 42))))

	// Expired proposals free theirs.
	n.skew = time.Hour
	both("one more after expiry", 0, n.propose(0, byContent(govAdd(t, "", 42))))
	rec, err := getJSON[ledger.OpenProposals](n.app.tree, ledger.OpenProposalsKey(n.gov(0)))
	if err != nil || len(rec.Proposals) != 1 {
		t.Fatalf("the key's open proposals after expiry: %+v, %v", rec, err)
	}
}

// TestProtocol3UpgradeFourValidators: four validators of this release in
// lockstep (same blocks, app hashes compared at every block) on a chain
// of protocol 2 that the quorum upgrades to 3 at H. Before H a proposal
// under a chosen id is filed and carried by approvals that name only the
// id; at H every node switches: CheckTx of the committed state of H-1
// already refuses a chosen id, block H refuses it, the approval of a
// chosen-id proposal left open from before H is refused with the id to
// file it again under, and the cap applies; app hashes equal throughout.
func TestProtocol3UpgradeFourValidators(t *testing.T) {
	var ls lockstep
	for range 4 {
		ls = append(ls, newNetHarness(t, nil))
	}
	n := ls[0]
	lead := ledger.MinScheduleLead
	H := n.height() + 1 + lead
	up := byContent(upgradeProposal("", 3, H))
	ls.block(t, n.propose(0, up), n.approve(1, up.ID), n.approve(2, up.ID))
	// Before H: the disguised proposal files and carries by its id.
	power := tx.Proposal{ID: "routine-check", Action: tx.ActionValidatorPower, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(0)), Power: 1000}}
	if r := ls.block(t, n.propose(0, power), n.approve(1, power.ID), n.approve(2, power.ID)); r[0].Code != 0 || r[2].Code != 0 {
		t.Fatalf("protocol 2, a chosen id: %d, %d (%s)", r[0].Code, r[2].Code, r[2].Log)
	}
	leftOpen := govAdd(t, "welcome", 50)
	ls.block(t, n.propose(0, leftOpen))
	// A squatter: other content (a key of the attacker's) under the id of
	// a governance key the network will add, which protocol 2 takes.
	honest := byContent(govAdd(t, "", 53))
	squat := govAdd(t, honest.ID, 54)
	ls.block(t, n.propose(3, squat))
	for n.height() < H-2 {
		ls.block(t)
	}
	// CheckTx in the state of H-2 checks for block H-1 (protocol 2); in
	// the state of H-1, for block H (protocol 3).
	late := n.propose(1, govAdd(t, "late", 51))
	if r := n.checkTx(late); r.Code != 0 {
		t.Fatalf("CheckTx for block H-1: %d (%s)", r.Code, r.Log)
	}
	if r := ls.block(t, late); r[0].Code != 0 {
		t.Fatalf("block H-1, a chosen id: %d (%s)", r[0].Code, r[0].Log)
	}
	chosen := n.propose(2, govAdd(t, "after", 52))
	if r := n.checkTx(chosen); r.Code != ledger.CodeInvalid {
		t.Fatalf("CheckTx for block H, a chosen id: %d (%s)", r.Code, r.Log)
	}
	for i, m := range ls {
		res := m.finalize(chosen, m.approve(1, leftOpen.ID))
		m.commit()
		if res.ConsensusParamUpdates.GetVersion().GetApp() != 3 || m.app.Protocol().Version != 3 {
			t.Fatalf("node %d at H: params %+v", i, res.ConsensusParamUpdates)
		}
		if r := res.TxResults; r[0].Code != ledger.CodeInvalid || r[1].Code != ledger.CodeInvalid ||
			!strings.Contains(r[1].Log, "filed under an id its proposer chose") || !strings.Contains(r[1].Log, "its id is "+tx.ProposalID(&leftOpen)) {
			t.Fatalf("node %d, block H: %d (%s), %d (%s)", i, r[0].Code, r[0].Log, r[1].Code, r[1].Log)
		}
		if !bytes.Equal(m.hash(), n.hash()) {
			t.Fatalf("node %d parts at H", i)
		}
	}
	// Filed again under its content's id, it carries.
	p := byContent(leftOpen)
	ls.block(t, n.propose(0, p), n.approve(1, p.ID), n.approve(2, p.ID))
	if rec, _ := n.app.Proposal(p.ID); rec.Status != ledger.ProposalExecuted {
		t.Fatalf("filed again: %+v", rec)
	}
	// The squatted id: the squatter's content cannot be approved, and the
	// content the id names is filed over it and carried.
	if r := ls.block(t, n.approve(1, honest.ID)); r[0].Code != ledger.CodeInvalid {
		t.Fatalf("an approval of the squatter: %d (%s)", r[0].Code, r[0].Log)
	}
	// (Five governance keys since leftOpen carried: four approvals.)
	ls.block(t, n.propose(0, honest), n.approve(1, honest.ID), n.approve(2, honest.ID), n.approve(3, honest.ID))
	if rec, _ := n.app.Proposal(honest.ID); rec.Status != ledger.ProposalExecuted || rec.Governance != honest.Governance {
		t.Fatalf("the squatted id filed by its content: %+v", rec)
	}
	// The cap, from H on (the proposals key 3 filed before H do not count:
	// they expire with their lifetime).
	var txs [][]byte
	for i := range ledger.MaxOpenProposals + 1 {
		txs = append(txs, n.propose(3, byContent(govAdd(t, "", byte(60+i)))))
	}
	r := ls.block(t, txs...)
	if r[len(r)-1].Code != ledger.CodeQuota || r[len(r)-2].Code != 0 {
		t.Fatalf("the cap at protocol 3: last two %d, %d (%s)", r[len(r)-2].Code, r[len(r)-1].Code, r[len(r)-1].Log)
	}
}
