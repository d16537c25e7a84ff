package openid4vci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/ijson"
)

// ProofClaims are the claims of a proof-of-possession JWT.
type ProofClaims struct {
	Issuer   string `json:"iss,omitempty"`
	Audience string `json:"aud"`
	IssuedAt int64  `json:"iat"`
	Nonce    string `json:"nonce,omitempty"`
}

type proofHeader struct {
	Alg string          `json:"alg"`
	Typ string          `json:"typ"`
	Kid string          `json:"kid,omitempty"`
	JWK json.RawMessage `json:"jwk,omitempty"`
}

// MakeProof signs a proof-of-possession JWT for the credential issuer aud
// with the holder key k named by kid (a DID URL of the holder), answering
// c_nonce nonce, issued at now.
func MakeProof(k *key.PrivateKey, kid, aud, nonce string, now time.Time) (string, error) {
	if kid == "" || aud == "" {
		return "", fmt.Errorf("openid4vci: proof needs a kid and an audience")
	}
	h, err := json.Marshal(proofHeader{Alg: k.Alg().JWS().String(), Typ: ProofTyp, Kid: kid})
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(ProofClaims{Audience: aud, IssuedAt: now.Unix(), Nonce: nonce})
	if err != nil {
		return "", err
	}
	return jose.Sign(h, c, k)
}

// maxProofBytes bounds a proof JWT.
const maxProofBytes = 8 << 10

// verifiedProof is what a good proof establishes.
type verifiedProof struct {
	holder string // the holder DID
	nonce  string
	key    key.PublicKey // the key that signed the proof (an SD-JWT VC's cnf.jwk)
}

// proofError makes an invalid_proof error.
func proofError(format string, a ...any) *ProtocolError {
	return &ProtocolError{Code: ErrCodeInvalidProof, Description: fmt.Sprintf(format, a...), Status: 400}
}

// verifyProof checks a proof JWT's form, key and signature, aud and iat.
// The nonce is returned for the caller to check (and consume).
func verifyProof(ctx context.Context, jwt, aud string, res did.Resolver, now time.Time, maxAge time.Duration) (*verifiedProof, error) {
	j, err := jose.Split(jwt, maxProofBytes)
	switch {
	case errors.Is(err, jose.ErrTooLarge):
		return nil, proofError("proof JWT longer than %d bytes", maxProofBytes)
	case err != nil:
		return nil, proofError("proof is not a compact JWS: %v", err)
	}
	var h proofHeader
	if err := ijson.UnmarshalString(j.Header, &h, 0); err != nil {
		return nil, proofError("proof JWT header: %v", err)
	}
	if h.Typ != ProofTyp {
		return nil, proofError("proof JWT typ is %q, want %q", h.Typ, ProofTyp)
	}
	if h.Alg != "EdDSA" && h.Alg != "ES256" {
		return nil, proofError("proof JWT alg %q is not supported (EdDSA, ES256)", h.Alg)
	}
	var pub key.PublicKey
	var holder string
	switch {
	case h.Kid != "" && len(h.JWK) > 0:
		return nil, proofError("proof JWT has both kid and jwk")
	case h.Kid != "":
		u, err := did.ParseURL(h.Kid)
		if err != nil || u.Fragment == "" {
			return nil, proofError("proof kid %q is not a DID URL with a fragment", h.Kid)
		}
		holder = u.DID.String()
		r, err := res.Resolve(ctx, holder)
		if err != nil {
			return nil, proofError("cannot resolve the holder DID %s: %v", holder, err)
		}
		// The proof authenticates the holder: the key must be one of its
		// authentication keys (for did:key the one key is).
		pub, err = r.Document.Key(h.Kid, did.Authentication)
		if err != nil {
			return nil, proofError("kid %s is not an authentication key of %s", h.Kid, holder)
		}
	case len(h.JWK) > 0:
		p, err := key.ParsePublicJWK(h.JWK)
		if err != nil {
			return nil, proofError("proof jwk: %v", err)
		}
		pub, holder = p, did.KeyDID(p)
	default:
		return nil, proofError("proof JWT names no key: give kid (a DID URL) or jwk")
	}
	if pub.Alg().JWS().String() != h.Alg {
		return nil, proofError("proof alg %s does not match the key", h.Alg)
	}
	if !pub.Verify([]byte(j.SigningInput), j.Signature) {
		return nil, proofError("proof signature does not verify with the holder key")
	}
	var c ProofClaims
	if err := ijson.UnmarshalString(j.Payload, &c, 0); err != nil {
		return nil, proofError("proof claims: %v", err)
	}
	if c.Audience != aud {
		return nil, proofError("proof aud %q is not this credential issuer %q", c.Audience, aud)
	}
	iat := time.Unix(c.IssuedAt, 0)
	if c.IssuedAt == 0 || iat.After(now.Add(time.Minute)) || iat.Before(now.Add(-maxAge)) {
		return nil, proofError("proof iat is missing or not recent (allowed: %s)", maxAge)
	}
	return &verifiedProof{holder: holder, nonce: c.Nonce, key: pub}, nil
}
