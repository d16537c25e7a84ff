package wallet

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/wallet/wallettest"
)

func TestEmergencyCard(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	w, _ := newVerifyingWallet(t, clk)
	is := newIssuer(t, "Hospital")
	p, _ := w.PrimaryDID()
	for _, c := range []struct {
		typ    string
		claims map[string]any
	}{
		{"AllergyIntoleranceCredential", map[string]any{"allergy": "penicillin"}},
		{"BloodTypeCredential", map[string]any{"bloodType": "O-"}},
		{"ImmunizationCredential", map[string]any{"vaccine": "MMR"}},
	} {
		if _, err := w.Receive(ctx, is.Issue(t, p.DID, []string{c.typ}, c.claims)); err != nil {
			t.Fatal(err)
		}
	}
	card, err := w.EmergencyCard(ctx, EmergencyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Included) != 2 || len(card.Omitted) != 0 {
		t.Fatalf("included %d, omitted %d; want the allergy and blood type credentials", len(card.Included), len(card.Omitted))
	}
	if !strings.HasPrefix(card.Nonce, EmergencyNoncePrefix+"2026-03-01") {
		t.Errorf("nonce %q, want the day it was made", card.Nonce)
	}
	clk.Advance(30 * 24 * 3600e9) // a month later, offline at the ER
	vp, err := vc.VerifyPresentation(ctx, card.Token, wallettest.DIDKeyFunc, vc.PresentationOptions{Audience: EmergencyAudience, Nonce: card.Nonce, Now: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(vp.Credentials) != 2 {
		t.Errorf("card holds %d credentials, want 2", len(vp.Credentials))
	}
	if len(card.Token) > DefaultEmergencyMaxBytes {
		t.Errorf("card is %d bytes, more than a QR code holds", len(card.Token))
	}
}

func TestEmergencyCardTooLarge(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	w, _ := newVerifyingWallet(t, clk)
	is := newIssuer(t, "Hospital")
	p, _ := w.PrimaryDID()
	for i := range 4 {
		big := strings.Repeat("x", 300+i)
		if _, err := w.Receive(ctx, is.Issue(t, p.DID, []string{"AllergyIntoleranceCredential"}, map[string]any{"note": big})); err != nil {
			t.Fatal(err)
		}
	}
	_, err := w.EmergencyCard(ctx, EmergencyOptions{})
	var tl *CardTooLargeError
	if !errors.As(err, &tl) || tl.Total != 4 || tl.Fit < 1 || tl.Fit >= 4 {
		t.Fatalf("got %v, want CardTooLargeError saying how many of 4 fit", err)
	}
	card, err := w.EmergencyCard(ctx, EmergencyOptions{Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Included) != tl.Fit || len(card.Omitted) != 4-tl.Fit {
		t.Errorf("partial card: %d included, %d omitted; want %d and %d", len(card.Included), len(card.Omitted), tl.Fit, 4-tl.Fit)
	}
	if _, err := (&Wallet{}).EmergencyCard(ctx, EmergencyOptions{}); err == nil {
		t.Error("a closed wallet made a card")
	}
}

// TestEmergencyCardLeavesOutWithdrawn: the card checks status first and
// leaves out what is revoked or expired, naming it; with nothing current
// left it refuses, naming what it left out.
func TestEmergencyCardLeavesOutWithdrawn(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	w, v := newVerifyingWallet(t, clk)
	if err := w.SetSettings(Settings{AutoLock: -1}); err != nil {
		t.Fatal(err)
	}
	is := newIssuer(t, "Hospital")
	p, _ := w.PrimaryDID()
	revoked := is.Issue(t, p.DID, []string{"AllergyIntoleranceCredential"}, map[string]any{"allergy": "penicillin"})
	blood := is.Issue(t, p.DID, []string{"BloodTypeCredential"}, map[string]any{"bloodType": "O-"})
	until := clk.Now().Add(24 * time.Hour)
	expiring := is.Issue(t, p.DID, []string{"MedicationStatementCredential"}, map[string]any{"medication": "warfarin"}, func(c *vc.Credential) { c.ValidUntil = &until })
	var ids []string
	for _, tok := range []string{revoked, blood, expiring} {
		c, err := w.Receive(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	// The revocation is not known to the wallet yet: the card's own
	// refresh must find it.
	v.Set(revoked, "revoked")
	clk.Advance(48 * time.Hour)
	card, err := w.EmergencyCard(ctx, EmergencyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Included) != 1 || card.Included[0].ID != ids[1] {
		t.Fatalf("included %+v, want only the blood type", card.Included)
	}
	why := map[string]string{}
	for _, l := range card.LeftOut {
		why[l.Credential.ID] = l.Why
	}
	if !strings.Contains(why[ids[0]], "revoked") || !strings.Contains(why[ids[2]], "expired on") || len(why) != 2 {
		t.Errorf("left out %v, want the revoked allergy and the expired medication", why)
	}
	if card.Unchecked != "" {
		t.Errorf("Unchecked = %q after a refresh that could check", card.Unchecked)
	}

	// Offline: the card is made from what the wallet last knew, and says so.
	v.Set("*", "status_unavailable")
	card, err = w.EmergencyCard(ctx, EmergencyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Included) != 1 || !strings.Contains(card.Unchecked, "connection refused") {
		t.Errorf("offline card: included %d, unchecked %q", len(card.Included), card.Unchecked)
	}

	// Nothing current left: refused, naming what was left out.
	v.Set("*", "")
	v.Set(blood, "suspended")
	if _, err := w.EmergencyCard(ctx, EmergencyOptions{}); !errors.Is(err, ErrNoEmergencyCredentials) || !strings.Contains(err.Error(), ids[1]+" suspended") {
		t.Errorf("card with nothing current: %v", err)
	}
}

// TestPresentRefusesNotCurrent: the wallet does not present what it knows
// is revoked, suspended or expired, unless told to.
func TestPresentRefusesNotCurrent(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	w, v := newVerifyingWallet(t, clk)
	if err := w.SetSettings(Settings{AutoLock: -1}); err != nil {
		t.Fatal(err)
	}
	is := newIssuer(t, "Hospital")
	p, _ := w.PrimaryDID()
	until := clk.Now().Add(time.Hour)
	toks := map[string]string{
		"valid":     is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "a"}),
		"revoked":   is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "b"}),
		"suspended": is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "c"}),
		"expired":   is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "d"}, func(c *vc.Credential) { c.ValidUntil = &until }),
	}
	ids := map[string]string{}
	for name, tok := range toks {
		c, err := w.Receive(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = c.ID
	}
	v.Set(toks["revoked"], "revoked")
	v.Set(toks["suspended"], "suspended")
	if _, err := w.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour) // past validUntil; the wallet has not refreshed since
	tests := []struct {
		name, why string
	}{{"valid", ""}, {"revoked", "revoked"}, {"suspended", "suspended"}, {"expired", "expired on"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := PresentRequest{CredentialIDs: []string{ids[tt.name]}, Audience: "https://er.example", Nonce: "n"}
			_, err := w.Present(ctx, req)
			var np *NotPresentableError
			switch {
			case tt.why == "" && err != nil:
				t.Fatalf("Present: %v", err)
			case tt.why != "" && (!errors.As(err, &np) || !errors.Is(err, ErrNotPresentable) || !strings.Contains(np.Why, tt.why) || np.ID != ids[tt.name]):
				t.Fatalf("Present = %v, want NotPresentableError %q", err, tt.why)
			}
			req.Force = true
			if _, err := w.Present(ctx, req); err != nil {
				t.Errorf("Present with Force: %v", err)
			}
		})
	}
}
