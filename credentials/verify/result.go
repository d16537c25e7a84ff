package verify

import (
	"time"

	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/vc"
)

// Reason codes: stable strings a failed [Check] and a [Result] carry.
const (
	ReasonBadSignature        = "bad_signature"
	ReasonUnknownIssuer       = "unknown_issuer"
	ReasonExpired             = "expired"
	ReasonNotYetValid         = "not_yet_valid"
	ReasonRevoked             = "revoked"
	ReasonSuspended           = "suspended"
	ReasonIssuerNotAccredited = "issuer_not_accredited"
	ReasonAudienceMismatch    = "audience_mismatch"
	ReasonNonceMismatch       = "nonce_mismatch"
	ReasonHolderMismatch      = "holder_mismatch"
	ReasonMalformed           = "malformed"
	ReasonStatusUnavailable   = "status_unavailable"
	ReasonIssuerUnavailable   = "issuer_unavailable"
	ReasonHolderUnavailable   = "holder_unavailable"
	// ReasonInvalidDisclosure: see its declaration beside [CheckDisclosures].
)

// Check names, the Name of a [Check].
const (
	CheckFormat        = "format"
	CheckIssuer        = "issuer"
	CheckSignature     = "signature"
	CheckValidity      = "validity"
	CheckHolder        = "holder"
	CheckAudience      = "audience"
	CheckNonce         = "nonce"
	CheckStatus        = "status"
	CheckAccreditation = "accreditation"
)

// Kinds of [Result].
const (
	KindCredential   = "credential"
	KindPresentation = "presentation"
)

// Check is the outcome of one step of verification. A check that failed has
// OK false and a Reason code; a Skipped check was not performed (OK is true
// so that it does not fail the result, and Detail says why it was skipped).
// Checks after a failing signature, format or issuer check are not run and
// do not appear.
//
// A failed check with Unavailable set could not be made at all: a source it
// needs (the registry, a status list's host) did not answer. Its Reason is
// status_unavailable, issuer_unavailable or holder_unavailable and Detail
// carries the cause. It means "could not check", never "checked and failed".
type Check struct {
	Name        string `json:"name"`
	OK          bool   `json:"ok"`
	Skipped     bool   `json:"skipped,omitempty"`
	Unavailable bool   `json:"unavailable,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Detail      string `json:"detail,omitempty"`
	// LastGood, on an unavailable status check, is when the last copy of
	// the status list this verifier holds was fetched, if that copy said
	// the entry was not set: the status was last known good then.
	LastGood *time.Time `json:"lastGood,omitempty"`
}

// Result is the outcome of verifying a credential or a presentation. It is
// JSON-serialisable and never nil when returned by a [Verifier]. Detail
// strings name identifiers (DIDs, key ids, status list URLs) but never claim
// values of the credential.
type Result struct {
	// Valid is true when every check passed (and, for a presentation, every
	// credential in it is valid).
	Valid bool `json:"valid"`
	// Reason is the reason code of the first check that was made and failed
	// (the result's own, then its credentials'), or, when every failed check
	// was unavailable, of the first unavailable one; "" when Valid.
	Reason string `json:"reason,omitempty"`
	// Unavailable is true when the result is not valid only because checks
	// could not be made: every failed check, the result's and its
	// credentials', is unavailable (see [Check]). Nothing was found wrong;
	// verify again when the sources answer. False when something was
	// checked and failed, even if other checks were unavailable too.
	Unavailable bool `json:"unavailable,omitempty"`
	// Cause is, when Unavailable, the Detail of the first unavailable check:
	// why it could not be made (e.g. the registry did not answer).
	Cause string `json:"cause,omitempty"`
	// LastGood is, when Unavailable, the earliest LastGood of the failed
	// checks if every one of them has one: the evidence this verifier holds
	// last said valid then. Nil when some check has no such evidence.
	LastGood *time.Time `json:"lastGood,omitempty"`
	// Kind is KindCredential or KindPresentation.
	Kind string `json:"kind"`
	// ID, Types, Issuer and Subject describe a credential once it parsed
	// (set even when a later check fails, so a failure can be reported).
	ID      string   `json:"id,omitempty"`
	Types   []string `json:"type,omitempty"`
	Issuer  string   `json:"issuer,omitempty"`
	Subject string   `json:"subject,omitempty"`
	// Holder is a presentation's holder DID (for an SD-JWT+KB, the
	// did:key of the cnf.jwk key that signed the KB-JWT).
	Holder string `json:"holder,omitempty"`
	// Format is the verified token's format: FormatVCJWT, FormatVPJWT or
	// FormatSDJWT.
	Format string `json:"format,omitempty"`
	// VCT is an SD-JWT VC's type (Types then holds the medid credential
	// type it names).
	VCT string `json:"vct,omitempty"`
	// Disclosed lists the claim paths an SD-JWT VC disclosed (claim
	// names, never values), and Withheld how many digests stayed hidden
	// per object or array (withheld claims and decoys alike), so that a
	// verifier can show what it was and was not shown.
	Disclosed []string       `json:"disclosed,omitempty"`
	Withheld  []sdjwt.Hidden `json:"withheld,omitempty"`
	// SDJWT is the verified SD-JWT VC with its disclosed claims, set only
	// when it verified; not in the JSON form (health data).
	SDJWT *sdjwt.VerifiedVC `json:"-"`
	// ValidFrom and ValidUntil are the credential's validity period, when set.
	ValidFrom  *time.Time `json:"validFrom,omitempty"`
	ValidUntil *time.Time `json:"validUntil,omitempty"`
	// Credential is the credential, set only when its signature verified
	// (whatever later checks found). It is left out of the JSON form, which
	// must not carry health data into logs or outputs.
	Credential *vc.Credential `json:"-"`
	// Presentation is the presentation, set only when the holder's
	// signature verified; not in the JSON form either.
	Presentation *vc.Presentation `json:"-"`
	// Checks lists what was checked, in order.
	Checks []Check `json:"checks"`
	// Credentials holds one sub-result per credential of a presentation, in
	// order; empty when the presentation itself failed before its
	// credentials were looked at.
	Credentials []*Result `json:"credentials,omitempty"`
	// VerifiedAt is the time the checks were made at.
	VerifiedAt time.Time `json:"verifiedAt"`

	sdReason string // the sdjwt reason code of a refused SD-JWT
}

// newResult returns an empty Result with room for the usual checks (format,
// issuer, signature, validity, holder, two status entries, accreditation),
// so that appending them does not reallocate.
func newResult(kind string, now time.Time) *Result {
	return &Result{Kind: kind, VerifiedAt: now, Checks: make([]Check, 0, 8)}
}

func (r *Result) add(c Check) { r.Checks = append(r.Checks, c) }

func (r *Result) pass(name, detail string) { r.add(Check{Name: name, OK: true, Detail: detail}) }

func (r *Result) fail(name, reason, detail string) {
	r.add(Check{Name: name, Reason: reason, Detail: detail})
}

// unavailable marks the check just added as could-not-check.
func (r *Result) unavailable(name, reason, detail string, lastGood *time.Time) {
	r.add(Check{Name: name, Reason: reason, Detail: detail, Unavailable: true, LastGood: lastGood})
}

// finish sets Valid, Reason, Unavailable, Cause and LastGood from the
// checks and sub-results. It may be called again after a check is added.
func (r *Result) finish() *Result {
	if len(r.Checks) == 0 { // cannot happen; never report an unchecked token as valid
		r.fail(CheckFormat, ReasonMalformed, "nothing was checked")
	}
	r.Reason, r.Unavailable, r.Cause, r.LastGood = "", false, "", nil
	f := r.Failed()
	r.Valid = f == nil
	if f == nil {
		return r
	}
	r.Reason = f.Reason
	if !f.Unavailable {
		return r // checked and failed
	}
	r.Unavailable, r.Cause = true, f.Detail
	every := true
	r.eachFailed(func(c *Check) {
		switch {
		case c.LastGood == nil:
			every = false
		case r.LastGood == nil || c.LastGood.Before(*r.LastGood):
			t := *c.LastGood
			r.LastGood = &t
		}
	})
	if !every {
		r.LastGood = nil
	}
	return r
}

// eachFailed calls fn with every failed check of r and of its credentials.
func (r *Result) eachFailed(fn func(*Check)) {
	for i := range r.Checks {
		if !r.Checks[i].OK {
			fn(&r.Checks[i])
		}
	}
	for _, c := range r.Credentials {
		c.eachFailed(fn)
	}
}

// Failed returns the check that decides why r is not valid, or nil when r
// is valid: the first check that was made and failed (r's own checks
// first, then each credential's), else the first unavailable one.
func (r *Result) Failed() *Check {
	var first, firstDefinite *Check
	r.eachFailed(func(c *Check) {
		if first == nil {
			first = c
		}
		if firstDefinite == nil && !c.Unavailable {
			firstDefinite = c
		}
	})
	if firstDefinite != nil {
		return firstDefinite
	}
	return first
}
