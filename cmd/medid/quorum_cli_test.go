package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// TestCheckContentID: `medid network approve` refuses to sign an approval
// of a proposal whose content, as the registry shows it, is not what the
// id names (a node showing one entry, one upgrade, one validator while
// the id approves another), and of one filed under an id its proposer
// chose (protocol 2), whose content no answer can prove.
func TestCheckContentID(t *testing.T) {
	stMarysNode, otherNode := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	entry := tx.DirectoryEntry{LegalName: "St Mary's Hospital NHS Trust", DisplayName: "St Mary's Hospital", Kind: tx.KindHospital, Country: "GB"}
	honest := func() *ledger.ProposalRecord {
		e := entry
		rec := &ledger.ProposalRecord{Action: tx.ActionDirectoryAdd, Directory: &tx.DirectoryChange{Org: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", Entry: &e}}
		rec.ID = rec.ChangeID()
		return rec
	}
	validator := func() *ledger.ProposalRecord {
		rec := &ledger.ProposalRecord{Action: tx.ActionValidatorAdd, Validator: &ledger.ProposedValidator{Address: ledger.ValidatorAddress(stMarysNode), PubKey: base64.StdEncoding.EncodeToString(stMarysNode), Power: 10, Org: "did:key:z6Mk", Name: "st-marys"}}
		rec.ID = rec.ContentID()
		return rec
	}
	upgrade := func() *ledger.ProposalRecord {
		rec := &ledger.ProposalRecord{Action: tx.ActionProtocolSchedule, Protocol: &ledger.ProtocolUpgrade{Version: 999, Height: 5000}}
		rec.ID = rec.ContentID()
		return rec
	}
	for _, tc := range []struct {
		name string
		rec  func() *ledger.ProposalRecord
		ok   bool
	}{
		{"as proposed", honest, true},
		{"another name shown", func() *ledger.ProposalRecord {
			r := honest()
			r.Directory.Entry.DisplayName = "St Mary's Hospital (closed)"
			return r
		}, false},
		{"another organisation shown", func() *ledger.ProposalRecord {
			r := honest()
			r.Directory.Org = "did:medid:4tjUh3WKbfF6uy6oyRp9dQ"
			return r
		}, false},
		{"another action shown", func() *ledger.ProposalRecord {
			r := honest()
			r.Action = tx.ActionDirectoryUpdate
			return r
		}, false},
		{"a validator proposal under a chosen id", func() *ledger.ProposalRecord {
			return &ledger.ProposalRecord{ID: "join-st-marys", Action: tx.ActionValidatorAdd, Validator: &ledger.ProposedValidator{PubKey: "AAAA", Power: 10}}
		}, false},
		{"a validator proposal as proposed", validator, true},
		{"another validator power shown", func() *ledger.ProposalRecord {
			r := validator()
			r.Validator.Power = 1000
			return r
		}, false},
		{"another validator's address shown over the key (the id hashes the key, operators read the address)", func() *ledger.ProposalRecord {
			r := validator()
			r.Validator.Address = ledger.ValidatorAddress(otherNode)
			return r
		}, false},
		{"a validator key that is not a key", func() *ledger.ProposalRecord {
			r := validator()
			r.Validator.PubKey, r.Validator.Address = "AAAA", "AB"
			r.ID = r.ContentID()
			return r
		}, false},
		{"an upgrade as proposed", upgrade, true},
		{"an upgrade to 999 shown as 3", func() *ledger.ProposalRecord {
			r := upgrade()
			r.ID = "to-3"
			return r
		}, false},
		{"another version shown", func() *ledger.ProposalRecord {
			r := upgrade()
			r.Protocol.Version = 3
			return r
		}, false},
		{"a scheduled upgrade's bookkeeping is not content", func() *ledger.ProposalRecord {
			r := upgrade()
			r.Protocol.Proposal, r.Protocol.Scheduled = "x", 5
			return r
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkContentID(tc.rec())
			var ee *exitError
			switch {
			case tc.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !tc.ok && (!errors.As(err, &ee) || ee.code != exitInvalid):
				t.Fatalf("got %v, want a refusal with exit %d", err, exitInvalid)
			}
		})
	}
}

// TestProposalShowsKeyAddress: `medid network proposals` and the lines
// propose and approve print name a validator by the address of the key
// the proposal's id hashes, never by the address the registry served
// beside it (which the id does not hash: a node could serve another
// validator's there).
func TestProposalShowsKeyAddress(t *testing.T) {
	key, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	rec := &ledger.ProposalRecord{Action: tx.ActionValidatorRemove, Validator: &ledger.ProposedValidator{Address: ledger.ValidatorAddress(other), PubKey: base64.StdEncoding.EncodeToString(key)}}
	rec.ID = rec.ContentID()
	want, forged := ledger.ValidatorAddress(key), ledger.ValidatorAddress(other)
	for name, got := range map[string]string{
		"describeProposal": describeProposal(rec),
		"proposalSubject":  proposalSubject(context.Background(), nil, rec),
	} {
		if !strings.Contains(got, want) || strings.Contains(got, forged) {
			t.Errorf("%s: %q, want the key's address %s and not the served %s", name, got, want, forged)
		}
	}
}

// TestProposalShowsEntryRoles: a directory entry's roles are content its
// id hashes, and a role performed under a DID makes the directory answer
// a lookup of that DID with the organisation. A stolen governance key
// that adds the real hospital with a vault role under its own did:key
// would have it answered as the hospital: the line approvers read names
// every role and its DID.
func TestProposalShowsEntryRoles(t *testing.T) {
	const attacker = "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
	e := tx.DirectoryEntry{LegalName: "St Mary's Hospital NHS Trust", DisplayName: "St Mary's Hospital", Kind: tx.KindHospital, Country: "GB",
		Roles: []tx.Role{{Role: tx.RoleIssuer}, {Role: tx.RoleVaultOperator, DID: attacker}}, DistinctFrom: []string{"did:medid:other"}}
	for _, action := range []string{tx.ActionDirectoryAdd, tx.ActionDirectoryUpdate} {
		rec := &ledger.ProposalRecord{Action: action, Directory: &tx.DirectoryChange{Org: "did:medid:stmarys", Entry: &e, Version: 2}}
		got := describeProposal(rec)
		for _, want := range []string{tx.RoleIssuer, tx.RoleVaultOperator + " as " + attacker, "distinct from did:medid:other"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: %q does not show %q", action, got, want)
			}
		}
	}
	// An entry with none of them reads as before.
	plain := &ledger.ProposalRecord{Action: tx.ActionDirectoryAdd, Directory: &tx.DirectoryChange{Org: "did:medid:stmarys", Entry: &tx.DirectoryEntry{DisplayName: "St Mary's Hospital", Kind: tx.KindHospital, Country: "GB"}}}
	if got, want := describeProposal(plain), `add did:medid:stmarys to the directory as "St Mary's Hospital" (hospital, GB)`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestPrintProposalChecksReadBack: after a propose or an approve, medid
// prints the proposal as the node shows it then; content the id does not
// name (or another validator's address) is refused, not printed for the
// user to pass on.
func TestPrintProposalChecksReadBack(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	honest := func() *ledger.ProposalRecord {
		rec := &ledger.ProposalRecord{Action: tx.ActionValidatorPower, Validator: &ledger.ProposedValidator{Address: ledger.ValidatorAddress(key), PubKey: base64.StdEncoding.EncodeToString(key), Power: 20},
			Status: ledger.ProposalExecuted, Executed: 7}
		rec.ID = rec.ContentID()
		return rec
	}
	for _, tc := range []struct {
		name string
		edit func(*ledger.ProposalRecord)
		ok   bool
	}{
		{"as filed", func(*ledger.ProposalRecord) {}, true},
		{"another power shown", func(r *ledger.ProposalRecord) { r.Validator.Power = 1000 }, false},
		{"another address shown", func(r *ledger.ProposalRecord) {
			r.Validator.Address = ledger.ValidatorAddress(bytes.Repeat([]byte{2}, 32))
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := honest()
			tc.edit(rec)
			var out bytes.Buffer
			err := printProposal(context.Background(), &env{stdout: &out}, nil, rec, 7)
			var ee *exitError
			switch {
			case tc.ok && (err != nil || !strings.Contains(out.String(), "carried at block 7")):
				t.Fatalf("got %v, %q", err, out.String())
			case !tc.ok && (!errors.As(err, &ee) || ee.code != exitInvalid || out.Len() != 0):
				t.Fatalf("got %v, printed %q; want a refusal and nothing printed", err, out.String())
			}
		})
	}
}
