package smart

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/ijson"
	"github.com/medid/medid/internal/randid"
)

// AssertionType is the client_assertion_type of RFC 7523 client
// authentication.
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// MaxAssertionSize bounds a client assertion; MaxAssertionLifetime is the
// longest exp - now SMART allows.
const (
	MaxAssertionSize     = 8 << 10
	MaxAssertionLifetime = 5 * time.Minute
)

// ErrInvalidClient reports a client assertion that is malformed, not
// signed by a key of its client, expired, replayed, or for another
// audience, or a client that is not registered.
var ErrInvalidClient = errors.New("invalid_client")

// Assertion is a decoded (not yet verified) private_key_jwt client
// assertion.
type Assertion struct {
	// Alg is EdDSA or ES256; Kid the DID URL of the signing key.
	Alg, Kid string
	// Issuer and Subject are the client's DID (they must be equal).
	Issuer, Subject string
	// Audience lists the aud values.
	Audience []string
	// JTI is the assertion's unique id.
	JTI string
	// Expires is exp; IssuedAt and NotBefore are iat and nbf when present.
	Expires, IssuedAt, NotBefore time.Time

	signingInput, sig []byte
}

type assertionHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ,omitempty"`
	Kid string `json:"kid"`
	Jku string `json:"jku,omitempty"`
}

type assertionClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Jti string          `json:"jti"`
	Exp json.Number     `json:"exp"`
	Iat json.Number     `json:"iat,omitempty"`
	Nbf json.Number     `json:"nbf,omitempty"`
}

// ParseAssertion decodes a compact JWS client assertion WITHOUT verifying
// its signature or its times (see [Server.Token]). It requires alg EdDSA
// or ES256 (the algorithms of DID keys medid supports: no none, no HMAC),
// typ JWT when present, a kid that is a DID URL of iss, no jku (keys come
// from the DID document, never from a URL in the token), iss = sub a DID,
// aud a string or an array of strings, a jti of 1 to 256 bytes, and exp
// (and iat, nbf when present) as NumericDate. Errors wrap
// [ErrInvalidClient].
func ParseAssertion(token string) (*Assertion, error) {
	bad := func(format string, args ...any) (*Assertion, error) {
		return nil, fmt.Errorf("%w: client assertion: %s", ErrInvalidClient, fmt.Sprintf(format, args...))
	}
	j, err := jose.Split(token, MaxAssertionSize)
	if err != nil {
		return bad("%v", err)
	}
	if len(j.Signature) == 0 {
		return bad("unsigned")
	}
	var h assertionHeader
	if err := ijson.UnmarshalString(j.Header, &h, 0); err != nil {
		return bad("header: %v", err)
	}
	if h.Alg != "EdDSA" && h.Alg != "ES256" {
		return bad("alg %.16q: sign with EdDSA or ES256 (the key types of DIDs)", h.Alg)
	}
	if h.Typ != "" && h.Typ != "JWT" {
		return bad("typ %.32q: want JWT", h.Typ)
	}
	if h.Jku != "" {
		return bad("jku is not supported: the key comes from the client's DID document")
	}
	var c assertionClaims
	if err := ijson.UnmarshalString(j.Payload, &c, 0); err != nil {
		return bad("claims: %v", err)
	}
	a := &Assertion{Alg: h.Alg, Kid: h.Kid, Issuer: c.Iss, Subject: c.Sub, JTI: c.Jti,
		signingInput: []byte(j.SigningInput), sig: j.Signature}
	if _, err := did.Parse(c.Iss); err != nil {
		return bad("iss must be the client's DID")
	}
	if c.Sub != c.Iss {
		return bad("sub must equal iss (the client's DID)")
	}
	if d, frag, ok := strings.Cut(h.Kid, "#"); !ok || frag == "" || d != c.Iss {
		return bad("kid must be a DID URL of iss (did…#key)")
	}
	if c.Jti == "" || len(c.Jti) > 256 {
		return bad("jti is required (1 to 256 bytes)")
	}
	if a.Audience, err = audience(c.Aud); err != nil {
		return bad("%v", err)
	}
	if a.Expires, err = numericDate(c.Exp, true); err != nil {
		return bad("exp: %v", err)
	}
	if a.IssuedAt, err = numericDate(c.Iat, false); err != nil {
		return bad("iat: %v", err)
	}
	if a.NotBefore, err = numericDate(c.Nbf, false); err != nil {
		return bad("nbf: %v", err)
	}
	return a, nil
}

func audience(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil && one != "" {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err == nil && len(many) > 0 && len(many) <= 8 {
		return many, nil
	}
	return nil, errors.New("aud must be the token endpoint URL (a string or an array of up to 8)")
}

func numericDate(n json.Number, required bool) (time.Time, error) {
	if n == "" {
		if required {
			return time.Time{}, errors.New("required")
		}
		return time.Time{}, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e11 {
		return time.Time{}, errors.New("must be a NumericDate (seconds since 1970)")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// Verify checks the assertion's signature with the key kid names under
// authentication in the DID document of its issuer.
func (a *Assertion) Verify(doc *did.Document) error {
	pub, err := doc.Key(a.Kid, did.Authentication)
	if err != nil {
		return fmt.Errorf("%w: kid is not an authentication key of %s", ErrInvalidClient, a.Issuer)
	}
	if string(pub.Alg().JWS()) != a.Alg || !pub.Verify(a.signingInput, a.sig) {
		return fmt.Errorf("%w: bad signature", ErrInvalidClient)
	}
	return nil
}

// SignAssertion makes a client assertion for a backend client: a JWT
// signed by k (whose DID URL kid names it under authentication in the
// client's DID document), iss = sub = the DID of kid, aud = tokenURL,
// exp = now + lifetime (at most [MaxAssertionLifetime]) and a random jti.
// It is what a client sends as client_assertion; [ParseAssertion] reads
// it.
func SignAssertion(k *key.PrivateKey, kid, tokenURL string, now time.Time, lifetime time.Duration) (string, error) {
	client, frag, ok := strings.Cut(kid, "#")
	if !ok || frag == "" {
		return "", fmt.Errorf("smart: kid %q must be a DID URL (did…#key)", kid)
	}
	if lifetime <= 0 || lifetime > MaxAssertionLifetime {
		return "", fmt.Errorf("smart: assertion lifetime %s: use up to %s", lifetime, MaxAssertionLifetime)
	}
	hb, err := json.Marshal(assertionHeader{Alg: string(k.Alg().JWS()), Typ: "JWT", Kid: kid})
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(map[string]any{"iss": client, "sub": client, "aud": tokenURL, "exp": now.Add(lifetime).Unix(),
		"iat": now.Unix(), "jti": randid.Hex(16)})
	if err != nil {
		return "", err
	}
	return jose.Sign(hb, cb, k)
}
