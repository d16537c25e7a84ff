package machine

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

var updateProtocol5Golden = flag.Bool("update-protocol5-golden", false, "rewrite testdata/protocol5-governance-golden.json with this build (only with the release that introduced protocol 5)")

// protocol5GoldenFile holds the codes, app hashes and results hashes of a
// governance chain at protocol 5 as the release that introduced protocol
// 5 executed it: written with -update-protocol5-golden, never rewritten
// since. A later protocol's release must reproduce it (its rules gated).
// The blocks' hashes are the harness's (testBlockHash): a change of that
// function changes the filings' names and so the app hashes.
const protocol5GoldenFile = "testdata/protocol5-governance-golden.json"

// TestProtocol5GovernanceGolden: a chain at protocol 5 executes a
// governance sequence that exercises the protocol 5 rules (approvals
// naming the open filing by height and block hash, by height only, by
// another block's hash, by the right hash and another height; spellings
// of the member; the member on a propose; a held approval across an
// expiry and a filing again; a name copied from a carried filing; a
// removed key's open proposals) with the codes, app hashes and results
// hashes recorded by the release that introduced protocol 5, so that a
// release of a later protocol shows it executes protocol 5's blocks as
// this one did.
func TestProtocol5GovernanceGolden(t *testing.T) {
	n := newNet5(t, &ledger.NetworkPolicy{ProposalLifetime: "3m"})
	nonce := 0
	fixed := func(i int, p *tx.Payload) []byte {
		nonce++
		p.Nonce = fmt.Sprintf("golden5-%d", nonce)
		return n.govTx(i, p)
	}
	prop := func(i int, p tx.Proposal) []byte { return fixed(i, n.must(tx.NewNetworkProposal(n.gov(i), p))) }
	bare := func(i int, id string) []byte { return fixed(i, n.must(tx.NewNetworkApproval(n.gov(i), id))) }
	appr := func(i int, id string, f int64) []byte {
		return fixed(i, n.must(tx.NewNetworkApprovalOf(n.gov(i), id, f)))
	}
	apprB := func(i int, id string, f int64, b string) []byte {
		return fixed(i, n.must(tx.NewNetworkApprovalOfBlock(n.gov(i), id, f, b)))
	}
	raw := func(i int, body string) []byte {
		nonce++
		return n.rawGovTx(i, fmt.Sprintf(`{"type":"network.approve","did":%q,"nonce":"golden5-%d",%s}`, n.gov(i), nonce, body))
	}
	gov := func(b byte) string { return did.KeyDID(testKey(t, b).Public()) }
	var got governanceGolden
	play := func(txs ...[]byte) { got.playGolden(n, [][][]byte{txs}) }
	a := byContent(tx.Proposal{Action: tx.ActionValidatorPower, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(1)), Power: 11}})
	addX := byContent(tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: gov(74)})
	removeX := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: gov(74)})
	removeKey3 := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: n.gov(3)})
	zeros := strings.Repeat("0", 64)

	h := n.height() + 1
	play(prop(1, a), bare(2, a.ID), appr(2, a.ID, h), apprB(2, a.ID, h, zeros),
		n.rawGovTx(0, fmt.Sprintf(`{"type":"network.propose","did":%q,"nonce":"golden5-p","filing":%d,"filingBlock":%q,"proposal":{"id":%q,"action":"governance.add","governance":%q}}`,
			n.gov(0), h, zeros, tx.ProposalID(&tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: gov(71)}), gov(71))))
	_, b := n.filingOf(a.ID)
	held := apprB(3, a.ID, h, b)
	play(apprB(2, a.ID, h, b), apprB(3, a.ID, h+1, b),
		raw(3, fmt.Sprintf(`"proposalId":%q,"filing":%d,"filingBlock":%q`, a.ID, h, strings.ToUpper(b))),
		raw(3, fmt.Sprintf(`"proposalId":%q,"filingBlock":%q`, a.ID, b)),
		raw(3, fmt.Sprintf(`"proposalId":%q,"filing":%d,"filingBlock":null`, a.ID, h)))
	play()
	play() // a's filing expires
	play(held)
	play(prop(0, a), held) // filed again: the held approval names the first filing
	_, b2 := n.filingOf(a.ID)
	play(apprB(2, a.ID, h+5, b), apprB(2, a.ID, h+5, b2))
	// addX carried (its approvals in the block after its filing), removed, filed again.
	play(prop(0, addX))
	fx, bx := n.filingOf(addX.ID)
	play(apprB(1, addX.ID, fx, bx), apprB(2, addX.ID, fx, bx), prop(0, removeX))
	fr, br := n.filingOf(removeX.ID)
	play(apprB(1, removeX.ID, fr, br), apprB(2, removeX.ID, fr, br), apprB(3, removeX.ID, fr, br), prop(1, addX))
	fx2, _ := n.filingOf(addX.ID)
	play(apprB(3, addX.ID, fx2, bx), prop(1, addX))
	// Key 3, with open proposals, removed.
	play(prop(3, byContent(tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: gov(72)})), prop(0, removeKey3))
	fk, bk := n.filingOf(removeKey3.ID)
	play(apprB(1, removeKey3.ID, fk, bk), apprB(2, removeKey3.ID, fk, bk))
	play(prop(3, byContent(tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: gov(73)})))
	if p := n.app.Protocol(); p.Version != 5 {
		t.Fatalf("the golden chain runs protocol %d", p.Version)
	}
	if v := n.stateOf(ledger.OpenProposalsKey(n.gov(3))); v[0] != nil {
		t.Fatalf("key 3's list after its removal: %q", v[0])
	}
	for i, want := range [][]uint32{
		{0, ledger.CodeInvalid, ledger.CodeInvalid, ledger.CodeInvalid, ledger.CodeMalformed},
		{0, ledger.CodeInvalid, ledger.CodeMalformed, ledger.CodeMalformed, ledger.CodeMalformed},
		{}, {},
		{ledger.CodeInvalid},
		{0, ledger.CodeInvalid},
		{ledger.CodeInvalid, 0},
	} {
		if fmt.Sprint(got.Codes[i]) != fmt.Sprint(want) {
			t.Fatalf("block %d: codes %v, want %v", i, got.Codes[i], want)
		}
	}
	matchGolden(t, protocol5GoldenFile, *updateProtocol5Golden, got, "the release that introduced protocol 5", true)
}
