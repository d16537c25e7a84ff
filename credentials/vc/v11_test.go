package vc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/aries-framework-go/component/models/ld/processor"
	"github.com/hyperledger/aries-framework-go/component/models/signature/signer"
	"github.com/hyperledger/aries-framework-go/component/models/signature/suite"
	"github.com/hyperledger/aries-framework-go/component/models/signature/suite/ed25519signature2018"
	"github.com/hyperledger/aries-framework-go/component/models/signature/suite/ed25519signature2020"
	afgotime "github.com/hyperledger/aries-framework-go/component/models/util/time"
	"github.com/hyperledger/aries-framework-go/component/models/verifiable"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
)

// ariesSigner adapts our key to aries' signer interface (Sign, Alg).
type ariesSigner struct{ k *key.PrivateKey }

func (s ariesSigner) Sign(data []byte) ([]byte, error) { return s.k.Sign(data) }
func (s ariesSigner) Alg() string                      { return s.k.Alg().JWS().String() }

func v11Credential(iss, holder credtest.Party) *verifiable.Credential {
	return &verifiable.Credential{
		Context: []string{ContextV1, "https://w3id.org/security/suites/ed25519-2020/v1"},
		ID:      "urn:uuid:8f1e2c3a-1111-4222-8333-444455556666",
		Types:   []string{"VerifiableCredential"},
		Issuer:  verifiable.Issuer{ID: iss.DID},
		Issued:  afgotime.NewTime(t0),
		Expired: afgotime.NewTime(t0.Add(24 * time.Hour)),
		Subject: verifiable.Subject{ID: holder.DID},
	}
}

// signV11 makes a VC 1.1 JSON-LD credential issued by iss, signed by by's
// key, with aries' own signing API.
func signV11(t testing.TB, iss, by, holder credtest.Party, sigType string) []byte {
	t.Helper()
	return signV11With(t, iss, by, holder, sigType, nil)
}

// signV11With is signV11 with a change to the credential before signing.
func signV11With(t testing.TB, iss, by, holder credtest.Party, sigType string, mutate func(*verifiable.Credential)) []byte {
	t.Helper()
	ac := v11Credential(iss, holder)
	if mutate != nil {
		mutate(ac)
	}
	var s signer.SignatureSuite
	repr := verifiable.SignatureProofValue
	switch sigType {
	case "Ed25519Signature2020":
		s = ed25519signature2020.New(suite.WithSigner(ariesSigner{by.Key}))
	case "Ed25519Signature2018":
		ac.Context = []string{ContextV1} // credentials/v1 defines Ed25519Signature2018 itself
		s = ed25519signature2018.New(suite.WithSigner(ariesSigner{by.Key}))
		repr = verifiable.SignatureJWS
	}
	created := t0
	err := ac.AddLinkedDataProof(&verifiable.LinkedDataProofContext{
		SignatureType:           sigType,
		Suite:                   s,
		SignatureRepresentation: repr,
		Created:                 &created,
		VerificationMethod:      by.Kid,
		Purpose:                 "assertionMethod",
	}, processor.WithDocumentLoader(loadOffline()))
	if err != nil {
		t.Fatalf("aries AddLinkedDataProof %s: %v", sigType, err)
	}
	b, err := ac.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signV11JWT makes a VC 1.1 JWT (the "vc" claim form) issued by iss, signed
// by by's key, with aries.
func signV11JWT(t testing.TB, iss, by, holder credtest.Party) []byte {
	t.Helper()
	ac := v11Credential(iss, holder)
	claims, err := ac.JWTClaims(false)
	if err != nil {
		t.Fatal(err)
	}
	alg := verifiable.EdDSA
	if by.Key.Alg() == key.P256 {
		alg = verifiable.ECDSASecp256r1
	}
	tok, err := claims.MarshalJWS(alg, ariesSigner{by.Key}, by.Kid)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(tok)
}

func TestVerifyV11(t *testing.T) {
	ctx := context.Background()
	iss := credtest.NewParty(t, key.Ed25519, "other-ecosystem-issuer")
	ecIss := credtest.NewParty(t, key.P256, "other-ecosystem-issuer-p256")
	holder := credtest.NewParty(t, key.Ed25519, "patient")
	other := credtest.NewParty(t, key.Ed25519, "mallory")
	keys := credtest.Keys(iss, ecIss, other)
	at := VerifyOptions{Now: t0.Add(time.Hour)}

	ld2020 := signV11(t, iss, iss, holder, "Ed25519Signature2020")
	jwtEd := signV11JWT(t, iss, iss, holder)
	tampered := []byte(strings.Replace(string(ld2020), holder.DID, other.DID, 1))
	var unsigned map[string]any
	if err := json.Unmarshal(ld2020, &unsigned); err != nil {
		t.Fatal(err)
	}
	delete(unsigned, "proof")
	unsignedB, _ := json.Marshal(unsigned)
	jwtParts := strings.Split(string(jwtEd), ".")
	payload, _ := base64.RawURLEncoding.DecodeString(jwtParts[1])
	jwtTampered := jwtParts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), holder.DID, other.DID, 1))) + "." + jwtParts[2]
	var bbsProof map[string]any
	_ = json.Unmarshal(ld2020, &bbsProof)
	bbsProof["proof"].(map[string]any)["type"] = "BbsBlsSignature2020"
	bbsB, _ := json.Marshal(bbsProof)

	// "allergy" is defined by no context: URDNA2015 drops it, so the proof
	// does not cover it and it could be changed at will. Strict JSON-LD
	// validation must refuse the credential, signed or tampered.
	undefinedTerm := signV11With(t, iss, iss, holder, "Ed25519Signature2020", func(c *verifiable.Credential) {
		c.Subject = verifiable.Subject{ID: holder.DID, CustomFields: map[string]any{"allergy": "penicillin"}}
	})
	unknownCtx := []byte(strings.Replace(string(ld2020), `"@context":[`, `"@context":["https://unknown.example/ctx/v1",`, 1))

	tests := []struct {
		name string
		data []byte
		opts VerifyOptions
		want error
	}{
		{"Ed25519Signature2020", ld2020, at, nil},
		{"context that is not embedded (never fetched)", unknownCtx, at, ErrMalformed},
		{"term no context defines (not covered by the proof)", undefinedTerm, at, ErrMalformed},
		{"undefined term tampered", []byte(strings.Replace(string(undefinedTerm), "penicillin", "nothing", 1)), at, ErrMalformed},
		{"Ed25519Signature2018", signV11(t, iss, iss, holder, "Ed25519Signature2018"), at, nil},
		{"JWT EdDSA", jwtEd, at, nil},
		{"JWT ES256", signV11JWT(t, ecIss, ecIss, holder), at, nil},
		{"tampered subject", tampered, at, ErrBadSignature},
		{"no proof", unsignedB, at, ErrBadSignature},
		{"proof type outside the allow-list", bbsB, at, ErrUnsupportedAlg},
		{"proof by a key of another DID", signV11(t, iss, other, holder, "Ed25519Signature2020"), at, ErrIssuerMismatch},
		{"JWT tampered", []byte(jwtTampered), at, ErrBadSignature},
		{"JWT by a key of another DID", signV11JWT(t, iss, other, holder), at, ErrIssuerMismatch},
		{"JWT alg none", []byte(forge(t, map[string]any{"alg": "none", "kid": iss.Kid}, payload, nil)), at, ErrUnsupportedAlg},
		{"JWT ES256 header on an Ed25519 key", []byte(forge(t, map[string]any{"alg": "ES256", "kid": iss.Kid}, payload, ecIss.Key)), at, ErrBadSignature},
		{"expired", ld2020, VerifyOptions{Now: t0.Add(48 * time.Hour)}, ErrExpired},
		{"not yet valid", ld2020, VerifyOptions{Now: t0.Add(-time.Hour)}, ErrNotYetValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := VerifyV11WithOptions(ctx, tt.data, keys, tt.opts)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("VerifyV11 error = %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("VerifyV11: %v", err)
			}
			if c.Issuer != iss.DID && c.Issuer != ecIss.DID {
				t.Errorf("Issuer = %q", c.Issuer)
			}
			if c.SubjectID() != holder.DID {
				t.Errorf("SubjectID = %q, want %q", c.SubjectID(), holder.DID)
			}
			if len(c.Context) == 0 || c.Context[0] != ContextV1 || !c.HasType(TypeCredential) {
				t.Errorf("Context %v Type %v", c.Context, c.Type)
			}
			if c.ValidFrom == nil || !c.ValidFrom.Equal(t0) || c.ValidUntil == nil || !c.ValidUntil.Equal(t0.Add(24*time.Hour)) {
				t.Errorf("ValidFrom %v ValidUntil %v", c.ValidFrom, c.ValidUntil)
			}
			if _, ok := c.Extra["proof"]; ok {
				t.Error("proof leaked into Extra")
			}
		})
	}
}
