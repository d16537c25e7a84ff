package machine

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Protocol 4 (docs/design/0021, "Protocol 4"): an approval names the
// filing it approves (the height of the block that filed the proposal)
// and counts for that filing only; one content is filed at most once a
// block; a removed governance key's list of open proposals goes with it.
// Each test plays the attacker's move at protocol 4, where it is refused;
// TestProtocol3HeldBackApproval and TestProtocol3GovernanceGolden show
// protocol 3 unchanged.

// newNet4 is newNetHarness on a chain whose genesis starts at protocol 4
// (what registryd init and testnet write).
func newNet4(tb testing.TB, policy *ledger.NetworkPolicy) *netHarness {
	tb.Helper()
	return newNetHarnessWith(tb, policy, &harness{genesisProtocol: 4})
}

// approveOf is key i's approval of proposal id naming the filing of
// height filing.
func (n *netHarness) approveOf(i int, id string, filing int64) []byte {
	return n.govTx(i, n.must(tx.NewNetworkApprovalOf(n.gov(i), id, filing)))
}

// approveOpen is key i's approval of the filing of proposal id the
// committed state holds (what medid network approve signs): its height,
// and from protocol 5 on its block's hash when the record has one.
func (n *netHarness) approveOpen(i int, id string) []byte {
	n.tb.Helper()
	rec, err := n.app.Proposal(id)
	if err != nil {
		n.tb.Fatal(err)
	}
	if rec.FilingBlock != "" {
		return n.approveOfBlock(i, id, rec.Height, rec.FilingBlock)
	}
	return n.approveOf(i, id, rec.Height)
}

// approvedBy reports whether the committed record of proposal id holds
// an approval of governance key i.
func (n *netHarness) approvedBy(id string, i int) bool {
	n.tb.Helper()
	rec, err := n.app.Proposal(id)
	if err != nil {
		n.tb.Fatal(err)
	}
	for _, ap := range rec.Approvals {
		if ap.DID == n.gov(i) {
			return true
		}
	}
	return false
}

// TestProtocol4HeldBackApproval: TestProtocol3HeldBackApproval's move at
// protocol 4. An approval signed for a filing and held back until that
// filing expired is refused (expired), and once the content is filed
// again it is refused for naming the earlier filing, with the filing it
// must name; it does not count, and the new filing carries only with a
// present approval.
func TestProtocol4HeldBackApproval(t *testing.T) {
	n := newNet4(t, &ledger.NetworkPolicy{ProposalLifetime: "3m"})
	p := byContent(govAdd(t, "", 70))
	n.blockUpdates([]uint32{0}, n.propose(1, p))
	first := n.height()
	held := n.approveOpen(2, p.ID) // signed by key 2 for the first filing, never submitted
	n.block()
	n.block()
	n.block() // the filing has expired
	if r := n.block(held); r[0].Code != ledger.CodeInvalid || !strings.Contains(r[0].Log, "expired") {
		t.Fatalf("the held approval on the expired filing: %d (%s)", r[0].Code, r[0].Log)
	}
	n.blockUpdates([]uint32{0}, n.propose(0, p)) // the stolen key files it again
	again := n.height()
	want := fmt.Sprintf("names the filing of proposal %s at height %d, and the open filing is the one at height %d", p.ID, first, again)
	if r := n.checkTx(held); r.Code != ledger.CodeInvalid || !strings.Contains(r.Log, want) {
		t.Fatalf("CheckTx of the held approval on the new filing: %d (%s)", r.Code, r.Log)
	}
	if r := n.block(held, n.approveOpen(3, p.ID)); r[0].Code != ledger.CodeInvalid || !strings.Contains(r[0].Log, want) || r[1].Code != 0 {
		t.Fatalf("the held approval on the new filing: %d (%s), %d (%s)", r[0].Code, r[0].Log, r[1].Code, r[1].Log)
	}
	if rec, _ := n.app.Proposal(p.ID); rec.Status != ledger.ProposalOpen || n.approvedBy(p.ID, 2) || len(rec.Approvals) != 2 {
		t.Fatalf("the held approval counted for the new filing: %+v", rec)
	}
	// Key 2's present consent, for this filing, carries it.
	n.blockUpdates([]uint32{0}, n.approveOpen(2, p.ID))
	if rec, _ := n.app.Proposal(p.ID); rec.Status != ledger.ProposalExecuted {
		t.Fatalf("not carried by the present approval: %+v", rec)
	}
}

// TestProtocol4HeldAcrossCarryAndCancel: the two changes 0013 names. An
// approval of a governance key's addition, held back while the others
// carried it, is refused after the network removed the key and the
// addition was filed again; an approval of an upgrade's schedule, held
// back while the others carried it, is refused after the quorum
// cancelled the upgrade and it was filed again. Neither change is made
// again without present approvals.
func TestProtocol4HeldAcrossCarryAndCancel(t *testing.T) {
	n := newNet4(t, nil)
	t.Run("added again after its removal", func(t *testing.T) {
		add := byContent(govAdd(t, "", 71))
		remove := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: add.Governance})
		n.blockUpdates([]uint32{0}, n.propose(0, add))
		held := n.approveOpen(2, add.ID)
		n.blockUpdates([]uint32{0, 0}, n.approveOpen(1, add.ID), n.approveOpen(3, add.ID))
		if rec, _ := n.app.Proposal(add.ID); rec.Status != ledger.ProposalExecuted {
			t.Fatalf("not added: %+v", rec)
		}
		n.carry(t, 0, remove)
		n.blockUpdates([]uint32{0}, n.propose(0, add)) // the stolen key files it again
		if r := n.block(held, n.approveOpen(1, add.ID)); r[0].Code != ledger.CodeInvalid || !strings.Contains(r[0].Log, "an approval counts only for the filing it names") {
			t.Fatalf("the held approval: %d (%s)", r[0].Code, r[0].Log)
		}
		if rec, _ := n.app.Proposal(add.ID); rec.Status != ledger.ProposalOpen {
			t.Fatalf("the removed key was added again with the held approval: %+v", rec)
		}
	})
	t.Run("scheduled again after its cancel", func(t *testing.T) {
		H := n.height() + 300
		sched := byContent(upgradeProposal("", 999, H))
		cancel := byContent(upgradeCancel("", 999, H))
		n.blockUpdates([]uint32{0}, n.propose(0, sched))
		held := n.approveOpen(2, sched.ID)
		n.blockUpdates([]uint32{0, 0}, n.approveOpen(1, sched.ID), n.approveOpen(3, sched.ID))
		if u := n.app.Protocol().Upgrade; u == nil || u.Version != 999 {
			t.Fatalf("not scheduled: %+v", u)
		}
		n.carry(t, 1, cancel)
		if u := n.app.Protocol().Upgrade; u != nil {
			t.Fatalf("not cancelled: %+v", u)
		}
		n.blockUpdates([]uint32{0}, n.propose(0, sched))
		if r := n.block(held, n.approveOpen(1, sched.ID)); r[0].Code != ledger.CodeInvalid || !strings.Contains(r[0].Log, "an approval counts only for the filing it names") {
			t.Fatalf("the held approval: %d (%s)", r[0].Code, r[0].Log)
		}
		if u := n.app.Protocol().Upgrade; u != nil {
			t.Fatalf("the cancelled upgrade was scheduled again with the held approval: %+v", u)
		}
	})
}

// TestProtocol4ApprovalNamesTheFiling: at protocol 4 an approval of an
// open proposal that names no filing, the filing before or after the one
// open (off by one), a future one or an earlier filing of the same
// content is refused, in CheckTx and FinalizeBlock, with the filing it
// must name, and changes nothing; the one naming the open filing counts.
func TestProtocol4ApprovalNamesTheFiling(t *testing.T) {
	n := newNet4(t, &ledger.NetworkPolicy{ProposalLifetime: "10m"})
	p := byContent(govAdd(t, "", 72))
	n.blockUpdates([]uint32{0}, n.propose(1, p))
	earlier := n.height()
	for range 10 {
		n.block() // expires
	}
	n.blockUpdates([]uint32{0}, n.propose(0, p))
	open := n.height()
	must := fmt.Sprintf("the open filing is the one at height %d", open)
	for _, tc := range []refusal{
		{"no filing", n.approve(2, p.ID), ledger.CodeInvalid, fmt.Sprintf("names none: proposal %s was filed at height %d; sign the approval again naming filing %d", p.ID, open, open)},
		{"the block before", n.approveOf(2, p.ID, open-1), ledger.CodeInvalid, must},
		{"the block after", n.approveOf(2, p.ID, open+1), ledger.CodeInvalid, must},
		{"a future filing", n.approveOf(2, p.ID, open+1000), ledger.CodeInvalid, must},
		{"the earlier filing", n.approveOf(2, p.ID, earlier), ledger.CodeInvalid, must},
		{"another proposal's filing", n.approveOf(2, "nothing-filed-here", open), ledger.CodeNotFound, "nothing-filed-here"},
	} {
		n.refuses(t, tc.name, tc.raw, tc.code, tc.want)
	}
	n.blockUpdates([]uint32{0}, n.approveOf(2, p.ID, open))
	if !n.approvedBy(p.ID, 2) {
		t.Fatal("the approval of the open filing did not count")
	}
}

// TestProtocol4OneFilingABlock: at protocol 4 content carried in a block
// cannot be filed again in the same block (an approval names a filing by
// its block, so two filings in one block would share a name); it can in
// the next. (At protocol 3 it could: TestProtocol3GovernanceGolden.)
func TestProtocol4OneFilingABlock(t *testing.T) {
	n := newNet4(t, nil)
	x := byContent(govAdd(t, "", 74))
	removeX := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: x.Governance})
	h := n.height() + 1
	// Filed, carried, removed and filed again in one block: the second
	// filing is refused.
	r := n.block(n.propose(0, x), n.approveOf(1, x.ID, h), n.approveOf(2, x.ID, h),
		n.propose(0, removeX), n.approveOf(1, removeX.ID, h), n.approveOf(2, removeX.ID, h), n.approveOf(3, removeX.ID, h),
		n.propose(1, x))
	for i, c := range []uint32{0, 0, 0, 0, 0, 0, 0, ledger.CodeExists} {
		if r[i].Code != c {
			t.Fatalf("tx %d: %d (%s), want %d", i, r[i].Code, r[i].Log, c)
		}
	}
	if !strings.Contains(r[7].Log, "filed in this block already") {
		t.Fatalf("the second filing in one block: %s", r[7].Log)
	}
	if rec, _ := n.app.Proposal(x.ID); rec.Status != ledger.ProposalExecuted || rec.Height != h {
		t.Fatalf("the carried filing was replaced: %+v", rec)
	}
	// The next block files it again.
	n.blockUpdates([]uint32{0}, n.propose(1, x))
	if rec, _ := n.app.Proposal(x.ID); rec.Status != ledger.ProposalOpen || rec.Height != h+1 {
		t.Fatalf("filed again in the next block: %+v", rec)
	}
}

// TestProtocol4RemovedKeyList: at protocol 4 the removal of a governance
// key deletes its list of open proposals (at 3 it stayed:
// TestProtocol3GovernanceGolden), whether the others' approval carries
// the removal or the key removes itself alone (a quorum of one); a key
// added back starts with an empty list.
func TestProtocol4RemovedKeyList(t *testing.T) {
	t.Run("removed by the others", func(t *testing.T) {
		n := newNet4(t, nil)
		n.blockUpdates([]uint32{0, 0}, n.propose(3, byContent(govAdd(t, "", 80))), n.propose(3, byContent(govAdd(t, "", 81))))
		if v := n.stateOf(ledger.OpenProposalsKey(n.gov(3))); v[0] == nil {
			t.Fatal("key 3 has no list")
		}
		n.carry(t, 0, byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: n.gov(3)}))
		if v := n.stateOf(ledger.OpenProposalsKey(n.gov(3)), ledger.GovernanceKey(n.gov(3))); v[0] != nil || v[1] != nil {
			t.Fatalf("after its removal key 3's list is %q", v[0])
		}
		// A key without a list removed: nothing else changes.
		n.carry(t, 0, byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: n.gov(2)}))
		// Added back, key 3 files with an empty list.
		add := byContent(tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: n.gov(3)})
		n.carry(t, 0, add)
		n.blockUpdates([]uint32{0}, n.propose(3, byContent(govAdd(t, "", 82))))
		got, err := getJSON[ledger.OpenProposals](n.app.tree, ledger.OpenProposalsKey(n.gov(3)))
		if err != nil || len(got.Proposals) != 1 {
			t.Fatalf("key 3's list after it came back: %+v, %v", got, err)
		}
	})
	t.Run("removes itself alone", func(t *testing.T) {
		// A quorum of a quarter: one approval carries among 4 keys, two
		// among 5.
		n := newNet4(t, &ledger.NetworkPolicy{Quorum: ledger.Fraction{Numerator: 1, Denominator: 4}})
		fifth := byContent(govAdd(t, "", 85))
		n.blockUpdates([]uint32{0}, n.propose(0, fifth)) // carried at once: 5 keys
		n.blockUpdates([]uint32{0}, n.propose(3, byContent(govAdd(t, "", 86))))
		if v := n.stateOf(ledger.OpenProposalsKey(n.gov(3))); v[0] == nil {
			t.Fatal("key 3 has no list")
		}
		drop := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: fifth.Governance})
		n.blockUpdates([]uint32{0, 0}, n.propose(0, drop), n.approveOf(1, drop.ID, n.height()+1)) // 4 keys again
		self := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: n.gov(3)})
		n.blockUpdates([]uint32{0}, n.propose(3, self))
		if rec, _ := n.app.Proposal(self.ID); rec.Status != ledger.ProposalExecuted {
			t.Fatalf("not carried at once: %+v", rec)
		}
		if v := n.stateOf(ledger.OpenProposalsKey(n.gov(3)), ledger.GovernanceKey(n.gov(3))); v[0] != nil || v[1] != nil {
			t.Fatalf("after it removed itself key 3's list is %q", v[0])
		}
	})
}

// TestProtocol4UpgradeFourValidators: four Apps in lockstep (same blocks,
// app hashes compared at every block) on a chain of protocol 3 that the
// quorum upgrades to 4 at H. A proposal filed before H keeps the approval
// recorded for it under protocol 3 (made for that filing) and carries at
// H with an approval naming the filing. Across the switch: an approval
// naming no filing that CheckTx took for block H-1 is refused by the
// recheck on H-1's state (for block H) and, put into H by a Byzantine
// proposer, refused there with the filing to name; an approval naming the
// filing is refused as malformed by CheckTx for H-1 (protocol 3, as the
// release of before) and taken for H. Every node switches exactly at H.
func TestProtocol4UpgradeFourValidators(t *testing.T) {
	var ls lockstep
	for range 4 {
		ls = append(ls, newNet3(t, nil))
	}
	n := ls[0]
	H := n.height() + 1 + ledger.MinScheduleLead
	up := byContent(upgradeProposal("", 4, H))
	ls.block(t, n.propose(0, up), n.approve(1, up.ID), n.approve(2, up.ID))
	p := byContent(govAdd(t, "", 90))
	ls.block(t, n.propose(0, p))
	filed := n.height()
	for n.height() < H-2 {
		ls.block(t)
	}
	pending := n.approve(2, p.ID) // no filing: protocol 3's approval
	named := n.approveOf(3, p.ID, filed)
	if r := n.checkTx(pending); r.Code != 0 {
		t.Fatalf("CheckTx for block H-1, no filing: %d (%s)", r.Code, r.Log)
	}
	if r := n.checkTx(named); r.Code != ledger.CodeMalformed || !strings.Contains(r.Log, `unknown member "filing"`) {
		t.Fatalf("CheckTx for block H-1, a filing named: %d (%s)", r.Code, r.Log)
	}
	// Block H-1 (protocol 3): key 1 approves without a filing.
	if r := ls.block(t, n.approve(1, p.ID), named); r[0].Code != 0 || r[1].Code != ledger.CodeMalformed {
		t.Fatalf("block H-1: %d (%s), %d (%s)", r[0].Code, r[0].Log, r[1].Code, r[1].Log)
	}
	if n.app.Protocol().Version != 3 {
		t.Fatalf("protocol %d before H", n.app.Protocol().Version)
	}
	mustName := fmt.Sprintf("sign the approval again naming filing %d", filed)
	if r := n.checkTx(pending); r.Code != ledger.CodeInvalid || !strings.Contains(r.Log, mustName) {
		t.Fatalf("recheck for block H, no filing: %d (%s)", r.Code, r.Log)
	}
	if r := n.checkTx(named); r.Code != 0 {
		t.Fatalf("CheckTx for block H, a filing named: %d (%s)", r.Code, r.Log)
	}
	// Block H, ordered by a Byzantine proposer: the approval without a
	// filing, then the one naming it.
	for i, m := range ls {
		res := m.finalize(pending, named)
		m.commit()
		if res.ConsensusParamUpdates.GetVersion().GetApp() != 4 || m.app.Protocol().Version != 4 {
			t.Fatalf("node %d at H: params %+v", i, res.ConsensusParamUpdates)
		}
		if r := res.TxResults; r[0].Code != ledger.CodeInvalid || !strings.Contains(r[0].Log, mustName) || r[1].Code != 0 {
			t.Fatalf("node %d, block H: %d (%s), %d (%s)", i, r[0].Code, r[0].Log, r[1].Code, r[1].Log)
		}
		if !bytes.Equal(m.hash(), n.hash()) {
			t.Fatalf("node %d parts at H", i)
		}
	}
	rec, _ := n.app.Proposal(p.ID)
	if rec.Status != ledger.ProposalExecuted || rec.Executed != H || !n.approvedBy(p.ID, 1) || n.approvedBy(p.ID, 2) {
		t.Fatalf("at H: %+v", rec)
	}
}

// TestProtocol4FromProtocol2: a chain at protocol 2 may schedule 4
// directly (docs/operations.md); from H on protocol 3's rules hold too. A
// proposal filed at 2 under a chosen id is refused for its id (the more
// basic refusal) whether or not the approval names its filing; one filed
// under its content's id carries with an approval naming its filing; a
// chosen id is refused for new filings.
func TestProtocol4FromProtocol2(t *testing.T) {
	n := newNetHarness(t, nil)
	H := n.height() + 10 + ledger.MinScheduleLead
	up := byContent(upgradeProposal("", 4, H))
	n.carry(t, 0, up)
	chosen := govAdd(t, "welcome", 50)
	content := byContent(govAdd(t, "", 51))
	n.blockUpdates([]uint32{0, 0}, n.propose(0, chosen), n.propose(1, content))
	filed := n.height()
	for n.height() < H-1 {
		n.block()
	}
	r := n.block(n.approve(1, chosen.ID), n.approveOf(2, chosen.ID, filed), n.approveOf(0, content.ID, filed), n.approveOf(2, content.ID, filed),
		n.propose(2, govAdd(t, "later", 52)))
	if n.app.Protocol().Version != 4 {
		t.Fatalf("protocol %d at H", n.app.Protocol().Version)
	}
	for i, want := range []struct {
		code uint32
		log  string
	}{
		{ledger.CodeInvalid, "filed under an id its proposer chose"},
		{ledger.CodeInvalid, "filed under an id its proposer chose"},
		{0, ""},
		{0, ""},
		{ledger.CodeInvalid, "from protocol 3 on a proposal's id is the hash of its content"},
	} {
		if r[i].Code != want.code || !strings.Contains(r[i].Log, want.log) {
			t.Fatalf("tx %d at H: %d (%s), want %d with %q", i, r[i].Code, r[i].Log, want.code, want.log)
		}
	}
	if rec, _ := n.app.Proposal(content.ID); rec.Status != ledger.ProposalExecuted {
		t.Fatalf("the content-id proposal of protocol 2 not carried at H: %+v", rec)
	}
}
