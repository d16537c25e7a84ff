package emergency_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/emergency"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
)

var made = time.Date(2026, 3, 1, 22, 30, 0, 0, time.FixedZone("CET", 3600))

func seededKey(s string) *key.PrivateKey {
	seed := sha256.Sum256([]byte(s))
	k, err := key.NewEd25519FromSeed(seed[:])
	if err != nil {
		panic(err) // a 32-byte seed is always a key
	}
	return k
}

func kid(k *key.PrivateKey) string { return did.KeyDID(k.Public()) + "#" + k.Public().Multikey() }

// card is a signed emergency card with one allergy credential whose status
// entry is index 3 of a revocation list; it returns the card and the list
// (a status list credential token) with the bit set when revoked.
func card(tb testing.TB, nonce, audience string, revoked bool) (string, string) {
	tb.Helper()
	vp, list, err := makeCard(nonce, audience, revoked)
	if err != nil {
		tb.Fatal(err)
	}
	return vp, list
}

func makeCard(nonce, audience string, revoked bool) (string, string, error) {
	hospital, patient := seededKey("hospital"), seededKey("patient")
	issuer, holder := did.KeyDID(hospital.Public()), did.KeyDID(patient.Public())
	const listID = "https://hospital.example/status/1"
	l, err := statuslist.New(statuslist.MinEntries)
	if err != nil {
		return "", "", err
	}
	if revoked {
		l.Set(3, true)
	}
	lc, err := statuslist.NewCredential(listID, issuer, statuslist.Revocation, l, 0)
	if err != nil {
		return "", "", err
	}
	listFrom := made.Add(-time.Hour)
	lc.ValidFrom = &listFrom
	list, err := statuslist.Sign(lc, hospital, kid(hospital))
	if err != nil {
		return "", "", err
	}
	from := made.Add(-time.Hour)
	c := &vc.Credential{Context: []string{vc.ContextV2}, ID: "urn:uuid:1", Type: []string{vc.TypeCredential, "AllergyIntoleranceCredential"},
		Issuer: issuer, ValidFrom: &from, Subject: map[string]any{"id": holder, "allergy": "penicillin"},
		Status: []vc.Status{statuslist.Entry(listID, statuslist.Revocation, 3)}}
	tok, err := vc.Issue(c, hospital, kid(hospital))
	if err != nil {
		return "", "", err
	}
	p := &vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation}, Holder: holder, Credentials: []string{tok}}
	vp, err := vc.SignPresentation(p, patient, kid(patient), audience, nonce, vc.WithIssuedAt(made), vc.WithLifetime(365*24*time.Hour))
	return vp, list, err
}

func verifier(tb testing.TB, list string) *verify.Verifier {
	tb.Helper()
	cfg := verify.Config{Resolver: did.KeyResolver{}, Now: func() time.Time { return made.Add(24 * time.Hour) }}
	if list != "" {
		cfg.Status = verify.StaticStatusFetcher{"https://hospital.example/status/1": list}
	}
	v, err := verify.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestNonce(t *testing.T) {
	if got, want := emergency.Nonce(made), "medid:emergency:2026-03-01"; got != want {
		t.Errorf("Nonce = %q, want %q (the UTC date)", got, want)
	}
	cases := []struct {
		nonce string
		want  string // "" = not a card
	}{
		{"medid:emergency:2026-03-01", "2026-03-01"},
		{"medid:emergency:2024-02-29", "2024-02-29"},
		{"medid:emergency:2026-02-30", ""},
		{"medid:emergency:2026-3-1", ""},
		{"medid:emergency:2026-03-01T00:00:00Z", ""},
		{"medid:emergency:", ""},
		{"medid:emergency:2026-03-01 ", ""},
		{"42", ""},
		{"", ""},
		{"MEDID:EMERGENCY:2026-03-01", ""},
	}
	for _, tc := range cases {
		t.Run(tc.nonce, func(t *testing.T) {
			day, err := emergency.ParseNonce(tc.nonce)
			switch {
			case tc.want == "" && !errors.Is(err, emergency.ErrNotCard):
				t.Errorf("ParseNonce = %v, %v; want ErrNotCard", day, err)
			case tc.want != "" && (err != nil || day.Format(time.DateOnly) != tc.want):
				t.Errorf("ParseNonce = %v, %v; want %s", day, err, tc.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	good, list := card(t, emergency.Nonce(made), emergency.Audience, false)
	_, revokedList := card(t, emergency.Nonce(made), emergency.Audience, true)
	otherAud, _ := card(t, emergency.Nonce(made), "https://er.example", false)
	undated, _ := card(t, "42", emergency.Audience, false)
	cases := []struct {
		name       string
		token      string
		list       string
		wantNotCrd bool
		wantReason string // "" = valid
	}{
		{"valid", good, list, false, ""},
		{"revoked since", good, revokedList, false, verify.ReasonRevoked},
		{"no cached status list", good, "", false, verify.ReasonStatusUnavailable},
		{"another audience", otherAud, list, false, verify.ReasonAudienceMismatch},
		{"a challenge nonce", undated, list, true, ""},
		{"not a presentation", list, list, true, ""},
		{"garbage", "a.b.c", list, true, ""},
		{"tampered", good[:len(good)-4] + "AAAA", list, false, verify.ReasonBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := emergency.Verify(ctx, verifier(t, tc.list), tc.token)
			if tc.wantNotCrd {
				var nc *emergency.NotCardError
				if !errors.As(err, &nc) || c != nil {
					t.Fatalf("Verify = %+v, %v; want a NotCardError", c, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Nonce != "medid:emergency:2026-03-01" || !c.Made.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("card nonce %q made %v", c.Nonce, c.Made)
			}
			if got := c.Result.Reason; c.Result.Valid != (tc.wantReason == "") || got != tc.wantReason {
				t.Errorf("valid %v reason %q, want reason %q", c.Result.Valid, got, tc.wantReason)
			}
		})
	}
	if _, err := emergency.Verify(ctx, nil, good); err == nil {
		t.Error("nil verifier: no error")
	}
}

func TestQR(t *testing.T) {
	tok, _ := card(t, emergency.Nonce(made), emergency.Audience, false)
	text := emergency.QRText(tok)
	if !strings.HasPrefix(text, "MEDID1:") || !emergency.FitsQR(tok) {
		t.Errorf("QR text %.20q…, fits %v", text, emergency.FitsQR(tok))
	}
	for name, in := range map[string]string{"compacted": text, "plain": " " + tok + "\n"} {
		got, err := emergency.FromQR(in)
		if err != nil || got != tok {
			t.Errorf("%s: FromQR = %.40q…, %v", name, got, err)
		}
	}
	if _, err := emergency.FromQR("MEDID1:%%%"); err == nil {
		t.Error("a broken compacted text expanded")
	}
	var big strings.Builder
	for i := range 400 {
		s := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		big.WriteString(base64.RawURLEncoding.EncodeToString(s[:]))
	}
	if emergency.FitsQR(big.String()) {
		t.Errorf("%d bytes of random base64url fit in one QR code", big.Len())
	}
}

// FuzzReadNonce: ReadNonce never panics on what a QR code may hold, and a
// nonce it accepts is exactly the nonce of the day it returns.
func FuzzReadNonce(f *testing.F) {
	tok, list := card(f, emergency.Nonce(made), emergency.Audience, false)
	for _, s := range []string{tok, list, "", "a.b.c", "..", emergency.QRText(tok)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, in := range []string{s, emergency.QRText(s)} {
			scanned, err := emergency.FromQR(in)
			if err != nil {
				continue
			}
			nonce, day, err := emergency.ReadNonce(scanned)
			if err != nil {
				if !errors.Is(err, emergency.ErrNotCard) {
					t.Fatalf("ReadNonce error %v does not wrap ErrNotCard", err)
				}
				continue
			}
			if emergency.Nonce(day) != nonce {
				t.Fatalf("ReadNonce = %q, %v: the day's nonce is %q", nonce, day, emergency.Nonce(day))
			}
		}
	})
}
