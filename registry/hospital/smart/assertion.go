package smart

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
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

var b64 = base64.RawURLEncoding

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
	if len(token) > MaxAssertionSize {
		return bad("%d bytes (at most %d)", len(token), MaxAssertionSize)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return bad("not a compact JWS (three base64url parts)")
	}
	hb, err1 := b64.DecodeString(parts[0])
	pb, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || len(sig) == 0 {
		return bad("bad base64url")
	}
	var h assertionHeader
	if err := strictJSON(hb, &h); err != nil {
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
	if err := strictJSON(pb, &c); err != nil {
		return bad("claims: %v", err)
	}
	a := &Assertion{Alg: h.Alg, Kid: h.Kid, Issuer: c.Iss, Subject: c.Sub, JTI: c.Jti,
		signingInput: []byte(parts[0] + "." + parts[1]), sig: sig}
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
	if a.Audience, err1 = audience(c.Aud); err1 != nil {
		return bad("%v", err1)
	}
	var err error
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

func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return errors.New("not a JSON object of the expected members")
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
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
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	hb, err := json.Marshal(assertionHeader{Alg: string(k.Alg().JWS()), Typ: "JWT", Kid: kid})
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(map[string]any{"iss": client, "sub": client, "aud": tokenURL, "exp": now.Add(lifetime).Unix(),
		"iat": now.Unix(), "jti": hex.EncodeToString(jti[:])})
	if err != nil {
		return "", err
	}
	in := b64.EncodeToString(hb) + "." + b64.EncodeToString(cb)
	sig, err := k.Sign([]byte(in))
	if err != nil {
		return "", err
	}
	return in + "." + b64.EncodeToString(sig), nil
}
