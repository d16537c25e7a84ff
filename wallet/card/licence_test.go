package card_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/credentials/verify"
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
