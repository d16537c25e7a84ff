package machine

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/credentials/did"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Names and accreditations by a governance quorum (docs/design/0019, "Who
// may write"): on a network whose policy has directoryQuorum on, one
// governance key alone writes no directory entry and no accreditation.

// quorumPolicy is the policy of a network that asks the quorum for names.
func quorumPolicy() *ledger.NetworkPolicy { return &ledger.NetworkPolicy{DirectoryQuorum: true} }

// changeTx is the network.propose by governance key i of the change a
// directory.* or issuer.* payload makes (its DID governance key i's).
func (n *netHarness) changeTx(i int, change *tx.Payload) ([]byte, string) {
	n.tb.Helper()
	p := n.must(tx.NewChangeProposal(change))
	return n.govTx(i, p), p.Proposal.ID
}

// carried proposes change with key by[0] and approves it with the others,
// one block each, and fails unless the last approval carried it.
func (n *netHarness) carried(change *tx.Payload, by ...int) string {
	n.tb.Helper()
	raw, id := n.changeTx(by[0], change)
	n.mustBlock(raw)
	for _, g := range by[1:] {
		n.mustBlock(n.approve(g, id))
	}
	if p, err := n.app.Proposal(id); err != nil || p.Status != ledger.ProposalExecuted {
		n.tb.Fatalf("proposal %s after approvals by %v: %+v, %v", id, by, p, err)
	}
	return id
}

func dirPayload(gov string, typ tx.Type, org string, e *tx.DirectoryEntry, version int64, reason string) *tx.Payload {
	return &tx.Payload{Type: typ, DID: gov, Nonce: tx.NewNonce(), Org: org, Entry: e, Version: version, Reason: reason}
}

// stateOf is what the attacks must leave alone: the organisations'
// directory records and the issuers' accreditation records, as stored.
func (n *netHarness) stateOf(keys ...[]byte) [][]byte {
	n.tb.Helper()
	view, _ := n.app.view()
	var out [][]byte
	for _, k := range keys {
		v, err := view.Get(k)
		if err != nil {
			n.tb.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// TestDirectoryQuorumAttacks: one stolen governance key of four, on a
// network with directoryQuorum on. Each of the attacker's moves, sent as
// the plain transaction, is refused; sent as a proposal, it is recorded
// and writes nothing; the same key approving again, a retired key's
// approval, an expired proposal and a proposal whose content differs from
// its id carry nothing. Three keys of four carry each change.
func TestDirectoryQuorumAttacks(t *testing.T) {
	n := newNetHarness(t, quorumPolicy()) // 3 of 4 keys needed
	hospital := n.register(7)
	issuer := n.register(8)
	rogue := n.register(9)
	lookalike := n.register(10)

	// The honest network lists St Mary's and accredits its issuer: three
	// keys each.
	addID := n.carried(dirPayload(n.gov(0), tx.DirectoryAdd, hospital.did, stMarys(), 0, ""), 0, 1, 2)
	acc := n.must(tx.NewIssuerAccredit(n.gov(1), tx.Accreditation{Issuer: issuer.did, Types: []string{"ImmunizationCredential"}, ID: "real-acc"}))
	accID := n.carried(acc, 1, 2, 3)
	rec, err := n.app.Directory(hospital.did)
	if err != nil || rec.Current().Proposal != addID || rec.Current().By != n.gov(0) || rec.Current().Entry.DisplayName != "St Mary's Hospital" {
		t.Fatalf("the carried entry: %+v, %v", rec, err)
	}
	if iss, err := n.app.Accreditations(issuer.did); err != nil || len(iss.Accreditations) != 1 || iss.Accreditations[0].Proposal != accID {
		t.Fatalf("the carried accreditation: %+v, %v", iss, err)
	}

	const thief = 3
	watched := [][]byte{ledger.DirectoryKey(hospital.did), ledger.DirectoryKey(lookalike.did), ledger.IssuerKey(issuer.did), ledger.IssuerKey(rogue.did)}
	before := n.stateOf(watched...)
	look := stMarys()
	look.DisplayName, look.LegalName = "Saint Mary Medical Centre", "Saint Mary Medical Centre Ltd"
	renamed := stMarys()
	renamed.DisplayName = "St Mary's Hospital (closed)"
	moves := []struct {
		name   string
		change *tx.Payload
	}{
		{"list a look-alike under a new, non-confusable name", dirPayload(n.gov(thief), tx.DirectoryAdd, lookalike.did, look, 0, "")},
		{"rename a real hospital", dirPayload(n.gov(thief), tx.DirectoryUpdate, hospital.did, renamed, 2, "")},
		{"suspend a real hospital", dirPayload(n.gov(thief), tx.DirectorySuspend, hospital.did, nil, 2, "under investigation")},
		{"remove a real hospital", dirPayload(n.gov(thief), tx.DirectoryRemove, hospital.did, nil, 2, "closed")},
		{"accredit a rogue issuer", n.must(tx.NewIssuerAccredit(n.gov(thief), tx.Accreditation{Issuer: rogue.did, Types: []string{"AllergyIntoleranceCredential"}}))},
		{"revoke a real issuer", n.must(tx.NewIssuerRevoke(n.gov(thief), issuer.did, "real-acc", t0))},
	}
	for _, m := range moves {
		t.Run(m.name, func(t *testing.T) {
			raw := n.govTx(thief, m.change)
			if r := n.checkTx(raw); r.Code != ledger.CodeUnauthorized || !strings.Contains(r.Log, "approval of 3 of its 4 governance keys") {
				t.Fatalf("CheckTx of the plain transaction: code %d (%s), want unauthorized naming the quorum", r.Code, r.Log)
			}
			if r := n.block(raw)[0]; r.Code != ledger.CodeUnauthorized {
				t.Fatalf("the plain transaction in a block: code %d (%s), want unauthorized", r.Code, r.Log)
			}
			prop, id := n.changeTx(thief, m.change)
			n.mustBlock(prop)
			if p, _ := n.app.Proposal(id); p == nil || p.Status != ledger.ProposalOpen || len(p.Approvals) != 1 {
				t.Fatalf("the proposal: %+v, want open with the proposer's approval", p)
			}
			// The same key approving again counts once.
			if r := n.block(n.approve(thief, id))[0]; r.Code != ledger.CodeExists {
				t.Fatalf("the same key approving twice: code %d (%s), want exists", r.Code, r.Log)
			}
			if after := n.stateOf(watched...); !equalValues(before, after) {
				t.Fatalf("the stolen key changed names or accreditations")
			}
		})
	}

	// A proposal whose id is not the hash of its content (an approval of
	// that id would approve another entry) is refused before the ledger.
	forged := n.must(tx.NewChangeProposal(dirPayload(n.gov(thief), tx.DirectoryUpdate, hospital.did, renamed, 2, "")))
	honest := n.must(tx.NewChangeProposal(dirPayload(n.gov(0), tx.DirectoryUpdate, hospital.did, stMarys(), 2, "")))
	forged.Proposal.ID = honest.Proposal.ID
	if err := forged.Validate(); err == nil || !strings.Contains(err.Error(), "the hash of what it writes") {
		t.Fatalf("a proposal under another content's id: %v, want refused", err)
	}
	raw, err := tx.Sign(forged, n.govs[thief], n.gov(thief)+"#"+n.govs[thief].Public().Multikey())
	if err == nil {
		if r := n.checkTx(raw); r.Code == 0 {
			t.Fatal("CheckTx accepted a proposal under another content's id")
		}
	}
	// Approvals of the rename (an open proposal of the thief) carry only
	// with three keys: the thief and one more are two.
	_, renameID := n.changeTx(thief, moves[1].change)
	n.mustBlock(n.approve(0, renameID))
	if after := n.stateOf(watched...); !equalValues(before, after) {
		t.Fatal("two approvals of four renamed the hospital")
	}
}

func equalValues(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestDirectoryQuorumRetiredKeyAndExpiry: an approval by a key the network
// retired since does not count towards the quorum; a proposal past its
// lifetime takes no approval, and the same change proposed again starts
// over with the proposer's approval alone.
func TestDirectoryQuorumRetiredKeyAndExpiry(t *testing.T) {
	pol := quorumPolicy()
	pol.ProposalLifetime = "3m" // blocks are a minute apart
	n := newNetHarness(t, pol)
	org := n.register(7)
	add := dirPayload(n.gov(3), tx.DirectoryAdd, org.did, stMarys(), 0, "")
	raw, id := n.changeTx(3, add) // key 3 proposes, then is retired
	n.mustBlock(raw)
	retire := tx.Proposal{ID: "retire-3", Action: tx.ActionGovernanceRemove, Governance: n.gov(3)}
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, retire), n.approve(1, retire.ID), n.approve(2, retire.ID))
	// Three keys now: 2 of 3 carry (ceil(3 x 2/3)). Key 3's approval no
	// longer counts, key 0's does: one of two. Nothing written.
	n.mustBlock(n.approve(0, id))
	if _, err := n.app.Directory(org.did); err == nil {
		t.Fatal("the retired key's approval counted")
	}
	// Past the lifetime: no approval is taken.
	n.block()
	if r := n.block(n.approve(1, id))[0]; r.Code != ledger.CodeInvalid || !strings.Contains(r.Log, "expired") {
		t.Fatalf("approving an expired proposal: code %d (%s), want invalid, expired", r.Code, r.Log)
	}
	// The same change (same id) proposed again starts over.
	again, id2 := n.changeTx(0, dirPayload(n.gov(0), tx.DirectoryAdd, org.did, stMarys(), 0, ""))
	if id2 != id {
		t.Fatalf("the same change has id %s, then %s", id, id2)
	}
	n.mustBlock(again)
	if p, _ := n.app.Proposal(id); p.Status != ledger.ProposalOpen || len(p.Approvals) != 1 || p.ProposedBy != n.gov(0) {
		t.Fatalf("proposed again: %+v, want open with one approval by key 0", p)
	}
	// While it is open, proposing it once more is refused (approve it).
	if r := n.block(n.changeTxRaw(1, org.did))[0]; r.Code != ledger.CodeExists || !strings.Contains(r.Log, "approve it") {
		t.Fatalf("proposing an open change again: code %d (%s), want exists", r.Code, r.Log)
	}
	n.mustBlock(n.approve(1, id))
	if rec, err := n.app.Directory(org.did); err != nil || rec.Current().Proposal != id {
		t.Fatalf("after two of three current keys: %+v, %v", rec, err)
	}
	// Carried: it cannot be proposed again.
	if r := n.block(n.changeTxRaw(2, org.did))[0]; r.Code != ledger.CodeExists {
		t.Fatalf("proposing a carried change again: code %d (%s), want exists", r.Code, r.Log)
	}
}

func (n *netHarness) changeTxRaw(i int, org string) []byte {
	raw, _ := n.changeTx(i, dirPayload(n.gov(i), tx.DirectoryAdd, org, stMarys(), 0, ""))
	return raw
}

// TestDirectoryQuorumTurnedOnByProposal: a network without the policy
// (every chain made before it) keeps the rule of one signature; a
// proposal turns the quorum on once the quorum approved it, and nothing
// turns it off.
func TestDirectoryQuorumTurnedOnByProposal(t *testing.T) {
	n := newNetHarness(t, nil)
	a, b := n.register(7), n.register(8)
	n.mustBlock(n.govTx(3, dirPayload(n.gov(3), tx.DirectoryAdd, a.did, stMarys(), 0, "")))
	on := tx.Proposal{ID: "names-need-quorum", Action: tx.ActionDirectoryQuorum}
	n.mustBlock(n.propose(0, on), n.approve(1, on.ID))
	other := stMarys()
	other.DisplayName, other.LegalName = "Other Clinic", "Other Clinic Ltd"
	// Two of four: still off.
	n.mustBlock(n.govTx(3, dirPayload(n.gov(3), tx.DirectoryUpdate, a.did, other, 2, "")))
	n.mustBlock(n.approve(2, on.ID))
	pol, err := n.app.NetworkPolicy()
	if err != nil || !pol.DirectoryQuorum {
		t.Fatalf("policy after three approvals: %+v, %v", pol, err)
	}
	if r := n.block(n.govTx(3, dirPayload(n.gov(3), tx.DirectoryAdd, b.did, stMarys(), 0, "")))[0]; r.Code != ledger.CodeUnauthorized {
		t.Fatalf("one key after the quorum was turned on: code %d (%s), want unauthorized", r.Code, r.Log)
	}
	if r := n.block(n.govTx(3, n.must(tx.NewIssuerAccredit(n.gov(3), tx.Accreditation{Issuer: b.did, Types: []string{"X"}}))))[0]; r.Code != ledger.CodeUnauthorized {
		t.Fatalf("an accreditation by one key: code %d (%s), want unauthorized", r.Code, r.Log)
	}
	n.carried(dirPayload(n.gov(3), tx.DirectoryAdd, b.did, stMarys(), 0, ""), 3, 0, 1)
	again := tx.Proposal{ID: "again", Action: tx.ActionDirectoryQuorum}
	if r := n.block(n.propose(0, again))[0]; r.Code != ledger.CodeExists {
		t.Fatalf("turning it on twice: code %d (%s), want exists", r.Code, r.Log)
	}
	if _, err := tx.NewNetworkProposal(n.gov(0), tx.Proposal{ID: "off", Action: "policy.directoryQuorumOff"}); err == nil {
		t.Fatal("an action that turns the quorum off exists")
	}
}

// TestDirectoryQuorumOneKey: on a chain of one governance key the quorum
// is that key, so the policy changes nothing (registryd init writes it
// on): the plain transactions write at once, as before.
func TestDirectoryQuorumOneKey(t *testing.T) {
	h := newHarnessWithNetwork(t, quorumPolicy())
	org := h.register(1)
	h.mustBlock(h.dirTx(tx.DirectoryAdd, org.did, stMarys(), 0, ""), h.accreditTx(org.did, "a1", []string{"X"}, "", ""))
	if rec, err := h.app.Directory(org.did); err != nil || rec.Current().Proposal != "" {
		t.Fatalf("entry: %+v, %v", rec, err)
	}
}

// newHarnessWithNetwork is newHarness with the network policy pol.
func newHarnessWithNetwork(tb testing.TB, pol *ledger.NetworkPolicy) *harness {
	tb.Helper()
	h := &harness{tb: tb, dir: tb.TempDir(), gov: testKey(tb, 200)}
	h.govDID = did.KeyDID(h.gov.Public())
	h.open()
	g, err := (&Genesis{Governance: []string{h.govDID}, Network: pol}).Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := h.app.InitChain(context.Background(), &abci.RequestInitChain{AppStateBytes: g, InitialHeight: 1, Time: t0}); err != nil {
		tb.Fatal(err)
	}
	return h
}

// TestDirectoryQuorumPolicyBytes: a policy without directoryQuorum is
// stored as before (the member is omitted), so chains without it keep
// their app hashes.
func TestDirectoryQuorumPolicyBytes(t *testing.T) {
	p, err := ledger.NetworkPolicy{}.Effective()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p)
	if want := `{"quorum":{"numerator":2,"denominator":3},"minValidators":4,"maxPower":1000,"proposalLifetime":"168h"}`; string(b) != want {
		t.Fatalf("default policy stored as %s, want %s", b, want)
	}
}

// TestDirectoryQuorumBadProposals: a change proposal the state cannot
// carry is refused when proposed, with the code the plain transaction
// gets, and records nothing; one that becomes impossible while it waits
// (a name taken meanwhile) is refused at the approval that would carry it
// and stays open.
func TestDirectoryQuorumBadProposals(t *testing.T) {
	n := newNetHarness(t, quorumPolicy())
	real, other, late := n.register(7), n.register(8), n.register(9)
	n.carried(dirPayload(n.gov(0), tx.DirectoryAdd, real.did, stMarys(), 0, ""), 0, 1, 2)
	imitation := stMarys()
	imitation.DisplayName, imitation.LegalName = "ST. MARYS HOSPITAL", "St Marys Hospital Ltd"
	clinic := stMarys()
	clinic.DisplayName, clinic.LegalName = "Riverside Clinic", "Riverside Clinic Ltd"
	for _, tc := range []struct {
		name   string
		change *tx.Payload
		code   uint32
	}{
		{"update of an organisation not in the directory", dirPayload(n.gov(1), tx.DirectoryUpdate, other.did, clinic, 2, ""), ledger.CodeNotFound},
		{"add of an organisation listed already", dirPayload(n.gov(1), tx.DirectoryAdd, real.did, clinic, 0, ""), ledger.CodeExists},
		{"a name that imitates a listed one", dirPayload(n.gov(1), tx.DirectoryAdd, other.did, imitation, 0, ""), ledger.CodeExists},
		{"a stale version", dirPayload(n.gov(1), tx.DirectorySuspend, real.did, nil, 5, "review"), ledger.CodeStaleVersion},
		{"an organisation DID never registered", dirPayload(n.gov(1), tx.DirectoryAdd, "did:medid:4tjUh3WKbfF6uy6oyRp9dQ", clinic, 0, ""), ledger.CodeNotFound},
		{"revoking an accreditation that does not exist", n.must(tx.NewIssuerRevoke(n.gov(1), real.did, "none", t0)), ledger.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, id := n.changeTx(1, tc.change)
			if r := n.block(raw)[0]; r.Code != tc.code {
				t.Fatalf("code %d (%s), want %d", r.Code, r.Log, tc.code)
			}
			if _, err := n.app.Proposal(id); err == nil {
				t.Fatal("a refused proposal was recorded")
			}
		})
	}
	// Two proposals of one name: the first carried takes it, the second's
	// last approval is refused and it stays open.
	a, idA := n.changeTx(0, dirPayload(n.gov(0), tx.DirectoryAdd, other.did, clinic, 0, ""))
	b, idB := n.changeTx(0, dirPayload(n.gov(0), tx.DirectoryAdd, late.did, clinic, 0, ""))
	n.mustBlock(a, b)
	n.mustBlock(n.approve(1, idA), n.approve(1, idB))
	n.mustBlock(n.approve(2, idA))
	if r := n.block(n.approve(2, idB))[0]; r.Code != ledger.CodeExists || !strings.Contains(r.Log, "imitation") {
		t.Fatalf("carrying a name taken meanwhile: code %d (%s), want exists, imitation", r.Code, r.Log)
	}
	if p, _ := n.app.Proposal(idB); p.Status != ledger.ProposalOpen || len(p.Approvals) != 2 {
		t.Fatalf("the refused carry: %+v, want open with two approvals", p)
	}
	if _, err := n.app.Directory(late.did); err == nil {
		t.Fatal("the second organisation got the name")
	}
}
