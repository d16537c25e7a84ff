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

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func sampleCredential(issuer, subject string) *Credential {
	from, until := t0, t0.Add(365*24*time.Hour)
	return &Credential{
		Context:     []string{ContextV2, "https://medid.example/contexts/v1"},
		ID:          "urn:uuid:2f1c6b7e-4a8c-4c1e-9b3a-0d6f0c1e2a33",
		Type:        []string{TypeCredential, "AllergyCredential"},
		Issuer:      issuer,
		Name:        "Allergies",
		Description: "Allergies recorded by the issuing hospital",
		ValidFrom:   &from,
		ValidUntil:  &until,
		Subject: map[string]any{
			"id":        subject,
			"allergies": []any{map[string]any{"code": "91936005", "display": "Penicillin"}},
		},
		Status: []Status{{
			ID: "https://registry.example/1.0/status-lists/3#94567", Type: StatusTypeBitstring,
			StatusPurpose: "revocation", StatusListIndex: "94567",
			StatusListCredential: "https://registry.example/1.0/status-lists/3",
		}},
		Extra: map[string]any{"credentialSchema": map[string]any{"id": "https://medid.example/schemas/allergy.json", "type": "JsonSchema"}},
	}
}

func b64json(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// forge builds a token with any header and claims, signed by k over the
// signing input (or with a zero signature when k is nil).
func forge(t testing.TB, header map[string]any, claims []byte, k *key.PrivateKey) string {
	t.Helper()
	in := b64json(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sig := make([]byte, 64)
	if k != nil {
		var err error
		if sig, err = k.Sign([]byte(in)); err != nil {
			t.Fatal(err)
		}
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		t.Run(string(alg), func(t *testing.T) {
			iss := credtest.NewParty(t, alg, "hospital")
			holder := credtest.NewParty(t, key.Ed25519, "patient")
			c := sampleCredential(iss.DID, holder.DID)
			tok, err := Issue(c, iss.Key, iss.Kid)
			if err != nil {
				t.Fatal(err)
			}
			tk, err := Parse(tok)
			if err != nil {
				t.Fatal(err)
			}
			want := Header{Alg: alg.JWS().String(), Typ: MediaTypeVC, Cty: "vc", Kid: iss.Kid}
			if tk.Header != want {
				t.Errorf("header = %+v, want %+v", tk.Header, want)
			}
			got, err := Verify(context.Background(), tok, credtest.Keys(iss), VerifyOptions{Now: t0.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(c)
			if string(gj) != string(wj) {
				t.Errorf("verified credential differs:\n got %s\nwant %s", gj, wj)
			}
			if got.SubjectID() != holder.DID {
				t.Errorf("SubjectID = %q, want %q", got.SubjectID(), holder.DID)
			}
		})
	}
}

func TestVerifyFailures(t *testing.T) {
	ctx := context.Background()
	edIss := credtest.NewParty(t, key.Ed25519, "hospital")
	ecIss := credtest.NewParty(t, key.P256, "hospital-p256")
	other := credtest.NewParty(t, key.Ed25519, "mallory")
	holder := credtest.NewParty(t, key.Ed25519, "patient")
	keys := credtest.Keys(edIss, ecIss, other)
	now := VerifyOptions{Now: t0.Add(time.Hour)}

	good, err := Issue(sampleCredential(edIss.DID, holder.DID), edIss.Key, edIss.Kid)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := strings.Replace(string(claims), "Penicillin", "Peanuts", 1)
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[10] ^= 1
	hdr := func(alg, typ, kid string) map[string]any {
		h := map[string]any{"alg": alg, "kid": kid}
		if typ != "" {
			h["typ"] = typ
		}
		return h
	}
	mustJSON := func(c *Credential) []byte {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	edClaims := mustJSON(sampleCredential(edIss.DID, holder.DID))
	ecClaims := mustJSON(sampleCredential(ecIss.DID, holder.DID))
	expired := sampleCredential(edIss.DID, holder.DID)
	notYet := sampleCredential(edIss.DID, holder.DID)
	expiredTok, _ := Issue(expired, edIss.Key, edIss.Kid)
	notYetTok, _ := Issue(notYet, edIss.Key, edIss.Kid)
	withExp := sampleCredential(edIss.DID, holder.DID)
	withExp.Extra["exp"] = t0.Add(time.Minute).Unix()
	withExpTok, err := Issue(withExp, edIss.Key, edIss.Kid)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		token string
		opts  VerifyOptions
		want  error
	}{
		{"tampered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(tampered)) + "." + parts[2], now, ErrBadSignature},
		{"tampered signature", parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig), now, ErrBadSignature},
		{"kid of another DID", forge(t, hdr("EdDSA", "vc+jwt", other.Kid), edClaims, other.Key), now, ErrIssuerMismatch},
		{"kid of the issuer, signed by another key", forge(t, hdr("EdDSA", "vc+jwt", edIss.Kid), edClaims, other.Key), now, ErrBadSignature},
		{"alg none", forge(t, hdr("none", "vc+jwt", edIss.Kid), edClaims, nil), now, ErrUnsupportedAlg},
		{"alg none, empty signature", strings.TrimSuffix(forge(t, hdr("none", "vc+jwt", edIss.Kid), edClaims, nil), strings.Repeat("A", 86)), now, ErrUnsupportedAlg},
		{"HS256", forge(t, hdr("HS256", "vc+jwt", edIss.Kid), edClaims, nil), now, ErrUnsupportedAlg},
		{"RS256", forge(t, hdr("RS256", "vc+jwt", edIss.Kid), edClaims, nil), now, ErrUnsupportedAlg},
		{"ES256 header on an Ed25519 key", forge(t, hdr("ES256", "vc+jwt", edIss.Kid), edClaims, ecIss.Key), now, ErrBadSignature},
		{"EdDSA header on a P-256 key", forge(t, hdr("EdDSA", "vc+jwt", ecIss.Kid), ecClaims, edIss.Key), now, ErrBadSignature},
		{"typ missing", forge(t, hdr("EdDSA", "", edIss.Kid), edClaims, edIss.Key), now, ErrMalformed},
		{"typ JWT", forge(t, hdr("EdDSA", "JWT", edIss.Kid), edClaims, edIss.Key), now, ErrMalformed},
		{"typ vp+jwt", forge(t, hdr("EdDSA", "vp+jwt", edIss.Kid), edClaims, edIss.Key), now, ErrMalformed},
		{"header jwk", forge(t, map[string]any{"alg": "EdDSA", "typ": "vc+jwt", "kid": edIss.Kid, "jwk": map[string]any{"kty": "OKP"}}, edClaims, edIss.Key), now, ErrMalformed},
		{"header jku", forge(t, map[string]any{"alg": "EdDSA", "typ": "vc+jwt", "kid": edIss.Kid, "jku": "https://evil.example/jwks"}, edClaims, edIss.Key), now, ErrMalformed},
		{"header x5u", forge(t, map[string]any{"alg": "EdDSA", "typ": "vc+jwt", "kid": edIss.Kid, "x5u": "https://evil.example/cert"}, edClaims, edIss.Key), now, ErrMalformed},
		{"header crit", forge(t, map[string]any{"alg": "EdDSA", "typ": "vc+jwt", "kid": edIss.Kid, "crit": []string{"exp"}}, edClaims, edIss.Key), now, ErrMalformed},
		{"kid not a DID URL", forge(t, hdr("EdDSA", "vc+jwt", "key-1"), edClaims, edIss.Key), now, ErrMalformed},
		{"no kid", forge(t, map[string]any{"alg": "EdDSA", "typ": "vc+jwt"}, edClaims, edIss.Key), now, ErrMalformed},
		{"claims not an object", forge(t, hdr("EdDSA", "vc+jwt", edIss.Kid), []byte(`["x"]`), edIss.Key), now, ErrMalformed},
		{"claims not a VC 2.0 credential", forge(t, hdr("EdDSA", "vc+jwt", edIss.Kid), []byte(`{"iss":"`+edIss.DID+`"}`), edIss.Key), now, ErrMalformed},
		{"iss differs from issuer", forge(t, hdr("EdDSA", "vc+jwt", edIss.Kid), []byte(strings.Replace(string(edClaims), `{`, `{"iss":"did:key:other",`, 1)), edIss.Key), now, ErrIssuerMismatch},
		{"padding", good + "==", now, ErrMalformed},
		{"newline", parts[0] + ".\n" + parts[1] + "." + parts[2], now, ErrMalformed},
		{"standard base64 alphabet", parts[0] + "." + parts[1] + ".+" + parts[2][1:], now, ErrMalformed},
		{"space", parts[0] + ". " + parts[1] + "." + parts[2], now, ErrMalformed},
		{"four segments", good + ".AAAA", now, ErrMalformed},
		{"expired", expiredTok, VerifyOptions{Now: t0.Add(400 * 24 * time.Hour)}, ErrExpired},
		{"expired within skew", expiredTok, VerifyOptions{Now: t0.Add(365*24*time.Hour + time.Minute), ClockSkew: 2 * time.Minute}, nil},
		{"not yet valid", notYetTok, VerifyOptions{Now: t0.Add(-time.Hour)}, ErrNotYetValid},
		{"not yet valid within skew", notYetTok, VerifyOptions{Now: t0.Add(-time.Minute), ClockSkew: 2 * time.Minute}, nil},
		{"JWT exp passed", withExpTok, VerifyOptions{Now: t0.Add(2 * time.Minute)}, ErrExpired},
		{"JWT exp not passed", withExpTok, VerifyOptions{Now: t0.Add(30 * time.Second)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(ctx, tt.token, keys, tt.opts)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v, want success", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestIssueRejects(t *testing.T) {
	iss := credtest.NewParty(t, key.Ed25519, "hospital")
	other := credtest.NewParty(t, key.Ed25519, "mallory")
	tests := []struct {
		name   string
		mutate func(c *Credential)
		kid    string
		want   error
	}{
		{"v1 context", func(c *Credential) { c.Context = []string{"https://www.w3.org/2018/credentials/v1"} }, iss.Kid, ErrMalformed},
		{"no VerifiableCredential type", func(c *Credential) { c.Type = []string{"AllergyCredential"} }, iss.Kid, ErrMalformed},
		{"no issuer", func(c *Credential) { c.Issuer = "" }, iss.Kid, ErrMalformed},
		{"no subject", func(c *Credential) { c.Subject = nil }, iss.Kid, ErrMalformed},
		{"validUntil before validFrom", func(c *Credential) { u := t0.Add(-time.Hour); c.ValidUntil = &u }, iss.Kid, ErrMalformed},
		{"kid of another DID", func(c *Credential) {}, other.Kid, ErrIssuerMismatch},
		{"kid without fragment", func(c *Credential) {}, iss.DID, ErrMalformed},
		{"Extra collides with a field", func(c *Credential) { c.Extra["name"] = "x" }, iss.Kid, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sampleCredential(iss.DID, "did:example:patient")
			tt.mutate(c)
			if _, err := Issue(c, iss.Key, tt.kid); !errors.Is(err, tt.want) {
				t.Fatalf("Issue error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCredentialJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // "" = same as in
		wantErr bool
	}{
		{name: "string issuer, single status object",
			in: `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"did:example:1","credentialSubject":{"id":"did:example:2","n":12345678901234567890123},"credentialStatus":{"id":"https://s.example/1#5","type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"5","statusListCredential":"https://s.example/1"}}`},
		{name: "issuer object, status array, extras sorted",
			in:   `{"zeta":1,"@context":["https://www.w3.org/ns/credentials/v2"],"alpha":{"b":2,"a":1},"type":"VerifiableCredential","issuer":{"name":"General Hospital","id":"did:example:1"},"credentialSubject":{"id":"did:example:2"},"credentialStatus":[{"type":"A","statusListIndex":"1"},{"type":"B","extra":true}]}`,
			want: `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":{"id":"did:example:1","name":"General Hospital"},"credentialSubject":{"id":"did:example:2"},"credentialStatus":[{"type":"A","statusListIndex":"1"},{"type":"B","extra":true}],"alpha":{"a":1,"b":2},"zeta":1}`},
		{name: "language object name kept in Extra",
			in:   `{"name":{"@value":"Allergies","@language":"en"},"credentialSubject":{"id":"x"}}`,
			want: `{"credentialSubject":{"id":"x"},"name":{"@language":"en","@value":"Allergies"}}`},
		{name: "dates", in: `{"validFrom":"2026-01-02T03:04:05+02:00","validUntil":"2027-01-02T03:04:05.5Z"}`},
		{name: "html characters not escaped", in: `{"description":"a<b & c>d"}`},
		{name: "subject array refused", in: `{"credentialSubject":[{"id":"a"},{"id":"b"}]}`, wantErr: true},
		{name: "date without zone refused", in: `{"validFrom":"2026-01-02T03:04:05"}`, wantErr: true},
		{name: "embedded context object kept (VC 2.0 §4.3)", in: `{"@context":["https://www.w3.org/ns/credentials/v2",{"criticality":"https://example.org/vocab#criticality","@protected":true},"https://example.org/ctx/v1"]}`,
			want: `{"@context":["https://www.w3.org/ns/credentials/v2",{"@protected":true,"criticality":"https://example.org/vocab#criticality"},"https://example.org/ctx/v1"]}`},
		{name: "context array inside @context refused", in: `{"@context":["https://www.w3.org/ns/credentials/v2",["https://example.org/ctx"]]}`, wantErr: true},
		{name: "context number refused", in: `{"@context":["https://www.w3.org/ns/credentials/v2",7]}`, wantErr: true},
		{name: "context null refused", in: `{"@context":["https://www.w3.org/ns/credentials/v2",null]}`, wantErr: true},
		{name: "context empty string refused", in: `{"@context":["https://www.w3.org/ns/credentials/v2",""]}`, wantErr: true},
		{name: "context empty array refused", in: `{"@context":[]}`, wantErr: true},
		{name: "duplicate property refused", in: `{"issuer":"did:a:1","issuer":"did:b:2"}`, wantErr: true},
		{name: "numeric status index refused", in: `{"credentialStatus":{"type":"X","statusListIndex":5}}`, wantErr: true},
		{name: "not an object", in: `[]`, wantErr: true},
		{name: "trailing data", in: `{} {}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Credential
			err := c.UnmarshalJSON([]byte(tt.in))
			if tt.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("Unmarshal error = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == "" {
				want = tt.in
			}
			if string(got) != want {
				t.Errorf("marshal:\n got %s\nwant %s", got, want)
			}
		})
	}
}
