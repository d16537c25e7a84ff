package machine

import (
	"flag"
	"fmt"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

var updateProtocol4Golden = flag.Bool("update-protocol4-golden", false, "rewrite testdata/protocol4-governance-golden.json with this build (only with the release that introduced protocol 4)")

// protocol4GoldenFile holds the codes, app hashes and results hashes of a
// governance chain at protocol 4 as the release that introduced protocol
// 4 executed it: written with -update-protocol4-golden, never rewritten
// since. A later protocol's release must reproduce it (its rules gated).
const protocol4GoldenFile = "testdata/protocol4-governance-golden.json"

// TestProtocol4GovernanceGolden: a chain at protocol 4 executes a
// governance sequence that exercises the protocol 4 rules (approvals
// naming the open filing, none, the block before, the block after; a
// held-back approval across an expiry and a filing again; content carried
// and filed again in one block, then in the next; a governance key with
// open proposals removed; the filing member on a propose) with the codes,
// app hashes and results hashes recorded by the release that introduced
// protocol 4, so that a release of a later protocol shows it executes
// protocol 4's blocks as this one did.
func TestProtocol4GovernanceGolden(t *testing.T) {
	n := newNet4(t, &ledger.NetworkPolicy{ProposalLifetime: "3m"})
	nonce := 0
	fixed := func(i int, p *tx.Payload) []byte {
		nonce++
		p.Nonce = fmt.Sprintf("golden4-%d", nonce)
		return n.govTx(i, p)
	}
	prop := func(i int, p tx.Proposal) []byte { return fixed(i, n.must(tx.NewNetworkProposal(n.gov(i), p))) }
	bare := func(i int, id string) []byte { return fixed(i, n.must(tx.NewNetworkApproval(n.gov(i), id))) }
	appr := func(i int, id string, f int64) []byte {
		return fixed(i, n.must(tx.NewNetworkApprovalOf(n.gov(i), id, f)))
	}
	gov := func(b byte) string { return did.KeyDID(testKey(t, b).Public()) }
	a := byContent(tx.Proposal{Action: tx.ActionValidatorPower, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(1)), Power: 11}})
	addX := byContent(tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: gov(74)})
	removeX := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: gov(74)})
	removeKey3 := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: n.gov(3)})
	h := n.height() + 1 // the block of the first filing
	held := appr(2, a.ID, h)
	blocks := [][][]byte{
		{prop(1, a), bare(2, a.ID), appr(2, a.ID, h-1), appr(2, a.ID, h+1),
			n.rawGovTx(0, fmt.Sprintf(`{"type":"network.propose","did":%q,"nonce":"golden4-p","filing":%d,"proposal":{"id":%q,"action":"governance.add","governance":%q}}`,
				n.gov(0), h, tx.ProposalID(&tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: gov(71)}), gov(71)))},
		nil, nil, nil, // a's filing expires
		{held},
		{prop(0, a), held, appr(3, a.ID, h+5)}, // filed again at h+5: the held approval names h
		{appr(2, a.ID, h+5)},
		{prop(0, addX), appr(1, addX.ID, h+7), appr(2, addX.ID, h+7), prop(0, removeX), appr(1, removeX.ID, h+7), appr(2, removeX.ID, h+7), appr(3, removeX.ID, h+7), prop(1, addX)},
		{prop(1, addX)},
		{prop(3, byContent(tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: gov(72)})), prop(0, removeKey3), appr(1, removeKey3.ID, h+9), appr(2, removeKey3.ID, h+9)},
		{prop(3, byContent(tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: gov(73)}))},
	}
	var got governanceGolden
	got.playGolden(n, blocks)
	if p := n.app.Protocol(); p.Version != 4 {
		t.Fatalf("the golden chain runs protocol %d", p.Version)
	}
	if v := n.stateOf(ledger.OpenProposalsKey(n.gov(3))); v[0] != nil {
		t.Fatalf("key 3's list after its removal: %q", v[0])
	}
	matchGolden(t, protocol4GoldenFile, *updateProtocol4Golden, got, "the release that introduced protocol 4", true)
}
