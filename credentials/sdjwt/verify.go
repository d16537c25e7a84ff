package sdjwt

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"time"

	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

// Media types.
const (
	// MediaType is the typ of an SD-JWT VC's issuer-signed JWT.
	MediaType = "dc+sd-jwt"
	// LegacyMediaType is the typ SD-JWT VC drafts before -06 used; it is
	// accepted when verifying ([VerifyVC]) and never issued.
	LegacyMediaType = "vc+sd-jwt"
	// KBMediaType is the typ of a Key Binding JWT.
	KBMediaType = "kb+jwt"
)

// DefaultKBMaxAge is how old a KB-JWT's iat may be when
// VerifyOptions.KBMaxAge is zero.
const DefaultKBMaxAge = 5 * time.Minute

// VerifyOptions tunes [Verify] and [VerifyVC].
type VerifyOptions struct {
	// Typ is the typ the issuer-signed JWT must have. For Verify, ""
	// means [MediaType]; VerifyVC ignores it and accepts MediaType and
	// LegacyMediaType.
	Typ string
	// Audience and Nonce are what a Key Binding JWT must carry in aud and
	// nonce. When either is set, a KB-JWT is required.
	Audience, Nonce string
	// RequireKeyBinding refuses an SD-JWT without a KB-JWT even when no
	// Audience and Nonce are given (they must then be given: a KB-JWT
	// that cannot be checked against a request proves nothing).
	RequireKeyBinding bool
	// KBMaxAge is how old the KB-JWT's iat may be; default DefaultKBMaxAge.
	KBMaxAge time.Duration
	// Now is the time validity is checked at; zero means time.Now().
	Now time.Time
	// ClockSkew widens every time check by this much on both ends.
	ClockSkew time.Duration
}

func (o *VerifyOptions) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// KeyBinding is what a verified Key Binding JWT established.
type KeyBinding struct {
	Audience string
	Nonce    string
	IssuedAt time.Time
}

// Verified is a verified SD-JWT: the processed claims and what was and
// was not disclosed.
type Verified struct {
	// Header is the issuer-signed JWT's protected header.
	Header vc.Header
	// Claims is the processed payload (RFC 9901 §7.1): every disclosed
	// claim in place, digests, decoys, _sd and _sd_alg removed. It holds
	// only claims whose Disclosures verified; numbers are json.Number.
	Claims map[string]any
	// Disclosed lists the path of every Disclosure received, sorted. A
	// nested claim's enclosing objects appear too (code and code.display).
	Disclosed []Path
	// Withheld counts the undisclosed digests per object or array: the
	// claims the holder kept back there plus the issuer's decoys.
	Withheld []Hidden
	// Holder is the cnf.jwk key, when the payload has one.
	Holder key.PublicKey
	// KeyBinding is set when a KB-JWT was presented and verified.
	KeyBinding *KeyBinding
}

// Verify verifies an SD-JWT or SD-JWT+KB (RFC 9901 §7.1 and §7.3):
//
//  1. the combined format splits, the issuer-signed JWT parses with typ
//     opts.Typ and alg EdDSA or ES256 ("none" and every other alg refused);
//  2. keys returns the key for its kid and the signature verifies;
//  3. _sd_alg, if present, is sha-256;
//  4. every Disclosure parses, no Disclosure is sent twice, no digest
//     appears twice, every Disclosure is referenced exactly once and in
//     the right form (object property from _sd, array element from
//     {"...": digest}), no disclosed name collides or is reserved;
//  5. exp, nbf and iat of the processed claims hold at opts.Now;
//  6. the KB-JWT, when present or required: typ kb+jwt, signed by the
//     cnf.jwk key, aud and nonce as given, iat fresh, and sd_hash the hash
//     of exactly the SD-JWT and Disclosures it came with.
//
// Every refusal is a [*RefusalError] with a reason code; a KeyFunc error
// is wrapped in one with [ReasonUnknownIssuer]. Nothing is returned unless
// everything verified, so no claim of a bad Disclosure is ever returned.
func Verify(ctx context.Context, sdjwt string, keys vc.KeyFunc, opts VerifyOptions) (*Verified, error) {
	typ := opts.Typ
	if typ == "" {
		typ = MediaType
	}
	t, err := parse(sdjwt, typ)
	if err != nil {
		return nil, err
	}
	return t.verify(ctx, keys, &opts, nil)
}

// token is a parsed, not yet verified SD-JWT.
type token struct {
	parts   *parts
	jws     *vc.JWS
	payload map[string]any
	discs   []*Disclosure
}

// parse splits s and decodes its issuer-signed JWT and Disclosures.
func parse(s, typ string) (*token, error) {
	p, err := split(s)
	if err != nil {
		return nil, err
	}
	j, err := vc.ParseJWS(p.jwt, typ, "")
	if err != nil {
		switch {
		case errors.Is(err, vc.ErrUnsupportedAlg):
			return nil, refuseErr(ReasonUnsupportedAlg, err, "issuer-signed JWT")
		case typ != "" && errors.Is(err, vc.ErrMalformed) && isTypError(p.jwt, typ):
			return nil, refuseErr(ReasonWrongType, err, "issuer-signed JWT")
		}
		return nil, refuseErr(ReasonMalformed, err, "issuer-signed JWT")
	}
	v, err := vc.ParseJSON(j.Payload)
	if err != nil {
		return nil, refuseErr(ReasonMalformed, err, "issuer-signed JWT payload")
	}
	payload, ok := v.(map[string]any)
	if !ok {
		return nil, refuse(ReasonMalformed, "issuer-signed JWT payload is not a JSON object")
	}
	discs, err := parseDisclosures(p.disclosures)
	if err != nil {
		return nil, err
	}
	return &token{parts: p, jws: j, payload: payload, discs: discs}, nil
}

// isTypError reports whether the header of jwt parses with any typ, so that
// a typ mismatch can be told from other header faults.
func isTypError(jwt, typ string) bool {
	_, err := vc.ParseJWS(jwt, "", "")
	return err == nil
}

func parseDisclosures(raw []string) ([]*Disclosure, error) {
	discs := make([]*Disclosure, len(raw))
	seen := make(map[string]bool, len(raw))
	for i, r := range raw {
		d, err := ParseDisclosure(r)
		if err != nil {
			return nil, err
		}
		if seen[d.Digest] {
			return nil, refuse(ReasonDuplicateDisclosure, "Disclosure %s is sent twice", d.Digest)
		}
		seen[d.Digest] = true
		discs[i] = d
	}
	return discs, nil
}

// verify runs steps 2 to 6 of Verify. check, if not nil, runs on the
// payload before any key is fetched (SD-JWT VC's iss-versus-kid rule).
func (t *token) verify(ctx context.Context, keys vc.KeyFunc, opts *VerifyOptions, check func(*token) error) (*Verified, error) {
	if check != nil {
		if err := check(t); err != nil {
			return nil, err
		}
	}
	if err := t.jws.Verify(ctx, keys); err != nil {
		if errors.Is(err, vc.ErrBadSignature) {
			return nil, refuseErr(ReasonBadSignature, err, "issuer-signed JWT")
		}
		return nil, refuseErr(ReasonUnknownIssuer, err, "issuer key %q", t.jws.Header.Kid)
	}
	claims, proc, err := process(t.payload, t.discs)
	if err != nil {
		return nil, err
	}
	now := opts.now()
	if err := vc.CheckJWTTimes(claims, now, opts.ClockSkew, false); err != nil {
		return nil, timeRefusal(err, "SD-JWT")
	}
	out := &Verified{Header: t.jws.Header, Claims: claims, Disclosed: proc.disclosedPaths(), Withheld: proc.withheld()}
	holder, herr := holderKey(claims)
	out.Holder = holder
	needKB := opts.RequireKeyBinding || opts.Audience != "" || opts.Nonce != ""
	if t.parts.kb == "" {
		if needKB {
			return nil, refuse(ReasonKBMissing, "the verifier requires key binding and the SD-JWT has no Key Binding JWT")
		}
		return out, nil
	}
	if herr != nil {
		return nil, herr
	}
	kb, err := verifyKB(t.parts, holder, opts, now)
	if err != nil {
		return nil, err
	}
	out.KeyBinding = kb
	return out, nil
}

func timeRefusal(err error, what string) error {
	switch {
	case errors.Is(err, vc.ErrExpired):
		return refuseErr(ReasonExpired, err, "%s", what)
	case errors.Is(err, vc.ErrNotYetValid):
		return refuseErr(ReasonNotYetValid, err, "%s", what)
	}
	return refuseErr(ReasonMalformed, err, "%s", what)
}

// holderKey reads cnf.jwk (RFC 7800): a public JWK of a key type medid
// verifies. A JWK with private parts is refused: whoever made it leaked
// the holder's key.
func holderKey(claims map[string]any) (key.PublicKey, error) {
	cnf, ok := claims["cnf"].(map[string]any)
	if !ok {
		return key.PublicKey{}, refuse(ReasonHolderKey, "the SD-JWT has no cnf claim naming the holder's key")
	}
	jwk, ok := cnf["jwk"].(map[string]any)
	if !ok {
		return key.PublicKey{}, refuse(ReasonHolderKey, "cnf has no jwk (only cnf.jwk holder binding is supported)")
	}
	if _, priv := jwk["d"]; priv {
		return key.PublicKey{}, refuse(ReasonHolderKey, "cnf.jwk holds a private key")
	}
	// The two key types medid issues to, read directly: jwx's generic JWK
	// parser cost a sixth of a whole presentation's verification.
	kty, _ := jwk["kty"].(string)
	crv, _ := jwk["crv"].(string)
	x, _ := jwk["x"].(string)
	switch {
	case kty == "OKP" && crv == "Ed25519":
		xb, err := jose.Decode(x)
		if err != nil {
			return key.PublicKey{}, refuse(ReasonHolderKey, "cnf.jwk x is not base64url")
		}
		pub, err := key.PublicFromBytes(key.Ed25519, xb)
		if err != nil {
			return key.PublicKey{}, refuseErr(ReasonHolderKey, err, "cnf.jwk")
		}
		return pub, nil
	case kty == "EC" && crv == "P-256":
		y, _ := jwk["y"].(string)
		xb, err1 := jose.Decode(x)
		yb, err2 := jose.Decode(y)
		if err1 != nil || err2 != nil || len(xb) != 32 || len(yb) != 32 {
			return key.PublicKey{}, refuse(ReasonHolderKey, "cnf.jwk x and y must be 32 bytes of base64url each")
		}
		pub, err := key.PublicFromBytes(key.P256, append(append([]byte{4}, xb...), yb...))
		if err != nil {
			return key.PublicKey{}, refuseErr(ReasonHolderKey, err, "cnf.jwk")
		}
		return pub, nil
	}
	b, err := json.Marshal(jwk)
	if err != nil {
		return key.PublicKey{}, refuseErr(ReasonHolderKey, err, "cnf.jwk")
	}
	pub, err := key.ParsePublicJWK(b)
	if err != nil {
		return key.PublicKey{}, refuseErr(ReasonHolderKey, err, "cnf.jwk")
	}
	return pub, nil
}

// verifyKB checks the Key Binding JWT (RFC 9901 §7.3 step 5).
func verifyKB(p *parts, holder key.PublicKey, opts *VerifyOptions, now time.Time) (*KeyBinding, error) {
	if opts.Audience == "" || opts.Nonce == "" {
		return nil, refuse(ReasonKBAudience, "a Key Binding JWT was presented but the verifier gave no audience and nonce to check it against")
	}
	j, err := vc.ParseJWS(p.kb, KBMediaType, "")
	if err != nil {
		if errors.Is(err, vc.ErrUnsupportedAlg) {
			return nil, refuseErr(ReasonUnsupportedAlg, err, "Key Binding JWT")
		}
		return nil, refuseErr(ReasonKBMalformed, err, "Key Binding JWT")
	}
	if err := j.VerifyWith(holder); err != nil {
		return nil, refuseErr(ReasonKBBadSignature, err, "Key Binding JWT is not signed by the cnf.jwk key")
	}
	v, err := vc.ParseJSON(j.Payload)
	if err != nil {
		return nil, refuseErr(ReasonKBMalformed, err, "Key Binding JWT payload")
	}
	c, ok := v.(map[string]any)
	if !ok {
		return nil, refuse(ReasonKBMalformed, "Key Binding JWT payload is not a JSON object")
	}
	kb := &KeyBinding{}
	var sdHash string
	for _, f := range [...]struct {
		name string
		p    *string
	}{{"aud", &kb.Audience}, {"nonce", &kb.Nonce}, {"sd_hash", &sdHash}} {
		s, ok := c[f.name].(string)
		if !ok || s == "" {
			return nil, refuse(ReasonKBMalformed, "Key Binding JWT has no %s string", f.name)
		}
		*f.p = s
	}
	iat, ok, err := vc.NumericDate(c, "iat")
	if err != nil || !ok {
		return nil, refuse(ReasonKBMalformed, "Key Binding JWT has no valid iat")
	}
	kb.IssuedAt = iat
	if subtle.ConstantTimeCompare([]byte(sdHash), []byte(digest(p.sdJWT))) != 1 {
		return nil, refuse(ReasonKBSDHash, "the Key Binding JWT's sd_hash is not the hash of the SD-JWT and Disclosures presented with it")
	}
	if kb.Audience != opts.Audience {
		return nil, refuse(ReasonKBAudience, "the Key Binding JWT is for audience %q, not %q", clip(kb.Audience), clip(opts.Audience))
	}
	if kb.Nonce != opts.Nonce {
		return nil, refuse(ReasonKBNonce, "the Key Binding JWT answers another request (nonce differs)")
	}
	maxAge := opts.KBMaxAge
	if maxAge <= 0 {
		maxAge = DefaultKBMaxAge
	}
	if iat.After(now.Add(opts.ClockSkew)) {
		return nil, refuse(ReasonKBNotFresh, "the Key Binding JWT's iat %s is in the future (now %s)", iat.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if iat.Before(now.Add(-maxAge - opts.ClockSkew)) {
		return nil, refuse(ReasonKBNotFresh, "the Key Binding JWT was made at %s, more than %s before %s", iat.UTC().Format(time.RFC3339), maxAge, now.UTC().Format(time.RFC3339))
	}
	times := make(map[string]any, 2)
	for _, n := range [...]string{"exp", "nbf"} {
		if x, ok := c[n]; ok {
			times[n] = x
		}
	}
	if err := vc.CheckJWTTimes(times, now, opts.ClockSkew, false); err != nil {
		return nil, refuseErr(ReasonKBNotFresh, err, "Key Binding JWT")
	}
	return kb, nil
}
