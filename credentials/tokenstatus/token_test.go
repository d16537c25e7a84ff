package tokenstatus

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

const listURI = "https://registry.example/status/tsl/1"

var now = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

func signedList(t testing.TB, s credtest.Party, mod func(*Token)) string {
	t.Helper()
	l, err := New(MinEntries, 2)
	if err != nil {
		t.Fatal(err)
	}
	l.Set(42, Invalid)
	l.Set(4242, Suspended)
	exp := now.Add(24 * time.Hour)
	tk := &Token{Issuer: s.DID, URI: listURI, IssuedAt: now, Expires: &exp, TTL: time.Hour, List: l}
	if mod != nil {
		mod(tk)
	}
	tok, err := Sign(tk, s.Key, s.Kid)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenRoundTrip(t *testing.T) {
	s := credtest.NewParty(t, key.Ed25519, "s")
	tok := signedList(t, s, nil)
	got, err := Verify(context.Background(), tok, credtest.Keys(s), VerifyOptions{URI: listURI, Issuer: s.DID, Now: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		idx  int
		want uint8
	}{{42, Invalid}, {4242, Suspended}, {0, Valid}, {MinEntries - 1, Valid}} {
		if st, err := got.Status(Reference{Index: tc.idx, URI: listURI}); err != nil || st != tc.want {
			t.Errorf("status of %d = %d, %v; want %d", tc.idx, st, err, tc.want)
		}
	}
	if got.TTL != time.Hour || got.Expires == nil || got.Issuer != s.DID || got.List.Bits() != 2 {
		t.Errorf("token = %+v", got)
	}
	if _, err := got.Status(Reference{Index: MinEntries, URI: listURI}); !errors.Is(err, ErrRange) {
		t.Errorf("index past the end: err = %v", err)
	}
	if _, err := got.Status(Reference{Index: 1, URI: "https://elsewhere"}); !errors.Is(err, ErrMalformed) {
		t.Errorf("reference to another list: err = %v", err)
	}
}

func TestTokenRefusals(t *testing.T) {
	s, other := credtest.NewParty(t, key.Ed25519, "s"), credtest.NewParty(t, key.Ed25519, "other")
	good := signedList(t, s, nil)
	_, rest, _ := strings.Cut(good, ".")
	none := jose.Encode([]byte(`{"alg":"none","typ":"statuslist+jwt"}`)) + "." + rest
	vcTyp, _ := vc.SignJWS([]byte(`{"sub":"`+listURI+`","iat":1,"status_list":{"bits":1,"lst":"eNrbuRgAAhcBXQ"}}`), s.Key, "vc+jwt", "", s.Kid)
	badBits, _ := vc.SignJWS([]byte(`{"sub":"`+listURI+`","iat":1,"status_list":{"bits":3,"lst":"eNrbuRgAAhcBXQ"}}`), s.Key, MediaType, "", s.Kid)
	noIat, _ := vc.SignJWS([]byte(`{"sub":"`+listURI+`","status_list":{"bits":1,"lst":"eNrbuRgAAhcBXQ"}}`), s.Key, MediaType, "", s.Kid)
	opts := VerifyOptions{URI: listURI, Issuer: s.DID, Now: now}
	for _, tc := range []struct {
		name  string
		token string
		opts  VerifyOptions
		want  error
	}{
		{"another list's URI", good, VerifyOptions{URI: "https://registry.example/status/tsl/2", Now: now}, ErrMalformed},
		{"signed by another issuer", signedList(t, other, func(tk *Token) { tk.Issuer = other.DID }), opts, ErrIssuerMismatch},
		{"expired", good, VerifyOptions{URI: listURI, Now: now.Add(48 * time.Hour)}, vc.ErrExpired},
		{"issued in the future", good, VerifyOptions{URI: listURI, Now: now.Add(-time.Hour)}, vc.ErrNotYetValid},
		{"tampered", good[:len(good)-4] + "AAAA", opts, vc.ErrBadSignature},
		{"alg none", none, opts, vc.ErrUnsupportedAlg},
		{"typ vc+jwt", vcTyp, opts, ErrMalformed},
		{"bits 3", badBits, opts, ErrMalformed},
		{"no iat", noIat, opts, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Verify(context.Background(), tc.token, credtest.Keys(s), tc.opts); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	l, _ := New(MinEntries, 1)
	if _, err := Sign(&Token{Issuer: other.DID, URI: listURI, IssuedAt: now, List: l}, s.Key, s.Kid); err == nil {
		t.Error("Sign accepted a kid of another DID than the issuer")
	}
}

func TestReference(t *testing.T) {
	for _, tc := range []struct {
		in     any
		ok     bool
		errors bool
	}{
		{map[string]any{"status_list": map[string]any{"idx": jsonNum("0"), "uri": listURI}}, true, false},
		{map[string]any{"status_list": map[string]any{"idx": 7.0, "uri": listURI}}, true, false},
		{map[string]any{"other_mechanism": map[string]any{}}, false, false},
		{map[string]any{"status_list": map[string]any{"idx": jsonNum("-1"), "uri": listURI}}, true, true},
		{map[string]any{"status_list": map[string]any{"idx": jsonNum("1.5"), "uri": listURI}}, true, true},
		{map[string]any{"status_list": map[string]any{"idx": "3", "uri": listURI}}, true, true},
		{map[string]any{"status_list": map[string]any{"idx": jsonNum("3"), "uri": "not a uri"}}, true, true},
		{map[string]any{"status_list": "x"}, true, true},
		{"x", false, true},
	} {
		_, ok, err := ParseReference(tc.in)
		if ok != tc.ok || (err != nil) != tc.errors {
			t.Errorf("ParseReference(%v) = %v, %v; want ok %v, error %v", tc.in, ok, err, tc.ok, tc.errors)
		}
	}
	r := Reference{Index: 12, URI: listURI}
	back, ok, err := ParseReference(r.Claim())
	if err != nil || !ok || back != r {
		t.Errorf("round trip: %+v %v %v", back, ok, err)
	}
}

func jsonNum(s string) json.Number { return json.Number(s) }
