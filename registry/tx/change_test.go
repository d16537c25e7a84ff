package tx

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func testEntry() *DirectoryEntry {
	return &DirectoryEntry{LegalName: "St Mary's Hospital NHS Trust", DisplayName: "St Mary's Hospital", Kind: KindHospital, Country: "GB"}
}

const (
	testGov = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	testOrg = "did:medid:4tjUh3WKbfF6uy6oyRp9dQ"
)

// TestChangeProposalValidate: every proposal of a directory or
// accreditation change that the ledger must refuse, and the good ones.
func TestChangeProposalValidate(t *testing.T) {
	dir := func(action string, d *DirectoryChange) *Proposal {
		p := &Proposal{Action: action, Directory: d}
		p.ID = ChangeID(p)
		return p
	}
	acc := func(action string, a *AccreditationChange) *Proposal {
		p := &Proposal{Action: action, Accreditation: a}
		p.ID = ChangeID(p)
		return p
	}
	grant := &AccreditationChange{Issuer: testOrg, CredentialTypes: []string{"ImmunizationCredential"}, ValidFrom: "2026-01-01T00:00:00Z", AccreditationID: "acc-1"}
	for _, tc := range []struct {
		name string
		p    func() *Proposal
		want string // "" = valid
	}{
		{"add", func() *Proposal { return dir(ActionDirectoryAdd, &DirectoryChange{Org: testOrg, Entry: testEntry()}) }, ""},
		{"update", func() *Proposal {
			return dir(ActionDirectoryUpdate, &DirectoryChange{Org: testOrg, Entry: testEntry(), Version: 2})
		}, ""},
		{"suspend", func() *Proposal {
			return dir(ActionDirectorySuspend, &DirectoryChange{Org: testOrg, Version: 3, Reason: "licence under review"})
		}, ""},
		{"accredit", func() *Proposal { return acc(ActionIssuerAccredit, grant) }, ""},
		{"revoke", func() *Proposal {
			return acc(ActionIssuerRevoke, &AccreditationChange{Issuer: testOrg, AccreditationID: "acc-1"})
		}, ""},
		{"turn the quorum on", func() *Proposal { return &Proposal{ID: "on", Action: ActionDirectoryQuorum} }, ""},
		// A layout move rides on no other action (its content is outside
		// a change proposal's id, so approvers would not see it).
		{"a directory change carrying a layout move", func() *Proposal {
			p := dir(ActionDirectoryAdd, &DirectoryChange{Org: testOrg, Entry: testEntry()})
			p.Layout = &ProposedLayout{Layout: MoveToLayout, Height: 5000}
			return p
		}, "proposal.layout is not allowed for directory.add"},
		{"an accreditation carrying a layout move", func() *Proposal {
			p := acc(ActionIssuerAccredit, grant)
			p.Layout = &ProposedLayout{Layout: MoveToLayout, Height: 5000}
			return p
		}, "proposal.layout is not allowed for issuer.accredit"},
		{"the quorum switch carrying a layout move", func() *Proposal {
			return &Proposal{ID: "on", Action: ActionDirectoryQuorum, Layout: &ProposedLayout{Layout: MoveToLayout, Height: 5000}}
		}, "proposal.layout is not allowed for policy.directoryQuorum"},
		{"a layout move carrying a directory change", func() *Proposal {
			return &Proposal{ID: "move", Action: ActionLayoutSchedule, Layout: &ProposedLayout{Layout: MoveToLayout, Height: 5000},
				Directory: &DirectoryChange{Org: testOrg, Entry: testEntry()}}
		}, "proposal.directory and proposal.accreditation are for directory.* and issuer.* actions only"},

		{"id of another content", func() *Proposal {
			p := dir(ActionDirectoryAdd, &DirectoryChange{Org: testOrg, Entry: testEntry()})
			p.Directory.Entry.DisplayName = "St Mary Hospital Trust"
			return p
		}, "the hash of what it writes"},
		{"an id of one's choosing", func() *Proposal {
			p := dir(ActionDirectoryAdd, &DirectoryChange{Org: testOrg, Entry: testEntry()})
			p.ID = "join-st-marys"
			return p
		}, "the hash of what it writes"},
		{"no directory", func() *Proposal { return dir(ActionDirectoryAdd, nil) }, "proposal.directory is required"},
		{"no accreditation", func() *Proposal { return acc(ActionIssuerAccredit, nil) }, "proposal.accreditation is required"},
		{"accreditation in a directory change", func() *Proposal {
			p := &Proposal{Action: ActionDirectoryAdd, Directory: &DirectoryChange{Org: testOrg, Entry: testEntry()}, Accreditation: grant}
			p.ID = ChangeID(p)
			return p
		}, "proposal.accreditation is not allowed"},
		{"directory in an accreditation", func() *Proposal {
			p := &Proposal{Action: ActionIssuerAccredit, Accreditation: grant, Directory: &DirectoryChange{Org: testOrg}}
			p.ID = ChangeID(p)
			return p
		}, "proposal.directory is not allowed"},
		{"a validator in a directory change", func() *Proposal {
			p := dir(ActionDirectoryAdd, &DirectoryChange{Org: testOrg, Entry: testEntry()})
			p.Validator = &ProposedValidator{PubKey: "AAAA"}
			return p
		}, "may carry only directory"},
		{"a directory change in a validator proposal", func() *Proposal {
			return &Proposal{ID: "x", Action: ActionGovernanceAdd, Governance: testGov, Directory: &DirectoryChange{Org: testOrg}}
		}, "for directory.* and issuer.* actions only"},
		{"add without entry", func() *Proposal { return dir(ActionDirectoryAdd, &DirectoryChange{Org: testOrg}) }, "entry is required"},
		{"add with a version", func() *Proposal {
			return dir(ActionDirectoryAdd, &DirectoryChange{Org: testOrg, Entry: testEntry(), Version: 2})
		}, "version is not allowed"},
		{"update without version", func() *Proposal {
			return dir(ActionDirectoryUpdate, &DirectoryChange{Org: testOrg, Entry: testEntry()})
		}, "version is required"},
		{"suspend without reason", func() *Proposal { return dir(ActionDirectorySuspend, &DirectoryChange{Org: testOrg, Version: 2}) }, "reason is required"},
		{"suspend with an entry", func() *Proposal {
			return dir(ActionDirectorySuspend, &DirectoryChange{Org: testOrg, Version: 2, Reason: "x", Entry: testEntry()})
		}, "entry is not allowed"},
		{"org not a DID", func() *Proposal {
			return dir(ActionDirectoryAdd, &DirectoryChange{Org: "st-marys", Entry: testEntry()})
		}, "org must be a DID"},
		{"confusable name", func() *Proposal {
			e := testEntry()
			e.DisplayName = "St M\u0430ry's Hospital" // Cyrillic а
			return dir(ActionDirectoryAdd, &DirectoryChange{Org: testOrg, Entry: e})
		}, "mixes Latin and Cyrillic"},
		{"accredit without types", func() *Proposal {
			a := *grant
			a.CredentialTypes = nil
			return acc(ActionIssuerAccredit, &a)
		}, "credentialTypes is required"},
		{"accredit with a bad time", func() *Proposal {
			a := *grant
			a.ValidFrom = "yesterday"
			return acc(ActionIssuerAccredit, &a)
		}, "validFrom"},
		{"revoke with types", func() *Proposal {
			return acc(ActionIssuerRevoke, &AccreditationChange{Issuer: testOrg, AccreditationID: "acc-1", CredentialTypes: []string{"X"}})
		}, "credentialTypes is not allowed"},
		{"revoke without id", func() *Proposal { return acc(ActionIssuerRevoke, &AccreditationChange{Issuer: testOrg}) }, "accreditationId is required"},
		{"quorum on with a subject", func() *Proposal {
			return &Proposal{ID: "on", Action: ActionDirectoryQuorum, Governance: testGov}
		}, "only id and action"},
		{"an action that turns it off", func() *Proposal { return &Proposal{ID: "off", Action: "policy.directoryQuorumOff"} }, "proposal.action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Payload{Type: NetworkPropose, DID: testGov, Nonce: "n", Proposal: tc.p()}
			err := p.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestNewChangeProposal: the proposal of a change carries what the plain
// transaction would write, under its ChangeID, and round-trips through the
// wire format with the same id.
func TestNewChangeProposal(t *testing.T) {
	add, err := NewDirectoryAdd(testGov, testOrg, *testEntry())
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewChangeProposal(add)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != NetworkPropose || p.DID != testGov || p.Proposal.Action != ActionDirectoryAdd || p.Proposal.Directory.Entry.DisplayName != "St Mary's Hospital" {
		t.Fatalf("proposal: %+v", p.Proposal)
	}
	if !strings.HasPrefix(p.Proposal.ID, "dir-") || p.Proposal.ID != ChangeID(p.Proposal) {
		t.Fatalf("id %s", p.Proposal.ID)
	}
	b, _ := json.Marshal(p)
	var back Payload
	if err := strictUnmarshal(string(b), &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil || ChangeID(back.Proposal) != p.Proposal.ID {
		t.Fatalf("round trip: %v, id %s", err, ChangeID(back.Proposal))
	}
	// Another entry, another id: an approval of one id approves one entry.
	other := *testEntry()
	other.Country = "IE"
	add2, _ := NewDirectoryAdd(testGov, testOrg, other)
	p2, _ := NewChangeProposal(add2)
	if p2.Proposal.ID == p.Proposal.ID {
		t.Fatal("two entries, one id")
	}
	acc, _ := NewIssuerAccredit(testGov, Accreditation{Issuer: testOrg, Types: []string{"X"}})
	pa, err := NewChangeProposal(acc)
	if err != nil || !strings.HasPrefix(pa.Proposal.ID, "issuer-") {
		t.Fatalf("accreditation proposal: %v %+v", err, pa)
	}
	if _, err := NewChangeProposal(&Payload{Type: DIDDeactivate}); err == nil {
		t.Fatal("a did.deactivate made a change proposal")
	}
}

// FuzzChangeProposal: a network.propose payload of any bytes never
// panics the parser or the checks; one that is accepted has the id of its
// content (so approving the id approves that content), and its content,
// encoded and parsed again, is accepted with the same id.
func FuzzChangeProposal(f *testing.F) {
	add, _ := NewDirectoryAdd(testGov, testOrg, *testEntry())
	for _, c := range []*Payload{add,
		must(NewDirectoryUpdate(testGov, testOrg, *testEntry(), 2)),
		must(NewDirectorySuspend(testGov, testOrg, 3, "review")),
		must(NewIssuerAccredit(testGov, Accreditation{Issuer: testOrg, Types: []string{"X"}, ID: "a"})),
		must(NewIssuerRevoke(testGov, testOrg, "a", time.Time{})),
	} {
		p, err := NewChangeProposal(c)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := json.Marshal(p)
		f.Add(b)
	}
	f.Add([]byte(`{"type":"network.propose","did":"` + testGov + `","nonce":"n","proposal":{"id":"on","action":"policy.directoryQuorum"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Payload
		if err := strictUnmarshal(string(data), &p); err != nil {
			return
		}
		if p.Validate() != nil || p.Proposal == nil {
			return
		}
		pr := p.Proposal
		if !IsChangeAction(pr.Action) {
			return
		}
		if pr.ID != ChangeID(pr) {
			t.Fatalf("accepted proposal %s whose content hashes to %s", pr.ID, ChangeID(pr))
		}
		pl := pr.Payload(p.DID)
		if err := pl.Validate(); err != nil {
			t.Fatalf("accepted proposal's change is refused as a transaction: %v", err)
		}
		b, err := json.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		var back Payload
		if err := strictUnmarshal(string(b), &back); err != nil {
			t.Fatalf("re-encoded proposal does not parse: %v\n%s", err, b)
		}
		if err := back.Validate(); err != nil || ChangeID(back.Proposal) != pr.ID {
			t.Fatalf("re-encoded proposal: %v, id %s, want %s", err, ChangeID(back.Proposal), pr.ID)
		}
	})
}

func must(p *Payload, err error) *Payload {
	if err != nil {
		panic(err)
	}
	return p
}

// TestProposalID: the content id of every action: its prefix, fixed
// values (consensus-visible from protocol 3 on: the ledger refuses a
// proposal under another id, so the encoding must never drift), one id
// per content whatever the id given, and another for any other content.
func TestProposalID(t *testing.T) {
	key := strings.Repeat("A", 43) + "="
	for _, tc := range []struct {
		name string
		p    Proposal
		want string
	}{
		{"validator.add", Proposal{Action: ActionValidatorAdd, Validator: &ProposedValidator{PubKey: key, Power: 10, Org: "did:key:z6Mk", Name: "st-marys"}}, "val-"},
		{"validator.power", Proposal{Action: ActionValidatorPower, Validator: &ProposedValidator{PubKey: key, Power: 20}}, "val-"},
		{"validator.remove", Proposal{Action: ActionValidatorRemove, Validator: &ProposedValidator{PubKey: key}}, "val-"},
		{"validator.remove below the minimum", Proposal{Action: ActionValidatorRemove, Validator: &ProposedValidator{PubKey: key}, AllowBelowMinimum: true}, "val-"},
		{"governance.add", Proposal{Action: ActionGovernanceAdd, Governance: "did:key:z6Mk"}, "gov-"},
		{"governance.remove", Proposal{Action: ActionGovernanceRemove, Governance: "did:key:z6Mk"}, "gov-"},
		{"layout.schedule", Proposal{Action: ActionLayoutSchedule, Layout: &ProposedLayout{Layout: 2, Height: 500}}, "layout-"},
		{"layout.cancel", Proposal{Action: ActionLayoutCancel, Layout: &ProposedLayout{Layout: 2, Height: 500}}, "layout-"},
		{"protocol.schedule", Proposal{Action: ActionProtocolSchedule, Protocol: &ProposedProtocol{Version: 3, Height: 500}}, "protocol-"},
		{"protocol.schedule 999", Proposal{Action: ActionProtocolSchedule, Protocol: &ProposedProtocol{Version: 999, Height: 500}}, "protocol-"},
		{"protocol.cancel", Proposal{Action: ActionProtocolCancel, Protocol: &ProposedProtocol{Version: 3, Height: 500}}, "protocol-"},
		{"policy.directoryQuorum", Proposal{Action: ActionDirectoryQuorum}, "policy-"},
		{"issuer.accredit", Proposal{Action: ActionIssuerAccredit, Accreditation: &AccreditationChange{Issuer: "did:key:z6Mk", CredentialTypes: []string{"X"}, ValidFrom: "2026-01-01T00:00:00Z", AccreditationID: "a"}}, "issuer-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := ProposalID(&tc.p)
			if !strings.HasPrefix(id, tc.want) || len(id) != len(tc.want)+32 || !ValidID(id) {
				t.Fatalf("ProposalID = %q, want %s and 32 hex digits", id, tc.want)
			}
			p := tc.p
			p.ID = "chosen"
			if got := ProposalID(&p); got != id {
				t.Fatalf("the id given changed the content id: %s, then %s", id, got)
			}
			if IsChangeAction(p.Action) && id != ChangeID(&p) {
				t.Fatalf("a change's content id %s is not its ChangeID %s", id, ChangeID(&p))
			}
		})
	}
	// Every field of the content changes the id.
	seen := map[string]string{}
	base := Proposal{Action: ActionValidatorAdd, Validator: &ProposedValidator{PubKey: key, Power: 10, Org: "did:key:z6Mk", Name: "a"}}
	for name, p := range map[string]Proposal{
		"base":    base,
		"power":   {Action: ActionValidatorAdd, Validator: &ProposedValidator{PubKey: key, Power: 11, Org: "did:key:z6Mk", Name: "a"}},
		"org":     {Action: ActionValidatorAdd, Validator: &ProposedValidator{PubKey: key, Power: 10, Org: "did:key:z6Ml", Name: "a"}},
		"name":    {Action: ActionValidatorAdd, Validator: &ProposedValidator{PubKey: key, Power: 10, Org: "did:key:z6Mk", Name: "b"}},
		"key":     {Action: ActionValidatorAdd, Validator: &ProposedValidator{PubKey: strings.Repeat("B", 43) + "=", Power: 10, Org: "did:key:z6Mk", Name: "a"}},
		"version": {Action: ActionProtocolSchedule, Protocol: &ProposedProtocol{Version: 4, Height: 500}},
		"height":  {Action: ActionProtocolSchedule, Protocol: &ProposedProtocol{Version: 4, Height: 501}},
		"cancel":  {Action: ActionProtocolCancel, Protocol: &ProposedProtocol{Version: 4, Height: 501}},
	} {
		id := ProposalID(&p)
		if other, ok := seen[id]; ok {
			t.Fatalf("%s and %s have one id %s", name, other, id)
		}
		seen[id] = name
	}
	// Fixed values: the encoding is part of protocol 3. (Computed apart:
	// the first 16 bytes of the SHA-256 of
	// {"action":"protocol.schedule","protocol":{"version":3,"height":100000}}
	// and of the validator.add's JSON, by Python's hashlib.)
	for _, tc := range []struct {
		p    Proposal
		want string
	}{
		{Proposal{Action: ActionProtocolSchedule, Protocol: &ProposedProtocol{Version: 3, Height: 100000}}, "protocol-7865d59ab37713474fc8a89bea5f97ab"},
		{base, "val-e86206bc4749397805acacf1c503a473"},
	} {
		if got := ProposalID(&tc.p); got != tc.want {
			t.Errorf("ProposalID(%s) = %s, want %s", tc.p.Action, got, tc.want)
		}
	}
}
