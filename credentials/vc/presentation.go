package vc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medid/medid/credentials/key"
)

// envelopedPrefix starts the id of an EnvelopedVerifiableCredential holding a vc+jwt.
const envelopedPrefix = "data:application/vc+jwt,"

// DefaultPresentationLifetime is how long a presentation is valid when
// [SignPresentation] is given no [WithLifetime].
const DefaultPresentationLifetime = 5 * time.Minute

// Presentation is a W3C VC Data Model 2.0 verifiable presentation. Its
// credentials are vc+jwt tokens, serialised as EnvelopedVerifiableCredential
// objects ({"@context": v2, "id": "data:application/vc+jwt,<token>", "type":
// "EnvelopedVerifiableCredential"}). Embedded (non-enveloped) credentials,
// and a holder object with properties other than id, are refused as
// [ErrMalformed] when parsing.
type Presentation struct {
	Context []string
	ID      string
	Type    []string
	// Holder is the holder's DID; the presentation must be signed by a key of it.
	Holder string
	// Credentials are vc+jwt tokens.
	Credentials []string
	// Extra holds every other top-level property, kept on a round trip.
	// The JWT claims aud, nonce, iat and exp belong to the signed envelope:
	// [SignPresentation] refuses them here and [VerifyPresentation] moves
	// them to [VerifiedPresentation].
	Extra map[string]any
}

// envelopeClaims are the JWT claims SignPresentation adds beside the VP properties.
var envelopeClaims = []string{"aud", "nonce", "iat", "exp"}

// Validate checks the VC 2.0 rules for a presentation: the first @context is
// [ContextV2], type includes VerifiablePresentation, and the holder, when set,
// is a URL. Errors wrap [ErrMalformed].
func (p *Presentation) Validate() error {
	if err := validateContext(p.Context, "presentation"); err != nil {
		return err
	}
	if !slices.Contains(p.Type, TypePresentation) {
		return fmt.Errorf("%w: presentation type must include %s", ErrMalformed, TypePresentation)
	}
	if p.Holder != "" && !isURL(p.Holder) {
		return fmt.Errorf("%w: holder must be a URL or DID, got %q", ErrMalformed, p.Holder)
	}
	for i, c := range p.Credentials {
		if c == "" || strings.ContainsAny(c, ", \t\r\n") {
			return fmt.Errorf("%w: credential %d is not a compact vc+jwt", ErrMalformed, i)
		}
	}
	return nil
}

// MarshalJSON writes the presentation in VC 2.0 shape, deterministically
// (fixed order for typed properties, then Extra sorted by key).
func (p *Presentation) MarshalJSON() ([]byte, error) {
	var w objWriter
	w.begin()
	p.writeFields(&w)
	if err := w.extra(p.Extra, p.setKeys()); err != nil {
		return nil, err
	}
	return w.end(), nil
}

func (p *Presentation) setKeys() map[string]bool {
	return map[string]bool{"@context": p.Context != nil, "id": p.ID != "", "type": p.Type != nil,
		"holder": p.Holder != "", "verifiableCredential": p.Credentials != nil}
}

type envelope struct {
	Context []string `json:"@context"`
	ID      string   `json:"id"`
	Type    string   `json:"type"`
}

func (p *Presentation) writeFields(w *objWriter) {
	if p.Context != nil {
		w.field("@context", contextJSON(p.Context))
	}
	if p.ID != "" {
		w.field("id", p.ID)
	}
	if p.Type != nil {
		w.field("type", p.Type)
	}
	if p.Holder != "" {
		w.field("holder", p.Holder)
	}
	if p.Credentials != nil {
		envs := make([]envelope, len(p.Credentials))
		for i, tok := range p.Credentials {
			envs[i] = envelope{Context: []string{ContextV2}, ID: envelopedPrefix + tok, Type: TypeEnvelopedCredential}
		}
		w.field("verifiableCredential", envs)
	}
}

// UnmarshalJSON reads a VC 2.0 presentation whose verifiableCredential
// entries are EnvelopedVerifiableCredential objects with vc+jwt data URLs.
// It does not validate VC rules (see [Presentation.Validate]). Errors wrap
// [ErrMalformed].
func (p *Presentation) UnmarshalJSON(data []byte) error {
	return p.unmarshal(string(data))
}

// unmarshal is UnmarshalJSON of a string (a token's decoded payload).
func (p *Presentation) unmarshal(data string) error {
	m, err := parseObject(data, "presentation")
	if err != nil {
		return err
	}
	*p = Presentation{}
	for k, v := range m {
		switch k {
		case "@context":
			p.Context, err = parseContext(v)
		case "id":
			p.ID, err = stringField(k, v)
		case "type":
			p.Type, err = stringList(k, v, true)
		case "holder":
			// VC 2.0 allows a holder object with an id; medid needs only the id.
			if h, ok := v.(map[string]any); ok {
				if p.Holder, _ = h["id"].(string); p.Holder == "" || len(h) != 1 {
					err = fmt.Errorf("%w: holder object must have a string id and nothing else", ErrMalformed)
				}
			} else {
				p.Holder, err = stringField(k, v)
			}
		case "verifiableCredential":
			p.Credentials, err = parseEnvelopes(v)
		default:
			if p.Extra == nil {
				p.Extra = make(map[string]any)
			}
			p.Extra[k] = v
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func parseEnvelopes(v any) ([]string, error) {
	var items []any
	switch v := v.(type) {
	case map[string]any:
		items = []any{v}
	case []any:
		items = v
	default:
		return nil, fmt.Errorf("%w: verifiableCredential must be an array of EnvelopedVerifiableCredential objects", ErrMalformed)
	}
	out := make([]string, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: verifiableCredential[%d] must be an EnvelopedVerifiableCredential object", ErrMalformed, i)
		}
		types, err := stringList("type", m["type"], true)
		if err != nil || !slices.Contains(types, TypeEnvelopedCredential) {
			return nil, fmt.Errorf("%w: verifiableCredential[%d] is not an %s (embedded credentials are not accepted; envelope them as vc+jwt)", ErrMalformed, i, TypeEnvelopedCredential)
		}
		id, _ := m["id"].(string)
		tok, ok := strings.CutPrefix(id, envelopedPrefix)
		if !ok || tok == "" || strings.ContainsAny(tok, ", \t\r\n") {
			return nil, fmt.Errorf("%w: verifiableCredential[%d].id must be a %s<token> data URL", ErrMalformed, i, envelopedPrefix)
		}
		out[i] = tok
	}
	return out, nil
}

// SignOption tunes [SignPresentation].
type SignOption func(*signOptions)

type signOptions struct {
	now      time.Time
	lifetime time.Duration
}

// WithLifetime sets how long after iat the presentation expires (exp).
// It must be positive; the default is [DefaultPresentationLifetime].
func WithLifetime(d time.Duration) SignOption { return func(o *signOptions) { o.lifetime = d } }

// WithIssuedAt sets iat (default time.Now()); exp follows from it.
func WithIssuedAt(t time.Time) SignOption { return func(o *signOptions) { o.now = t } }

// SignPresentation signs p as a vp+jwt for one verifier and one request: the
// claim set is p's JSON plus aud (audience), nonce, iat and exp. kid MUST be a
// DID URL of p.Holder (a holder key for authentication). audience and nonce
// MUST be non-empty: they are what stops the presentation being replayed to
// another verifier or for another request. Errors: [ErrMalformed] for an
// invalid presentation or arguments, [ErrHolderBinding] when kid's DID is not
// the holder.
func SignPresentation(p *Presentation, k *key.PrivateKey, kid, audience, nonce string, opts ...SignOption) (string, error) {
	if p == nil || k == nil {
		return "", fmt.Errorf("%w: nil presentation or key", ErrMalformed)
	}
	o := signOptions{lifetime: DefaultPresentationLifetime}
	for _, opt := range opts {
		opt(&o)
	}
	if o.now.IsZero() {
		o.now = time.Now()
	}
	if o.lifetime <= 0 {
		return "", fmt.Errorf("%w: presentation lifetime must be positive, got %s", ErrMalformed, o.lifetime)
	}
	if audience == "" || nonce == "" {
		return "", fmt.Errorf("%w: a presentation needs the verifier's audience and nonce", ErrMalformed)
	}
	if err := p.Validate(); err != nil {
		return "", err
	}
	if p.Holder == "" {
		return "", fmt.Errorf("%w: presentation has no holder", ErrMalformed)
	}
	did, err := kidDID(kid)
	if err != nil {
		return "", err
	}
	if did != p.Holder {
		return "", fmt.Errorf("%w: kid %s belongs to %s, but the holder is %s", ErrHolderBinding, kid, did, p.Holder)
	}
	for _, c := range envelopeClaims {
		if _, ok := p.Extra[c]; ok {
			return "", fmt.Errorf("%w: Extra must not contain the JWT claim %s; SignPresentation sets it", ErrMalformed, c)
		}
	}
	var w objWriter
	w.begin()
	p.writeFields(&w)
	set := p.setKeys()
	for _, c := range envelopeClaims {
		set[c] = true
	}
	if err := w.extra(p.Extra, set); err != nil {
		return "", err
	}
	w.field("aud", audience)
	w.field("nonce", nonce)
	w.field("iat", o.now.Unix())
	w.field("exp", o.now.Add(o.lifetime).Unix())
	if w.err != nil {
		return "", w.err
	}
	return sign(w.end(), k, kid, MediaTypeVP, "vp")
}

// PresentationOptions says what [VerifyPresentation] expects.
type PresentationOptions struct {
	// Audience is this verifier's identifier; aud must equal (or, for an
	// array, contain) it. Required.
	Audience string
	// Nonce is the value this verifier issued for this request. Required.
	Nonce string
	// Now is the time validity is checked at; zero means time.Now().
	Now time.Time
	// ClockSkew widens every validity window by this much on both ends.
	ClockSkew time.Duration
	// Subject, when set, is the DID every credential of the presentation
	// must be about (credentialSubject.id) instead of the holder: the
	// person a representative presents for. The caller MUST first have
	// established that the holder may present for Subject (a delegation
	// it verified, see credentials/delegation): this option only moves the
	// binding check, it grants nothing.
	Subject string
}

// VerifiedPresentation is the result of a successful [VerifyPresentation].
type VerifiedPresentation struct {
	Presentation *Presentation
	// Credentials are the enveloped credentials, each verified, in order.
	Credentials []*Credential
	// Kid is the holder key that signed the presentation.
	Kid string
	// Audience and Nonce are the presentation's aud and nonce claims.
	Audience, Nonce string
	// IssuedAt (zero when absent) and Expires are the iat and exp claims.
	IssuedAt, Expires time.Time
}

// CredentialError reports which credential of a presentation failed. Err is
// the reason ([ErrHolderBinding], or whatever [Verify] returned); errors.Is
// sees through it.
type CredentialError struct {
	Index int
	Err   error
}

func (e *CredentialError) Error() string {
	return fmt.Sprintf("credential %d of the presentation: %v", e.Index, e.Err)
}

// Unwrap returns the reason.
func (e *CredentialError) Unwrap() error { return e.Err }

// ParsePresentation splits and decodes a vp+jwt without checking any
// signature. It returns the presentation and its envelope claims (aud,
// nonce, iat, exp) in Extra. Errors as for [Parse].
func ParsePresentation(token string) (*Presentation, Header, error) {
	pj, err := splitJWS(token, MediaTypeVP, "vp")
	if err != nil {
		return nil, Header{}, err
	}
	p := new(Presentation)
	if err := p.unmarshal(pj.payload); err != nil {
		return nil, Header{}, err
	}
	return p, pj.header, nil
}

// VerifyPresentation checks a vp+jwt and every credential in it. In order:
// the token is well formed with typ vp+jwt; the presentation is valid VC 2.0
// with a holder; the kid is a DID URL of the holder ([ErrHolderBinding]); the
// signature verifies under keys(kid) ([ErrBadSignature]); aud matches
// opts.Audience ([ErrAudienceMismatch]); nonce equals opts.Nonce
// ([ErrNonceMismatch]); exp is present and not passed, iat and nbf are not in
// the future ([ErrExpired], [ErrNotYetValid]). Then each credential is
// checked with [Verify] and must have credentialSubject.id equal to the
// holder, or to opts.Subject when set ([ErrHolderBinding]); a failure there is a [*CredentialError] naming
// the credential. The holder's key is looked up (through keys) before any
// credential's. Missing opts.Audience or opts.Nonce is an error: a
// presentation checked without them could be a replay.
func VerifyPresentation(ctx context.Context, token string, keys KeyFunc, opts PresentationOptions) (*VerifiedPresentation, error) {
	if opts.Audience == "" || opts.Nonce == "" {
		return nil, errors.New("vc: PresentationOptions.Audience and Nonce are required to stop replays")
	}
	pj, err := splitJWS(token, MediaTypeVP, "vp")
	if err != nil {
		return nil, err
	}
	p := new(Presentation)
	if err := p.unmarshal(pj.payload); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Holder == "" {
		return nil, fmt.Errorf("%w: presentation has no holder", ErrMalformed)
	}
	did, err := kidDID(pj.header.Kid)
	if err != nil {
		return nil, err
	}
	if did != p.Holder {
		return nil, fmt.Errorf("%w: presentation signed with a key of %s, but the holder is %s", ErrHolderBinding, did, p.Holder)
	}
	if err := checkSignature(context.WithValue(ctx, purposeKey{}, PurposeAuthentication), &pj, keys); err != nil {
		return nil, err
	}
	vp := &VerifiedPresentation{Presentation: p, Kid: pj.header.Kid}
	if err := vp.takeClaims(opts); err != nil {
		return nil, err
	}
	vopts := VerifyOptions{Now: opts.Now, ClockSkew: opts.ClockSkew}
	vp.Credentials = make([]*Credential, len(p.Credentials))
	for i, tok := range p.Credentials {
		c, err := Verify(ctx, tok, keys, vopts)
		if err != nil {
			return nil, &CredentialError{Index: i, Err: err}
		}
		if want := opts.Subject; want != "" {
			if sub := c.SubjectID(); sub != want {
				return nil, &CredentialError{Index: i, Err: fmt.Errorf("%w: credentialSubject.id is %q, but %s presents for %s", ErrHolderBinding, sub, p.Holder, want)}
			}
		} else if sub := c.SubjectID(); sub != p.Holder {
			return nil, &CredentialError{Index: i, Err: fmt.Errorf("%w: credentialSubject.id is %q, but the holder is %s", ErrHolderBinding, sub, p.Holder)}
		}
		vp.Credentials[i] = c
	}
	return vp, nil
}

// takeClaims checks the envelope claims and moves them out of Extra.
func (vp *VerifiedPresentation) takeClaims(opts PresentationOptions) error {
	claims := vp.Presentation.Extra
	switch aud := claims["aud"].(type) {
	case string:
		vp.Audience = aud
		if aud != opts.Audience {
			return fmt.Errorf("%w: presentation is for %q, this verifier is %q", ErrAudienceMismatch, aud, opts.Audience)
		}
	case []any:
		found := false
		for _, a := range aud {
			if s, ok := a.(string); ok && s == opts.Audience {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%w: presentation audiences %v do not include %q", ErrAudienceMismatch, aud, opts.Audience)
		}
		vp.Audience = opts.Audience
	case nil:
		return fmt.Errorf("%w: presentation has no aud claim", ErrAudienceMismatch)
	default:
		return fmt.Errorf("%w: aud claim must be a string or an array of strings", ErrMalformed)
	}
	nonce, _ := claims["nonce"].(string)
	if nonce != opts.Nonce {
		return fmt.Errorf("%w: presentation nonce does not match this request's", ErrNonceMismatch)
	}
	vp.Nonce = nonce
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if err := checkJWTTimes(claims, now, opts.ClockSkew, true); err != nil {
		return err
	}
	vp.Expires, _, _ = numericDate(claims, "exp")
	vp.IssuedAt, _, _ = numericDate(claims, "iat")
	for _, c := range envelopeClaims {
		delete(claims, c)
	}
	if len(claims) == 0 {
		vp.Presentation.Extra = nil
	}
	return nil
}
