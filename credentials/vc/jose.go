package vc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/key"
)

// Errors returned by this package. Callers branch on them with errors.Is; the
// wrapped message says what was wrong.
var (
	// ErrMalformed reports input that is not a well-formed credential,
	// presentation or token, or a credential that breaks a VC 2.0 rule.
	ErrMalformed = errors.New("malformed credential")
	// ErrBadSignature reports a signature that does not verify, or an alg
	// header that does not fit the key it names (algorithm confusion).
	ErrBadSignature = errors.New("bad signature")
	// ErrUnsupportedAlg reports a JWS alg other than EdDSA or ES256 ("none" included).
	ErrUnsupportedAlg = errors.New("unsupported signature algorithm")
	// ErrIssuerMismatch reports a kid whose DID is not the credential's issuer.
	ErrIssuerMismatch = errors.New("issuer mismatch")
	// ErrExpired reports a credential or presentation past validUntil or exp.
	ErrExpired = errors.New("expired")
	// ErrNotYetValid reports a credential or presentation before validFrom, nbf or iat.
	ErrNotYetValid = errors.New("not yet valid")
	// ErrAudienceMismatch reports a presentation made for another verifier.
	ErrAudienceMismatch = errors.New("audience mismatch")
	// ErrNonceMismatch reports a presentation made for another request (a replay).
	ErrNonceMismatch = errors.New("nonce mismatch")
	// ErrHolderBinding reports a presentation not signed by its holder, or a
	// credential in it whose credentialSubject.id is not the holder.
	ErrHolderBinding = errors.New("holder binding")
)

// KeyFunc returns the public key a JWS kid (a DID URL such as
// "did:key:z6Mk…#z6Mk…") names. The verify package plugs a DID resolver into
// it: the key must be a verification method of the DID authorised for
// assertionMethod (credentials) or authentication (presentations). Its error
// is returned wrapped, so callers can still match resolver errors.
//
// [VerifyPresentation] calls it for the holder's key first, before any
// credential's, with a context for which [KeyPurposeFromContext] returns
// [PurposeAuthentication]; every other call is for [PurposeAssertion].
type KeyFunc func(ctx context.Context, kid string) (key.PublicKey, error)

// KeyPurpose names the DID verification relationship a key is looked up for.
type KeyPurpose string

// The purposes a KeyFunc is asked for.
const (
	// PurposeAssertion is an issuer key signing a credential (assertionMethod).
	PurposeAssertion KeyPurpose = "assertionMethod"
	// PurposeAuthentication is a holder key signing a presentation (authentication).
	PurposeAuthentication KeyPurpose = "authentication"
)

type purposeKey struct{}

// KeyPurposeFromContext tells a KeyFunc what the key it is asked for will
// verify: [PurposeAuthentication] for a presentation's holder key, otherwise
// [PurposeAssertion].
func KeyPurposeFromContext(ctx context.Context) KeyPurpose {
	if p, ok := ctx.Value(purposeKey{}).(KeyPurpose); ok {
		return p
	}
	return PurposeAssertion
}

// Header is the protected JOSE header of a vc+jwt or vp+jwt.
type Header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ,omitempty"`
	Cty string `json:"cty,omitempty"`
	Kid string `json:"kid,omitempty"`
}

// Token is a parsed, NOT verified, vc+jwt.
type Token struct {
	Header     Header
	Credential *Credential
	// Raw is the compact serialisation the token was parsed from.
	Raw string

	jws parsedJWS
}

// parsedJWS is what the verifier needs after parsing: the exact signing input
// and the raw signature, so the signature is checked over the bytes received.
type parsedJWS struct {
	header       Header
	signingInput string
	payload      string
	sig          []byte
}

// MaxTokenSize bounds a vc+jwt or vp+jwt. The largest token is a status
// list credential: its encodedList (at most 16 MiB of bits, gzipped, base64url:
// about 22.7 MB in the worst case) base64url-encoded again as the JWS
// payload, about 30.3 MB.
const MaxTokenSize = 32 << 20

// splitJWS parses a compact JWS strictly: the framing of credentials/jose
// (three strict base64url segments, RFC 7515 §7.1, at most [MaxTokenSize]
// bytes), a JSON header with an allowed alg and typ, no header that would
// let the token choose its own key.
func splitJWS(token, wantTyp, wantCty string) (parsedJWS, error) {
	var p parsedJWS
	j, err := jose.Split(token, MaxTokenSize)
	if err != nil {
		return p, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if p.header, err = parseHeader(j.Header, wantTyp, wantCty); err != nil {
		return p, err
	}
	if len(j.Signature) != 64 { // both EdDSA (Ed25519) and ES256 (r||s) signatures are 64 bytes
		return p, fmt.Errorf("%w: %s signature is %d bytes, want 64", ErrMalformed, p.header.Alg, len(j.Signature))
	}
	p.payload, p.sig, p.signingInput = j.Payload, j.Signature, j.SigningInput
	return p, nil
}

func parseHeader(b string, wantTyp, wantCty string) (Header, error) {
	var h Header
	v, err := parseJSON(b)
	if err != nil {
		return h, fmt.Errorf("%w: JOSE header: %v", ErrMalformed, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return h, fmt.Errorf("%w: JOSE header is not a JSON object", ErrMalformed)
	}
	alg, ok := m["alg"]
	if !ok {
		return h, fmt.Errorf("%w: JOSE header has no alg", ErrMalformed)
	}
	h.Alg, _ = alg.(string)
	if h.Alg != "EdDSA" && h.Alg != "ES256" {
		return h, fmt.Errorf("%w: alg %v (only EdDSA and ES256 are accepted)", ErrUnsupportedAlg, alg)
	}
	// Keys come only from the KeyFunc (the issuer's DID document). A header
	// that carries or points to its own key is an attack or a misunderstanding.
	for _, name := range [...]string{"jwk", "jku", "x5u", "x5c"} {
		if _, ok := m[name]; ok {
			return h, fmt.Errorf("%w: JOSE header parameter %s is not allowed: keys come from the issuer's DID document", ErrMalformed, name)
		}
	}
	if _, ok := m["crit"]; ok {
		return h, fmt.Errorf("%w: JOSE header has crit extensions, which are not supported", ErrMalformed)
	}
	if _, ok := m["b64"]; ok {
		return h, fmt.Errorf("%w: JOSE header has b64, which is not supported", ErrMalformed)
	}
	for _, f := range [...]struct {
		name string
		p    *string
	}{{"typ", &h.Typ}, {"cty", &h.Cty}, {"kid", &h.Kid}} {
		if x, ok := m[f.name]; ok {
			if *f.p, ok = x.(string); !ok {
				return h, fmt.Errorf("%w: JOSE header %s must be a string", ErrMalformed, f.name)
			}
		}
	}
	// wantTyp "" (VC 1.1 JWTs) leaves typ and cty unchecked.
	if wantTyp != "" && !mediaTypeIs(h.Typ, wantTyp) {
		if _, ok := m["typ"]; !ok {
			return h, fmt.Errorf("%w: JOSE header has no typ; want %q", ErrMalformed, wantTyp)
		}
		return h, fmt.Errorf("%w: JOSE header typ is %q, want %q", ErrMalformed, h.Typ, wantTyp)
	}
	if _, ok := m["cty"]; ok && wantCty != "" && !mediaTypeIs(h.Cty, wantCty) {
		return h, fmt.Errorf("%w: JOSE header cty is %q, want %q", ErrMalformed, h.Cty, wantCty)
	}
	return h, nil
}

// mediaTypeIs compares media types the way RFC 7515 §4.1.9 asks: case
// insensitive, with the "application/" prefix optional.
func mediaTypeIs(got, want string) bool {
	if len(got) > len("application/") && strings.EqualFold(got[:len("application/")], "application/") {
		got = got[len("application/"):]
	}
	return strings.EqualFold(got, want)
}

// Parse splits and decodes a vc+jwt without checking its signature: use it to
// look inside a token (to find the issuer before resolving keys, or to
// display a credential), never to trust it. It refuses anything but a compact
// JWS with typ vc+jwt, alg EdDSA or ES256 (else [ErrUnsupportedAlg]), no
// jwk/jku/x5u/x5c/crit header, and a JSON object payload. Other errors wrap
// [ErrMalformed].
func Parse(token string) (*Token, error) {
	p, err := splitJWS(token, MediaTypeVC, "vc")
	if err != nil {
		return nil, err
	}
	c := new(Credential)
	if err := c.unmarshal(p.payload); err != nil {
		return nil, err
	}
	return &Token{Header: p.header, Credential: c, Raw: token, jws: p}, nil
}

// kidDID returns the DID of a DID URL kid ("did:example:123#key-1" ->
// "did:example:123"). The kid must be a DID URL with a fragment.
func kidDID(kid string) (string, error) {
	did, frag, ok := strings.Cut(kid, "#")
	if !ok || frag == "" {
		return "", fmt.Errorf("%w: kid %q is not a DID URL with a fragment (did:method:id#key)", ErrMalformed, kid)
	}
	if i := strings.IndexAny(did, "?/;"); i >= 0 { // DID URL path/query: the DID ends before it
		did = did[:i]
	}
	method, id, ok := strings.Cut(strings.TrimPrefix(did, "did:"), ":")
	if !strings.HasPrefix(did, "did:") || !ok || method == "" || id == "" {
		return "", fmt.Errorf("%w: kid %q is not a DID URL (did:method:id#key)", ErrMalformed, kid)
	}
	return did, nil
}

// Issue validates c and signs it as a vc+jwt: a compact JWS whose protected
// header is {alg: EdDSA|ES256 (from k), typ: "vc+jwt", cty: "vc", kid} and
// whose payload is c's JSON. kid MUST be a DID URL of the issuer (its DID
// equal to c.Issuer), naming k's public key in the issuer's DID document.
// Errors: [ErrMalformed] for an invalid credential or kid, [ErrIssuerMismatch]
// when kid's DID is not the issuer.
func Issue(c *Credential, k *key.PrivateKey, kid string) (string, error) {
	if c == nil || k == nil {
		return "", fmt.Errorf("%w: nil credential or key", ErrMalformed)
	}
	if err := c.Validate(); err != nil {
		return "", err
	}
	did, err := kidDID(kid)
	if err != nil {
		return "", err
	}
	if did != c.Issuer {
		return "", fmt.Errorf("%w: kid %s belongs to %s, but the issuer is %s", ErrIssuerMismatch, kid, did, c.Issuer)
	}
	if iss, ok := c.Extra["iss"]; ok && iss != c.Issuer {
		return "", fmt.Errorf("%w: JWT claim iss %v differs from issuer %s", ErrIssuerMismatch, iss, c.Issuer)
	}
	payload, err := c.MarshalJSON()
	if err != nil {
		return "", err
	}
	return sign(payload, k, kid, MediaTypeVC, "vc")
}

func sign(payload []byte, k *key.PrivateKey, kid, typ, cty string) (string, error) {
	h := jws.NewHeaders()
	for name, v := range map[string]string{jws.TypeKey: typ, jws.ContentTypeKey: cty, jws.KeyIDKey: kid} {
		if v == "" {
			continue
		}
		if err := h.Set(name, v); err != nil {
			return "", fmt.Errorf("set JOSE header %s: %w", name, err)
		}
	}
	tok, err := jws.Sign(payload, jws.WithKey(k.Alg().JWS(), k.Signer(), jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", typ, err)
	}
	return string(tok), nil
}

// VerifyOptions tunes [Verify]. The zero value checks validity at time.Now
// with no clock skew allowance.
type VerifyOptions struct {
	// Now is the time validity is checked at; zero means time.Now().
	Now time.Time
	// ClockSkew widens every validity window by this much on both ends.
	ClockSkew time.Duration
}

func (o VerifyOptions) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// Verify checks a vc+jwt and returns its credential. In order: the token is
// well formed ([Parse]; [ErrMalformed], [ErrUnsupportedAlg]); the credential
// passes [Credential.Validate]; the kid is a DID URL of the issuer, and an iss
// claim, if any, is the issuer ([ErrIssuerMismatch]); keys returns the kid's
// key (its error is wrapped); the alg fits the key type and the signature
// verifies ([ErrBadSignature]); validFrom/nbf and validUntil/exp hold at
// opts.Now give or take opts.ClockSkew ([ErrNotYetValid], [ErrExpired]).
// Verify does not check revocation or accreditation: the verify package does.
func Verify(ctx context.Context, token string, keys KeyFunc, opts VerifyOptions) (*Credential, error) {
	t, err := Parse(token)
	if err != nil {
		return nil, err
	}
	c := t.Credential
	if err := c.Validate(); err != nil {
		return nil, err
	}
	did, err := kidDID(t.Header.Kid)
	if err != nil {
		return nil, err
	}
	// Checked before any key is fetched, so a forged token cannot make us
	// resolve a DID of the attacker's choosing.
	if did != c.Issuer {
		return nil, fmt.Errorf("%w: signed with a key of %s, but the issuer is %s", ErrIssuerMismatch, did, c.Issuer)
	}
	if iss, ok := c.Extra["iss"]; ok && iss != c.Issuer {
		return nil, fmt.Errorf("%w: JWT claim iss %v differs from issuer %s", ErrIssuerMismatch, iss, c.Issuer)
	}
	if err := checkSignature(ctx, &t.jws, keys); err != nil {
		return nil, err
	}
	now := opts.now()
	if err := checkWindow("credential", c.ValidFrom, c.ValidUntil, now, opts.ClockSkew); err != nil {
		return nil, err
	}
	if err := checkJWTTimes(c.Extra, now, opts.ClockSkew, false); err != nil {
		return nil, err
	}
	return c, nil
}

// checkSignature fetches the kid's key and verifies the signature over the
// exact signing input received. It goes to the key directly rather than
// through jwx's generic path: the header has already been parsed, the alg is
// one of two, and the key type decides the algorithm, not the header.
func checkSignature(ctx context.Context, p *parsedJWS, keys KeyFunc) error {
	if keys == nil {
		return errors.New("vc: no KeyFunc given")
	}
	pub, err := keys(ctx, p.header.Kid)
	if err != nil {
		return fmt.Errorf("key %s: %w", p.header.Kid, err)
	}
	if pub.IsZero() {
		return fmt.Errorf("key %s: KeyFunc returned no key", p.header.Kid)
	}
	// A token chooses its alg; the key decides what is acceptable. An ES256
	// header on an Ed25519 key (or the reverse) is algorithm confusion.
	if want := pub.Alg().JWS().String(); p.header.Alg != want {
		return fmt.Errorf("%w: alg %s does not fit the %s key %s (algorithm confusion)", ErrBadSignature, p.header.Alg, pub.Alg(), p.header.Kid)
	}
	if !pub.Verify([]byte(p.signingInput), p.sig) {
		return fmt.Errorf("%w: %s signature by %s does not verify", ErrBadSignature, p.header.Alg, p.header.Kid)
	}
	return nil
}

func checkWindow(what string, from, until *time.Time, now time.Time, skew time.Duration) error {
	if from != nil && now.Add(skew).Before(*from) {
		return fmt.Errorf("%w: %s is valid from %s, now is %s", ErrNotYetValid, what, from.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if until != nil && now.Add(-skew).After(*until) {
		return fmt.Errorf("%w: %s was valid until %s, now is %s", ErrExpired, what, until.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// numericDate reads a JWT NumericDate claim (RFC 7519 §2): seconds since the
// epoch, possibly fractional. ok is false when the claim is absent.
func numericDate(claims map[string]any, name string) (t time.Time, ok bool, err error) {
	v, present := claims[name]
	if !present {
		return time.Time{}, false, nil
	}
	var f float64
	switch n := v.(type) {
	case json.Number:
		f, err = n.Float64()
	case float64:
		f = n
	case int64:
		f = float64(n)
	case int:
		f = float64(n)
	default:
		err = errors.New("not a number")
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, false, fmt.Errorf("%w: JWT claim %s must be a NumericDate (seconds since 1970)", ErrMalformed, name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// checkJWTTimes honours the JWT claims nbf, exp and (for presentations) iat.
func checkJWTTimes(claims map[string]any, now time.Time, skew time.Duration, needExp bool) error {
	nbf, ok, err := numericDate(claims, "nbf")
	if err != nil {
		return err
	}
	if ok && now.Add(skew).Before(nbf) {
		return fmt.Errorf("%w: JWT nbf is %s, now is %s", ErrNotYetValid, nbf.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	iat, ok, err := numericDate(claims, "iat")
	if err != nil {
		return err
	}
	if ok && now.Add(skew).Before(iat) {
		return fmt.Errorf("%w: JWT iat %s is in the future, now is %s", ErrNotYetValid, iat.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	exp, ok, err := numericDate(claims, "exp")
	if err != nil {
		return err
	}
	if !ok && needExp {
		return fmt.Errorf("%w: JWT has no exp claim", ErrMalformed)
	}
	if ok && !now.Add(-skew).Before(exp) { // RFC 7519: on or after exp it is expired
		return fmt.Errorf("%w: JWT exp was %s, now is %s", ErrExpired, exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}
