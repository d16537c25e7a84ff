package card_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/card"
	"github.com/medid/medid/wallet/wallettest"
	"github.com/medid/medid/wallet/wallettest/testwallet"
)

// The wallet is the holder a card is made over.
var _ card.Holder = (*wallet.Wallet)(nil)

// newIssuer is a test hospital with no display name: the tests count the
// bytes of its credentials.
func newIssuer(t testing.TB) wallettest.Issuer {
	return wallettest.Issuer{Party: wallettest.NewIssuer(t, "Hospital").Party}
}

func TestMake(t *testing.T) {
	ctx := context.Background()
	clk := testwallet.Clock()
	w, _ := testwallet.Verifying(t, clk)
	is := newIssuer(t)
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
	c, err := card.Make(ctx, w, card.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Included) != 2 || len(c.Omitted) != 0 {
		t.Fatalf("included %d, omitted %d; want the allergy and blood type credentials", len(c.Included), len(c.Omitted))
	}
	if !strings.HasPrefix(c.Nonce, card.NoncePrefix+"2026-03-01") {
		t.Errorf("nonce %q, want the day it was made", c.Nonce)
	}
	clk.Advance(30 * 24 * 3600e9) // a month later, offline at the ER
	vp, err := vc.VerifyPresentation(ctx, c.Token, wallettest.DIDKeyFunc, vc.PresentationOptions{Audience: card.Audience, Nonce: c.Nonce, Now: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(vp.Credentials) != 2 {
		t.Errorf("card holds %d credentials, want 2", len(vp.Credentials))
	}
	if len(c.Token) > card.DefaultMaxBytes {
		t.Errorf("card is %d bytes, more than a QR code holds", len(c.Token))
	}
}

func TestTooLarge(t *testing.T) {
	ctx := context.Background()
	clk := testwallet.Clock()
	w, _ := testwallet.Verifying(t, clk)
	is := newIssuer(t)
	p, _ := w.PrimaryDID()
	for i := range 4 {
		big := strings.Repeat("x", 300+i)
		if _, err := w.Receive(ctx, is.Issue(t, p.DID, []string{"AllergyIntoleranceCredential"}, map[string]any{"note": big})); err != nil {
			t.Fatal(err)
		}
	}
	_, err := card.Make(ctx, w, card.Options{})
	var tl *card.TooLargeError
	if !errors.As(err, &tl) || tl.Total != 4 || tl.Fit < 1 || tl.Fit >= 4 {
		t.Fatalf("got %v, want CardTooLargeError saying how many of 4 fit", err)
	}
	c, err := card.Make(ctx, w, card.Options{Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Included) != tl.Fit || len(c.Omitted) != 4-tl.Fit {
		t.Errorf("partial card: %d included, %d omitted; want %d and %d", len(c.Included), len(c.Omitted), tl.Fit, 4-tl.Fit)
	}
	if _, err := card.Make(ctx, &wallet.Wallet{}, card.Options{}); err == nil {
		t.Error("a closed wallet made a card")
	}
}

// TestLeavesOutWithdrawn: the card checks status first and
// leaves out what is revoked or expired, naming it; with nothing current
// left it refuses, naming what it left out.
func TestLeavesOutWithdrawn(t *testing.T) {
	ctx := context.Background()
	clk := testwallet.Clock()
	w, v := testwallet.Verifying(t, clk)
	if err := w.SetSettings(wallet.Settings{AutoLock: -1}); err != nil {
		t.Fatal(err)
	}
	is := newIssuer(t)
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
	c, err := card.Make(ctx, w, card.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Included) != 1 || c.Included[0].ID != ids[1] {
		t.Fatalf("included %+v, want only the blood type", c.Included)
	}
	why := map[string]string{}
	for _, l := range c.LeftOut {
		why[l.Credential.ID] = l.Why
	}
	if !strings.Contains(why[ids[0]], "revoked") || !strings.Contains(why[ids[2]], "expired on") || len(why) != 2 {
		t.Errorf("left out %v, want the revoked allergy and the expired medication", why)
	}
	if c.Unchecked != "" {
		t.Errorf("Unchecked = %q after a refresh that could check", c.Unchecked)
	}

	// Offline: the card is made from what the wallet last knew, and says so.
	v.Set("*", "status_unavailable")
	c, err = card.Make(ctx, w, card.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Included) != 1 || !strings.Contains(c.Unchecked, "connection refused") {
		t.Errorf("offline card: included %d, unchecked %q", len(c.Included), c.Unchecked)
	}

	// Nothing current left: refused, naming what was left out.
	v.Set("*", "")
	v.Set(blood, "suspended")
	if _, err := card.Make(ctx, w, card.Options{}); !errors.Is(err, card.ErrNoCredentials) || !strings.Contains(err.Error(), ids[1]+" suspended") {
		t.Errorf("card with nothing current: %v", err)
	}
}

// TestSDJWTNotOnCard: an SD-JWT VC cannot ride in the card's vp+jwt, and
// the card says it left it out (a patient must not think a valid allergy
// is on the card).
func TestSDJWTNotOnCard(t *testing.T) {
	ctx := context.Background()
	clk := testwallet.Clock()
	w, _ := testwallet.Verifying(t, clk)
	me, _ := w.PrimaryDID()
	meKey, err := did.ParseKeyDID(me.DID)
	if err != nil {
		t.Fatal(err)
	}
	tok := newIssuer(t).IssueSDJWT(t, me.DID, meKey, "AllergyIntoleranceCredential", clk.Now(), map[string]any{"criticality": "high"})
	c, err := w.Receive(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	_, err = card.Make(ctx, w, card.Options{NoRefresh: true})
	if !errors.Is(err, card.ErrNoCredentials) || !strings.Contains(err.Error(), c.ID+" "+card.SDJWTNotOnCard) {
		t.Errorf("emergency card of an SD-JWT VC alone: %v, want it named as left out", err)
	}
}

// TestHistory: the card is in the patient's history, shared with the
// emergency audience, naming the credentials on it.
func TestHistory(t *testing.T) {
	ctx := context.Background()
	clk := testwallet.Clock()
	w, _ := testwallet.Verifying(t, clk)
	p, _ := w.PrimaryDID()
	cr, err := w.Receive(ctx, newIssuer(t).Issue(t, p.DID, []string{"BloodTypeCredential"}, map[string]any{"bloodType": "O-"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := card.Make(ctx, w, card.Options{}); err != nil {
		t.Fatal(err)
	}
	h, err := w.History()
	if err != nil {
		t.Fatal(err)
	}
	last := h[len(h)-1]
	if last.Kind != wallet.EventPresented || last.Audience != card.Audience || last.Holder != p.DID ||
		len(last.Credentials) != 1 || last.Credentials[0].ID != cr.ID || !last.At.Equal(clk.Now()) {
		t.Errorf("history entry %+v, want the card's", last)
	}
}
