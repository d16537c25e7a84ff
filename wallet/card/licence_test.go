package card_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/card"
	"github.com/medid/medid/wallet/wallettest/testwallet"
)

// TestLicence: a practitioner's wallet makes a licence card of the licence
// it holds, which a checker verifies (the holder signed it, for the card
// audience, fresh); a record that is not a licence makes no card.
func TestLicence(t *testing.T) {
	ctx := context.Background()
	clk := testwallet.Clock()
	w, _ := testwallet.Verifying(t, clk)
	body := newIssuer(t)
	p, _ := w.PrimaryDID()
	cl := licence.Claims{Name: "Sam Nurse", Profession: licence.Professions["nurse"], LicenceNumber: "NMC-1", Jurisdiction: "GB"}
	claims := cl.Subject(p.DID)
	delete(claims, "id")
	lic, err := w.Receive(ctx, body.Issue(t, p.DID, []string{licence.Type}, claims))
	if err != nil {
		t.Fatal(err)
	}
	other, err := w.Receive(ctx, body.Issue(t, p.DID, []string{"BloodTypeCredential"}, map[string]any{"bloodType": "O-"}))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := card.Licence(w, lic.ID)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	c, err := licence.VerifyCard(ctx, v, tok)
	if err != nil || !c.Result.Valid || c.Holder != p.DID || c.Licence.Name != "Sam Nurse" {
		t.Fatalf("the wallet's card: %+v, %v", c, err)
	}
	if c.Made != clk.Now().Truncate(time.Second) {
		t.Errorf("made %s, want the wallet's clock %s", c.Made, clk.Now())
	}
	if _, err := card.Licence(w, other.ID); !errors.Is(err, licence.ErrInvalid) {
		t.Errorf("a blood type record as a licence card: %v", err)
	}
}

// TestHeldLicence: the licence a card is made of is the one named, else
// the newest held; a wallet with none, a record that is not a licence, or
// a licence the wallet last found revoked makes no card, and a licence
// whose check could not be made still does.
func TestHeldLicence(t *testing.T) {
	ctx := context.Background()
	clk := testwallet.Clock()
	w, v := testwallet.Verifying(t, clk)
	if _, err := card.HeldLicence(w, ""); !errors.Is(err, card.ErrNoLicence) {
		t.Fatalf("empty wallet: got %v, want ErrNoLicence", err)
	}
	body := newIssuer(t)
	p, _ := w.PrimaryDID()
	issue := func(number string) string {
		cl := licence.Claims{Name: "Sam Nurse", Profession: licence.Professions["nurse"], LicenceNumber: number, Jurisdiction: "GB"}
		claims := cl.Subject(p.DID)
		delete(claims, "id")
		return body.Issue(t, p.DID, []string{licence.Type}, claims)
	}
	oldTok := issue("NMC-1")
	old, err := w.Receive(ctx, oldTok)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	newTok := issue("NMC-2")
	newer, err := w.Receive(ctx, newTok)
	if err != nil {
		t.Fatal(err)
	}
	blood, err := w.Receive(ctx, body.Issue(t, p.DID, []string{"BloodTypeCredential"}, map[string]any{"bloodType": "O-"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		id      string
		status  map[string]string // token -> the verifier's answer, then Refresh
		wantID  string
		wantErr error
		notOK   bool // a *NotValidError
	}{
		{name: "newest by default", wantID: newer.ID},
		{name: "named", id: old.ID, wantID: old.ID},
		{name: "not a licence", id: blood.ID, wantErr: licence.ErrInvalid},
		{name: "no such record", id: "0123456789abcdef", wantErr: wallet.ErrNotFound},
		{name: "could not check: still made", status: map[string]string{newTok: "status_unavailable"}, wantID: newer.ID},
		{name: "revoked", status: map[string]string{newTok: "revoked"}, notOK: true, wantErr: licence.ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			for tok, reason := range c.status {
				v.Set(tok, reason)
				w.Refresh(ctx)
				t.Cleanup(func() { v.Set(tok, ""); w.Refresh(ctx) })
			}
			got, err := card.HeldLicence(w, c.id)
			var nv *card.NotValidError
			switch {
			case c.notOK && (!errors.As(err, &nv) || nv.Status != wallet.StatusRevoked || !strings.Contains(err.Error(), "revoked")):
				t.Fatalf("got %v, want a NotValidError (revoked)", err)
			case c.wantErr != nil && !errors.Is(err, c.wantErr):
				t.Fatalf("got %v, want %v", err, c.wantErr)
			case c.wantErr == nil && err != nil:
				t.Fatal(err)
			case got.ID != c.wantID:
				t.Fatalf("got licence %q, want %q", got.ID, c.wantID)
			case c.wantID != "" && got.Token == "":
				t.Fatal("the licence comes without its token")
			}
			if c.wantID != "" {
				if _, err := card.Licence(w, got.ID); err != nil {
					t.Errorf("card of the picked licence: %v", err)
				}
			}
		})
	}
}
