package main

import (
	"errors"
	"testing"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// TestCheckChangeID: `medid network approve` refuses to sign an approval
// of a directory or accreditation proposal whose content, as the registry
// shows it, is not what the id names (a node showing one entry while the
// id approves another).
func TestCheckChangeID(t *testing.T) {
	entry := tx.DirectoryEntry{LegalName: "St Mary's Hospital NHS Trust", DisplayName: "St Mary's Hospital", Kind: tx.KindHospital, Country: "GB"}
	honest := func() *ledger.ProposalRecord {
		e := entry
		rec := &ledger.ProposalRecord{Action: tx.ActionDirectoryAdd, Directory: &tx.DirectoryChange{Org: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", Entry: &e}}
		rec.ID = rec.ChangeID()
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
		{"a validator proposal (its id is chosen)", func() *ledger.ProposalRecord {
			return &ledger.ProposalRecord{ID: "join-st-marys", Action: tx.ActionValidatorAdd}
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkChangeID(tc.rec())
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
