package wallet

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

// TestReadConsentRequest: a provider's signed consent request is read
// from its link (or the bare request), checked against the provider's
// DID, and refused when forged, expired or not a consent request.
func TestReadConsentRequest(t *testing.T) {
	clk := credtest.NewClock(time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC))
	w, _ := newTestWallet(t, clk)
	ctx := context.Background()
	doc := credtest.NewParty(t, key.Ed25519, "Dr Jones")
	asked := &consent.Proposal{Provider: doc.DID, Purposes: []string{consent.PurposeTreatment},
		Classes: []string{"AllergyIntolerance"}, Duration: 30 * 24 * time.Hour, Note: "Before your operation"}
	tok, err := consent.IssueProposal(asked, doc.Key, doc.Kid, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{consent.ProposalURI(tok), "  " + tok + "\n"} {
		p, err := w.ReadConsentRequest(ctx, in, did.KeyResolver{})
		if err != nil {
			t.Fatalf("ReadConsentRequest: %v", err)
		}
		if p.Provider != doc.DID || p.Duration != asked.Duration || p.Note != asked.Note || len(p.Classes) != 1 {
			t.Errorf("read %+v", p)
		}
	}

	mallory := credtest.NewParty(t, key.Ed25519, "Mallory")
	forged, err := consent.IssueProposal(&consent.Proposal{Provider: mallory.DID, Purposes: asked.Purposes, Classes: asked.Classes,
		Duration: asked.Duration}, mallory.Key, mallory.Kid, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Mallory's request with the doctor's DID put in as issuer: the
	// signature does not match the DID it names.
	tampered := tok[:len(tok)-8] + forged[len(forged)-8:]
	for _, c := range []struct {
		name string
		in   string
		want error
	}{
		{"not a request", "openid4vp://?request_uri=x", vc.ErrMalformed},
		{"a link without a request", "medid-consent://?other=1", consent.ErrInvalidProposal},
		{"tampered", tampered, vc.ErrBadSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := w.ReadConsentRequest(ctx, c.in, did.KeyResolver{}); !errors.Is(err, c.want) {
				t.Errorf("ReadConsentRequest = %v, want %v", err, c.want)
			}
		})
	}
	clk.Advance(consent.ProposalLifetime)
	if _, err := w.ReadConsentRequest(ctx, tok, did.KeyResolver{}); !errors.Is(err, consent.ErrProposalExpired) {
		t.Errorf("after its lifetime: %v, want ErrProposalExpired", err)
	}
}
