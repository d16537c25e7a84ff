package delegation

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
)

func TestRoundTrip(t *testing.T) {
	w := newWorld(t)
	for name, d := range map[string]*Delegation{"guardianship": w.guardianship(), "own": w.own()} {
		t.Run(name, func(t *testing.T) {
			tok := w.sign(d, w.issuerOf(d))
			got, err := Parse(tok)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, d) {
				t.Fatalf("Parse(Issue(d)):\n got %+v\nwant %+v", got, d)
			}
		})
	}
}

func (w *world) issuerOf(d *Delegation) credtest.Party {
	for _, p := range []credtest.Party{w.registry, w.rogue, w.patient, w.parent, w.carer, w.stranger} {
		if p.DID == d.Issuer {
			return p
		}
	}
	w.t.Fatalf("no party %s", d.Issuer)
	return credtest.Party{}
}

// Every rule of the "bad input", one case each, through the
// Checker (signature, authority, status) and Allows (scope, period).
func TestAuthorize(t *testing.T) {
	w := newWorld(t)
	chk := w.checker()
	ctx := context.Background()
	view := func(rep credtest.Party) Act {
		return Act{Representative: rep.DID, Patient: w.patient.DID, Action: ActionView, Classes: []string{"Immunization"}, Purposes: []string{"TREAT"}}
	}

	guard := w.guardianship()
	guardTok := w.sign(guard, w.registry)
	own := w.own()
	ownTok := w.sign(own, w.patient)

	rogue := w.guardianship()
	rogue.Issuer, rogue.Status = w.rogue.DID, statuslist.Entry(w.listURL(w.rogue), statuslist.Revocation, 9)
	rogueTok := w.sign(rogue, w.rogue)

	// The carer signs a delegation to themselves for the patient.
	self := w.own()
	self.Issuer = w.carer.DID
	c, _ := rawCredential(self)
	selfTok := w.signRaw(c, w.carer)

	// A stranger "delegates" the patient to the carer.
	third := w.own()
	third.Issuer = w.stranger.DID
	c, _ = rawCredential(third)
	thirdTok := w.signRaw(c, w.stranger)

	// The carer passes their delegation (which does not allow it) on.
	sub := w.own()
	sub.Issuer, sub.Representative, sub.RepresentativeName, sub.Parent = w.carer.DID, w.stranger.DID, "Sam", own
	sub.Status = statuslist.Entry(w.listURL(w.carer), statuslist.Revocation, 3)
	c, _ = rawCredential(sub)
	subTok := w.signRaw(c, w.carer)

	// A sub-delegation allowed by its parent, and one wider than it.
	wide := w.own()
	wide.SubDelegation = true
	w.sign(wide, w.patient)
	okSub := w.own()
	okSub.Issuer, okSub.Representative, okSub.RepresentativeName, okSub.Parent = w.carer.DID, w.stranger.DID, "Sam", wide
	okSub.Actions = []Action{ActionView}
	okSub.Status = statuslist.Entry(w.listURL(w.carer), statuslist.Revocation, 4)
	okSubTok := w.sign(okSub, w.carer)
	esc := *okSub
	esc.Actions, esc.Classes = []Action{ActionView}, []string{AllClasses}
	c, _ = rawCredential(&esc)
	escTok := w.signRaw(c, w.carer)

	revoked := w.own()
	revokedTok := w.sign(revoked, w.patient)
	w.revoke(revoked)

	revokedParent := w.own()
	revokedParent.SubDelegation = true
	w.sign(revokedParent, w.patient)
	underRevoked := *okSub
	underRevoked.Parent = revokedParent
	underRevoked.Status = statuslist.Entry(w.listURL(w.carer), statuslist.Revocation, 5)
	underRevokedTok := w.sign(&underRevoked, w.carer)
	w.revoke(revokedParent)

	notYet := w.own()
	notYet.ValidFrom = w.t0.Add(24 * time.Hour)
	notYetTok := w.sign(notYet, w.patient)

	noList := w.own()
	noList.Status = statuslist.Entry("https://registry.example/1.0/status-lists/nowhere", statuslist.Revocation, 1)
	noListTok := w.sign(noList, w.patient)

	// The patient's entry names a list in their status key's namespace,
	// but what is served there is signed by someone else.
	foreign := w.own()
	forged := strings.Replace(w.listURL(w.stranger), w.stranger.DID, w.statusKey.DID+":x", 1)
	w.lists[forged], w.owners[forged] = w.lists[w.listURL(w.stranger)], w.stranger
	foreign.Status = statuslist.Entry(forged, statuslist.Revocation, 1)
	foreignTok := w.sign(foreign, w.patient)

	tampered := ownTok[:len(ownTok)-4] + "AAAA"

	year := 366 * 24 * time.Hour
	cases := []struct {
		name  string
		token string
		act   Act
		want  error
	}{
		{"parent reads under an accredited guardianship", guardTok, view(w.parent), nil},
		{"carer reads under the patient's own delegation", ownTok, view(w.carer), nil},
		{"sub-delegate within an allowed sub-delegation", okSubTok, view(w.stranger), nil},
		{"issuer not accredited for guardianship", rogueTok, view(w.parent), ErrNotAccredited},
		{"signed by the representative for themselves", selfTok, view(w.carer), ErrSelfIssued},
		{"delegation by someone who is not the patient", thirdTok, view(w.carer), ErrIssuerNotPatient},
		{"view-only scope asked to read the trail", ownTok, Act{Representative: w.carer.DID, Patient: w.patient.DID, Action: ActionTrail}, ErrOutOfScope},
		{"class not delegated", ownTok, Act{Representative: w.carer.DID, Patient: w.patient.DID, Action: ActionView, Classes: []string{"Condition"}}, ErrOutOfScope},
		{"purpose not delegated", ownTok, Act{Representative: w.carer.DID, Patient: w.patient.DID, Action: ActionConsent, Classes: []string{"Immunization"}, Purposes: []string{"HRESCH"}}, ErrOutOfScope},
		{"sub-delegation without permission", subTok, view(w.stranger), ErrSubDelegation},
		{"sub-delegation wider than its parent", escTok, view(w.stranger), ErrSubDelegation},
		{"expired", ownTok, Act{Representative: w.carer.DID, Patient: w.patient.DID, Action: ActionView, At: w.t0.Add(31 * 24 * time.Hour)}, ErrExpired},
		{"not yet valid", notYetTok, view(w.carer), ErrNotYetValid},
		{"revoked by the patient", revokedTok, view(w.carer), ErrRevoked},
		{"made under a revoked delegation", underRevokedTok, view(w.stranger), ErrRevoked},
		{"for another patient", ownTok, Act{Representative: w.carer.DID, Patient: w.stranger.DID, Action: ActionView}, ErrWrongPatient},
		{"presented by someone else", guardTok, view(w.stranger), ErrWrongRepresentative},
		{"a minor's after the end date", guardTok, Act{Representative: w.parent.DID, Patient: w.patient.DID, Action: ActionView, At: w.t0.Add(year)}, ErrCameOfAge},
		{"status list unavailable", noListTok, view(w.carer), ErrStatusUnavailable},
		{"status list signed by someone the list id does not name", foreignTok, view(w.carer), ErrStatusUnavailable},
		{"bad signature", tampered, view(w.carer), vc.ErrBadSignature},
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
	_, err := chk.Authorize(ctx, guardTok, Act{Representative: w.parent.DID, Patient: w.patient.DID, Action: ActionView, At: w.t0.Add(year)})
	if !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "Ana Silva came of age") {
		t.Fatalf("came of age: %v", err)
	}
}

// rawCredential builds d's credential without validating it, for tokens
// this package refuses to issue.
func rawCredential(d *Delegation) (*vc.Credential, error) {
	n := *d
	n.Type = TypeDelegation
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
	w := newWorld(t)
	chk, err := NewChecker(CheckerConfig{Resolver: did.KeyResolver{}, Status: w, Trust: w, Now: w.clock, StatusTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	d := w.own()
	tok := w.sign(d, w.patient)
	act := Act{Representative: w.carer.DID, Patient: w.patient.DID, Action: ActionView, Classes: []string{"Immunization"}}
	for range 3 {
		if _, err := chk.Authorize(context.Background(), tok, act); err != nil {
			t.Fatal(err)
		}
	}
	if w.fetches != 1 {
		t.Fatalf("status list fetched %d times within its TTL, want 1", w.fetches)
	}
	w.revoke(d)
	if _, err := chk.Authorize(context.Background(), tok, act); err != nil {
		t.Fatalf("within the TTL the cached list still answers: %v", err)
	}
	w.advance(2 * time.Second)
	if _, err := chk.Authorize(context.Background(), tok, act); !errors.Is(err, ErrRevoked) {
		t.Fatalf("after the TTL: %v, want ErrRevoked", err)
	}
}

func TestValidateRefuses(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		name string
		edit func(d *Delegation)
		want string
	}{
		{"no id", func(d *Delegation) { d.ID = "" }, "id must be a URL"},
		{"parent basis in a patient's delegation", func(d *Delegation) { d.Basis = BasisParent }, "accredited authority"},
		{"no end", func(d *Delegation) { d.ValidUntil = time.Time{} }, "validUntil are both required"},
		{"parent without minor", func(d *Delegation) { d.Type, d.Basis, d.Minor = TypeGuardianship, BasisParent, false }, "for a minor"},
		{"unknown action", func(d *Delegation) { d.Actions = []Action{"sell"} }, "unknown action"},
		{"unknown class", func(d *Delegation) { d.Classes = []string{"Gossip"} }, "unknown class"},
		{"all classes with another", func(d *Delegation) { d.Classes = []string{AllClasses, "Immunization"} }, "stands alone"},
		{"unknown purpose", func(d *Delegation) { d.Purposes = []string{"FUN"} }, "unknown purpose"},
		{"unknown relationship", func(d *Delegation) { d.Relationship = "BOSS" }, "unknown relationship"},
		{"no name", func(d *Delegation) { d.RepresentativeName = "" }, "name is required"},
		{"control characters in a name", func(d *Delegation) { d.RepresentativeName = "Eve\nGRANTED" }, "plain text"},
		{"no status", func(d *Delegation) { d.Status = vc.Status{} }, "credentialStatus"},
		{"suspension instead of revocation", func(d *Delegation) { d.Status.StatusPurpose = "suspension" }, "revocation"},
		{"representative is the patient", func(d *Delegation) { d.Representative = d.Patient }, "same DID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := w.own()
			tc.edit(d)
			err := d.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want ErrInvalid saying %q", err, tc.want)
			}
		})
	}
}

func TestParseActions(t *testing.T) {
	got, err := ParseActions("view, consent,view")
	if err != nil || !reflect.DeepEqual(got, []Action{ActionView, ActionConsent}) {
		t.Fatalf("ParseActions = %v, %v", got, err)
	}
	if _, err := ParseActions("view,steal"); !errors.Is(err, ErrInvalid) {
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
		got, ok := ListOwner(ref)
		if got != want || ok != (want != "") {
			t.Errorf("ListOwner(%q) = %q, %v; want %q", ref, got, ok, want)
		}
	}
}
