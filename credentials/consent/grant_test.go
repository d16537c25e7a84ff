package consent

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

var (
	tFrom  = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tUntil = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
)

func testKey(tb testing.TB, b byte) *key.PrivateKey {
	tb.Helper()
	seed := sha256.Sum256([]byte{'c', b})
	k, err := key.NewEd25519FromSeed(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// newParty is the did:key party of testKey(b).
func newParty(tb testing.TB, b byte) credtest.Party { return credtest.PartyOf(testKey(tb, b)) }

// anchorFor is the anchor did:key of a grant by patient (a wallet derives
// one per grant; one per patient is enough here).
func anchorFor(patient credtest.Party) credtest.Party {
	seed := sha256.Sum256([]byte("anchor of " + patient.DID))
	k, err := key.NewEd25519FromSeed(seed[:])
	if err != nil {
		panic(err)
	}
	return credtest.PartyOf(k)
}

func testGrant(patient, provider credtest.Party) *Grant {
	return &Grant{
		ID:         "urn:uuid:5f0c6a1e-1b7e-4f0e-9a52-2d4f3f1f7a10",
		Patient:    patient.DID,
		Anchor:     anchorFor(patient).DID,
		Provider:   provider.DID,
		Actions:    []Action{ActionAccess, ActionCorrect},
		Purposes:   []string{PurposeTreatment, PurposeResearch},
		Classes:    []string{"AllergyIntolerance", "Immunization", "MedicationStatement"},
		ValidFrom:  tFrom,
		ValidUntil: tUntil,
		BreakGlass: true,
		Issued:     tFrom.Add(-time.Hour),
	}
}

func keyFunc(_ context.Context, kid string) (key.PublicKey, error) {
	d, _, _ := strings.Cut(kid, "#")
	pub, err := did.ParseKeyDID(d)
	if err != nil {
		return key.PublicKey{}, err
	}
	return did.KeyDocument(pub).Key(kid, did.AssertionMethod)
}

func TestIssueVerify(t *testing.T) {
	pat, prov := newParty(t, 1), newParty(t, 2)
	g := testGrant(pat, prov)
	tok, err := Issue(g, pat.Key, pat.Kid)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(context.Background(), tok, keyFunc)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := *g
	want.Token = tok
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("Verify = %+v, want %+v", got, &want)
	}
	if got.Hash() != Hash(tok) || len(Hash(tok)) != 64 {
		t.Errorf("Hash = %q", got.Hash())
	}
	c, _ := vc.Parse(tok)
	if !c.Credential.HasType(TypeConsentGrant) || c.Credential.Issuer != pat.DID || c.Credential.SubjectID() != prov.DID {
		t.Errorf("credential = %+v", c.Credential)
	}

	// An expired grant still verifies (Permits reports the expiry).
	old := testGrant(pat, prov)
	old.ValidFrom, old.ValidUntil, old.Issued = tFrom.AddDate(-2, 0, 0), tFrom.AddDate(-1, 0, 0), tFrom.AddDate(-2, 0, 0)
	otok, err := Issue(old, pat.Key, pat.Kid)
	if err != nil {
		t.Fatal(err)
	}
	og, err := Verify(context.Background(), otok, keyFunc)
	if err != nil {
		t.Fatalf("Verify expired grant: %v", err)
	}
	if err := og.Permits(Request{Provider: prov.DID, Action: ActionAccess, Purpose: "TREAT", Class: "Immunization", At: tFrom}); !errors.Is(err, ErrConsentExpired) {
		t.Errorf("Permits on expired grant = %v, want ErrConsentExpired", err)
	}

	// Signed by the provider in the patient's name: refused.
	forged, err := vc.Issue(mustCred(t, g), prov.Key, pat.Kid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(context.Background(), forged, keyFunc); !errors.Is(err, vc.ErrBadSignature) {
		t.Errorf("Verify forged = %v, want vc.ErrBadSignature", err)
	}
	// Signed by the provider as issuer of a grant naming the patient: kid mismatch.
	if _, err := Issue(g, prov.Key, prov.Kid); !errors.Is(err, vc.ErrIssuerMismatch) {
		t.Errorf("Issue with another DID's kid = %v, want vc.ErrIssuerMismatch", err)
	}
}

func mustCred(t *testing.T, g *Grant) *vc.Credential {
	c, err := g.Credential()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPermits(t *testing.T) {
	pat, prov, other := newParty(t, 1), newParty(t, 2), newParty(t, 3)
	g := testGrant(pat, prov)
	noBG := testGrant(pat, prov)
	noBG.BreakGlass = false
	at := tFrom.Add(24 * time.Hour)
	ok := Request{Provider: prov.DID, Action: ActionAccess, Purpose: "TREAT", Class: "Immunization", At: at}
	with := func(f func(*Request)) Request { r := ok; f(&r); return r }
	cases := []struct {
		name  string
		grant *Grant
		req   Request
		want  error
	}{
		{"permitted", g, ok, nil},
		{"permitted at validFrom", g, with(func(r *Request) { r.At = tFrom }), nil},
		{"other provider", g, with(func(r *Request) { r.Provider = other.DID }), ErrWrongProvider},
		{"before validFrom", g, with(func(r *Request) { r.At = tFrom.Add(-time.Second) }), ErrConsentNotYetValid},
		{"at validUntil", g, with(func(r *Request) { r.At = tUntil }), ErrConsentExpired},
		{"after validUntil", g, with(func(r *Request) { r.At = tUntil.AddDate(1, 0, 0) }), ErrConsentExpired},
		{"action not granted", g, with(func(r *Request) { r.Action = ActionDisclose }), ErrWrongAction},
		{"purpose not granted", g, with(func(r *Request) { r.Purpose = "HMARKT" }), ErrWrongPurpose},
		{"emergency purpose without break-glass request", g, with(func(r *Request) { r.Purpose = "ETREAT" }), ErrWrongPurpose},
		{"class not granted", g, with(func(r *Request) { r.Class = "Condition" }), ErrWrongClass},
		{"break-glass", g, with(func(r *Request) { r.BreakGlass, r.Purpose, r.Class = true, "ETREAT", "AllergyIntolerance" }), nil},
		// Issue 11 item 2: an emergency override stays within the classes
		// the patient allowed (it used to waive them).
		{"break-glass outside the allowed classes", g, with(func(r *Request) { r.BreakGlass, r.Purpose, r.Class = true, "ETREAT", "Condition" }), ErrWrongClass},
		{"break-glass not allowed", noBG, with(func(r *Request) { r.BreakGlass, r.Purpose = true, "ETREAT" }), ErrBreakGlassNotPermitted},
		{"break-glass for another provider", g, with(func(r *Request) { r.BreakGlass, r.Purpose, r.Provider = true, "ETREAT", other.DID }), ErrWrongProvider},
		{"break-glass to correct", g, with(func(r *Request) { r.BreakGlass, r.Purpose, r.Action = true, "ETREAT", ActionCorrect }), ErrWrongAction},
		{"break-glass without ETREAT", g, with(func(r *Request) { r.BreakGlass = true }), ErrWrongPurpose},
		{"break-glass after expiry", g, with(func(r *Request) { r.BreakGlass, r.Purpose, r.At = true, "ETREAT", tUntil }), ErrConsentExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.grant.Permits(tc.req)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Permits = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	pat, prov := newParty(t, 1), newParty(t, 2)
	cases := []struct {
		name   string
		change func(g *Grant)
		want   string // in the error; "" = valid
	}{
		{"valid", func(g *Grant) {}, ""},
		{"open-ended", func(g *Grant) { g.ValidUntil = time.Time{} }, ""},
		{"no provider", func(g *Grant) { g.Provider = "" }, "provider"},
		{"provider not a DID", func(g *Grant) { g.Provider = "Dr Who" }, "provider"},
		{"patient not a DID", func(g *Grant) { g.Patient = "https://example.org" }, "patient"},
		{"no action", func(g *Grant) { g.Actions = nil }, "no action"},
		{"unknown action", func(g *Grant) { g.Actions = []Action{"delete"} }, `unknown action code "delete"`},
		{"unknown purpose", func(g *Grant) { g.Purposes = []string{"TREATMENT"} }, `unknown purpose code "TREATMENT"`},
		{"no purpose", func(g *Grant) { g.Purposes = nil }, "no purpose"},
		{"unknown class", func(g *Grant) { g.Classes = []string{"Allergy"} }, `unknown class code "Allergy"`},
		{"duplicate class", func(g *Grant) { g.Classes = []string{"Immunization", "Immunization"} }, "listed twice"},
		{"no validFrom", func(g *Grant) { g.ValidFrom = time.Time{} }, "validFrom"},
		{"period reversed", func(g *Grant) { g.ValidUntil = g.ValidFrom.Add(-time.Hour) }, "not after validFrom"},
		{"empty period", func(g *Grant) { g.ValidUntil = g.ValidFrom }, "not after validFrom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := testGrant(pat, prov)
			tc.change(g)
			err := g.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tc.want != "" && (!errors.Is(err, ErrInvalidGrant) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate = %v, want ErrInvalidGrant containing %q", err, tc.want)
			}
		})
	}
}

func TestFromCredentialRefuses(t *testing.T) {
	pat, prov := newParty(t, 1), newParty(t, 2)
	cases := []struct {
		name   string
		change func(c *vc.Credential)
		want   string
	}{
		{"not a consent grant", func(c *vc.Credential) { c.Type = []string{vc.TypeCredential} }, "not of type ConsentGrant"},
		{"credentialStatus", func(c *vc.Credential) {
			c.Status = []vc.Status{{Type: vc.StatusTypeBitstring}}
		}, "credentialStatus"},
		{"extra subject property", func(c *vc.Credential) { c.Subject["diagnosis"] = "x" }, "unexpected credentialSubject property"},
		{"purpose not an array", func(c *vc.Credential) { c.Subject["purpose"] = "TREAT" }, "purpose must be an array"},
		{"breakGlass not a bool", func(c *vc.Credential) { c.Subject["breakGlass"] = "yes" }, "breakGlass"},
		{"no subject id", func(c *vc.Credential) { delete(c.Subject, "id") }, "provider"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCred(t, testGrant(pat, prov))
			tc.change(c)
			tok, err := vc.Issue(c, pat.Key, pat.Kid)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Verify(context.Background(), tok, keyFunc)
			if !errors.Is(err, ErrInvalidGrant) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify = %v, want ErrInvalidGrant containing %q", err, tc.want)
			}
		})
	}
}

// TestAnchorRules: a grant names its anchor DID, a did:key that is neither
// the patient's nor the provider's DID (it is public on the ledger).
func TestAnchorRules(t *testing.T) {
	pat, prov := newParty(t, 1), newParty(t, 2)
	for _, tc := range []struct {
		name   string
		anchor string
		want   error
	}{
		{"per-grant did:key", anchorFor(pat).DID, nil},
		{"none", "", ErrLegacyGrant},
		{"the patient's DID", pat.DID, ErrInvalidGrant},
		{"the provider's DID", prov.DID, ErrInvalidGrant},
		{"a did:medid", "did:medid:2yqQkJBPyqgZ3Zz5oAhNqc", ErrInvalidGrant},
		{"not a DID", "anchor", ErrInvalidGrant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := testGrant(pat, prov)
			g.Anchor = tc.anchor
			_, err := Issue(g, pat.Key, pat.Kid)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Issue = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestLegacyGrant: a grant token made before per-grant anchors (it names no
// anchor DID; testdata/legacy-grant.jwt is the old golden token) is refused
// by Parse, Verify and the Checker with ErrLegacyGrant, which says to grant
// again.
func TestLegacyGrant(t *testing.T) {
	raw, err := os.ReadFile("testdata/legacy-grant.jwt")
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(raw))
	if _, err := Parse(tok); !errors.Is(err, ErrLegacyGrant) || !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("Parse(legacy) = %v, want ErrLegacyGrant and ErrInvalidGrant", err)
	}
	c, err := NewChecker(CheckerConfig{Keys: keyFunc, Ledger: &memLedger{}})
	if err != nil {
		t.Fatal(err)
	}
	prov := newParty(t, 2)
	if _, err := c.CheckInForce(context.Background(), tok, Request{Provider: prov.DID, Action: ActionAccess, Purpose: "TREAT",
		Class: "Immunization", At: tFrom.Add(time.Hour)}); !errors.Is(err, ErrLegacyGrant) || !strings.Contains(err.Error(), "granted again") {
		t.Errorf("Checker on a legacy grant = %v, want ErrLegacyGrant saying to grant again", err)
	}
}
