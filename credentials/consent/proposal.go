package consent

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

// A Proposal is a provider's request for consent: the grant a provider
// asks a patient for (which data classes, for what purpose, for how long,
// whether emergency access is included), signed by the provider's DID so
// that the patient's wallet can say who asks (from the registry's
// directory, never a name in the request) without the patient typing a
// DID. The patient approves it as it is, edits it (fewer classes, a
// shorter time) or declines; approving makes an ordinary [Grant].
//
// A Proposal is secured as a vc+jwt of type ConsentProposal issued by the
// provider, with credentialSubject {purpose, class, durationDays,
// breakGlass, note}, and a short validUntil (the request, not the consent,
// expires). It travels as a link (or a QR code of it): [ProposalURI].
type Proposal struct {
	// Provider is the DID asking (the issuer); consent would be granted
	// to it.
	Provider string
	// Purposes (HL7 v3 PurposeOfUse codes) and Classes (FHIR resource
	// types) asked for: non-empty, known codes, no duplicates.
	Purposes []string
	Classes  []string
	// Duration is how long the consent would last, in whole days, 1 to
	// MaxProposalDays.
	Duration time.Duration
	// BreakGlass asks for emergency access without asking the patient.
	BreakGlass bool
	// Note is the provider's own explanation, shown to the patient as
	// theirs ("for your knee operation on 3 May"); at most
	// MaxProposalNote characters, no control characters.
	Note string
	// Licence is the provider's practitioner licence (a vc+jwt whose
	// subject is Provider), when they show it: the request, signed by
	// Provider, is then the presentation of it (holder binding). The
	// wallet checks the licence itself (registry/directory ShownLicence:
	// the body, its accreditation, revocation, validity) before showing
	// the name, employer and body it states. "" when none is shown.
	Licence string
	// Issued and Expires bound when the request may be answered.
	Issued, Expires time.Time
	// Token is the signed request it was read from ("" when made here).
	Token string
}

// TypeConsentProposal is the credential type of a consent request.
const TypeConsentProposal = "ConsentProposal"

// Limits of a proposal.
const (
	MaxProposalDays = 5 * 366
	MaxProposalNote = 280
	// MaxProposalLicence bounds the licence a request carries.
	MaxProposalLicence = 6 << 10
	// ProposalLifetime is how long a request made by [IssueProposal] can
	// be answered.
	ProposalLifetime = 7 * 24 * time.Hour
)

// ProposalScheme is the scheme of consent request links:
// medid-consent://?request=<vc+jwt>.
const ProposalScheme = "medid-consent"

// ErrInvalidProposal reports a consent request that is not well formed
// (unknown codes, a bad duration, a note too long, not a
// ConsentProposal, not a request link).
var ErrInvalidProposal = errors.New("invalid consent request")

// ErrProposalExpired: the request can no longer be answered (past its
// validUntil): ask the provider for a new one.
var ErrProposalExpired = errors.New("consent request expired")

// Validate checks p's fields. Errors wrap [ErrInvalidProposal].
func (p *Proposal) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidProposal, fmt.Sprintf(format, args...))
	}
	if err := did.Check(p.Provider); err != nil {
		return bad("the provider is not a DID: %v", err)
	}
	if err := checkCodes("purpose", p.Purposes, purposes, "a PurposeOfUse code such as TREAT"); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidProposal, err)
	}
	if err := checkCodes("class", p.Classes, resourceTypes, "a FHIR resource type such as AllergyIntolerance"); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidProposal, err)
	}
	days := p.Duration / (24 * time.Hour)
	if p.Duration%(24*time.Hour) != 0 || days < 1 || days > MaxProposalDays {
		return bad("the duration must be whole days, 1 to %d", MaxProposalDays)
	}
	if utf8.RuneCountInString(p.Note) > MaxProposalNote || !utf8.ValidString(p.Note) {
		return bad("the note must be valid text of at most %d characters", MaxProposalNote)
	}
	for _, r := range p.Note {
		if r < 0x20 || r == 0x7f {
			return bad("the note must not contain control characters")
		}
	}
	if !p.Expires.IsZero() && !p.Issued.IsZero() && !p.Expires.After(p.Issued) {
		return bad("it expires before it was made")
	}
	if p.Licence != "" {
		if len(p.Licence) > MaxProposalLicence {
			return bad("the licence is %d bytes, at most %d fit in a request", len(p.Licence), MaxProposalLicence)
		}
		t, err := vc.Parse(p.Licence)
		if err != nil {
			return bad("the licence is not a credential (vc+jwt): %v", err)
		}
		if t.Credential.SubjectID() != p.Provider {
			return bad("the licence is %.128s's, not the provider's: show your own licence", t.Credential.SubjectID())
		}
	}
	return nil
}

// IssueProposal signs p as a vc+jwt with the provider's key k (kid a DID
// URL of p.Provider naming k's public key). Issued defaults to now and
// Expires to Issued + ProposalLifetime. Errors wrap [ErrInvalidProposal]
// or are vc's errors for a bad kid.
func IssueProposal(p *Proposal, k *key.PrivateKey, kid string, now time.Time) (string, error) {
	n := *p
	if n.Issued.IsZero() {
		n.Issued = now
	}
	n.Issued = secondsUTC(n.Issued)
	if n.Expires.IsZero() {
		n.Expires = n.Issued.Add(ProposalLifetime)
	}
	n.Expires = secondsUTC(n.Expires)
	if err := n.Validate(); err != nil {
		return "", err
	}
	subj := map[string]any{
		"purpose":      toAny(n.Purposes),
		"class":        toAny(n.Classes),
		"durationDays": int(n.Duration / (24 * time.Hour)),
		"breakGlass":   n.BreakGlass,
	}
	if n.Note != "" {
		subj["note"] = n.Note
	}
	if n.Licence != "" {
		subj["licence"] = n.Licence
	}
	from, until := n.Issued, n.Expires
	return vc.Issue(&vc.Credential{
		Context:    vc.CredentialContext(),
		Type:       []string{vc.TypeCredential, TypeConsentProposal},
		Issuer:     n.Provider,
		ValidFrom:  &from,
		ValidUntil: &until,
		Subject:    subj,
	}, k, kid)
}

// VerifyProposal checks a consent request's signature (keys resolves the
// provider's DID, see [ResolverKeys]) and its period at now, and returns
// it. Errors: vc's (vc.ErrMalformed, vc.ErrBadSignature, …), [ErrInvalidProposal], and
// [ErrProposalExpired] for a request past its validUntil.
func VerifyProposal(ctx context.Context, token string, keys vc.KeyFunc, now time.Time) (*Proposal, error) {
	t, err := vc.Parse(token)
	if err != nil {
		return nil, err
	}
	p, err := proposalFrom(t.Credential)
	if err != nil {
		return nil, err
	}
	if !p.Expires.IsZero() && !now.Before(p.Expires) {
		return nil, fmt.Errorf("%w: it could be answered until %s", ErrProposalExpired, p.Expires.Format(time.RFC3339))
	}
	if _, err := vc.Verify(ctx, token, keys, vc.VerifyOptions{Now: now, ClockSkew: 5 * time.Minute}); err != nil {
		return nil, err
	}
	p.Token = token
	return p, nil
}

// ParseProposal decodes a consent request WITHOUT checking its signature
// (to look inside; never to trust). Errors as [VerifyProposal].
func ParseProposal(token string) (*Proposal, error) {
	t, err := vc.Parse(token)
	if err != nil {
		return nil, err
	}
	p, err := proposalFrom(t.Credential)
	if err != nil {
		return nil, err
	}
	p.Token = token
	return p, nil
}

// proposalFrom reads a proposal from a parsed credential, strictly: every
// property is known and well typed.
func proposalFrom(c *vc.Credential) (*Proposal, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidProposal, fmt.Sprintf(format, args...))
	}
	if c == nil || !c.HasType(TypeConsentProposal) {
		return nil, bad("the credential is not of type %s", TypeConsentProposal)
	}
	if len(c.Status) > 0 || len(c.Extra) > 0 || c.SubjectID() != "" {
		return nil, bad("unexpected properties in a consent request")
	}
	p := &Proposal{Provider: c.Issuer}
	days := -1
	for k, v := range c.Subject {
		switch k {
		case "purpose":
			s, err := strings1(v, "purpose")
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrInvalidProposal, err)
			}
			p.Purposes = s
		case "class":
			s, err := strings1(v, "class")
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrInvalidProposal, err)
			}
			p.Classes = s
		case "durationDays":
			n, ok := wholeNumber(v)
			if !ok || n < 1 || n > MaxProposalDays {
				return nil, bad("durationDays must be a whole number of days, 1 to %d", MaxProposalDays)
			}
			days = n
		case "breakGlass":
			b, ok := v.(bool)
			if !ok {
				return nil, bad("breakGlass must be true or false")
			}
			p.BreakGlass = b
		case "note":
			s, ok := v.(string)
			if !ok {
				return nil, bad("note must be text")
			}
			p.Note = s
		case "licence":
			s, ok := v.(string)
			if !ok || s == "" {
				return nil, bad("licence must be a credential (vc+jwt)")
			}
			p.Licence = s
		default:
			return nil, bad("unexpected property %.64q", k)
		}
	}
	if days < 0 {
		return nil, bad("durationDays is missing")
	}
	p.Duration = time.Duration(days) * 24 * time.Hour
	if c.ValidFrom != nil {
		p.Issued = c.ValidFrom.UTC()
	}
	if c.ValidUntil == nil {
		return nil, bad("a consent request must say until when it can be answered (validUntil)")
	}
	p.Expires = c.ValidUntil.UTC()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// wholeNumber reads a JSON number (json.Number or float64) that is a whole
// number in int range.
func wholeNumber(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		if n != float64(int(n)) {
			return 0, false
		}
		return int(n), true
	case interface{ Int64() (int64, error) }:
		i, err := n.Int64()
		if err != nil || i != int64(int(i)) {
			return 0, false
		}
		return int(i), true
	}
	return 0, false
}

// ProposalURI is the link a provider shows (as text or a QR code) for the
// signed request token.
func ProposalURI(token string) string {
	return ProposalScheme + "://?request=" + url.QueryEscape(token)
}

// ParseProposalURI returns the request token of a consent request link
// (case-insensitive scheme). Errors wrap [ErrInvalidProposal].
func ParseProposalURI(uri string) (string, error) {
	uri = strings.TrimSpace(uri)
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok || !strings.EqualFold(scheme, ProposalScheme) {
		return "", fmt.Errorf("%w: not a %s:// link", ErrInvalidProposal, ProposalScheme)
	}
	q, ok := strings.CutPrefix(rest, "?")
	if !ok {
		return "", fmt.Errorf("%w: the link has no request", ErrInvalidProposal)
	}
	v, err := url.ParseQuery(q)
	if err != nil || len(v["request"]) != 1 || len(v) != 1 || v.Get("request") == "" {
		return "", fmt.Errorf("%w: the link must carry exactly one request", ErrInvalidProposal)
	}
	return v.Get("request"), nil
}

// IsProposalURI reports whether s looks like a consent request link.
func IsProposalURI(s string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), ProposalScheme+"://")
}

// Narrow checks what a patient approves against what p asked for: the
// classes a subset of p.Classes, the duration at most p.Duration (whole
// days, at least one), emergency access only if asked. A patient may give
// less than was asked, never more: a request for allergies approved as
// allergies and conditions would be consent the provider never asked to
// hold. Errors wrap [ErrInvalidProposal] and say what exceeds the request.
func (p *Proposal) Narrow(classes []string, d time.Duration, breakGlass bool) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidProposal, fmt.Sprintf(format, args...))
	}
	if len(classes) == 0 {
		return bad("approve at least one kind of record, or decline")
	}
	for _, c := range classes {
		if !slices.Contains(p.Classes, c) {
			return bad("%.64q was not asked for", c)
		}
	}
	if d < 24*time.Hour || d > p.Duration {
		return bad("the consent must last from one day to the %d days asked for", int(p.Duration/(24*time.Hour)))
	}
	if breakGlass && !p.BreakGlass {
		return bad("emergency access was not asked for")
	}
	return nil
}
