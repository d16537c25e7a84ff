package tx

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/medid/medid/internal/reflectleaf"
)

// Red team of protocol 3 (issue 18, attack 1): a proposal's id is the
// hash of its content, so every field that changes what a proposal
// carries must be inside the hash. A field outside it would let two
// contents share one id, and an approval, which names the id, would
// approve both: the hole protocol 3 closes, open again.
//
// The test does not list the fields: it walks the types by reflection,
// so a field added to Proposal (or to any type it holds) later is
// walked too. For every action it starts from a valid proposal with
// every field its action takes set, changes one leaf at a time to
// values of its kind, and checks that every change that leaves a valid
// proposal with other content gives another id.

// deepCopy copies a proposal through its JSON (every field of these
// types has a JSON name; a field without one is left zero in the copy,
// which is a change the test then checks).
func deepCopy(t *testing.T, p *Proposal) *Proposal {
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var out Proposal
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// sameContent compares two proposals' content (not their ids), an empty
// slice equal to none (the ledger stores both as no member).
func sameContent(a, b *Proposal) bool {
	norm := func(p *Proposal) any {
		q := *p
		q.ID = ""
		var m any
		raw, _ := json.Marshal(q)
		_ = json.Unmarshal(raw, &m)
		return m
	}
	return reflect.DeepEqual(norm(a), norm(b)) && reflect.DeepEqual(zeroSlicesNil(a), zeroSlicesNil(b))
}

// zeroSlicesNil is p (without id) with every empty slice made nil, for a
// comparison that also sees fields JSON would not show.
func zeroSlicesNil(p *Proposal) *Proposal {
	q := *p
	q.ID = ""
	var fix func(v reflect.Value)
	fix = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				c := reflect.New(v.Type().Elem())
				c.Elem().Set(v.Elem())
				v.Set(c)
				fix(v.Elem())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					fix(v.Field(i))
				}
			}
		case reflect.Slice:
			if v.Len() == 0 {
				v.SetZero()
				return
			}
			c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			reflect.Copy(c, v)
			v.Set(c)
			for i := range v.Len() {
				fix(v.Index(i))
			}
		}
	}
	fix(reflect.ValueOf(&q).Elem())
	return &q
}

func TestProposalIDCoversEveryField(t *testing.T) {
	key1 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	key2 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	const (
		gov1 = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
		gov2 = "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
		org  = "did:medid:4tjUh3WKbfF6uy6oyRp9dQ"
	)
	entry := func() *DirectoryEntry {
		return &DirectoryEntry{LegalName: "St Mary's Hospital NHS Trust", DisplayName: "St Mary's Hospital", Kind: KindHospital, Country: "GB",
			Website: "https://stmarys.example", Logo: &Logo{SHA256: strings.Repeat("ab", 32), MediaType: "image/png"},
			Roles:        []Role{{Role: RoleIssuer}, {Role: RoleVaultOperator, DID: gov2}},
			DistinctFrom: []string{"did:medid:9tjUh3WKbfF6uy6oyRp9dQ"}}
	}
	bases := []Proposal{
		{Action: ActionValidatorAdd, Validator: &ProposedValidator{PubKey: key1, Power: 5, Org: org, Name: "st-marys"}},
		{Action: ActionValidatorPower, Validator: &ProposedValidator{PubKey: key1, Power: 20}},
		{Action: ActionValidatorRemove, Validator: &ProposedValidator{PubKey: key1}},
		{Action: ActionValidatorRemove, Validator: &ProposedValidator{PubKey: key1}, AllowBelowMinimum: true},
		{Action: ActionGovernanceAdd, Governance: gov1},
		{Action: ActionGovernanceRemove, Governance: gov1},
		{Action: ActionLayoutSchedule, Layout: &ProposedLayout{Layout: MoveToLayout, Height: 100}},
		{Action: ActionLayoutCancel, Layout: &ProposedLayout{Layout: MoveToLayout, Height: 100}},
		{Action: ActionProtocolSchedule, Protocol: &ProposedProtocol{Version: 4, Height: 100}},
		{Action: ActionProtocolCancel, Protocol: &ProposedProtocol{Version: 4, Height: 100}},
		{Action: ActionDirectoryQuorum},
		{Action: ActionDirectoryAdd, Directory: &DirectoryChange{Org: org, Entry: entry()}},
		{Action: ActionDirectoryUpdate, Directory: &DirectoryChange{Org: org, Entry: entry(), Version: 2}},
		{Action: ActionDirectorySuspend, Directory: &DirectoryChange{Org: org, Version: 3, Reason: "under review"}},
		{Action: ActionDirectoryRemove, Directory: &DirectoryChange{Org: org, Version: 2, Reason: "closed"}},
		{Action: ActionIssuerAccredit, Accreditation: &AccreditationChange{Issuer: org, CredentialTypes: []string{"PatientIdentity", "Immunization"},
			ValidFrom: "2026-01-01T00:00:00Z", ValidUntil: "2028-01-01T00:00:00Z", AccreditationID: "acc-1"}},
		{Action: ActionIssuerRevoke, Accreditation: &AccreditationChange{Issuer: org, AccreditationID: "acc-1", RevokedAt: "2026-06-01T00:00:00Z"}},
	}
	// Values a leaf is set to: each of its kind, the ones that make a
	// valid proposal among them (keys, DIDs, times, URLs, names).
	strs := func(cur string) []string {
		return []string{"", cur + "x", "x" + cur, strings.ToUpper(cur), key2, gov2, org, "did:medid:9tjUh3WKbfF6uy6oyRp9dQ",
			"2027-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00", "https://other.example", strings.Repeat("cd", 32), "image/jpeg", "FR",
			KindClinic, RoleVerifier, RoleValidator, "Immunization", "acc-2",
			ActionValidatorAdd, ActionValidatorPower, ActionValidatorRemove, ActionGovernanceAdd, ActionGovernanceRemove,
			ActionLayoutSchedule, ActionLayoutCancel, ActionProtocolSchedule, ActionProtocolCancel,
			ActionDirectoryAdd, ActionDirectoryUpdate, ActionDirectorySuspend, ActionDirectoryRemove, ActionIssuerAccredit, ActionIssuerRevoke}
	}
	leaves := reflectleaf.Leaves(reflect.TypeOf(Proposal{}), "proposal", nil)
	tried, valid := 0, 0
	reached := map[string]bool{}
	for _, base := range bases {
		base.ID = ProposalID(&base)
		if msg := validProposal(&base); msg != "" {
			t.Fatalf("base %s is not valid: %s", base.Action, msg)
		}
		for _, l := range leaves {
			if l.Name == "proposal.ID" {
				continue
			}
			var muts []func(v reflect.Value)
			cur := reflectleaf.At(reflect.ValueOf(deepCopy(t, &base)).Elem(), l.Path)
			switch k := cur.Kind(); {
			case l.Slice:
				muts = append(muts, func(v reflect.Value) { v.SetZero() },
					func(v reflect.Value) { v.Set(reflect.MakeSlice(v.Type(), 0, 0)) },
					func(v reflect.Value) {
						if v.Len() > 0 {
							v.Set(v.Slice(0, v.Len()-1))
						}
					},
					func(v reflect.Value) {
						if v.Len() > 1 { // another order
							c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
							reflect.Copy(c, v)
							a, b := c.Index(0).Interface(), c.Index(1).Interface()
							c.Index(0).Set(reflect.ValueOf(b))
							c.Index(1).Set(reflect.ValueOf(a))
							v.Set(c)
						}
					})
			case k == reflect.String:
				for _, s := range strs(cur.String()) {
					muts = append(muts, func(v reflect.Value) { v.SetString(s) })
				}
			case k == reflect.Bool:
				muts = append(muts, func(v reflect.Value) { v.SetBool(!v.Bool()) })
			case k >= reflect.Int && k <= reflect.Int64:
				for _, d := range []int64{1, -1, 7, 1 << 40} {
					muts = append(muts, func(v reflect.Value) { v.SetInt(v.Int() + d) })
				}
				muts = append(muts, func(v reflect.Value) { v.SetInt(0) }, func(v reflect.Value) { v.SetInt(2) })
			case k >= reflect.Uint && k <= reflect.Uint64:
				for _, d := range []uint64{1, 7, 1 << 40} {
					muts = append(muts, func(v reflect.Value) { v.SetUint(v.Uint() + d) })
				}
				muts = append(muts, func(v reflect.Value) { v.SetUint(0) }, func(v reflect.Value) { v.SetUint(2) })
			default:
				t.Fatalf("%s: a leaf of kind %s: teach this test to change it", l.Name, k)
			}
			for i, mut := range muts {
				p := deepCopy(t, &base)
				mut(reflectleaf.At(reflect.ValueOf(p).Elem(), l.Path))
				if sameContent(p, &base) {
					continue
				}
				tried++
				p.ID = ProposalID(p)
				if validProposal(p) != "" {
					continue
				}
				valid++
				reached[l.Name] = true
				if p.ID == base.ID {
					pj, _ := json.Marshal(p)
					t.Errorf("%s: %s changed (value %d) and the id stayed %s: two contents, one id\n%s", base.Action, l.Name, i, base.ID, pj)
				}
			}
		}
	}
	t.Logf("%d changes of %d leaves, %d of them valid proposals, none sharing an id with its base", tried, len(leaves), valid)
	if valid < 100 {
		t.Fatalf("only %d valid changes: the test no longer reaches the fields", valid)
	}
	// A leaf the walk never changed into a valid proposal would be a
	// field whose hashing this test does not show.
	var missed []string
	for _, l := range leaves {
		// (Layout.Layout has one valid value, MoveToLayout: no other
		// content has it.)
		if l.Name != "proposal.ID" && l.Name != "proposal.Layout.Layout" && !reached[l.Name] {
			missed = append(missed, l.Name)
		}
	}
	if len(missed) > 0 {
		t.Errorf("no change of %s gave a valid proposal: give the test a value that does, so its hashing is shown", strings.Join(missed, ", "))
	}
}

// FuzzProposalIDOneContent: two proposals the strict decoder takes and
// that validate under their content ids have the same id only if they
// have the same content (an empty list and none being the same): no
// encoding trick of either makes two contents share an id.
func FuzzProposalIDOneContent(f *testing.F) {
	key := strings.Repeat("A", 43) + "="
	for _, pair := range [][2]string{
		{`{"id":"x","action":"governance.add","governance":"did:key:z6Mk"}`, `{"id":"x","action":"governance\u002eadd","governance":"\u0064id:key:z6Mk","validator":null}`},
		{`{"id":"x","action":"validator.remove","validator":{"pubKey":"` + key + `"}}`, `{"id":"x","action":"validator.remove","validator":{"pubKey":"` + key + `","power":0},"allowBelowMinimum":false}`},
		{`{"id":"x","action":"validator.add","validator":{"pubKey":"` + key + `","power":5,"org":"did:x:y","name":"a"}}`, `{"id":"x","action":"validator.add","validator":{"pubKey":"` + key + `","power":5,"org":"did:x:y","name":"b"}}`},
		{`{"id":"x","action":"issuer.accredit","accreditation":{"issuer":"did:key:z6Mk","credentialTypes":["A","B"],"validFrom":"2026-01-01T00:00:00Z","accreditationId":"a"}}`, `{"id":"x","action":"issuer.accredit","accreditation":{"issuer":"did:key:z6Mk","credentialTypes":["B","A"],"validFrom":"2026-01-01T00:00:00Z","accreditationId":"a"}}`},
		{`{"id":"x","action":"directory.add","directory":{"org":"did:key:z6Mk","entry":{"legalName":"L","displayName":"D","kind":"hospital","country":"GB","roles":[]}}}`, `{"id":"x","action":"directory.add","directory":{"org":"did:key:z6Mk","entry":{"legalName":"L","displayName":"D","kind":"hospital","country":"GB"}}}`},
		{`{"id":"x","action":"protocol.schedule","protocol":{"version":4,"height":100}}`, `{"id":"x","action":"protocol.cancel","protocol":{"version":4,"height":100}}`},
	} {
		f.Add([]byte(pair[0]), []byte(pair[1]))
	}
	read := func(data []byte) *Proposal {
		var p Proposal
		if strictUnmarshal(string(data), &p) != nil {
			return nil
		}
		p.ID = ProposalID(&p)
		if validProposal(&p) != "" {
			return nil
		}
		return &p
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		p, q := read(a), read(b)
		if p == nil || q == nil || p.ID != q.ID {
			return
		}
		if !sameContent(p, q) {
			t.Fatalf("two contents, one id %s:\n%s\n%s", p.ID, a, b)
		}
	})
}
