package delegation

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
)

// Credential types.
const (
	// TypeDelegation is a delegation the patient issued themselves, or a
	// sub-delegation by a representative allowed to make one.
	TypeDelegation = "DelegationCredential"
	// TypeGuardianship is a delegation issued for a minor or an adult who
	// cannot act by an organisation accredited for this type.
	TypeGuardianship = "GuardianshipCredential"
)

// Action is what a delegation lets the representative do for the patient.
type Action string

// The actions a delegation may allow.
const (
	// ActionView: read the patient's records at a vault.
	ActionView Action = "view"
	// ActionConsent: grant and withdraw consent for the patient.
	ActionConsent Action = "consent"
	// ActionReceive: receive credentials on the patient's behalf.
	ActionReceive Action = "receive"
	// ActionPresent: answer presentation requests with the patient's
	// credentials.
	ActionPresent Action = "present"
	// ActionTrail: read the patient's access trail.
	ActionTrail Action = "trail"
)

// Actions lists every action in a stable order.
var Actions = []Action{ActionView, ActionConsent, ActionReceive, ActionPresent, ActionTrail}

// Basis is the legal basis on which the representative acts.
type Basis string

// Legal bases.
const (
	// BasisParent: a parent of a minor (GuardianshipCredential only; the
	// delegation ends when the child comes of age).
	BasisParent Basis = "parent"
	// BasisGuardian: a court-appointed guardian (GuardianshipCredential
	// only).
	BasisGuardian Basis = "guardian"
	// BasisPowerOfAttorney: a (lasting) power of attorney, made by the
	// patient or registered by an authority.
	BasisPowerOfAttorney Basis = "power-of-attorney"
	// BasisAuthorisation: the patient's own authorisation, or a
	// representative's sub-delegation (DelegationCredential only).
	BasisAuthorisation Basis = "authorisation"
)

// AllClasses in a delegation's class list means every data class.
const AllClasses = "*"

// Bounds of a delegation.
const (
	// MaxToken bounds an encoded delegation (a sub-delegation carries its
	// parent, so two levels fit).
	MaxToken = 12 << 10
	// MaxDepth bounds a chain of sub-delegations: the patient's (or the
	// authority's) delegation and at most two levels below it.
	MaxDepth = 3
	// MaxName bounds a person's name.
	MaxName = 128
)

// Errors returned by this package. Callers branch on them with errors.Is;
// the wrapped message says what was wrong and what to do.
var (
	// ErrInvalid: not a well-formed delegation credential.
	ErrInvalid = errors.New("invalid delegation")
	// ErrSelfIssued: a representative signed a delegation for themselves.
	ErrSelfIssued = errors.New("a representative cannot delegate to themselves")
	// ErrIssuerNotPatient: a DelegationCredential issued by someone who is
	// neither the patient nor a representative allowed to sub-delegate.
	ErrIssuerNotPatient = errors.New("only the patient (or an accredited authority, with a GuardianshipCredential) can delegate")
	// ErrNotAccredited: a GuardianshipCredential whose issuer was not
	// accredited for GuardianshipCredential when it was issued.
	ErrNotAccredited = errors.New("the issuer is not accredited to issue guardianship credentials")
	// ErrSubDelegation: a sub-delegation under a delegation that does not
	// allow one, or wider than it (more actions, classes, purposes or
	// time).
	ErrSubDelegation = errors.New("sub-delegation not permitted")
	// ErrOutOfScope: an act the delegation does not cover (an action,
	// class or purpose it does not list).
	ErrOutOfScope = errors.New("outside the delegated scope")
	// ErrWrongRepresentative: the delegation names another representative
	// than the one acting.
	ErrWrongRepresentative = errors.New("the delegation was given to someone else")
	// ErrWrongPatient: the delegation is for another patient.
	ErrWrongPatient = errors.New("the delegation is for another patient")
	// ErrNotYetValid: the act is before the delegation's validFrom.
	ErrNotYetValid = errors.New("delegation not yet valid")
	// ErrExpired: the act is at or after the delegation's validUntil.
	ErrExpired = errors.New("delegation expired")
	// ErrCameOfAge: a minor's delegation at or after its end date: the
	// patient came of age and now acts for themselves. It wraps
	// [ErrExpired] too.
	ErrCameOfAge = errors.New("the patient came of age: the delegation for a minor has ended")
	// ErrRevoked: the issuer revoked the delegation (its status bit is set).
	ErrRevoked = errors.New("delegation revoked")
	// ErrStatusUnavailable: the revocation status cannot be checked (the
	// list cannot be fetched or trusted), so the delegation is not honoured.
	ErrStatusUnavailable = errors.New("delegation status unavailable")
)

// Delegation is the authority one person (the representative) has to act
// for another (the patient), as a credential states it. The zero value is
// not a valid delegation.
type Delegation struct {
	// ID is the credential id, a URL (urn:uuid:…). Required.
	ID string
	// Type is TypeDelegation or TypeGuardianship.
	Type string
	// Issuer signs the delegation: the patient, an accredited authority,
	// or (a sub-delegation) the representative of Parent.
	Issuer string
	// Representative is the DID that may act (credentialSubject.id), and
	// RepresentativeName their name as the issuer states it.
	Representative     string
	RepresentativeName string
	// Patient is the DID of the person represented, PatientName their
	// name as the issuer states it.
	Patient     string
	PatientName string
	// Relationship is an HL7 v3 RoleCode saying what the patient is to the
	// representative ("DAU": the patient is the representative's
	// daughter), for the representative's screens; optional.
	Relationship string
	// Minor marks a delegation for a minor: ValidUntil is the day they
	// come of age. Always true for BasisParent.
	Minor bool
	// Basis is the legal basis.
	Basis Basis
	// Actions, Classes (FHIR resource types, or [AllClasses] alone) and
	// Purposes (HL7 v3 PurposeOfUse codes) are the scope; each non-empty
	// without duplicates.
	Actions  []Action
	Classes  []string
	Purposes []string
	// SubDelegation lets the representative delegate (part of) this
	// authority to someone else.
	SubDelegation bool
	// ValidFrom and ValidUntil bound the delegation (half-open); both are
	// required.
	ValidFrom, ValidUntil time.Time
	// Status is the revocation entry (a BitstringStatusListEntry).
	Status vc.Status
	// Parent is the delegation a sub-delegation is made under (nil for a
	// delegation by the patient or an authority).
	Parent *Delegation

	// Token is the vc+jwt the delegation was read from ("" when built in
	// code).
	Token string
}

// Hash returns the hex SHA-256 of a delegation token: how trail entries and
// consent grants name the delegation they were made under.
func Hash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Hash returns [Hash] of d.Token ("" when d was not read from a token).
func (d *Delegation) Hash() string {
	if d.Token == "" {
		return ""
	}
	return Hash(d.Token)
}

// Root returns the delegation at the top of d's chain: d itself unless it
// is a sub-delegation.
func (d *Delegation) Root() *Delegation {
	for d.Parent != nil {
		d = d.Parent
	}
	return d
}

// Depth returns the length of d's chain (1 for a delegation without parent).
func (d *Delegation) Depth() int {
	n := 1
	for p := d.Parent; p != nil; p = p.Parent {
		n++
	}
	return n
}

// AllClasses reports whether d covers every data class.
func (d *Delegation) AllClasses() bool { return len(d.Classes) == 1 && d.Classes[0] == AllClasses }

// Covers reports whether d's scope includes action a.
func (d *Delegation) Covers(a Action) bool { return slices.Contains(d.Actions, a) }

// CoversClass reports whether d's scope includes data class c.
func (d *Delegation) CoversClass(c string) bool {
	return d.AllClasses() || slices.Contains(d.Classes, c)
}

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// relationships are the HL7 v3 RoleCode codes (PersonalRelationshipRoleType)
// a delegation may use, with the words shown to the representative.
var relationships = map[string]string{
	"CHILD": "child", "DAU": "daughter", "SON": "son", "CHLDADOPT": "adopted child", "CHLDFOST": "foster child",
	"STPCHLD": "stepchild", "MTH": "mother", "FTH": "father", "PRN": "parent", "SPS": "spouse", "HUSB": "husband",
	"WIFE": "wife", "DOMPART": "partner", "SIB": "sibling", "BRO": "brother", "SIS": "sister", "GRPRN": "grandparent",
	"GRMTH": "grandmother", "GRFTH": "grandfather", "GRNDCHILD": "grandchild", "GRNDDAU": "granddaughter",
	"GRNDSON": "grandson", "NIECE": "niece", "NEPHEW": "nephew", "FAMMEMB": "family member", "FRND": "friend",
	"NBOR": "neighbour", "ROOM": "housemate",
}

// RelationshipWord returns how the representative's screens name the
// patient for a RoleCode ("daughter" for DAU), or "" for an unknown code.
func RelationshipWord(code string) string { return relationships[code] }

// KnownRelationship reports whether code is a RoleCode a delegation may use.
func KnownRelationship(code string) bool { _, ok := relationships[code]; return ok }

// ParseActions reads a comma-separated list of actions ("view,consent").
// Errors wrap [ErrInvalid] and name the allowed actions.
func ParseActions(s string) ([]Action, error) {
	var out []Action
	for _, f := range strings.Split(s, ",") {
		a := Action(strings.TrimSpace(f))
		if !slices.Contains(Actions, a) {
			return nil, bad("unknown action %.32q: use view, consent, receive, present or trail", a)
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// Validate checks that d is well formed on its own: an id; a type and a
// basis that go together; DIDs for issuer, representative and patient,
// with the representative neither the patient nor the issuer
// ([ErrSelfIssued]); names that are plain text; known actions, classes,
// purposes and relationship; a period with both ends; a minor's delegation
// (always for basis parent); a revocation status entry; and for a
// sub-delegation, a parent of the same patient whose representative is the
// issuer, that allows sub-delegation and is at least as wide
// ([ErrSubDelegation]). It does not check signatures, accreditation or
// status (see [Checker]). Errors wrap [ErrInvalid] unless said otherwise.
func (d *Delegation) Validate() error {
	if d.ID == "" || !strings.Contains(d.ID, ":") || len(d.ID) > 256 {
		return bad("id must be a URL such as urn:uuid:… (at most 256 bytes)")
	}
	switch d.Type {
	case TypeDelegation:
		if d.Basis != BasisAuthorisation && d.Basis != BasisPowerOfAttorney {
			return bad("a %s made by the patient has basis authorisation or power-of-attorney, not %.32q (a parent's or guardian's authority comes from an accredited authority as a %s)", TypeDelegation, d.Basis, TypeGuardianship)
		}
	case TypeGuardianship:
		if d.Basis != BasisParent && d.Basis != BasisGuardian && d.Basis != BasisPowerOfAttorney {
			return bad("a %s has basis parent, guardian or power-of-attorney, not %.32q", TypeGuardianship, d.Basis)
		}
		if d.Parent != nil {
			return bad("a %s is issued by an authority, never as a sub-delegation", TypeGuardianship)
		}
	default:
		return bad("type must be %s or %s", TypeDelegation, TypeGuardianship)
	}
	for _, f := range []struct{ name, v string }{{"issuer", d.Issuer}, {"representative (credentialSubject.id)", d.Representative}, {"patient (represents.id)", d.Patient}} {
		if _, err := did.Parse(f.v); err != nil {
			return bad("%s must be a DID: %v", f.name, err)
		}
	}
	if d.Representative == d.Patient {
		return bad("the representative and the patient are the same DID")
	}
	if d.Issuer == d.Representative {
		return fmt.Errorf("%w: %w: %s signed a delegation to themselves", ErrInvalid, ErrSelfIssued, d.Issuer)
	}
	if err := checkName("name", d.RepresentativeName, true); err != nil {
		return err
	}
	if err := checkName("represents.name", d.PatientName, false); err != nil {
		return err
	}
	if d.Relationship != "" && !KnownRelationship(d.Relationship) {
		return bad("unknown relationship %.16q: use an HL7 v3 RoleCode such as CHILD, DAU, SON, MTH, FTH, SPS or FRND", d.Relationship)
	}
	if d.Basis == BasisParent && !d.Minor {
		return bad("a parent's delegation is for a minor: set represents.minor and end it the day they come of age")
	}
	if err := checkScope(d.Actions, d.Classes, d.Purposes); err != nil {
		return err
	}
	if d.ValidFrom.IsZero() || d.ValidUntil.IsZero() {
		return bad("validFrom and validUntil are both required (a delegation always ends; a minor's on the day they come of age)")
	}
	if err := d.period().Valid(); err != nil {
		return bad("%v", err)
	}
	if d.Status.Type != statuslist.TypeEntry || statuslist.Purpose(d.Status.StatusPurpose) != statuslist.Revocation || d.Status.StatusListCredential == "" {
		return bad("credentialStatus must be one %s with statusPurpose revocation: the issuer (or the patient) must be able to take it back", statuslist.TypeEntry)
	}
	if _, err := statuslist.Index(d.Status); err != nil {
		return bad("credentialStatus: %v", err)
	}
	if d.Parent != nil {
		if d.Depth() > MaxDepth {
			return bad("a chain of %d delegations; at most %d", d.Depth(), MaxDepth)
		}
		if err := d.Parent.Validate(); err != nil {
			return fmt.Errorf("parent delegation: %w", err)
		}
		if err := d.checkUnder(d.Parent); err != nil {
			return err
		}
	} else if d.Type == TypeDelegation && d.Issuer != d.Patient {
		return fmt.Errorf("%w: %w: %s issued it, but the patient is %s", ErrInvalid, ErrIssuerNotPatient, d.Issuer, d.Patient)
	}
	return nil
}

// checkUnder checks that sub-delegation d stays within parent p.
func (d *Delegation) checkUnder(p *Delegation) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrSubDelegation, fmt.Sprintf(format, args...))
	}
	if d.Type != TypeDelegation || d.Basis != BasisAuthorisation {
		return bad("a sub-delegation is a %s with basis authorisation", TypeDelegation)
	}
	if d.Issuer != p.Representative {
		return fail("it is signed by %s, but the delegation it is made under was given to %s", d.Issuer, p.Representative)
	}
	if d.Patient != p.Patient {
		return fail("it is for %s, but the delegation it is made under is for %s", d.Patient, p.Patient)
	}
	if !p.SubDelegation {
		return fail("%s's delegation does not allow passing it on", p.Representative)
	}
	for _, a := range d.Actions {
		if !p.Covers(a) {
			return fail("action %s is not in the delegation it is made under", a)
		}
	}
	for _, c := range d.Classes {
		if c == AllClasses && !p.AllClasses() || c != AllClasses && !p.CoversClass(c) {
			return fail("class %s is not in the delegation it is made under", c)
		}
	}
	for _, pu := range d.Purposes {
		if !slices.Contains(p.Purposes, pu) {
			return fail("purpose %s is not in the delegation it is made under", pu)
		}
	}
	// Compared in whole seconds, as issued credentials carry them.
	if d.ValidFrom.Truncate(time.Second).Before(p.ValidFrom.Truncate(time.Second)) || d.ValidUntil.Truncate(time.Second).After(p.ValidUntil.Truncate(time.Second)) {
		return fail("it runs outside the period of the delegation it is made under (%s to %s)",
			p.ValidFrom.UTC().Format(time.RFC3339), p.ValidUntil.UTC().Format(time.RFC3339))
	}
	if p.Minor && !d.Minor {
		return bad("a sub-delegation for a minor is marked minor too")
	}
	return nil
}

func checkName(field, s string, required bool) error {
	if s == "" {
		if required {
			return bad("%s is required: the patient's trail says who acted by this name", field)
		}
		return nil
	}
	if len(s) > MaxName || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) || strings.TrimSpace(s) != s {
		return bad("%s must be plain text of at most %d bytes", field, MaxName)
	}
	return nil
}

func checkScope(actions []Action, classes, purposes []string) error {
	if len(actions) == 0 {
		return bad("no action: allow at least one of view, consent, receive, present, trail")
	}
	for i, a := range actions {
		if !slices.Contains(Actions, a) {
			return bad("unknown action %.32q: use view, consent, receive, present or trail", a)
		}
		if slices.Contains(actions[:i], a) {
			return bad("action %s listed twice", a)
		}
	}
	if len(classes) == 0 || len(classes) > consent.MaxEntries {
		return bad("class: name 1 to %d FHIR resource types, or %q alone for every class", consent.MaxEntries, AllClasses)
	}
	for i, c := range classes {
		if c == AllClasses && len(classes) != 1 {
			return bad("class %q stands alone", AllClasses)
		}
		if c != AllClasses && !consent.KnownClass(c) {
			return bad("unknown class %.64q: use a FHIR R4 resource type such as Immunization or AllergyIntolerance", c)
		}
		if slices.Contains(classes[:i], c) {
			return bad("class %s listed twice", c)
		}
	}
	if len(purposes) == 0 || len(purposes) > consent.MaxEntries {
		return bad("purpose: name 1 to %d HL7 v3 PurposeOfUse codes such as TREAT", consent.MaxEntries)
	}
	for i, p := range purposes {
		if !consent.KnownPurpose(p) {
			return bad("unknown purpose %.32q: use an HL7 v3 PurposeOfUse code such as TREAT", p)
		}
		if slices.Contains(purposes[:i], p) {
			return bad("purpose %s listed twice", p)
		}
	}
	return nil
}

// Credential returns d as a VC 2.0 credential (see the package
// documentation for its shape). Times are whole seconds in UTC. Errors as
// [Delegation.Validate]; a sub-delegation's Parent must have its Token.
func (d *Delegation) Credential() (*vc.Credential, error) {
	n := *d
	n.ValidFrom, n.ValidUntil = n.ValidFrom.UTC().Truncate(time.Second), n.ValidUntil.UTC().Truncate(time.Second)
	if err := n.Validate(); err != nil {
		return nil, err
	}
	rep := map[string]any{"id": n.Patient}
	if n.PatientName != "" {
		rep["name"] = n.PatientName
	}
	if n.Relationship != "" {
		rep["relationship"] = n.Relationship
	}
	if n.Minor {
		rep["minor"] = true
	}
	as := make([]any, len(n.Actions))
	for i, a := range n.Actions {
		as[i] = string(a)
	}
	c := &vc.Credential{
		Context: []string{vc.ContextV2},
		ID:      n.ID,
		Type:    []string{vc.TypeCredential, n.Type},
		Issuer:  n.Issuer,
		Subject: map[string]any{
			"id":            n.Representative,
			"name":          n.RepresentativeName,
			"basis":         string(n.Basis),
			"represents":    rep,
			"action":        as,
			"class":         toAny(n.Classes),
			"purpose":       toAny(n.Purposes),
			"subDelegation": n.SubDelegation,
		},
		ValidFrom:  &n.ValidFrom,
		ValidUntil: &n.ValidUntil,
		Status:     []vc.Status{n.Status},
	}
	if n.Parent != nil {
		if n.Parent.Token == "" {
			return nil, bad("a sub-delegation carries its parent delegation's token")
		}
		c.Extra = map[string]any{"parentDelegation": n.Parent.Token}
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

// Issue signs d as a vc+jwt with k; kid MUST be a DID URL of d.Issuer naming
// k under assertionMethod. Errors as [Delegation.Validate], or vc's for a
// bad kid; a token over [MaxToken] is refused.
func Issue(d *Delegation, k *key.PrivateKey, kid string) (string, error) {
	c, err := d.Credential()
	if err != nil {
		return "", err
	}
	tok, err := vc.Issue(c, k, kid)
	if err != nil {
		return "", err
	}
	if len(tok) > MaxToken {
		return "", bad("the signed delegation is %d bytes, at most %d (fewer classes, or a shorter chain)", len(tok), MaxToken)
	}
	return tok, nil
}

// Parse decodes a delegation token and its parents WITHOUT checking any
// signature: use it to show a delegation, never to trust it ([Checker]
// does). Errors wrap vc.ErrMalformed for a bad token and [ErrInvalid] (or
// [ErrSelfIssued], [ErrIssuerNotPatient], [ErrSubDelegation]) for a
// credential that is not a valid delegation.
func Parse(token string) (*Delegation, error) { return parse(token, 1) }

func parse(token string, depth int) (*Delegation, error) {
	if depth > MaxDepth {
		return nil, bad("a chain of more than %d delegations", MaxDepth)
	}
	if len(token) > MaxToken {
		return nil, bad("token of %d bytes, at most %d", len(token), MaxToken)
	}
	t, err := vc.Parse(token)
	if err != nil {
		return nil, err
	}
	d, err := fromCredential(t.Credential, depth)
	if err != nil {
		return nil, err
	}
	d.Token = token
	return d, nil
}

// FromCredential reads a delegation from a parsed (not necessarily
// verified) credential, parsing its parents. Errors as [Parse].
func FromCredential(c *vc.Credential) (*Delegation, error) { return fromCredential(c, 1) }

func fromCredential(c *vc.Credential, depth int) (*Delegation, error) {
	if c == nil {
		return nil, bad("no credential")
	}
	d := &Delegation{ID: c.ID, Issuer: c.Issuer, Representative: c.SubjectID()}
	for _, t := range c.Type {
		switch t {
		case vc.TypeCredential:
		case TypeDelegation, TypeGuardianship:
			if d.Type != "" {
				return nil, bad("both %s and %s", TypeDelegation, TypeGuardianship)
			}
			d.Type = t
		default:
			return nil, bad("unexpected type %.64q", t)
		}
	}
	if c.IssuerProperties != nil || c.Name != "" || c.Description != "" {
		return nil, bad("issuer must be a DID string, without name or description")
	}
	if len(c.Status) != 1 {
		return nil, bad("credentialStatus must be exactly one revocation entry")
	}
	d.Status = c.Status[0]
	if c.ValidFrom != nil {
		d.ValidFrom = c.ValidFrom.UTC()
	}
	if c.ValidUntil != nil {
		d.ValidUntil = c.ValidUntil.UTC()
	}
	for k, v := range c.Extra {
		switch k {
		case "parentDelegation":
			s, ok := v.(string)
			if !ok {
				return nil, bad("parentDelegation must be a delegation token (a string)")
			}
			p, err := parse(s, depth+1)
			if err != nil {
				return nil, fmt.Errorf("parentDelegation: %w", err)
			}
			d.Parent = p
		default:
			return nil, bad("unexpected property %.64q in a delegation", k)
		}
	}
	if err := d.readSubject(c.Subject); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Delegation) readSubject(s map[string]any) error {
	for k, v := range s {
		var err error
		switch k {
		case "id":
			if d.Representative == "" {
				err = bad("credentialSubject.id (the representative) must be a DID string")
			}
		case "name":
			d.RepresentativeName, err = str(v, "credentialSubject.name")
		case "basis":
			var b string
			b, err = str(v, "credentialSubject.basis")
			d.Basis = Basis(b)
		case "represents":
			err = d.readRepresents(v)
		case "action":
			var as []string
			as, err = strs(v, "action")
			for _, a := range as {
				d.Actions = append(d.Actions, Action(a))
			}
		case "class":
			d.Classes, err = strs(v, "class")
		case "purpose":
			d.Purposes, err = strs(v, "purpose")
		case "subDelegation":
			b, ok := v.(bool)
			if !ok {
				err = bad("credentialSubject.subDelegation must be true or false")
			}
			d.SubDelegation = b
		default:
			err = bad("unexpected credentialSubject property %.64q", k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *Delegation) readRepresents(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return bad("credentialSubject.represents must be an object {id, name, relationship, minor}")
	}
	for k, v := range m {
		var err error
		switch k {
		case "id":
			d.Patient, err = str(v, "represents.id")
		case "name":
			d.PatientName, err = str(v, "represents.name")
		case "relationship":
			d.Relationship, err = str(v, "represents.relationship")
		case "minor":
			b, ok := v.(bool)
			if !ok {
				err = bad("represents.minor must be true or false")
			}
			d.Minor = b
		default:
			err = bad("unexpected represents property %.64q", k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func str(v any, field string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", bad("%s must be a string", field)
	}
	return s, nil
}

func strs(v any, field string) ([]string, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, bad("credentialSubject.%s must be an array of strings", field)
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, bad("credentialSubject.%s must be an array of strings", field)
		}
		out[i] = s
	}
	return out, nil
}
