package machine

import (
	"flag"
	"fmt"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

var updateProtocol3Golden = flag.Bool("update-protocol3-golden", false, "rewrite testdata/protocol3-governance-golden.json with this build (only with the release of before protocol 4)")

// protocol3GoldenFile holds the codes and app hashes of a governance
// chain at protocol 3 as the release of before protocol 4 (commit
// 0f9cab6) executed it: written there with -update-protocol3-golden,
// never rewritten since.
const protocol3GoldenFile = "testdata/protocol3-governance-golden.json"

// TestProtocol3GovernanceGolden: a chain at protocol 3 executes the
// governance transactions protocol 4 changes the rules of (approvals
// carrying the filing member, as a number, 0, null, a string, on a
// network.propose too; an approval held back across the expiry of its
// filing and counted for the next filing; one held back across a
// schedule's carry, cancel and filing again; content carried and filed
// again in the same block; a governance key with open proposals removed)
// with exactly the codes and app hashes the release of before protocol 4
// gave them: every protocol 4 rule is gated, and a transaction with the
// new member is refused below 4 as that release refused it.
func TestProtocol3GovernanceGolden(t *testing.T) {
	n := newNet3(t, &ledger.NetworkPolicy{ProposalLifetime: "3m"})
	nonce := 0
	next := func() string { nonce++; return fmt.Sprintf("golden3-%d", nonce) }
	fixed := func(i int, p *tx.Payload) []byte {
		p.Nonce = next()
		return n.govTx(i, p)
	}
	prop := func(i int, p tx.Proposal) []byte { return fixed(i, n.must(tx.NewNetworkProposal(n.gov(i), p))) }
	appr := func(i int, id string) []byte { return fixed(i, n.must(tx.NewNetworkApproval(n.gov(i), id))) }
	// withFiling is key i's approval of id with a "filing" member of JSON
	// value v (what protocol 4 adds; protocol 3's decoder knows no such
	// member).
	withFiling := func(i int, id, v string) []byte {
		return n.rawGovTx(i, fmt.Sprintf(`{"type":"network.approve","did":%q,"nonce":%q,"proposalId":%q,"filing":%s}`, n.gov(i), next(), id, v))
	}
	gov := func(b byte) string { return did.KeyDID(testKey(t, b).Public()) }
	a := byContent(tx.Proposal{Action: tx.ActionValidatorPower, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(1)), Power: 11}})
	H := n.height() + 400
	sched := byContent(upgradeProposal("", 999, H))
	cancel := byContent(upgradeCancel("", 999, H))
	addX := byContent(tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: gov(74)})
	removeX := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: gov(74)})
	removeKey3 := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: n.gov(3)})
	filed := n.height() + 1 // the block that files a
	newMember := [][]byte{
		withFiling(2, a.ID, fmt.Sprint(filed)),
		withFiling(2, a.ID, "0"),
		withFiling(2, a.ID, "null"),
		withFiling(2, a.ID, `"1"`),
		withFiling(2, a.ID, "-1"),
		n.rawGovTx(0, fmt.Sprintf(`{"type":"network.propose","did":%q,"nonce":%q,"filing":1,"proposal":{"id":%q,"action":"governance.add","governance":%q}}`,
			n.gov(0), next(), tx.ProposalID(&tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: gov(71)}), gov(71))),
	}
	held := appr(2, a.ID)          // signed for a's first filing, held back
	heldSched := appr(2, sched.ID) // signed for the schedule's first filing, held back
	blocks := [][][]byte{
		append([][]byte{prop(1, a)}, newMember...),
		nil, nil, nil, // a's filing expires (3 minutes, a block a minute)
		{held},
		{prop(0, a), held, appr(3, a.ID)}, // filed again: the held approval counts for it (protocol 3's limit)
		{prop(0, sched), appr(1, sched.ID), appr(3, sched.ID)},
		{prop(1, cancel), appr(0, cancel.ID), appr(3, cancel.ID)},
		{prop(0, sched), heldSched, appr(1, sched.ID)}, // scheduled again with the held approval
		// Carried, removed and filed again in one block; approved in the next.
		{prop(0, addX), appr(1, addX.ID), appr(2, addX.ID), prop(0, removeX), appr(1, removeX.ID), appr(2, removeX.ID), appr(3, removeX.ID), prop(1, addX)},
		{appr(2, addX.ID)},
		{prop(3, byContent(tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: gov(72)})), prop(0, removeKey3), appr(1, removeKey3.ID), appr(2, removeKey3.ID)},
		{prop(3, byContent(tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: gov(73)}))},
	}

	var got governanceGolden
	for _, raw := range newMember {
		got.Check = append(got.Check, n.checkTx(raw).Code)
	}
	got.playGolden(n, blocks)
	if p := n.app.Protocol(); p.Version != 3 {
		t.Fatalf("the golden chain runs protocol %d", p.Version)
	}
	matchGolden(t, protocol3GoldenFile, *updateProtocol3Golden, got, "the release of before protocol 4", true)
}
