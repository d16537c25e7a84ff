package licence

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/internal/randid"
)

// cardWorld is a licensing body, a practitioner with a licence, and a
// checker's verifier on a shared clock.
type cardWorld struct {
	clk         *credtest.Clock
	body, nurse credtest.Party
	lic         string
	v           *verify.Verifier
}

func newCardWorld(t *testing.T, status bool) *cardWorld {
	t.Helper()
	w := &cardWorld{clk: credtest.NewClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)),
		body: credtest.NewParty(t, key.Ed25519, "nursing council"), nurse: credtest.NewParty(t, key.Ed25519, "nurse")}
	from := w.clk.Now().Add(-24 * time.Hour)
	cl := Claims{Name: "Sam Nurse", Profession: Professions["nurse"], LicenceNumber: "NMC-1", Jurisdiction: "GB"}
	c := &vc.Credential{Context: []string{vc.ContextV2}, ID: "urn:uuid:lic-1", Type: []string{vc.TypeCredential, Type},
		Issuer: w.body.DID, ValidFrom: &from, Subject: cl.Subject(w.nurse.DID)}
	if status {
		c.Status = []vc.Status{statuslist.Entry("https://registry.example/1.0/status-lists/x", statuslist.Revocation, 3)}
	}
	var err error
	if w.lic, err = vc.Issue(c, w.body.Key, w.body.Kid); err != nil {
		t.Fatal(err)
	}
	// No status fetcher: a licence with a status entry cannot be checked.
	if w.v, err = verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: w.clk.Now}); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestCard(t *testing.T) {
	ctx := context.Background()
	w := newCardWorld(t, false)
	good, err := MakeCard(w.lic, w.nurse.Key, w.nurse.Kid, w.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Through the QR text and back.
	back, err := CardFromText(" " + CardQRText(good) + "\n")
	if err != nil || back != good {
		t.Fatalf("CardFromText(CardQRText) = %v", err)
	}
	c, err := VerifyCard(ctx, w.v, good)
	if err != nil || !c.Result.Valid || c.Licence == nil || c.Licence.Name != "Sam Nurse" || c.Holder != w.nurse.DID ||
		c.Expires.Sub(c.Made) != CardLifetime {
		t.Fatalf("good card: %+v, %v", c, err)
	}

	// Someone else cannot make a card of the nurse's licence.
	other := credtest.NewParty(t, key.Ed25519, "impostor")
	if _, err := MakeCard(w.lic, other.Key, other.Kid, w.clk.Now()); err == nil || !strings.Contains(err.Error(), "only its holder") {
		t.Errorf("an impostor's card: %v", err)
	}
	sign := func(holder credtest.Party, creds []string, aud, nonce string, life time.Duration) string {
		t.Helper()
		tok, err := vc.SignPresentation(&vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation},
			Holder: holder.DID, Credentials: creds}, holder.Key, holder.Kid, aud, nonce, vc.WithIssuedAt(w.clk.Now()), vc.WithLifetime(life))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	nonce := CardNoncePrefix + randid.Hex(16)
	for _, tc := range []struct {
		name    string
		token   string
		later   time.Duration
		notCard bool
		reason  string
	}{
		{name: "expired", token: good, later: CardLifetime + time.Minute, reason: verify.ReasonExpired},
		{name: "the licence presented by someone else", token: sign(other, []string{w.lic}, CardAudience, nonce, time.Minute), reason: verify.ReasonHolderMismatch},
		{name: "to another audience", token: sign(w.nurse, []string{w.lic}, "https://pharmacy.example", nonce, time.Minute), reason: verify.ReasonAudienceMismatch},
		{name: "made to last an hour", token: sign(w.nurse, []string{w.lic}, CardAudience, nonce, time.Hour), notCard: true},
		{name: "an emergency card's nonce", token: sign(w.nurse, []string{w.lic}, CardAudience, "medid:emergency:2026-12-03", time.Minute), notCard: true},
		{name: "two credentials", token: sign(w.nurse, []string{w.lic, w.lic}, CardAudience, nonce, time.Minute), notCard: true},
		{name: "no credential", token: sign(w.nurse, nil, CardAudience, nonce, time.Minute), notCard: true},
		{name: "a bare licence", token: w.lic, notCard: true},
		{name: "garbage", token: "hello", notCard: true},
		{name: "tampered", token: good[:len(good)-4] + "AAAA", reason: verify.ReasonBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := w.clk.Now()
			defer w.clk.Set(start)
			w.clk.Advance(tc.later)
			c, err := VerifyCard(ctx, w.v, tc.token)
			if tc.notCard {
				if !errors.Is(err, ErrNotCard) {
					t.Fatalf("VerifyCard = %+v, %v; want ErrNotCard", c, err)
				}
				return
			}
			if err != nil || c.Result.Valid || c.Result.Reason != tc.reason || c.Result.Unavailable || c.Licence != nil {
				t.Fatalf("VerifyCard = %+v (reason %q), %v; want refused with %q", c, c.Result.Reason, err, tc.reason)
			}
		})
	}
}

// TestCardUnchecked: a licence whose status cannot be fetched makes the
// card unchecked (Unavailable), not refused.
func TestCardUnchecked(t *testing.T) {
	w := newCardWorld(t, true)
	tok, err := MakeCard(w.lic, w.nurse.Key, w.nurse.Kid, w.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, err := VerifyCard(context.Background(), w.v, tok)
	if err != nil || c.Result.Valid || !c.Result.Unavailable || c.Licence != nil {
		t.Fatalf("VerifyCard = %+v, %v; want unavailable", c.Result, err)
	}
}

func FuzzReadCard(f *testing.F) {
	f.Add("MEDID1:ABC")
	f.Add("eyJhbGciOiJFZERTQSJ9.e30.AA")
	f.Add(strings.Repeat("A", 100))
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := CardFromText(s)
		if err != nil {
			if !errors.Is(err, ErrNotCard) {
				t.Fatalf("CardFromText error %v does not wrap ErrNotCard", err)
			}
			return
		}
		nonce, made, exp, lic, err := ReadCard(tok)
		if err != nil {
			if !errors.Is(err, ErrNotCard) {
				t.Fatalf("ReadCard error %v does not wrap ErrNotCard", err)
			}
			return
		}
		if !strings.HasPrefix(nonce, CardNoncePrefix) || !exp.After(made) || exp.Sub(made) > MaxCardLifetime || lic == "" {
			t.Fatalf("ReadCard accepted %q: nonce %q, %s..%s", tok, nonce, made, exp)
		}
	})
}
