package consent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/validity"
	"github.com/medid/medid/credentials/vc"
)

// TypeConsentGrant is the credential type of a consent grant.
const TypeConsentGrant = "ConsentGrant"

// MaxEntries bounds each of a grant's action, purpose and class lists.
const MaxEntries = 64

// Errors returned by this package. Callers branch on them with errors.Is;
// the wrapped message says what was wrong.
var (
	// ErrInvalidGrant reports a grant (or FHIR Consent) that is not well
	// formed: an unknown code, a bad period, a missing actor, a credential
	// that is not a ConsentGrant.
	ErrInvalidGrant = errors.New("invalid consent grant")

	// ErrConsentExpired: the request is at or after the grant's validUntil.
	ErrConsentExpired = errors.New("consent expired")
	// ErrConsentNotYetValid: the request is before the grant's validFrom.
	ErrConsentNotYetValid = errors.New("consent not yet valid")
	// ErrWrongProvider: the grant was made to another provider DID.
	ErrWrongProvider = errors.New("consent granted to another provider")
	// ErrWrongPurpose: the grant does not cover the purpose of use.
	ErrWrongPurpose = errors.New("consent does not cover this purpose of use")
	// ErrWrongClass: the grant does not cover the data class (resource type).
	ErrWrongClass = errors.New("consent does not cover this data class")
	// ErrWrongAction: the grant does not permit the action.
	ErrWrongAction = errors.New("consent does not permit this action")
	// ErrBreakGlassNotPermitted: a break-glass request on a grant that does
	// not allow break-glass.
	ErrBreakGlassNotPermitted = errors.New("consent does not permit break-glass")

	// ErrNotAnchored: the ledger has no anchor for the grant's hash, so the
	// patient never put it in force (or anchored it under another hash).
	ErrNotAnchored = errors.New("consent grant not anchored on the ledger")
	// ErrRevoked: the patient revoked the grant on the ledger.
	ErrRevoked = errors.New("consent revoked")
	// ErrLedgerMismatch: the ledger anchor of the grant's hash names another
	// controller or another period than the grant itself.
	ErrLedgerMismatch = errors.New("ledger anchor does not match the grant")
	// ErrLegacyGrant: the grant names no anchor DID. Grants made before
	// consent anchors stopped carrying the patient's DID were anchored under
	// the patient's own DID; they are refused, always wrapped together with
	// [ErrInvalidGrant]: the patient grants again (docs/design/0008).
	ErrLegacyGrant = errors.New("the grant names no anchor DID (a grant made before per-grant anchors must be granted again)")
)

// Grant is a patient's consent for one provider, shaped like the provision of
// a FHIR R4 Consent: who (Provider), what they may do (Actions), why
// (Purposes, HL7 v3 PurposeOfUse codes), on which data (Classes, FHIR resource
// type names), when (ValidFrom up to, not including, ValidUntil), and whether
// the provider may break the glass in an emergency.
//
// A Grant is secured as a vc+jwt (see [Issue]); the SHA-256 of that token
// ([Hash]) is what the grant's anchor DID anchors on the ledger. The zero
// value is not a valid grant.
type Grant struct {
	// ID is the credential id, a URL (e.g. "urn:uuid:…"); optional.
	ID string
	// Patient is the patient's DID (or a pairwise DID of the patient): the
	// issuer, whose key signs the grant.
	Patient string
	// Anchor is the did:key that controls the grant's ledger anchor: it
	// signs consent.anchor and consent.revoke, and the ledger keys the
	// anchor by it and the grant's hash. It is made for this grant alone
	// (the wallet derives it from its seed and the grant's ID), so the
	// ledger holds no identifier of the patient and no two anchors of one
	// patient can be linked; because the patient's signature on the grant
	// names it, nobody else can put this grant in force or take it back.
	Anchor string
	// Provider is the DID the consent is granted to (credentialSubject.id).
	Provider string
	// Actions, Purposes and Classes list what the grant permits; each is
	// non-empty, without duplicates, and uses known codes only.
	Actions  []Action
	Purposes []string
	Classes  []string
	// ValidFrom is required; ValidUntil zero means open-ended. Both are
	// whole seconds in UTC in an issued grant.
	ValidFrom, ValidUntil time.Time
	// BreakGlass allows an emergency override (see [Request.BreakGlass]).
	BreakGlass bool
	// Issued is when the patient made the grant (FHIR Consent.dateTime,
	// the JWT iat claim); zero when unknown.
	Issued time.Time
	// OnBehalfOf is set when a representative made the grant for a patient
	// (a parent for a child, a carer for the person they care for): it is
	// the patient's DID, Patient is then the representative who signed,
	// and Delegation the hex SHA-256 of the delegation token
	// (credentials/delegation) they acted under. Code that does not check
	// delegations MUST treat such a grant as the representative's, never
	// the patient's: comparing Patient with a record's owner refuses it.
	OnBehalfOf string
	Delegation string

	// Token is the vc+jwt the grant was read from ("" for a grant built in
	// code or imported from FHIR).
	Token string
}

// Validate checks that g is a well-formed grant: valid DIDs for patient
// and provider ([did.Check]: a did:key must hold a key), an anchor did:key
// that is neither of them, at least one action, purpose and class, each a
// known code and listed once, a validFrom, and validUntil after it when
// set. Errors wrap [ErrInvalidGrant] (and [ErrLegacyGrant] for a grant
// without an anchor) and name the field to fix.
func (g *Grant) Validate() error { return g.validate(true) }

// validate is Validate, with the anchor checked only when anchor is set.
func (g *Grant) validate(anchor bool) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidGrant, fmt.Sprintf(format, args...))
	}
	// did.Check, not only did.Parse: "did:key:foo" parses but names no
	// key, and a grant to nobody must not be anchored.
	if err := did.Check(g.Patient); err != nil {
		return bad("patient must be a valid DID: %v", err)
	}
	if err := did.Check(g.Provider); err != nil {
		return bad("provider (the actor) must be a valid DID: %v", err)
	}
	if anchor {
		if g.Anchor == "" {
			return fmt.Errorf("%w: %w", ErrInvalidGrant, ErrLegacyGrant)
		}
		if _, err := did.ParseKeyDID(g.Anchor); err != nil {
			return bad("anchor must be a did:key made for this grant: %v", err)
		}
		if g.Anchor == g.Patient || g.Anchor == g.Provider || g.Anchor == g.OnBehalfOf {
			return bad("anchor must be a did:key made for this grant alone, not the patient's or the provider's DID: it is on the ledger for everyone to see")
		}
	}
	if len(g.Actions) == 0 {
		return bad("no action: permit at least one of access, correct, disclose")
	}
	as := make([]string, len(g.Actions))
	for i, a := range g.Actions {
		as[i] = string(a)
	}
	if err := checkCodes("action", as, actions, "access, correct or disclose"); err != nil {
		return err
	}
	if err := checkCodes("purpose", g.Purposes, purposes, "an HL7 v3 PurposeOfUse code such as TREAT, ETREAT or HRESCH"); err != nil {
		return err
	}
	if err := checkCodes("class", g.Classes, resourceTypes, "a FHIR R4 resource type such as AllergyIntolerance, Immunization or MedicationStatement"); err != nil {
		return err
	}
	if g.ValidFrom.IsZero() {
		return bad("period: validFrom (period.start) is required")
	}
	if err := g.period().Valid(); err != nil {
		return bad("period: %v", err)
	}
	if g.OnBehalfOf != "" || g.Delegation != "" {
		if _, err := did.Parse(g.OnBehalfOf); err != nil {
			return bad("onBehalfOf (the patient a representative grants for) must be a DID: %v", err)
		}
		if g.OnBehalfOf == g.Patient || g.OnBehalfOf == g.Provider {
			return bad("onBehalfOf must be the patient, neither the representative who signs nor the provider")
		}
		if len(g.Delegation) != 64 || strings.Trim(g.Delegation, "0123456789abcdef") != "" {
			return bad("delegation must be the hex SHA-256 of the delegation token the representative acts under")
		}
	}
	if g.ID != "" && !strings.Contains(g.ID, ":") {
		return bad("id %.64q must be a URL such as urn:uuid:…", g.ID)
	}
	return nil
}

// period is g's validity period (a zero ValidUntil: open-ended).
func (g *Grant) period() validity.Period {
	return validity.Period{From: g.ValidFrom, Until: validity.End(g.ValidUntil)}
}

func checkCodes(field string, codes []string, known map[string]bool, hint string) error {
	if len(codes) == 0 {
		return fmt.Errorf("%w: no %s: name at least one (%s)", ErrInvalidGrant, field, hint)
	}
	if len(codes) > MaxEntries {
		return fmt.Errorf("%w: %d %s entries, at most %d", ErrInvalidGrant, len(codes), field, MaxEntries)
	}
	seen := make(map[string]bool, len(codes))
	for _, c := range codes {
		if !known[c] {
			return fmt.Errorf("%w: unknown %s code %.64q: use %s", ErrInvalidGrant, field, c, hint)
		}
		if seen[c] {
			return fmt.Errorf("%w: %s %s listed twice", ErrInvalidGrant, field, c)
		}
		seen[c] = true
	}
	return nil
}

// normalized returns a copy of g with times in whole seconds UTC, so the
// period in the token and the one anchored on the ledger are the same
// RFC 3339 strings.
func (g *Grant) normalized() *Grant {
	n := *g
	n.Actions = slices.Clone(g.Actions)
	n.Purposes = slices.Clone(g.Purposes)
	n.Classes = slices.Clone(g.Classes)
	n.ValidFrom = secondsUTC(g.ValidFrom)
	n.ValidUntil = secondsUTC(g.ValidUntil)
	n.Issued = secondsUTC(g.Issued)
	return &n
}

func secondsUTC(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Second)
}

// Credential returns g as a VC 2.0 credential of type ConsentGrant: issuer
// the patient, credentialSubject {id: provider, action, purpose, class,
// breakGlass}, validFrom/validUntil the period, anchor the anchor DID, iat
// the issue time. Errors as [Grant.Validate].
func (g *Grant) Credential() (*vc.Credential, error) {
	n := g.normalized()
	if err := n.Validate(); err != nil {
		return nil, err
	}
	as := make([]any, len(n.Actions))
	for i, a := range n.Actions {
		as[i] = string(a)
	}
	c := &vc.Credential{
		Context: vc.CredentialContext(),
		ID:      n.ID,
		Type:    []string{vc.TypeCredential, TypeConsentGrant},
		Issuer:  n.Patient,
		Subject: map[string]any{
			"id":         n.Provider,
			"action":     as,
			"purpose":    toAny(n.Purposes),
			"class":      toAny(n.Classes),
			"breakGlass": n.BreakGlass,
		},
	}
	from := n.ValidFrom
	c.ValidFrom = &from
	if !n.ValidUntil.IsZero() {
		until := n.ValidUntil
		c.ValidUntil = &until
	}
	c.Extra = map[string]any{"anchor": n.Anchor}
	if !n.Issued.IsZero() {
		c.Extra["iat"] = json.Number(strconv.FormatInt(n.Issued.Unix(), 10))
	}
	if n.OnBehalfOf != "" {
		c.Extra["onBehalfOf"], c.Extra["delegation"] = n.OnBehalfOf, n.Delegation
	}
	return c, nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Issue signs g as a vc+jwt with the patient's key k; kid MUST be a DID URL
// of g.Patient naming k's public key under assertionMethod. Times are
// truncated to whole seconds. Errors wrap [ErrInvalidGrant] for a grant that
// does not validate, or vc's errors for a bad kid.
func Issue(g *Grant, k *key.PrivateKey, kid string) (string, error) {
	c, err := g.Credential()
	if err != nil {
		return "", err
	}
	return vc.Issue(c, k, kid)
}

// Hash returns the hex SHA-256 of a grant token's bytes: the identifier the
// ledger anchors and revokes. It hashes exactly the bytes given; a grant is
// identified by its token, not by its content.
func Hash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Hash returns [Hash] of g.Token, or "" when g was not read from a token.
func (g *Grant) Hash() string {
	if g.Token == "" {
		return ""
	}
	return Hash(g.Token)
}

// Parse decodes a grant token WITHOUT checking its signature: use it to look
// inside a grant (to show it, to find the patient), never to trust it.
// Errors wrap vc.ErrMalformed / vc.ErrUnsupportedAlg for a bad token and
// [ErrInvalidGrant] for a credential that is not a valid ConsentGrant.
func Parse(token string) (*Grant, error) {
	t, err := vc.Parse(token)
	if err != nil {
		return nil, err
	}
	g, err := FromCredential(t.Credential)
	if err != nil {
		return nil, err
	}
	g.Token = token
	return g, nil
}

// Verify checks a grant token's signature and returns the grant: the kid must
// be a DID URL of the issuer (the patient) and keys must return its key (a
// KeyFunc that resolves the patient's DID and requires assertionMethod; see
// [ResolverKeys]). It does NOT check the period (that is [Grant.Permits]'s
// job, with consent-specific errors) nor the ledger (see [Checker]). Errors:
// those of [Parse], and vc.ErrBadSignature, vc.ErrIssuerMismatch or the
// KeyFunc's error wrapped.
func Verify(ctx context.Context, token string, keys vc.KeyFunc) (*Grant, error) {
	g, err := Parse(token)
	if err != nil {
		return nil, err
	}
	// Check the signature at a time inside the credential's own window, so
	// that an expired grant still verifies here and Permits reports
	// ErrConsentExpired rather than a generic vc error.
	// (iat may be later than validFrom: a grant made to start in the past.)
	now := g.ValidFrom
	if g.Issued.After(now) && (g.ValidUntil.IsZero() || g.Issued.Before(g.ValidUntil)) {
		now = g.Issued
	}
	if _, err := vc.Verify(ctx, token, keys, vc.VerifyOptions{Now: now}); err != nil {
		return nil, err
	}
	return g, nil
}

// FromCredential reads a grant from a parsed (not necessarily verified)
// credential. Errors wrap [ErrInvalidGrant].
func FromCredential(c *vc.Credential) (*Grant, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidGrant, fmt.Sprintf(format, args...))
	}
	if c == nil || !c.HasType(TypeConsentGrant) {
		return nil, bad("the credential is not of type %s", TypeConsentGrant)
	}
	if len(c.Status) > 0 {
		return nil, bad("a consent grant has no credentialStatus: it is revoked on the ledger (consent.revoke)")
	}
	g := &Grant{ID: c.ID, Patient: c.Issuer, Provider: c.SubjectID()}
	for k, v := range c.Extra {
		switch k {
		case "anchor":
			a, ok := v.(string)
			if !ok {
				return nil, bad("anchor must be a string (a did:key)")
			}
			g.Anchor = a
		case "onBehalfOf", "delegation":
			v, ok := v.(string)
			if !ok {
				return nil, bad("%s must be a string", k)
			}
			if k == "onBehalfOf" {
				g.OnBehalfOf = v
			} else {
				g.Delegation = v
			}
		case "iat":
			n, ok := v.(json.Number)
			if !ok {
				return nil, bad("iat must be a number")
			}
			sec, err := n.Int64()
			if err != nil || sec <= 0 {
				return nil, bad("iat must be a positive integer")
			}
			g.Issued = time.Unix(sec, 0).UTC()
		default:
			return nil, bad("unexpected property %.64q in a consent grant", k)
		}
	}
	for k, v := range c.Subject {
		switch k {
		case "id":
			if g.Provider == "" {
				return nil, bad("credentialSubject.id (the provider DID) must be a string")
			}
		case "action":
			s, err := strings1(v, "action")
			if err != nil {
				return nil, err
			}
			for _, a := range s {
				g.Actions = append(g.Actions, Action(a))
			}
		case "purpose":
			s, err := strings1(v, "purpose")
			if err != nil {
				return nil, err
			}
			g.Purposes = s
		case "class":
			s, err := strings1(v, "class")
			if err != nil {
				return nil, err
			}
			g.Classes = s
		case "breakGlass":
			b, ok := v.(bool)
			if !ok {
				return nil, bad("credentialSubject.breakGlass must be true or false")
			}
			g.BreakGlass = b
		default:
			return nil, bad("unexpected credentialSubject property %.64q", k)
		}
	}
	if c.ValidFrom != nil {
		g.ValidFrom = c.ValidFrom.UTC()
	}
	if c.ValidUntil != nil {
		g.ValidUntil = c.ValidUntil.UTC()
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

func strings1(v any, field string) ([]string, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: credentialSubject.%s must be an array of strings", ErrInvalidGrant, field)
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%w: credentialSubject.%s must be an array of strings", ErrInvalidGrant, field)
		}
		out[i] = s
	}
	return out, nil
}

// Request is one access a provider asks to make under a grant.
type Request struct {
	// Provider is the DID of the provider asking (authenticated by the
	// caller, e.g. from a presentation's holder).
	Provider string
	Action   Action
	// Purpose is an HL7 v3 PurposeOfUse code.
	Purpose string
	// Class is the FHIR resource type to be read or changed.
	Class string
	// At is when the access happens; zero means time.Now().
	At time.Time
	// BreakGlass asks for an emergency override: allowed only when the
	// grant permits break-glass, for action access, purpose ETREAT and a
	// class the grant lists; it is then not limited by the grant's purposes
	// (the provider, the period, the classes and the ledger status still
	// apply: a patient who allowed emergency access to their allergies did
	// not allow it to their diagnoses). The vault records such an access as
	// an emergency override.
	BreakGlass bool
}

// Permits reports whether g allows req, checking in this order: provider
// ([ErrWrongProvider]), period ([ErrConsentNotYetValid] before validFrom,
// [ErrConsentExpired] at or after validUntil), then for a break-glass request
// the grant's flag ([ErrBreakGlassNotPermitted]), action access
// ([ErrWrongAction]), purpose ETREAT ([ErrWrongPurpose]) and class
// ([ErrWrongClass]); otherwise
// action ([ErrWrongAction]), purpose ([ErrWrongPurpose]) and class
// ([ErrWrongClass]). It returns nil when the access is permitted by the grant
// itself; whether the grant is in force on the ledger is a separate check
// ([Checker.CheckInForce]). Safe for concurrent use.
func (g *Grant) Permits(req Request) error {
	if err := validity.Party(ErrWrongProvider, "the grant is for", g.Provider, req.Provider); err != nil {
		return err
	}
	at := req.At
	if at.IsZero() {
		at = time.Now()
	}
	if err := g.period().Check(at, ErrConsentNotYetValid, ErrConsentExpired); err != nil {
		return err
	}
	if req.BreakGlass {
		if !g.BreakGlass {
			return ErrBreakGlassNotPermitted
		}
		if req.Action != ActionAccess {
			return fmt.Errorf("%w: break-glass allows access only, not %.32q", ErrWrongAction, req.Action)
		}
		if req.Purpose != PurposeEmergencyTreatment {
			return fmt.Errorf("%w: break-glass requires purpose %s, not %.32q", ErrWrongPurpose, PurposeEmergencyTreatment, req.Purpose)
		}
		if !slices.Contains(g.Classes, req.Class) {
			return fmt.Errorf("%w: break-glass is limited to the classes the patient allowed, not %.64q", ErrWrongClass, req.Class)
		}
		return nil
	}
	if !slices.Contains(g.Actions, req.Action) {
		return fmt.Errorf("%w: %.32q", ErrWrongAction, req.Action)
	}
	if !slices.Contains(g.Purposes, req.Purpose) {
		return fmt.Errorf("%w: %.32q", ErrWrongPurpose, req.Purpose)
	}
	if !slices.Contains(g.Classes, req.Class) {
		return fmt.Errorf("%w: %.64q", ErrWrongClass, req.Class)
	}
	return nil
}
