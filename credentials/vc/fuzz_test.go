package vc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// fuzzTokens returns real tokens made with the deterministic test keys, so
// the seeds reach deep into the parsers and verifiers.
func fuzzTokens(f *testing.F) (vcs []string, vp string, fx *vpFixture) {
	fx = newVPFixture(f)
	vp, err := SignPresentation(fx.presentation(fx.holder.DID, fx.creds...), fx.holder.Key, fx.holder.Kid, verifierAud, reqNonce, WithIssuedAt(t0))
	if err != nil {
		f.Fatal(err)
	}
	return fx.creds, vp, fx
}

// FuzzParse checks that the token parser never panics, that every error is
// one of the package's sentinels, and that a parsed credential re-marshals
// and parses back to the same JSON.
func FuzzParse(f *testing.F) {
	vcs, vp, _ := fuzzTokens(f)
	for _, s := range append(vcs, vp, "", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		tk, err := Parse(token)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedAlg) {
				t.Fatalf("Parse error %v wraps neither ErrMalformed nor ErrUnsupportedAlg", err)
			}
			return
		}
		if tk.Header.Alg != "EdDSA" && tk.Header.Alg != "ES256" {
			t.Fatalf("Parse accepted alg %q", tk.Header.Alg)
		}
		b1, err := tk.Credential.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON of a parsed credential: %v", err)
		}
		var c Credential
		if err := c.UnmarshalJSON(b1); err != nil {
			t.Fatalf("re-parse %s: %v", b1, err)
		}
	})
}

// FuzzCredentialJSON checks unmarshal -> marshal -> unmarshal -> marshal is
// stable: the second marshal equals the first byte for byte, and both parsed
// values are equal.
func FuzzCredentialJSON(f *testing.F) {
	for _, c := range []*Credential{sampleCredential("did:example:issuer", "did:example:subject"), {}} {
		b, err := c.MarshalJSON()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"@context":"https://www.w3.org/ns/credentials/v2","issuer":{"id":"did:a:b","name":{"@value":"x","@language":"en"}}}`,
		`{"credentialStatus":[{"type":"A","statusListIndex":"1"},{"type":"B","x":[1,2.5e10,-0]}]}`,
		`{"name":"","description":["a","b"],"validFrom":"2026-01-02T03:04:05.123456789+05:30"}`,
		`{"credentialSubject":{"id":"did:a:b","s":"\u00e9\ud83d\ude00\n"}}`,
		`{"a":{"a":{"a":[[[[]]]]}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c1 Credential
		if err := c1.UnmarshalJSON(data); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		b1, err := c1.MarshalJSON()
		if err != nil {
			t.Fatalf("marshal of a parsed credential: %v", err)
		}
		var c2 Credential
		if err := c2.UnmarshalJSON(b1); err != nil {
			t.Fatalf("re-parse of %s: %v", b1, err)
		}
		b2, err := c2.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("unstable:\n%s\n%s", b1, b2)
		}
		if !json.Valid(b1) {
			t.Fatalf("marshal produced invalid JSON %s", b1)
		}
	})
}

// FuzzParsePresentation checks that the vp+jwt parser never panics and that
// a parsed presentation re-marshals and parses back identically.
func FuzzParsePresentation(f *testing.F) {
	vcs, vp, _ := fuzzTokens(f)
	f.Add(vp)
	f.Add(vcs[0])
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		p, _, err := ParsePresentation(token)
		if err != nil {
			return
		}
		b1, err := p.MarshalJSON()
		if err != nil {
			t.Fatalf("marshal of a parsed presentation: %v", err)
		}
		var p2 Presentation
		if err := p2.UnmarshalJSON(b1); err != nil {
			t.Fatalf("re-parse of %s: %v", b1, err)
		}
		b2, _ := p2.MarshalJSON()
		if !bytes.Equal(b1, b2) {
			t.Fatalf("unstable:\n%s\n%s", b1, b2)
		}
	})
}

// FuzzVerifyPresentation feeds arbitrary tokens to the full presentation
// verifier with real keys: it must never panic, and anything it accepts must
// be bound to the expected audience, nonce and holder.
func FuzzVerifyPresentation(f *testing.F) {
	vcs, vp, fx := fuzzTokens(f)
	f.Add(vp)
	f.Add(vcs[1])
	f.Add("")
	opts := PresentationOptions{Audience: verifierAud, Nonce: reqNonce, Now: t0.Add(time.Minute)}
	keys := fx.keys
	f.Fuzz(func(t *testing.T, token string) {
		vp, err := VerifyPresentation(context.Background(), token, keys, opts)
		if err != nil {
			return
		}
		if vp.Audience != verifierAud || vp.Nonce != reqNonce {
			t.Fatalf("accepted a presentation for aud %q nonce %q", vp.Audience, vp.Nonce)
		}
		for i, c := range vp.Credentials {
			if c.SubjectID() != vp.Presentation.Holder {
				t.Fatalf("credential %d is about %q, holder is %q", i, c.SubjectID(), vp.Presentation.Holder)
			}
		}
		if did, _ := kidDID(vp.Kid); did != vp.Presentation.Holder {
			t.Fatalf("accepted a presentation signed by %s for holder %s", vp.Kid, vp.Presentation.Holder)
		}
	})
}
