package ledger

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/medid/medid/internal/reflectleaf"
	"github.com/medid/medid/registry/tx"
)

// TestContentIDCoversRecord (red team of protocol 3, issue 18, attacks 1
// and 5): a client approves a proposal after checking that the record a
// node served hashes to the id it approves (ContentID == ID) and that
// the fields derived from hashed ones agree with them (CheckDerived). So
// every field of ProposalRecord is one of: content (a change of it
// changes ContentID), derived (a change of it fails CheckDerived), or
// bookkeeping of the ledger's (who, when, approvals, status), which the
// id does not name and which only a proof against a signed app hash can
// vouch for. The fields are walked by reflection: a field added later
// that is none of these fails the test.
func TestContentIDCoversRecord(t *testing.T) {
	bookkeeping := map[string]bool{
		"ID": true, "ProposedBy": true, "Proposed": true, "Expires": true, "Approvals": true,
		"Status": true, "Executed": true, "Height": true,
		// The filing's block hash (protocol 5), like its height: the
		// ledger's name of the filing, which the approval carries back
		// and the ledger compares; a node that lies about it gets the
		// approval refused (or, with a proof, is caught).
		"FilingBlock": true,
		// A proposal record's layout and protocol hold what is asked
		// (layout or version, height); the rest is the bookkeeping of the
		// scheduled move or upgrade, never set in a proposal and not shown
		// by medid.
		"Layout.Proposal": true, "Layout.Scheduled": true, "Layout.Cursor": true, "Layout.Moved": true,
		"Protocol.Proposal": true, "Protocol.Scheduled": true,
	}
	derived := map[string]bool{"Validator.Address": true}
	pub := bytes.Repeat([]byte{1}, 32)
	entry := &tx.DirectoryEntry{LegalName: "St Mary's Hospital NHS Trust", DisplayName: "St Mary's Hospital", Kind: tx.KindHospital, Country: "GB",
		Website: "https://stmarys.example", Logo: &tx.Logo{SHA256: strings.Repeat("ab", 32), MediaType: "image/png"},
		Roles: []tx.Role{{Role: tx.RoleIssuer, DID: "did:key:z6Mk"}, {Role: tx.RoleVerifier}}, DistinctFrom: []string{"did:medid:x", "did:medid:y"}}
	// One base with every field set: ContentID hashes what the action
	// takes, and a node may serve any field with any action.
	bases := []ProposalRecord{
		{Action: ActionValidatorAdd, Validator: &ProposedValidator{Address: ValidatorAddress(pub), PubKey: base64.StdEncoding.EncodeToString(pub), Power: 5, Org: "did:medid:org", Name: "st-marys"},
			Governance: "did:key:z6Mk", AllowBelowMinimum: true, Layout: &LayoutMove{Layout: 2, Height: 100}, Protocol: &ProtocolUpgrade{Version: 4, Height: 100}},
		{Action: tx.ActionDirectoryUpdate, Directory: &tx.DirectoryChange{Org: "did:medid:org", Entry: entry, Version: 2, Reason: "r"},
			Accreditation: &tx.AccreditationChange{Issuer: "did:medid:org", CredentialTypes: []string{"A", "B"}, ValidFrom: "f", ValidUntil: "u", AccreditationID: "a", RevokedAt: "r"}},
		{Action: tx.ActionIssuerAccredit, Directory: &tx.DirectoryChange{Org: "did:medid:org", Entry: entry, Version: 2, Reason: "r"},
			Accreditation: &tx.AccreditationChange{Issuer: "did:medid:org", CredentialTypes: []string{"A", "B"}, ValidFrom: "f", ValidUntil: "u", AccreditationID: "a", RevokedAt: "r"}},
	}
	copyRec := func(r *ProposalRecord) *ProposalRecord {
		b, _ := json.Marshal(r)
		var out ProposalRecord
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return &out
	}
	leaves := reflectleaf.Leaves(reflect.TypeOf(ProposalRecord{}), "", func(ty reflect.Type) bool {
		return ty == reflect.TypeOf(Approval{}) || ty.PkgPath() == "time"
	})
	change := func(v reflect.Value, sl bool) {
		switch k := v.Kind(); {
		case sl:
			v.Set(v.Slice(0, v.Len()-1)) // one element fewer
		case k == reflect.String:
			v.SetString(v.String() + "x")
		case k == reflect.Bool:
			v.SetBool(!v.Bool())
		case k >= reflect.Int && k <= reflect.Int64:
			v.SetInt(v.Int() + 1)
		case k >= reflect.Uint && k <= reflect.Uint64:
			v.SetUint(v.Uint() + 1)
		default:
			t.Fatalf("a leaf of kind %s: teach this test to change it", k)
		}
	}
	for _, l := range leaves {
		if bookkeeping[strings.SplitN(l.Name, "[", 2)[0]] || strings.HasPrefix(l.Name, "Approvals") {
			continue
		}
		if l.Name == "" {
			continue
		}
		shown := false
		for _, base := range bases {
			base.ID = base.ContentID()
			if err := base.CheckDerived(); err != nil {
				t.Fatal(err)
			}
			r := copyRec(&base)
			v := reflectleaf.At(reflect.ValueOf(r).Elem(), l.Path)
			if l.Slice && v.Len() == 0 {
				continue
			}
			// (Compared with r before the change, not with base: reaching
			// the leaf may have filled a nil pointer.)
			before, derivedOK := r.ContentID(), r.CheckDerived() == nil
			change(v, l.Slice)
			switch {
			case r.ContentID() != before:
				shown = true
			case derived[l.Name] && derivedOK && r.CheckDerived() != nil:
				shown = true
			}
		}
		if !shown {
			t.Errorf("ProposalRecord.%s: a change of it leaves ContentID and CheckDerived as they were: hash it (tx.ProposalID), derive it and check it (CheckDerived), or list it as bookkeeping that medid does not show", l.Name)
		}
	}
}
