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
type Check struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Result is the outcome of verifying a credential or a presentation. It is
// JSON-serialisable and never nil when returned by a [Verifier]. Detail
// strings name identifiers (DIDs, key ids, status list URLs) but never claim
// values of the credential.
type Result struct {
	// Valid is true when every check passed (and, for a presentation, every
	// credential in it is valid).
	Valid bool `json:"valid"`
	// Reason is the reason code of the first failing check, or of the first
	// invalid credential of a presentation; "" when Valid.
	Reason string `json:"reason,omitempty"`
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

func (r *Result) add(c Check) {
	r.Checks = append(r.Checks, c)
	if !c.OK && r.Reason == "" {
		r.Reason = c.Reason
	}
}

func (r *Result) pass(name, detail string) { r.add(Check{Name: name, OK: true, Detail: detail}) }

func (r *Result) fail(name, reason, detail string) {
	r.add(Check{Name: name, Reason: reason, Detail: detail})
}

// finish sets Valid from the checks and sub-results.
func (r *Result) finish() *Result {
	r.Valid = r.Reason == ""
	for _, c := range r.Credentials {
		if !c.Valid {
			r.Valid = false
			if r.Reason == "" {
				r.Reason = c.Reason
			}
		}
	}
	if len(r.Checks) == 0 { // cannot happen; never report an unchecked token as valid
		r.fail(CheckFormat, ReasonMalformed, "nothing was checked")
		r.Valid = false
	}
	return r
}

// Failed returns the first failing check, or nil when r is valid.
func (r *Result) Failed() *Check {
	for i := range r.Checks {
		if !r.Checks[i].OK {
			return &r.Checks[i]
		}
	}
	for _, c := range r.Credentials {
		if f := c.Failed(); f != nil {
			return f
		}
	}
	return nil
}
