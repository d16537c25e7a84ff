package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/tokenstatus"
	"github.com/medid/medid/credentials/vc"
)

// Accreditations says whether an issuer was accredited for a credential type
// at a time (the registry client implements it from the ledger).
// Implementations must be safe for concurrent use; an error means the answer
// is unknown (the source could not be asked), which the verifier reports as
// an unavailable check (issuer_unavailable), never as valid; (false, nil) is
// the answer "not accredited".
type Accreditations interface {
	Accredited(ctx context.Context, issuerDID, credentialType string, at time.Time) (bool, error)
}

// DefaultStatusCacheTTL is how long a status list is kept when neither its
// ttl nor Config.StatusCacheTTL says.
const DefaultStatusCacheTTL = 5 * time.Minute

// Default bounds of the status list cache when Config does not say.
const (
	DefaultMaxStatusLists = 1024
	// DefaultMaxStatusListBytes bounds the decoded lists kept: 16 lists of
	// the largest size statuslist accepts, or 16,384 of the minimum size.
	// Without a byte bound, credentials pointing at many large lists could
	// make the verifier hold 1024 x 16 MiB.
	DefaultMaxStatusListBytes = 256 << 20
)

// Config configures a [Verifier]. Resolver is required; the rest is optional.
type Config struct {
	// Resolver resolves the DIDs of issuers and holders. Unless NoDIDCache
	// is set, it is wrapped in a did.Cache (with Now as its clock) so that
	// each DID is resolved once per cache TTL; a *did.Cache is used as is.
	Resolver did.Resolver
	// NoDIDCache uses Resolver directly, for resolvers that cache already.
	NoDIDCache bool
	// Status fetches status list credentials. Nil means no status list can
	// be fetched: a credential with a credentialStatus fails with
	// status_unavailable.
	Status StatusFetcher
	// Trust is the source of issuer accreditations; nil skips the
	// accreditation check (the Result says it was skipped).
	Trust Accreditations
	// Now is the clock for validity checks and cache expiry; default time.Now.
	Now func() time.Time
	// ClockSkew is how much validity windows are widened on both ends.
	ClockSkew time.Duration
	// StatusCacheTTL is how long a status list without a ttl is cached;
	// default DefaultStatusCacheTTL.
	StatusCacheTTL time.Duration
	// MaxStatusLists bounds the number of cached status lists; default
	// DefaultMaxStatusLists. When full, the entry expiring soonest goes.
	MaxStatusLists int
	// MaxStatusListBytes bounds the total size of the cached decoded lists;
	// default DefaultMaxStatusListBytes. A list larger than this is used
	// but not cached.
	MaxStatusListBytes int
	// Logger receives debug records about cache misses and offline use; default slog.Default().
	Logger *slog.Logger
}

// Verifier verifies credentials and presentations. It is safe for
// concurrent use; its caches are shared by all calls.
type Verifier struct {
	resolver  did.Resolver
	fetcher   StatusFetcher
	trust     Accreditations
	now       func() time.Time
	skew      time.Duration
	statusTTL time.Duration
	log       *slog.Logger
	lists     statusCache
}

// New returns a Verifier for cfg. It fails when cfg.Resolver is nil or a
// duration is negative.
func New(cfg Config) (*Verifier, error) {
	if cfg.Resolver == nil {
		return nil, errors.New("verify: Config.Resolver is required (use did.KeyResolver{} for did:key only, or a did.Router)")
	}
	if cfg.ClockSkew < 0 || cfg.StatusCacheTTL < 0 {
		return nil, errors.New("verify: Config.ClockSkew and StatusCacheTTL must not be negative")
	}
	v := &Verifier{
		resolver:  cfg.Resolver,
		fetcher:   cfg.Status,
		trust:     cfg.Trust,
		now:       cfg.Now,
		skew:      cfg.ClockSkew,
		statusTTL: cfg.StatusCacheTTL,
		log:       cfg.Logger,
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.statusTTL == 0 {
		v.statusTTL = DefaultStatusCacheTTL
	}
	if v.log == nil {
		v.log = slog.Default()
	}
	if _, cached := cfg.Resolver.(*did.Cache); !cached && !cfg.NoDIDCache {
		v.resolver = did.NewCache(cfg.Resolver, did.CacheConfig{Now: v.now})
	}
	v.lists.init(cfg.MaxStatusLists, cfg.MaxStatusListBytes)
	return v, nil
}

// keyError marks an error of the KeyFunc (the DID did not resolve, or has no
// such key for the relationship), so that it maps to unknown_issuer (or
// holder_mismatch) rather than to whatever vc wraps it in.
type keyError struct {
	kid string
	err error
}

func (e *keyError) Error() string { return e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// keyLookup is one verification's KeyFunc: it resolves the kid's DID and
// takes the key authorised for rel. It records the kids it served so the
// Result can name them. The first lookup of a presentation is the holder's
// (vc.VerifyPresentation checks the holder's signature before any
// credential), so firstRel applies to it and rel to the rest.
type keyLookup struct {
	v        *Verifier
	firstRel did.Relationship
	rel      did.Relationship
	kids     []string
	algs     []key.Alg // algs[i] is the type of the key for kids[i], "" if none
}

// kid returns the i-th kid served and its key type, or "" when there was none.
func (k *keyLookup) kid(i int) (string, key.Alg) {
	if i < len(k.kids) {
		return k.kids[i], k.algs[i]
	}
	return "", ""
}

// sigDetail says what a passing signature check checked, without allocating.
func sigDetail(alg key.Alg) string {
	switch alg {
	case key.Ed25519:
		return "EdDSA (Ed25519) signature verifies"
	case key.P256:
		return "ES256 (P-256) signature verifies"
	}
	return ""
}

func (k *keyLookup) keys(ctx context.Context, kid string) (key.PublicKey, error) {
	rel := k.rel
	if len(k.kids) == 0 && k.firstRel != "" {
		rel = k.firstRel
	}
	k.kids = append(k.kids, kid)
	pub, err := k.v.key(ctx, kid, rel)
	k.algs = append(k.algs, pub.Alg())
	if err != nil {
		return key.PublicKey{}, &keyError{kid: kid, err: err}
	}
	return pub, nil
}

// key returns the public key kid names, if the kid's DID authorises it for rel.
func (v *Verifier) key(ctx context.Context, kid string, rel did.Relationship) (key.PublicKey, error) {
	subject, _, _ := strings.Cut(kid, "#")
	if i := strings.IndexAny(subject, "/?;"); i >= 0 {
		subject = subject[:i]
	}
	res, err := v.resolver.Resolve(ctx, subject)
	if err != nil {
		return key.PublicKey{}, err
	}
	if res.Metadata.Deactivated {
		return key.PublicKey{}, fmt.Errorf("%w: %s", did.ErrDeactivated, subject)
	}
	if res.Document == nil {
		return key.PublicKey{}, fmt.Errorf("%w: resolver returned no document for %s", did.ErrNotFound, subject)
	}
	return res.Document.Key(kid, rel)
}

// Credential verifies a vc+jwt: format, issuer, signature, validity, every
// status entry and, with a trust source, accreditation. It never returns nil.
func (v *Verifier) Credential(ctx context.Context, token string) *Result {
	now := v.now()
	r := newResult(KindCredential, now)
	if isSDJWT(token) {
		return v.credentialSDJWT(ctx, r, token, "", "")
	}
	r.Format = FormatVCJWT
	kl := &keyLookup{v: v, rel: did.AssertionMethod}
	c, err := vc.Verify(ctx, token, kl.keys, vc.VerifyOptions{Now: now, ClockSkew: v.skew})
	if err != nil {
		// Describe what can be seen without trusting it, then say what failed.
		if t, perr := vc.Parse(token); perr == nil {
			r.describe(t.Credential)
		}
		v.verifyFailed(r, err, kl, false)
		return r.finish()
	}
	r.describe(c)
	r.Credential = c
	kid, alg := kl.kid(0)
	v.credentialPassed(r, c, kid, alg)
	v.checkRest(ctx, r, c, now)
	return r.finish()
}

// isCredentialError reports whether err is a *vc.CredentialError (a
// function of its own: errors.As's target escapes to the heap, which the
// caller's success path should not pay for).
func isCredentialError(err error) bool {
	var ce *vc.CredentialError
	return errors.As(err, &ce)
}

// describe copies what a Result says about c; it does not set r.Credential.
func (r *Result) describe(c *vc.Credential) {
	r.ID, r.Types, r.Issuer, r.Subject = c.ID, c.Type, c.Issuer, c.SubjectID()
	r.ValidFrom, r.ValidUntil = c.ValidFrom, c.ValidUntil
}

// credentialPassed records the checks vc.Verify made successfully.
func (v *Verifier) credentialPassed(r *Result, c *vc.Credential, kid string, alg key.Alg) {
	r.pass(CheckFormat, "")
	if kid != "" {
		r.pass(CheckIssuer, "key "+kid+" is an assertionMethod of "+c.Issuer)
	} else {
		r.pass(CheckIssuer, c.Issuer)
	}
	r.pass(CheckSignature, sigDetail(alg))
	r.pass(CheckValidity, "")
}

// checkRest runs the checks vc does not: status and accreditation.
func (v *Verifier) checkRest(ctx context.Context, r *Result, c *vc.Credential, now time.Time) {
	for i := range c.Status {
		v.checkStatus(ctx, r, c, &c.Status[i])
	}
	at := now
	if c.ValidFrom != nil {
		at = *c.ValidFrom
	}
	v.checkAccreditation(ctx, r, c.Issuer, c.Type, at)
}

// verifyFailed records which check a vc.Verify or vc.VerifyPresentation
// error belongs to. vc checks in a fixed order (format, kid against issuer
// or holder, key, signature, then the rest), so the checks before the
// failing one passed.
func (v *Verifier) verifyFailed(r *Result, err error, kl *keyLookup, presentation bool) {
	msg := err.Error()
	var ke *keyError
	switch {
	case errors.As(err, &ke):
		r.pass(CheckFormat, "")
		switch {
		case !answered(ke.err) && presentation:
			r.unavailable(CheckHolder, ReasonHolderUnavailable, "the holder's DID could not be resolved (key "+ke.kid+"): "+ke.err.Error(), nil)
		case !answered(ke.err):
			r.unavailable(CheckIssuer, ReasonIssuerUnavailable, "the issuer's DID could not be resolved (key "+ke.kid+"): "+ke.err.Error(), nil)
		case presentation:
			r.fail(CheckHolder, ReasonHolderMismatch, "holder key "+ke.kid+": "+ke.err.Error())
		default:
			r.fail(CheckIssuer, ReasonUnknownIssuer, "issuer key "+ke.kid+": "+ke.err.Error())
		}
	case errors.Is(err, vc.ErrUnsupportedAlg):
		r.fail(CheckSignature, ReasonBadSignature, msg)
	case errors.Is(err, vc.ErrMalformed):
		r.fail(CheckFormat, ReasonMalformed, msg)
	case errors.Is(err, vc.ErrIssuerMismatch):
		r.pass(CheckFormat, "")
		r.fail(CheckSignature, ReasonBadSignature, msg)
	case errors.Is(err, vc.ErrHolderBinding):
		r.pass(CheckFormat, "")
		r.fail(CheckHolder, ReasonHolderMismatch, msg)
	case errors.Is(err, vc.ErrBadSignature):
		r.pass(CheckFormat, "")
		v.passKey(r, kl, presentation)
		r.fail(CheckSignature, ReasonBadSignature, msg)
	default:
		r.pass(CheckFormat, "")
		v.passKey(r, kl, presentation)
		_, alg := kl.kid(0)
		r.pass(CheckSignature, sigDetail(alg))
		switch {
		case errors.Is(err, vc.ErrAudienceMismatch):
			r.fail(CheckAudience, ReasonAudienceMismatch, msg)
		case errors.Is(err, vc.ErrNonceMismatch):
			r.pass(CheckAudience, "")
			r.fail(CheckNonce, ReasonNonceMismatch, msg)
		case errors.Is(err, vc.ErrExpired):
			v.passEnvelope(r, presentation)
			r.fail(CheckValidity, ReasonExpired, msg)
		case errors.Is(err, vc.ErrNotYetValid):
			v.passEnvelope(r, presentation)
			r.fail(CheckValidity, ReasonNotYetValid, msg)
		default:
			r.fail(CheckFormat, ReasonMalformed, msg)
		}
	}
}

// answered reports whether a key lookup error is an answer about the DID
// (it is not registered, deactivated, malformed, of an unsupported method,
// or has no such key): the issuer is then unknown. Any other error (the
// resolver could not be reached, timed out, answered garbage) means the
// question could not be asked, and says nothing about the issuer.
func answered(err error) bool {
	for _, e := range []error{did.ErrNotFound, did.ErrDeactivated, did.ErrInvalidDID, did.ErrMethodNotSupported,
		did.ErrKeyNotFound, did.ErrInvalidDocument, did.ErrUnsupportedPublicKeyType} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (v *Verifier) passKey(r *Result, kl *keyLookup, presentation bool) {
	name, rel := CheckIssuer, "assertionMethod"
	if presentation {
		name, rel = CheckHolder, "authentication"
	}
	if kid, _ := kl.kid(0); kid != "" {
		r.pass(name, "key "+kid+" is an "+rel+" key")
	} else {
		r.pass(name, "")
	}
}

func (v *Verifier) passEnvelope(r *Result, presentation bool) {
	if presentation {
		r.pass(CheckAudience, "")
		r.pass(CheckNonce, "")
	}
}

// checkAccreditation asks the trust source about every type but
// VerifiableCredential, at validFrom (issuance) or now. validFrom is the
// issuer's own claim: an issuer whose accreditation ended can still backdate
// a credential into its accredited period. Catching that needs the
// issuance anchored on the ledger, which this check cannot see.
func (v *Verifier) checkAccreditation(ctx context.Context, r *Result, issuer string, types []string, at time.Time) {
	if v.trust == nil {
		r.add(Check{Name: CheckAccreditation, OK: true, Skipped: true, Detail: "no trust source configured"})
		return
	}
	n := 0
	for i, t := range types {
		if t == vc.TypeCredential || slices.Contains(types[:i], t) {
			continue
		}
		n++
		ok, err := v.trust.Accredited(ctx, issuer, t, at)
		switch {
		case err != nil:
			// Not an answer: the source could not say either way.
			r.unavailable(CheckAccreditation, ReasonIssuerUnavailable, fmt.Sprintf("the accreditation of %s for %s could not be looked up: %v", issuer, t, err), nil)
		case !ok:
			r.fail(CheckAccreditation, ReasonIssuerNotAccredited, fmt.Sprintf("%s was not accredited for %s at %s", issuer, t, at.UTC().Format(time.RFC3339)))
		default:
			r.pass(CheckAccreditation, fmt.Sprintf("%s is accredited for %s", issuer, t))
		}
	}
	if n == 0 {
		r.add(Check{Name: CheckAccreditation, OK: true, Skipped: true, Detail: "no credential type beyond VerifiableCredential"})
	}
}

// Presentation verifies a vp+jwt for this verifier (audience) and request
// (nonce): the holder's signature with an authentication key, aud, nonce,
// iat/exp, then every credential in it as [Verifier.Credential] does plus
// holder binding. It never returns nil. The Result holds one sub-result per
// credential unless the presentation itself failed. The caller issues the
// nonce and MUST accept each one once: the Verifier keeps no replay state.
func (v *Verifier) Presentation(ctx context.Context, token, audience, nonce string) *Result {
	return v.PresentationFor(ctx, token, audience, nonce, "")
}

// PresentationFor is [Verifier.Presentation] of a vp+jwt made by a
// representative for subject, the person every credential in it must be
// about (credentialSubject.id), instead of the holder; "" is Presentation.
// The caller MUST already have verified that the holder may present for
// subject (a delegation with the present action, see
// credentials/delegation): this only moves the holder-binding check. An
// SD-JWT VC cannot be presented for someone else (its key binding is the
// subject's own): it fails holder binding.
func (v *Verifier) PresentationFor(ctx context.Context, token, audience, nonce, subject string) *Result {
	now := v.now()
	r := newResult(KindPresentation, now)
	if audience == "" || nonce == "" {
		// Without them any presentation ever made to anyone would pass.
		r.fail(CheckAudience, ReasonAudienceMismatch, "the verifier gave no audience or nonce to check the presentation against")
		return r.finish()
	}
	if isSDJWT(token) {
		if subject != "" {
			r.Format = FormatSDJWT
			r.fail(CheckHolder, ReasonHolderMismatch, "an SD-JWT VC is bound to its subject's key and cannot be presented by a representative: present the vc+jwt credential")
			return r.finish()
		}
		return v.presentationSDJWT(ctx, r, token, audience, nonce)
	}
	r.Format = FormatVPJWT
	kl := &keyLookup{v: v, firstRel: did.Authentication, rel: did.AssertionMethod}
	vp, err := vc.VerifyPresentation(ctx, token, kl.keys, vc.PresentationOptions{Audience: audience, Nonce: nonce, Now: now, ClockSkew: v.skew, Subject: subject})
	if err != nil && !isCredentialError(err) {
		if p, _, perr := vc.ParsePresentation(token); perr == nil {
			r.Holder = p.Holder
		}
		v.verifyFailed(r, err, kl, true)
		return r.finish()
	}
	if err == nil {
		r.Holder, r.Presentation = vp.Presentation.Holder, vp.Presentation
		r.pass(CheckFormat, "")
		r.pass(CheckHolder, "key "+vp.Kid+" is an authentication key of "+vp.Presentation.Holder)
		_, alg := kl.kid(0)
		r.pass(CheckSignature, sigDetail(alg))
		r.pass(CheckAudience, "")
		r.pass(CheckNonce, "")
		r.pass(CheckValidity, "")
		r.Credentials = make([]*Result, len(vp.Credentials))
		for i, c := range vp.Credentials {
			cr := newResult(KindCredential, now)
			cr.describe(c)
			cr.Credential = c
			kid, alg := kl.kid(i + 1)
			v.credentialPassed(cr, c, kid, alg)
			cr.pass(CheckHolder, subjectDetail(vp.Presentation.Holder, subject))
			v.checkRest(ctx, cr, c, now)
			r.Credentials[i] = cr.finish()
		}
		return r.finish()
	}
	// A credential failed inside vc.VerifyPresentation, so the presentation
	// envelope passed. Verify each credential on its own to say which
	// failed and why; this costs a second signature check of the ones
	// before it, on the failure path only.
	p, _, err := vc.ParsePresentation(token)
	if err != nil { // cannot happen: VerifyPresentation parsed it
		r.fail(CheckFormat, ReasonMalformed, err.Error())
		return r.finish()
	}
	r.Holder, r.Presentation = p.Holder, p
	r.pass(CheckFormat, "")
	kid, alg := kl.kid(0)
	r.pass(CheckHolder, "key "+kid+" is an authentication key of "+p.Holder)
	r.pass(CheckSignature, sigDetail(alg))
	r.pass(CheckAudience, "")
	r.pass(CheckNonce, "")
	r.pass(CheckValidity, "")
	r.Credentials = make([]*Result, len(p.Credentials))
	for i, tok := range p.Credentials {
		cr := v.Credential(ctx, tok)
		switch {
		case subject != "" && cr.Subject != subject:
			cr.fail(CheckHolder, ReasonHolderMismatch, fmt.Sprintf("credentialSubject.id is %q, but %s presents for %s", cr.Subject, p.Holder, subject))
		case subject == "" && cr.Subject != p.Holder:
			cr.fail(CheckHolder, ReasonHolderMismatch, fmt.Sprintf("credentialSubject.id is %q, but the holder is %s", cr.Subject, p.Holder))
		default:
			cr.pass(CheckHolder, subjectDetail(p.Holder, subject))
		}
		r.Credentials[i] = cr.finish()
	}
	return r.finish()
}

// subjectDetail says how a credential's subject is bound to the
// presentation's holder.
func subjectDetail(holder, subject string) string {
	if subject != "" {
		return "subject is " + subject + ", for whom the holder " + holder + " presents"
	}
	return "subject is the holder " + holder
}

// statusCache holds decoded status lists by URL.
type statusCache struct {
	max      int // entries
	maxBytes int // total size of the decoded lists

	mu       sync.Mutex              // guards entries, bytes and inflight
	bytes    int                     // total size of the lists in entries
	entries  map[string]*statusEntry // status list URL -> last good list
	inflight map[string]*fetchCall   // URLs being fetched now
}

// statusEntry is one verified status list: a Bitstring Status List (list)
// or a Token Status List (tsl), whichever the URL served.
type statusEntry struct {
	list    *statuslist.Decoded
	tsl     *tokenstatus.Token
	fetched time.Time
	expires time.Time
}

// size is the decoded list's size in bytes, what the cache bounds.
func (e *statusEntry) size() int {
	if e.tsl != nil {
		return (e.tsl.List.Len()*e.tsl.List.Bits() + 7) / 8
	}
	return e.list.List.Len() / 8
}

// fetchCall is one fetch in flight; done is closed when entry and err are set.
type fetchCall struct {
	done  chan struct{}
	entry *statusEntry
	err   error
}

func (c *statusCache) init(max, maxBytes int) {
	if max <= 0 {
		max = DefaultMaxStatusLists
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxStatusListBytes
	}
	c.max, c.maxBytes = max, maxBytes
	c.entries = make(map[string]*statusEntry)
	c.inflight = make(map[string]*fetchCall)
}
