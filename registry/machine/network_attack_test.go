package machine

import (
	"testing"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// TestValidatorSetFloorUnderConcurrentProposals: the floor of four
// validators (one faulty node tolerated) is checked when a removal is
// carried, not only when it is proposed. With five validators, two
// removals each leave four when proposed; whichever is carried second
// would leave three, and is refused, whether the approvals come in later
// blocks or in the same one. validator.power cannot stand in for a
// removal (power 0 is not a power).
func TestValidatorSetFloorUnderConcurrentProposals(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sameBlock bool
	}{
		{"second carried in a later block", false},
		{"both carried in one block", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNetHarness(t, nil) // four validators, 3 of 4 governance keys needed
			org := n.register(7)
			fifth := tx.Proposal{ID: "fifth", Action: tx.ActionValidatorAdd,
				Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(9)), Power: 10, Org: org.did}}
			n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, fifth), n.approve(1, fifth.ID), n.approve(2, fifth.ID))
			if got := len(n.activeValidators()); got != 5 {
				t.Fatalf("validators after the add: %d, want 5", got)
			}
			rmA := tx.Proposal{ID: "rm-a", Action: tx.ActionValidatorRemove, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(0))}}
			rmB := tx.Proposal{ID: "rm-b", Action: tx.ActionValidatorRemove, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(1))}}
			n.blockUpdates([]uint32{0, 0, 0, 0}, n.propose(0, rmA), n.approve(1, rmA.ID), n.propose(2, rmB), n.approve(3, rmB.ID))
			if tc.sameBlock {
				res := n.block(n.approve(2, rmA.ID), n.approve(0, rmB.ID))
				if res[0].Code != 0 || res[1].Code != ledger.CodeInvalid {
					t.Fatalf("codes %d (%s), %d (%s): want the first carried and the second refused", res[0].Code, res[0].Log, res[1].Code, res[1].Log)
				}
			} else {
				n.blockUpdates([]uint32{0}, n.approve(2, rmA.ID))
				if r := n.block(n.approve(0, rmB.ID)); r[0].Code != ledger.CodeInvalid {
					t.Fatalf("the removal carried second: code %d (%s), want invalid", r[0].Code, r[0].Log)
				}
			}
			if got := len(n.activeValidators()); got != 4 {
				t.Fatalf("validators after two removals: %d, want 4", got)
			}
			if p, _ := n.app.Proposal(rmB.ID); p.Status != ledger.ProposalOpen {
				t.Fatalf("the refused removal: %+v, want still open", p)
			}
			// Power 0 is refused before it reaches the state.
			zero := tx.Proposal{ID: "zero", Action: tx.ActionValidatorPower, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(2)), Power: 0}}
			if p, err := tx.NewNetworkProposal(n.gov(0), zero); err == nil {
				if r := n.checkTx(n.govTx(0, p)); r.Code == 0 {
					t.Fatal("validator.power to 0 accepted: a removal without the floor's check")
				}
			}
		})
	}
}

// TestRetiredGovernanceKeyWritesNothing: a governance key the network
// retired by proposal can no longer name organisations, accredit issuers
// or propose, and what it wrote before stays.
func TestRetiredGovernanceKeyWritesNothing(t *testing.T) {
	n := newNetHarness(t, nil)
	org := n.register(7)
	n.blockUpdates([]uint32{0}, n.govTx(3, &tx.Payload{Type: tx.DirectoryAdd, DID: n.gov(3), Org: org.did, Entry: stMarys()}))
	rm := tx.Proposal{ID: "retire-3", Action: tx.ActionGovernanceRemove, Governance: n.gov(3)}
	n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, rm), n.approve(1, rm.ID), n.approve(2, rm.ID))
	other := n.register(8)
	named := stMarys()
	named.DisplayName, named.LegalName = "Other Clinic", "Other Clinic Ltd"
	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"a directory entry", n.govTx(3, &tx.Payload{Type: tx.DirectoryAdd, DID: n.gov(3), Org: other.did, Entry: named})},
		{"a suspension of an entry it wrote", n.govTx(3, &tx.Payload{Type: tx.DirectorySuspend, DID: n.gov(3), Org: org.did, Version: 2, Reason: "spite"})},
		{"an accreditation", n.govTx(3, n.must(tx.NewIssuerAccredit(n.gov(3), tx.Accreditation{Issuer: other.did, Types: []string{"ImmunizationCredential"}})))},
		{"a proposal", n.propose(3, tx.Proposal{ID: "back", Action: tx.ActionGovernanceAdd, Governance: n.gov(3)})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := n.block(tc.raw)[0]; r.Code != ledger.CodeUnauthorized {
				t.Fatalf("code %d (%s), want unauthorized", r.Code, r.Log)
			}
		})
	}
	if rec, err := n.app.Directory(org.did); err != nil || len(rec.Versions) != 1 || rec.Versions[0].Status != ledger.DirectoryActive {
		t.Fatalf("the entry it wrote before: %+v, %v", rec, err)
	}
}
