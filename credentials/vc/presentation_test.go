package vc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
)

const (
	verifierAud = "did:key:z6MkverifierER"
	reqNonce    = "n-0S6_WzA2Mj"
)

type vpFixture struct {
	iss, ecIss, holder, other credtest.Party
	creds                     []string
	keys                      KeyFunc
}

func newVPFixture(t testing.TB) *vpFixture {
	t.Helper()
	f := &vpFixture{
		iss:    credtest.NewParty(t, key.Ed25519, "hospital"),
		ecIss:  credtest.NewParty(t, key.P256, "lab"),
		holder: credtest.NewParty(t, key.Ed25519, "patient"),
		other:  credtest.NewParty(t, key.Ed25519, "someone-else"),
	}
	f.keys = credtest.Keys(f.iss, f.ecIss, f.holder, f.other)
	for i, iss := range []credtest.Party{f.iss, f.ecIss, f.iss} {
		c := sampleCredential(iss.DID, f.holder.DID)
		c.ID = c.ID[:len(c.ID)-1] + string(rune('a'+i))
		tok, err := Issue(c, iss.Key, iss.Kid)
		if err != nil {
			t.Fatal(err)
		}
		f.creds = append(f.creds, tok)
	}
	return f
}

func (f *vpFixture) presentation(holder string, creds ...string) *Presentation {
	return &Presentation{
		Context:     []string{ContextV2},
		Type:        []string{TypePresentation},
		Holder:      holder,
		Credentials: creds,
	}
}

func TestPresentationRoundTrip(t *testing.T) {
	f := newVPFixture(t)
	p := f.presentation(f.holder.DID, f.creds...)
	p.ID = "urn:uuid:5d8b2c10-0000-4000-8000-000000000001"
	p.Extra = map[string]any{"termsOfUse": map[string]any{"type": "HealthcareOnly"}}
	tok, err := SignPresentation(p, f.holder.Key, f.holder.Kid, verifierAud, reqNonce, WithIssuedAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	vp, err := VerifyPresentation(context.Background(), tok, f.keys, PresentationOptions{Audience: verifierAud, Nonce: reqNonce, Now: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(vp.Credentials), 3; got != want {
		t.Fatalf("%d credentials, want %d", got, want)
	}
	if vp.Audience != verifierAud || vp.Nonce != reqNonce || !vp.IssuedAt.Equal(t0) || !vp.Expires.Equal(t0.Add(DefaultPresentationLifetime)) || vp.Kid != f.holder.Kid {
		t.Errorf("envelope = aud %q nonce %q iat %s exp %s kid %s", vp.Audience, vp.Nonce, vp.IssuedAt, vp.Expires, vp.Kid)
	}
	gj, _ := json.Marshal(vp.Presentation)
	wj, _ := json.Marshal(p)
	if string(gj) != string(wj) {
		t.Errorf("presentation differs:\n got %s\nwant %s", gj, wj)
	}
	// The wire form follows VC 2.0 + VC-JOSE-COSE: enveloped data URLs.
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil {
		t.Fatal(err)
	}
	env := raw["verifiableCredential"].([]any)[0].(map[string]any)
	if env["type"] != TypeEnvelopedCredential || env["id"] != "data:application/vc+jwt,"+f.creds[0] {
		t.Errorf("envelope = %v", env)
	}
	if raw["aud"] != verifierAud || raw["nonce"] != reqNonce {
		t.Errorf("claims aud=%v nonce=%v", raw["aud"], raw["nonce"])
	}
}

func TestVerifyPresentationFailures(t *testing.T) {
	ctx := context.Background()
	f := newVPFixture(t)
	opts := PresentationOptions{Audience: verifierAud, Nonce: reqNonce, Now: t0.Add(time.Minute)}
	sign := func(p *Presentation, by credtest.Party, aud, nonce string) string {
		t.Helper()
		tok, err := SignPresentation(p, by.Key, by.Kid, aud, nonce, WithIssuedAt(t0))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := sign(f.presentation(f.holder.DID, f.creds...), f.holder, verifierAud, reqNonce)

	// A credential about someone else, presented by the holder.
	otherCred, err := Issue(sampleCredential(f.iss.DID, f.other.DID), f.iss.Key, f.iss.Kid)
	if err != nil {
		t.Fatal(err)
	}
	// A credential whose payload was changed after issuance.
	parts := strings.Split(f.creds[1], ".")
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	claims = []byte(strings.Replace(string(claims), "Penicillin", "Nothing", 1))
	tamperedCred := parts[0] + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + parts[2]
	// The presentation signed by the holder, then its payload changed.
	vparts := strings.Split(good, ".")
	goodClaims, _ := base64.RawURLEncoding.DecodeString(vparts[1])
	vclaims := []byte(strings.Replace(string(goodClaims), reqNonce, "other-nonce", 1))
	tamperedVP := vparts[0] + "." + base64.RawURLEncoding.EncodeToString(vclaims) + "." + vparts[2]
	// A vc+jwt where a vp+jwt belongs.
	vcAsVP := f.creds[0]
	noExp := forge(t, map[string]any{"alg": "EdDSA", "typ": "vp+jwt", "kid": f.holder.Kid},
		[]byte(`{"@context":["`+ContextV2+`"],"type":["VerifiablePresentation"],"holder":"`+f.holder.DID+`","aud":"`+verifierAud+`","nonce":"`+reqNonce+`"}`), f.holder.Key)

	tests := []struct {
		name      string
		token     string
		opts      PresentationOptions
		want      error
		wantIndex int // -1: not a CredentialError
	}{
		{"audience mismatch (replay to another verifier)", good, PresentationOptions{Audience: "did:key:z6MkotherVerifier", Nonce: reqNonce, Now: opts.Now}, ErrAudienceMismatch, -1},
		{"nonce mismatch (replay of an old presentation)", good, PresentationOptions{Audience: verifierAud, Nonce: "fresh-nonce", Now: opts.Now}, ErrNonceMismatch, -1},
		{"expired", good, PresentationOptions{Audience: verifierAud, Nonce: reqNonce, Now: t0.Add(10 * time.Minute)}, ErrExpired, -1},
		{"issued in the future", good, PresentationOptions{Audience: verifierAud, Nonce: reqNonce, Now: t0.Add(-time.Hour)}, ErrNotYetValid, -1},
		{"no exp", noExp, opts, ErrMalformed, -1},
		{"signed by someone other than the holder", forge(t, map[string]any{"alg": "EdDSA", "typ": "vp+jwt", "kid": f.other.Kid}, goodClaims, f.other.Key), opts, ErrHolderBinding, -1},
		{"presentation payload tampered", tamperedVP, PresentationOptions{Audience: verifierAud, Nonce: "other-nonce", Now: opts.Now}, ErrBadSignature, -1},
		{"holder binding: credential about another subject", sign(f.presentation(f.holder.DID, f.creds[0], otherCred), f.holder, verifierAud, reqNonce), opts, ErrHolderBinding, 1},
		{"credential inside tampered", sign(f.presentation(f.holder.DID, f.creds[0], f.creds[2], tamperedCred), f.holder, verifierAud, reqNonce), opts, ErrBadSignature, 2},
		{"vc+jwt instead of vp+jwt", vcAsVP, opts, ErrMalformed, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyPresentation(ctx, tt.token, f.keys, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyPresentation error = %v, want %v", err, tt.want)
			}
			var ce *CredentialError
			isCE := errors.As(err, &ce)
			switch {
			case tt.wantIndex < 0 && isCE:
				t.Errorf("got CredentialError %v, want a presentation-level error", err)
			case tt.wantIndex >= 0 && !isCE:
				t.Errorf("got %v, want a CredentialError", err)
			case isCE && ce.Index != tt.wantIndex:
				t.Errorf("CredentialError.Index = %d, want %d", ce.Index, tt.wantIndex)
			}
		})
	}
	if _, err := VerifyPresentation(ctx, good, f.keys, PresentationOptions{Audience: verifierAud}); err == nil {
		t.Error("VerifyPresentation without a nonce succeeded, want an error")
	}
}

func TestSignPresentationRejects(t *testing.T) {
	f := newVPFixture(t)
	tests := []struct {
		name       string
		p          *Presentation
		by         credtest.Party
		aud, nonce string
		want       error
	}{
		{"kid of another DID", f.presentation(f.holder.DID), f.other, verifierAud, reqNonce, ErrHolderBinding},
		{"no holder", f.presentation(""), f.holder, verifierAud, reqNonce, ErrMalformed},
		{"no audience", f.presentation(f.holder.DID), f.holder, "", reqNonce, ErrMalformed},
		{"no nonce", f.presentation(f.holder.DID), f.holder, verifierAud, "", ErrMalformed},
		{"nonce in Extra", &Presentation{Context: []string{ContextV2}, Type: []string{TypePresentation}, Holder: f.holder.DID, Extra: map[string]any{"nonce": "x"}}, f.holder, verifierAud, reqNonce, ErrMalformed},
		{"no VP type", &Presentation{Context: []string{ContextV2}, Type: []string{"Other"}, Holder: f.holder.DID}, f.holder, verifierAud, reqNonce, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := SignPresentation(tt.p, tt.by.Key, tt.by.Kid, tt.aud, tt.nonce); !errors.Is(err, tt.want) {
				t.Fatalf("SignPresentation error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPresentationJSONRejectsEmbedded(t *testing.T) {
	tests := []struct{ name, in string }{
		{"embedded credential", `{"verifiableCredential":[{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"]}]}`},
		{"wrong data URL", `{"verifiableCredential":[{"id":"data:application/vp+jwt,abc","type":"EnvelopedVerifiableCredential"}]}`},
		{"string entry", `{"verifiableCredential":["eyJ..."]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Presentation
			if err := p.UnmarshalJSON([]byte(tt.in)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("UnmarshalJSON error = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestPresentationKeyPurposes(t *testing.T) {
	f := newVPFixture(t)
	tok, err := SignPresentation(f.presentation(f.holder.DID, f.creds...), f.holder.Key, f.holder.Kid, verifierAud, reqNonce, WithIssuedAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	type lookup struct {
		kid     string
		purpose KeyPurpose
	}
	var got []lookup
	keys := func(ctx context.Context, kid string) (key.PublicKey, error) {
		got = append(got, lookup{kid, KeyPurposeFromContext(ctx)})
		return f.keys(ctx, kid)
	}
	if _, err := VerifyPresentation(context.Background(), tok, keys, PresentationOptions{Audience: verifierAud, Nonce: reqNonce, Now: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	want := []lookup{{f.holder.Kid, PurposeAuthentication}, {f.iss.Kid, PurposeAssertion}, {f.ecIss.Kid, PurposeAssertion}, {f.iss.Kid, PurposeAssertion}}
	if len(got) != len(want) {
		t.Fatalf("lookups = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("lookup %d = %v, want %v", i, got[i], want[i])
		}
	}
}
