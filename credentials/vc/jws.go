package vc

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/key"
)

// JWS is a compact JWS split and decoded by [ParseJWS]: NOT verified. It is
// the one compact-JWS parser of the credentials library, exported so that
// other token formats built on JWS (SD-JWT's issuer-signed JWT and Key
// Binding JWT) share its strictness instead of growing their own.
type JWS struct {
	// Header is the protected header.
	Header Header
	// Payload is the decoded payload (strings parsed from it with
	// ParseJSON share its memory).
	Payload string
	// SigningInput is the exact "header.payload" received.
	SigningInput string
	// Signature is the decoded signature (64 bytes: EdDSA or ES256 r||s).
	Signature []byte
}

// ParseJWS splits and decodes a compact JWS with the same rules as every
// token this package reads: credentials/jose's framing (three strict
// base64url segments, at most [MaxTokenSize] bytes), an I-JSON header with alg EdDSA or ES256 ([ErrUnsupportedAlg]
// otherwise, "none" included), no jwk, jku, x5u, x5c, crit or b64 header, a
// typ equal to typ (compared as RFC 7515 asks; "" leaves typ and cty
// unchecked) and, when the header has a cty and cty is not "", a cty equal
// to cty. Other errors wrap [ErrMalformed]. It checks no signature.
func ParseJWS(token, typ, cty string) (*JWS, error) {
	p, err := splitJWS(token, typ, cty)
	if err != nil {
		return nil, err
	}
	return &JWS{Header: p.header, Payload: p.payload, SigningInput: p.signingInput, Signature: p.sig}, nil
}

// Verify checks the signature with the key keys returns for the header's
// kid (which may be ""), as [Verify] does for a vc+jwt: the key's type,
// never the header, decides the algorithm. A KeyFunc error is returned
// wrapped; a signature that does not verify, or an alg that does not fit
// the key, is [ErrBadSignature].
func (j *JWS) Verify(ctx context.Context, keys KeyFunc) error {
	p := parsedJWS{header: j.Header, signingInput: j.SigningInput, payload: j.Payload, sig: j.Signature}
	return checkSignature(ctx, &p, keys)
}

// VerifyWith checks the signature with pub (for a JWS whose key is known
// from elsewhere, such as an SD-JWT's cnf claim). Errors are as for
// [JWS.Verify].
func (j *JWS) VerifyWith(pub key.PublicKey) error {
	return j.Verify(context.Background(), func(context.Context, string) (key.PublicKey, error) { return pub, nil })
}

// SignJWS signs payload as a compact JWS with the protected header {alg
// (from k), typ, cty, kid}; an empty typ, cty or kid is left out. The
// payload bytes are signed exactly as given.
func SignJWS(payload []byte, k *key.PrivateKey, typ, cty, kid string) (string, error) {
	if k == nil {
		return "", fmt.Errorf("%w: nil signing key", ErrMalformed)
	}
	return sign(payload, k, kid, typ, cty)
}

// ParseJSON decodes one JSON text into map[string]any, []any, string,
// json.Number, bool and nil, refusing what is not I-JSON (RFC 7493): a
// member name repeated in one object, invalid UTF-8, a lone surrogate, and
// nesting deeper than 200 levels. Errors wrap [ErrMalformed]. Every signed
// claim set this library reads goes through this one parser
// (internal/ijson), so two parsers can never read two different claim sets
// from the same bytes. A string (such as [JWS.Payload]) is parsed in place:
// the strings returned share its memory.
func ParseJSON[T string | []byte](data T) (any, error) {
	v, err := parseJSON(string(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return v, nil
}

// NumericDate reads the JWT NumericDate claim name (RFC 7519 §2: seconds
// since 1970, possibly fractional) of claims. ok is false when the claim is
// absent; a claim that is not a sane number is [ErrMalformed].
func NumericDate(claims map[string]any, name string) (t time.Time, ok bool, err error) {
	return numericDate(claims, name)
}

// CheckJWTTimes honours the JWT claims nbf, iat and exp of claims at now,
// give or take skew: nbf or iat in the future is [ErrNotYetValid], now at
// or after exp is [ErrExpired], a malformed date is [ErrMalformed], and with
// needExp a missing exp is [ErrMalformed].
func CheckJWTTimes(claims map[string]any, now time.Time, skew time.Duration, needExp bool) error {
	return checkJWTTimes(claims, now, skew, needExp)
}

// MediaTypeIs compares a typ or cty header with a media type the way RFC
// 7515 §4.1.9 asks: case insensitive, the "application/" prefix optional.
func MediaTypeIs(got, want string) bool { return mediaTypeIs(got, want) }

// DetectTyp returns the typ header of a compact JWS (the part before the
// first '.'), or "" when it has none or the header does not decode. It
// proves nothing; it tells which parser to hand the token to.
func DetectTyp(token string) string {
	hdr, _, ok := strings.Cut(token, ".")
	if !ok || len(hdr) > 4096 {
		return ""
	}
	b, err := jose.Decode(hdr)
	if err != nil {
		return ""
	}
	v, err := parseJSON(string(b))
	if err != nil {
		return ""
	}
	m, _ := v.(map[string]any)
	typ, _ := m["typ"].(string)
	return strings.ToLower(strings.TrimPrefix(strings.ToLower(typ), "application/"))
}
