package delegation_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/delegation/delegationtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
)

func TestRoundTrip(t *testing.T) {
	w := delegationtest.New(t)
	for name, d := range map[string]*delegation.Delegation{"guardianship": newGuardianship(w), "own": newOwn(w)} {
		t.Run(name, func(t *testing.T) {
			tok := w.Sign(d, issuerOf(t, w, d))
			got, err := delegation.Parse(tok)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, d) {
				t.Fatalf("Parse(Issue(d)):\n got %+v\nwant %+v", got, d)
			}
		})
	}
}

// newGuardianship is the birth registry's guardianship of the parent for
// the patient as a minor: view, consent and trail, every class.
func newGuardianship(w *delegationtest.World) *delegation.Delegation {
	return w.Guardianship(delegation.ActionView, delegation.ActionConsent, delegation.ActionTrail)
}

// newOwn is the patient's own delegation to the carer: view and consent
// for immunizations, 30 days, no sub-delegation.
func newOwn(w *delegationtest.World) *delegation.Delegation {
	return w.Own([]delegation.Action{delegation.ActionView, delegation.ActionConsent}, "Immunization")
}

// issuerOf is the party of w that issues d.
func issuerOf(t *testing.T, w *delegationtest.World, d *delegation.Delegation) credtest.Party {
	for _, p := range w.Parties() {
		if p.DID == d.Issuer {
			return p
		}
	}
	t.Fatalf("no party %s", d.Issuer)
	return credtest.Party{}
}

// signRaw signs c as it is, bypassing Validate: for delegations the
// package would refuse to issue.
func signRaw(t *testing.T, c *vc.Credential, p credtest.Party) string {
	t.Helper()
	tok, err := vc.Issue(c, p.Key, p.Kid)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Every rule of the issue's "bad input", one case each, through the
// Checker (signature, authority, status) and Allows (scope, period).
func TestAuthorize(t *testing.T) {
	w := delegationtest.New(t)
	t0 := w.Clock.Now()
	chk := w.Checker()
	ctx := context.Background()
	view := func(rep credtest.Party) delegation.Act {
		return delegation.Act{Representative: rep.DID, Patient: w.Patient.DID, Action: delegation.ActionView, Classes: []string{"Immunization"}, Purposes: []string{"TREAT"}}
	}

	guard := newGuardianship(w)
	guardTok := w.Sign(guard, w.Registry)
	own := newOwn(w)
	ownTok := w.Sign(own, w.Patient)

	rogue := newGuardianship(w)
	rogue.Issuer, rogue.Status = w.Rogue.DID, statuslist.Entry(w.ListURL(w.Rogue), statuslist.Revocation, 9)
	rogueTok := w.Sign(rogue, w.Rogue)

	// The carer signs a delegation to themselves for the patient.
	self := newOwn(w)
	self.Issuer = w.Carer.DID
	c, _ := rawCredential(self)
	selfTok := signRaw(t, c, w.Carer)

	// A stranger "delegates" the patient to the carer.
	third := newOwn(w)
	third.Issuer = w.Stranger.DID
	c, _ = rawCredential(third)
	thirdTok := signRaw(t, c, w.Stranger)

	// The carer passes their delegation (which does not allow it) on.
	sub := newOwn(w)
	sub.Issuer, sub.Representative, sub.RepresentativeName, sub.Parent = w.Carer.DID, w.Stranger.DID, "Sam", own
	sub.Status = statuslist.Entry(w.ListURL(w.Carer), statuslist.Revocation, 3)
	c, _ = rawCredential(sub)
	subTok := signRaw(t, c, w.Carer)

	// A sub-delegation allowed by its parent, and one wider than it.
	wide := newOwn(w)
	wide.SubDelegation = true
	w.Sign(wide, w.Patient)
	okSub := newOwn(w)
	okSub.Issuer, okSub.Representative, okSub.RepresentativeName, okSub.Parent = w.Carer.DID, w.Stranger.DID, "Sam", wide
	okSub.Actions = []delegation.Action{delegation.ActionView}
	okSub.Status = statuslist.Entry(w.ListURL(w.Carer), statuslist.Revocation, 4)
	okSubTok := w.Sign(okSub, w.Carer)
	esc := *okSub
	esc.Actions, esc.Classes = []delegation.Action{delegation.ActionView}, []string{delegation.AllClasses}
	c, _ = rawCredential(&esc)
	escTok := signRaw(t, c, w.Carer)

	revoked := newOwn(w)
	revokedTok := w.Sign(revoked, w.Patient)
	w.Revoke(revoked)

	revokedParent := newOwn(w)
	revokedParent.SubDelegation = true
	w.Sign(revokedParent, w.Patient)
	underRevoked := *okSub
	underRevoked.Parent = revokedParent
	underRevoked.Status = statuslist.Entry(w.ListURL(w.Carer), statuslist.Revocation, 5)
	underRevokedTok := w.Sign(&underRevoked, w.Carer)
	w.Revoke(revokedParent)

	notYet := newOwn(w)
	notYet.ValidFrom = t0.Add(24 * time.Hour)
	notYetTok := w.Sign(notYet, w.Patient)

	noList := newOwn(w)
	noList.Status = statuslist.Entry("https://registry.example/1.0/status-lists/nowhere", statuslist.Revocation, 1)
	noListTok := w.Sign(noList, w.Patient)

	// The patient's entry names a list in their status key's namespace,
	// but what is served there is signed by someone else.
	foreign := newOwn(w)
	forged := strings.Replace(w.ListURL(w.Stranger), w.Stranger.DID, w.StatusKey.DID+":x", 1)
	w.ServeAs(forged, w.Stranger)
	foreign.Status = statuslist.Entry(forged, statuslist.Revocation, 1)
	foreignTok := w.Sign(foreign, w.Patient)

	tampered := ownTok[:len(ownTok)-4] + "AAAA"

	year := 366 * 24 * time.Hour
	cases := []struct {
		name  string
		token string
		act   delegation.Act
		want  error
	}{
		{"parent reads under an accredited guardianship", guardTok, view(w.Parent), nil},
		{"carer reads under the patient's own delegation", ownTok, view(w.Carer), nil},
		{"sub-delegate within an allowed sub-delegation", okSubTok, view(w.Stranger), nil},
		{"issuer not accredited for guardianship", rogueTok, view(w.Parent), delegation.ErrNotAccredited},
		{"signed by the representative for themselves", selfTok, view(w.Carer), delegation.ErrSelfIssued},
		{"delegation by someone who is not the patient", thirdTok, view(w.Carer), delegation.ErrIssuerNotPatient},
		{"view-only scope asked to read the trail", ownTok, delegation.Act{Representative: w.Carer.DID, Patient: w.Patient.DID, Action: delegation.ActionTrail}, delegation.ErrOutOfScope},
		{"class not delegated", ownTok, delegation.Act{Representative: w.Carer.DID, Patient: w.Patient.DID, Action: delegation.ActionView, Classes: []string{"Condition"}}, delegation.ErrOutOfScope},
		{"purpose not delegated", ownTok, delegation.Act{Representative: w.Carer.DID, Patient: w.Patient.DID, Action: delegation.ActionConsent, Classes: []string{"Immunization"}, Purposes: []string{"HRESCH"}}, delegation.ErrOutOfScope},
		{"sub-delegation without permission", subTok, view(w.Stranger), delegation.ErrSubDelegation},
		{"sub-delegation wider than its parent", escTok, view(w.Stranger), delegation.ErrSubDelegation},
		{"expired", ownTok, delegation.Act{Representative: w.Carer.DID, Patient: w.Patient.DID, Action: delegation.ActionView, At: t0.Add(31 * 24 * time.Hour)}, delegation.ErrExpired},
		{"not yet valid", notYetTok, view(w.Carer), delegation.ErrNotYetValid},
		{"revoked by the patient", revokedTok, view(w.Carer), delegation.ErrRevoked},
		{"made under a revoked delegation", underRevokedTok, view(w.Stranger), delegation.ErrRevoked},
		{"for another patient", ownTok, delegation.Act{Representative: w.Carer.DID, Patient: w.Stranger.DID, Action: delegation.ActionView}, delegation.ErrWrongPatient},
		{"presented by someone else", guardTok, view(w.Stranger), delegation.ErrWrongRepresentative},
		{"a minor's after the end date", guardTok, delegation.Act{Representative: w.Parent.DID, Patient: w.Patient.DID, Action: delegation.ActionView, At: t0.Add(year)}, delegation.ErrCameOfAge},
		{"status list unavailable", noListTok, view(w.Carer), delegation.ErrStatusUnavailable},
		{"status list signed by someone the list id does not name", foreignTok, view(w.Carer), delegation.ErrStatusUnavailable},
		{"bad signature", tampered, view(w.Carer), vc.ErrBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := chk.Authorize(ctx, tc.token, tc.act)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Authorize = %v, want allowed", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Authorize = %v, want %v", err, tc.want)
			}
		})
	}
	// Coming of age is also an expiry, for callers that only know that.
	_, err := chk.Authorize(ctx, guardTok, delegation.Act{Representative: w.Parent.DID, Patient: w.Patient.DID, Action: delegation.ActionView, At: t0.Add(year)})
	if !errors.Is(err, delegation.ErrExpired) || !strings.Contains(err.Error(), "Ana Silva came of age") {
		t.Fatalf("came of age: %v", err)
	}
}

// rawCredential builds d's credential without validating it, for tokens
// this package refuses to issue.
func rawCredential(d *delegation.Delegation) (*vc.Credential, error) {
	n := *d
	n.Type = delegation.TypeDelegation
	saved := n.Issuer
	// Credential validates; build from a valid twin and put the bad
	// fields back.
	n.Issuer, n.Parent = n.Patient, nil
	n.Representative = "did:example:placeholder"
	c, err := n.Credential()
	if err != nil {
		panic(err)
	}
	c.Issuer = saved
	c.Subject["id"] = d.Representative
	c.Subject["name"] = d.RepresentativeName
	if d.Parent != nil {
		c.Extra = map[string]any{"parentDelegation": d.Parent.Token}
	}
	return c, nil
}

// The checker caches a verified delegation and reads the status list again
// after StatusTTL: a revocation takes effect without re-verifying.
func TestCheckerCachesAndSeesRevocation(t *testing.T) {
	w := delegationtest.New(t)
	chk, err := delegation.NewChecker(delegation.CheckerConfig{Resolver: did.KeyResolver{}, Status: w, Trust: w, Now: w.Clock.Now, StatusTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	d := newOwn(w)
	tok := w.Sign(d, w.Patient)
	act := delegation.Act{Representative: w.Carer.DID, Patient: w.Patient.DID, Action: delegation.ActionView, Classes: []string{"Immunization"}}
	for range 3 {
		if _, err := chk.Authorize(context.Background(), tok, act); err != nil {
			t.Fatal(err)
		}
	}
	if w.Fetches() != 1 {
		t.Fatalf("status list fetched %d times within its TTL, want 1", w.Fetches())
	}
	w.Revoke(d)
	if _, err := chk.Authorize(context.Background(), tok, act); err != nil {
		t.Fatalf("within the TTL the cached list still answers: %v", err)
	}
	w.Clock.Advance(2 * time.Second)
	if _, err := chk.Authorize(context.Background(), tok, act); !errors.Is(err, delegation.ErrRevoked) {
		t.Fatalf("after the TTL: %v, want ErrRevoked", err)
	}
}

func TestValidateRefuses(t *testing.T) {
	w := delegationtest.New(t)
	cases := []struct {
		name string
		edit func(d *delegation.Delegation)
		want string
	}{
		{"no id", func(d *delegation.Delegation) { d.ID = "" }, "id must be a URL"},
		{"parent basis in a patient's delegation", func(d *delegation.Delegation) { d.Basis = delegation.BasisParent }, "accredited authority"},
		{"no end", func(d *delegation.Delegation) { d.ValidUntil = time.Time{} }, "validUntil are both required"},
		{"parent without minor", func(d *delegation.Delegation) {
			d.Type, d.Basis, d.Minor = delegation.TypeGuardianship, delegation.BasisParent, false
		}, "for a minor"},
		{"unknown action", func(d *delegation.Delegation) { d.Actions = []delegation.Action{"sell"} }, "unknown action"},
		{"unknown class", func(d *delegation.Delegation) { d.Classes = []string{"Gossip"} }, "unknown class"},
		{"all classes with another", func(d *delegation.Delegation) { d.Classes = []string{delegation.AllClasses, "Immunization"} }, "stands alone"},
		{"unknown purpose", func(d *delegation.Delegation) { d.Purposes = []string{"FUN"} }, "unknown purpose"},
		{"unknown relationship", func(d *delegation.Delegation) { d.Relationship = "BOSS" }, "unknown relationship"},
		{"no name", func(d *delegation.Delegation) { d.RepresentativeName = "" }, "name is required"},
		{"control characters in a name", func(d *delegation.Delegation) { d.RepresentativeName = "Eve\nGRANTED" }, "plain text"},
		{"no status", func(d *delegation.Delegation) { d.Status = vc.Status{} }, "credentialStatus"},
		{"suspension instead of revocation", func(d *delegation.Delegation) { d.Status.StatusPurpose = "suspension" }, "revocation"},
		{"representative is the patient", func(d *delegation.Delegation) { d.Representative = d.Patient }, "same DID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newOwn(w)
			tc.edit(d)
			err := d.Validate()
			if !errors.Is(err, delegation.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want ErrInvalid saying %q", err, tc.want)
			}
		})
	}
}

func TestParseActions(t *testing.T) {
	got, err := delegation.ParseActions("view, consent,view")
	if err != nil || !reflect.DeepEqual(got, []delegation.Action{delegation.ActionView, delegation.ActionConsent}) {
		t.Fatalf("ParseActions = %v, %v", got, err)
	}
	if _, err := delegation.ParseActions("view,steal"); !errors.Is(err, delegation.ErrInvalid) {
		t.Fatalf("unknown action: %v", err)
	}
}

func TestListOwner(t *testing.T) {
	for ref, want := range map[string]string{
		"https://r.example/1.0/status-lists/did:key:z6MkA:delegations":          "did:key:z6MkA",
		"https://r.example/1.0/status-lists/did:medid:XW14:st-mary-1?version=2": "did:medid:XW14",
		"https://r.example/1.0/status-lists/st-mary-1":                          "",
		"did:key:z6MkA:": "",
		"urn:uuid:1234":  "",
	} {
		got, ok := delegation.ListOwner(ref)
		if got != want || ok != (want != "") {
			t.Errorf("ListOwner(%q) = %q, %v; want %q", ref, got, ok, want)
		}
	}
}
