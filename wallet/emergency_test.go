package wallet

import (
	"context"
	"errors"
	"strings"
	"testing"

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
