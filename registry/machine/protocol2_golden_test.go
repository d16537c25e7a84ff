package machine

import (
	"flag"
	"fmt"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

var updateProtocol2Golden = flag.Bool("update-protocol2-golden", false, "rewrite testdata/protocol2-governance-golden.json with this build (only with the release of before protocol 3)")

// protocol2GoldenFile holds the codes and app hashes of a governance
// chain at protocol 2 as the release of before protocol 3 (commit
// 8d4d7c0) executed it: written there with -update-protocol2-golden,
// never rewritten since.
const protocol2GoldenFile = "testdata/protocol2-governance-golden.json"

// TestProtocol2GovernanceGolden: a chain at protocol 2 executes the
// governance transactions protocol 3 changed the rules of (chosen ids of
// every action, the same id filed twice, an id carried filed again, one
// key's many open proposals, a proposal under a content-like id, a
// schedule and its cancel, approvals of each, an expired change filed
// again) with exactly the codes and app hashes the release of before
// protocol 3 gave them: every protocol 3 rule is gated.
func TestProtocol2GovernanceGolden(t *testing.T) {
	n := newNetHarness(t, &ledger.NetworkPolicy{ProposalLifetime: "5m", DirectoryQuorum: true})
	nonce := 0
	fixed := func(i int, p *tx.Payload) []byte {
		nonce++
		p.Nonce = fmt.Sprintf("golden-%d", nonce)
		return n.govTx(i, p)
	}
	prop := func(i int, p tx.Proposal) []byte { return fixed(i, n.must(tx.NewNetworkProposal(n.gov(i), p))) }
	appr := func(i int, id string) []byte { return fixed(i, n.must(tx.NewNetworkApproval(n.gov(i), id))) }
	gov := func(b byte) string { return did.KeyDID(testKey(t, b).Public()) }
	H := n.height() + 300
	blocks := [][][]byte{
		{prop(0, tx.Proposal{ID: "join", Action: tx.ActionValidatorAdd, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(9)), Power: 5, Org: n.gov(1), Name: "st-marys"}}), appr(1, "join")},
		{appr(2, "join"), prop(3, tx.Proposal{ID: "join", Action: tx.ActionGovernanceAdd, Governance: gov(50)})},
		{prop(0, tx.Proposal{ID: "leave", Action: tx.ActionValidatorRemove, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(9))}}), appr(1, "leave"), appr(2, "leave")},
		{prop(0, tx.Proposal{ID: "join", Action: tx.ActionValidatorAdd, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(9)), Power: 5, Org: n.gov(1), Name: "st-marys"}})},
		{prop(3, tx.Proposal{ID: "to-3", Action: tx.ActionProtocolSchedule, Protocol: &tx.ProposedProtocol{Version: 999, Height: H}}), appr(1, "to-3"), appr(2, "to-3")},
		{prop(0, tx.Proposal{ID: "protocol-00000000000000000000000000000000", Action: tx.ActionProtocolCancel, Protocol: &tx.ProposedProtocol{Version: 999, Height: H}}), appr(1, "protocol-00000000000000000000000000000000")},
		{appr(2, "protocol-00000000000000000000000000000000"), prop(1, tx.Proposal{ID: "power", Action: tx.ActionValidatorPower, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(0)), Power: 20}})},
		{prop(2, tx.Proposal{ID: "move", Action: tx.ActionLayoutSchedule, Layout: &tx.ProposedLayout{Layout: 2, Height: H}}), prop(2, tx.Proposal{ID: "policy", Action: ledger.ActionDirectoryQuorum})},
	}
	var many [][]byte
	for i := range 20 {
		many = append(many, prop(3, tx.Proposal{ID: fmt.Sprintf("spam-%d", i), Action: tx.ActionGovernanceAdd, Governance: gov(byte(60 + i))}))
	}
	blocks = append(blocks, many)
	// A directory change proposed, expired, proposed again; approvals of
	// the first filing do not count.
	entry := dirPayload(n.gov(0), tx.DirectoryAdd, gov(90), stMarys(), 0, "")
	change := n.must(tx.NewChangeProposal(entry))
	changeID := change.Proposal.ID
	blocks = append(blocks, [][]byte{fixed(0, change), appr(1, changeID)})
	for range 6 {
		blocks = append(blocks, nil)
	}
	again := n.must(tx.NewChangeProposal(dirPayload(n.gov(2), tx.DirectoryAdd, gov(90), stMarys(), 0, "")))
	blocks = append(blocks, [][]byte{fixed(2, again)}, [][]byte{appr(3, changeID)}, [][]byte{appr(1, changeID)})

	var got governanceGolden
	got.playGolden(n, blocks)
	if p := n.app.Protocol(); p.Version != 2 {
		t.Fatalf("the golden chain runs protocol %d", p.Version)
	}
	matchGolden(t, protocol2GoldenFile, *updateProtocol2Golden, got, "the release of before protocol 3", false)
}
