package consent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

// proposer is a provider with a did:key from a fixed seed (credtest).
func proposer(tb testing.TB, name string) (*key.PrivateKey, string, string) {
	tb.Helper()
	p := credtest.NewParty(tb, key.Ed25519, name)
	return p.Key, p.DID, p.Kid
}

var proposalNow = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

func TestProposalRoundTrip(t *testing.T) {
	k, d, kid := proposer(t, "St Mary's")
	p := &Proposal{Provider: d, Purposes: []string{PurposeTreatment}, Classes: []string{"AllergyIntolerance", "MedicationStatement"},
		Duration: 30 * 24 * time.Hour, Note: "Before your operation on 3 May"}
	tok, err := IssueProposal(p, k, kid, proposalNow)
	if err != nil {
		t.Fatal(err)
	}
	uri := ProposalURI(tok)
	if !IsProposalURI(uri) || !strings.HasPrefix(uri, "medid-consent://?request=") {
		t.Fatalf("link = %q", uri)
	}
	back, err := ParseProposalURI(strings.ToUpper(uri[:13]) + uri[13:])
	if err != nil || back != tok {
		t.Fatalf("ParseProposalURI = %q, %v", back, err)
	}
	got, err := VerifyProposal(context.Background(), tok, keyFunc, proposalNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Provider != d || got.Duration != p.Duration || got.Note != p.Note || len(got.Classes) != 2 || got.BreakGlass ||
		!got.Expires.Equal(proposalNow.Add(ProposalLifetime)) || got.Token != tok {
		t.Errorf("got %+v", got)
	}
	if _, err := VerifyProposal(context.Background(), tok, keyFunc, proposalNow.Add(ProposalLifetime)); !errors.Is(err, ErrProposalExpired) {
		t.Errorf("after its lifetime: %v, want ErrProposalExpired", err)
	}
	// Signed by someone else in the provider's name: refused.
	k2, _, _ := proposer(t, "Mallory")
	forged, err := vc.Issue(&vc.Credential{Context: vc.CredentialContext(), Type: []string{vc.TypeCredential, TypeConsentProposal},
		Issuer: d, ValidFrom: &proposalNow, ValidUntil: ptr(proposalNow.Add(time.Hour)),
		Subject: map[string]any{"purpose": []any{"TREAT"}, "class": []any{"AllergyIntolerance"}, "durationDays": 1, "breakGlass": false}}, k2, kid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyProposal(context.Background(), forged, keyFunc, proposalNow); !errors.Is(err, vc.ErrBadSignature) {
		t.Errorf("forged: %v, want a bad signature", err)
	}
}

func ptr[T any](v T) *T { return &v }

// licenceOf is a licence-like credential whose subject is the did:key
// of the party named.
func licenceOf(t testing.TB, subject string) string {
	t.Helper()
	body := credtest.NewParty(t, key.Ed25519, "licensing body")
	_, d, _ := proposer(t, subject)
	tok, err := vc.Issue(&vc.Credential{Context: []string{vc.ContextV2}, Type: []string{vc.TypeCredential, "PractitionerLicenceCredential"},
		Issuer: body.DID, ValidFrom: &proposalNow, Subject: map[string]any{"id": d, "name": subject}}, body.Key, body.Kid)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestProposalCarriesLicence: a practitioner's own licence rides in the
// request, signed with it, and comes back as it was.
func TestProposalCarriesLicence(t *testing.T) {
	k, d, kid := proposer(t, "Dr. Jane Doe")
	lic := licenceOf(t, "Dr. Jane Doe")
	tok, err := IssueProposal(&Proposal{Provider: d, Purposes: []string{PurposeTreatment}, Classes: []string{"AllergyIntolerance"},
		Duration: 24 * time.Hour, Licence: lic}, k, kid, proposalNow)
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifyProposal(context.Background(), tok, keyFunc, proposalNow)
	if err != nil || got.Licence != lic {
		t.Fatalf("got licence %q, %v", got.Licence[:min(16, len(got.Licence))], err)
	}
}

func TestProposalRefused(t *testing.T) {
	k, d, kid := proposer(t, "St Mary's")
	ok := func() *Proposal {
		return &Proposal{Provider: d, Purposes: []string{"TREAT"}, Classes: []string{"AllergyIntolerance"}, Duration: 24 * time.Hour}
	}
	for _, c := range []struct {
		name string
		mod  func(*Proposal)
	}{
		{"not a DID", func(p *Proposal) { p.Provider = "did:key:foo" }},
		{"no provider", func(p *Proposal) { p.Provider = "St Mary's" }},
		{"unknown class", func(p *Proposal) { p.Classes = []string{"Everything"} }},
		{"no purpose", func(p *Proposal) { p.Purposes = nil }},
		{"unknown purpose", func(p *Proposal) { p.Purposes = []string{"SELL"} }},
		{"half a day", func(p *Proposal) { p.Duration = 12 * time.Hour }},
		{"zero days", func(p *Proposal) { p.Duration = 0 }},
		{"too long", func(p *Proposal) { p.Duration = (MaxProposalDays + 1) * 24 * time.Hour }},
		{"long note", func(p *Proposal) { p.Note = strings.Repeat("x", MaxProposalNote+1) }},
		{"control characters", func(p *Proposal) { p.Note = "hi\x1b[2J" }},
		{"licence not a credential", func(p *Proposal) { p.Licence = "not a licence" }},
		{"someone else's licence", func(p *Proposal) { p.Licence = licenceOf(t, "Dr. Someone Else") }},
		{"licence too large", func(p *Proposal) { p.Licence = strings.Repeat("x", MaxProposalLicence+1) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := ok()
			c.mod(p)
			if _, err := IssueProposal(p, k, kid, proposalNow); !errors.Is(err, ErrInvalidProposal) {
				t.Errorf("IssueProposal: %v, want ErrInvalidProposal", err)
			}
		})
	}
	for _, uri := range []string{"", "openid4vp://?request=x", "medid-consent://?request=a&request=b", "medid-consent://request=a", "medid-consent://?other=1"} {
		if _, err := ParseProposalURI(uri); !errors.Is(err, ErrInvalidProposal) {
			t.Errorf("ParseProposalURI(%q) = %v", uri, err)
		}
	}
}

// FuzzParseProposal: ParseProposal never panics, and what it accepts
// validates and signs again to a request that parses to the same fields.
func FuzzParseProposal(f *testing.F) {
	k, d, kid := proposer(f, "St Mary's")
	tok, err := IssueProposal(&Proposal{Provider: d, Purposes: []string{"TREAT"}, Classes: []string{"AllergyIntolerance"},
		Duration: 24 * time.Hour, BreakGlass: true, Note: "note"}, k, kid, proposalNow)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	withLicence, err := IssueProposal(&Proposal{Provider: d, Purposes: []string{"TREAT"}, Classes: []string{"AllergyIntolerance"},
		Duration: 24 * time.Hour, Licence: licenceOf(f, "St Mary's")}, k, kid, proposalNow)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(withLicence)
	f.Add("eyJhbGciOiJFZERTQSJ9.e30.AA")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		p, err := ParseProposal(token)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted an invalid proposal: %v", err)
		}
		p2 := *p
		p2.Provider, p2.Token, p2.Licence = d, "", "" // a licence is its provider's
		again, err := IssueProposal(&p2, k, kid, proposalNow)
		if err != nil {
			t.Fatalf("accepted proposal does not sign again: %v", err)
		}
		q, err := ParseProposal(again)
		if err != nil || q.Duration != p.Duration || q.BreakGlass != p.BreakGlass || q.Note != p.Note {
			t.Fatalf("round trip: %+v, %v", q, err)
		}
	})
}

// TestProposalNarrow: the patient may give less than was asked, never more.
func TestProposalNarrow(t *testing.T) {
	p := &Proposal{Classes: []string{"AllergyIntolerance", "Immunization"}, Duration: 30 * 24 * time.Hour}
	day := 24 * time.Hour
	for _, c := range []struct {
		name       string
		classes    []string
		d          time.Duration
		breakGlass bool
		ok         bool
	}{
		{"as asked", []string{"AllergyIntolerance", "Immunization"}, 30 * day, false, true},
		{"fewer classes, shorter", []string{"Immunization"}, 7 * day, false, true},
		{"a class not asked for", []string{"Condition"}, 7 * day, false, false},
		{"nothing", nil, 7 * day, false, false},
		{"longer", []string{"Immunization"}, 31 * day, false, false},
		{"under a day", []string{"Immunization"}, time.Hour, false, false},
		{"emergency access not asked for", []string{"Immunization"}, day, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := p.Narrow(c.classes, c.d, c.breakGlass)
			if got := err == nil; got != c.ok {
				t.Errorf("Narrow = %v, want ok %v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidProposal) {
				t.Errorf("Narrow = %v, want ErrInvalidProposal", err)
			}
		})
	}
	p.BreakGlass = true
	if err := p.Narrow([]string{"Immunization"}, day, true); err != nil {
		t.Errorf("emergency access asked for and approved: %v", err)
	}
}
