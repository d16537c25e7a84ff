// Package licence is the practitioner licence credential: a verifiable
// credential a licensing body (an organisation of kind licensing-body in
// the registry's directory, accredited for [Type]) issues to a
// practitioner's DID, saying who they are in their public professional
// capacity: name, coded profession, specialty, licence number, issuing
// jurisdiction, employer organisation and validity. It is revocable
// through the body's status list like any credential.
//
// The credential is a VC 2.0 vc+jwt (package vc) whose credentialSubject
// is:
//
//	{
//	  "id": "did:key:z6Mk…",                 the practitioner
//	  "name": "Dr. Jane Doe",
//	  "profession": {"system": "http://snomed.info/sct", "code": "158965000", "display": "Medical practitioner"},
//	  "specialty": {"system": "http://snomed.info/sct", "code": "773568002", "display": "Emergency medicine"},
//	  "licenceNumber": "GMC-7654321",
//	  "jurisdiction": "GB",
//	  "employer": "did:medid:…"              an organisation in the directory
//	}
//
// [FromCredential] is the one parser of those claims; it is strict and
// bounded, so a licence cannot carry anything else (no health data, no
// patient).
package licence

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/medid/medid/credentials/vc"
)

// Type is the credential type of a practitioner licence.
const Type = "PractitionerLicenceCredential"

// Code systems a profession or specialty may be coded in.
const (
	SNOMED            = "http://snomed.info/sct"
	PractitionerRoles = "http://terminology.hl7.org/CodeSystem/practitioner-role"
)

// Bounds of the claims.
const (
	MaxName    = 200
	MaxNumber  = 64
	MaxCode    = 64
	MaxDisplay = 200
	MaxDID     = 512
)

// ErrInvalid reports a credential that is not a well-formed licence.
var ErrInvalid = errors.New("not a valid practitioner licence")

// Code is a coded concept (FHIR Coding shape).
type Code struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

// Claims are a licence's credentialSubject without the subject id.
type Claims struct {
	Name          string `json:"name"`
	Profession    Code   `json:"profession"`
	Specialty     *Code  `json:"specialty,omitempty"`
	LicenceNumber string `json:"licenceNumber"`
	// Jurisdiction is where the licence is valid: an ISO 3166-1 alpha-2
	// country code, or a subdivision such as "US-CA".
	Jurisdiction string `json:"jurisdiction"`
	// Employer is the DID of the organisation the practitioner works for.
	Employer string `json:"employer,omitempty"`
}

// Licence is a parsed licence credential.
type Licence struct {
	Claims
	// Practitioner is the subject's DID; Issuer the licensing body's.
	Practitioner string
	Issuer       string
	ID           string
}

// Professions are the professions tools can name by a word, coded in
// SNOMED CT.
var Professions = map[string]Code{
	"doctor":     {SNOMED, "158965000", "Medical practitioner"},
	"nurse":      {SNOMED, "224535009", "Registered nurse"},
	"pharmacist": {SNOMED, "46255001", "Pharmacist"},
	"midwife":    {SNOMED, "309453006", "Registered midwife"},
	"dentist":    {SNOMED, "106289002", "Dentist"},
	"paramedic":  {SNOMED, "397897005", "Paramedic"},
}

// ProfessionWords lists the words of [Professions], sorted.
func ProfessionWords() []string {
	var out []string
	for w := range Professions {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// Validate checks the claims: a name, a coded profession (and specialty,
// when given) in SNOMED CT or the HL7 practitioner-role system, a licence
// number, a jurisdiction, and an employer DID when given.
func (c *Claims) Validate() error {
	if err := text(c.Name, MaxName); err != nil {
		return fmt.Errorf("%w: name %v", ErrInvalid, err)
	}
	if err := c.Profession.validate(); err != nil {
		return fmt.Errorf("%w: profession %v", ErrInvalid, err)
	}
	if c.Specialty != nil {
		if err := c.Specialty.validate(); err != nil {
			return fmt.Errorf("%w: specialty %v", ErrInvalid, err)
		}
	}
	if err := text(c.LicenceNumber, MaxNumber); err != nil {
		return fmt.Errorf("%w: licenceNumber %v", ErrInvalid, err)
	}
	if !validJurisdiction(c.Jurisdiction) {
		return fmt.Errorf("%w: jurisdiction %.16q: want an ISO 3166-1 alpha-2 code (GB) or a subdivision (US-CA)", ErrInvalid, c.Jurisdiction)
	}
	if c.Employer != "" && (!strings.HasPrefix(c.Employer, "did:") || len(c.Employer) > MaxDID) {
		return fmt.Errorf("%w: employer must be the DID of an organisation", ErrInvalid)
	}
	return nil
}

func (c *Code) validate() error {
	if c.System != SNOMED && c.System != PractitionerRoles {
		return fmt.Errorf("system %.80q: use %s or %s", c.System, SNOMED, PractitionerRoles)
	}
	if err := text(c.Code, MaxCode); err != nil {
		return fmt.Errorf("code %v", err)
	}
	return text(c.Display, MaxDisplay)
}

func text(s string, max int) error {
	if s == "" || len(s) > max || !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return fmt.Errorf("must be 1 to %d bytes of text without surrounding spaces", max)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		return errors.New("has control or invisible formatting characters")
	}
	return nil
}

func validJurisdiction(s string) bool {
	country, sub, _ := strings.Cut(s, "-")
	if len(country) != 2 || strings.ToUpper(country) != country || !isLetters(country) {
		return false
	}
	return !strings.Contains(s, "-") || (len(sub) >= 1 && len(sub) <= 3 && strings.ToUpper(sub) == sub)
}

func isLetters(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// Subject returns the credentialSubject of a licence for practitioner.
func (c *Claims) Subject(practitioner string) map[string]any {
	m := map[string]any{
		"id": practitioner, "name": c.Name, "licenceNumber": c.LicenceNumber, "jurisdiction": c.Jurisdiction,
		"profession": map[string]any{"system": c.Profession.System, "code": c.Profession.Code, "display": c.Profession.Display},
	}
	if c.Specialty != nil {
		m["specialty"] = map[string]any{"system": c.Specialty.System, "code": c.Specialty.Code, "display": c.Specialty.Display}
	}
	if c.Employer != "" {
		m["employer"] = c.Employer
	}
	return m
}

// FromCredential reads a licence from a credential (verified or not: it
// checks the shape only). The credential must be of [Type], with a subject
// DID and exactly the claims above; anything else is refused. Errors wrap
// [ErrInvalid].
func FromCredential(c *vc.Credential) (*Licence, error) {
	if c == nil || !c.HasType(Type) {
		return nil, fmt.Errorf("%w: the credential is not a %s", ErrInvalid, Type)
	}
	s := c.Subject
	allowed := []string{"id", "name", "profession", "specialty", "licenceNumber", "jurisdiction", "employer"}
	for k := range s {
		if !slices.Contains(allowed, k) {
			return nil, fmt.Errorf("%w: unexpected claim %.40q", ErrInvalid, k)
		}
	}
	str := func(k string) string { v, _ := s[k].(string); return v }
	l := &Licence{Practitioner: str("id"), Issuer: c.Issuer, ID: c.ID}
	if !strings.HasPrefix(l.Practitioner, "did:") || len(l.Practitioner) > MaxDID {
		return nil, fmt.Errorf("%w: credentialSubject.id must be the practitioner's DID", ErrInvalid)
	}
	l.Name, l.LicenceNumber, l.Jurisdiction, l.Employer = str("name"), str("licenceNumber"), str("jurisdiction"), str("employer")
	code := func(k string) (*Code, error) {
		m, ok := s[k].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: %s must be a coding {system, code, display}", ErrInvalid, k)
		}
		if len(m) != 3 {
			return nil, fmt.Errorf("%w: %s must have exactly system, code and display", ErrInvalid, k)
		}
		sys, _ := m["system"].(string)
		cd, _ := m["code"].(string)
		disp, _ := m["display"].(string)
		return &Code{sys, cd, disp}, nil
	}
	p, err := code("profession")
	if err != nil {
		return nil, err
	}
	l.Profession = *p
	if _, ok := s["specialty"]; ok {
		if l.Specialty, err = code("specialty"); err != nil {
			return nil, err
		}
	}
	if _, ok := s["employer"]; ok && l.Employer == "" {
		return nil, fmt.Errorf("%w: employer must be a DID", ErrInvalid)
	}
	if err := l.Claims.Validate(); err != nil {
		return nil, err
	}
	return l, nil
}
