package consent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// FHIR Consent.status values medid reads and writes.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
)

// ExtensionBreakGlass is the URL of the provision extension (valueBoolean)
// that carries a grant's break-glass flag: FHIR R4 has no element for it.
const ExtensionBreakGlass = "https://medid.dev/fhir/StructureDefinition/consent-break-glass"

// ExtensionAnchor is the URL of the Consent extension (valueUri) that
// carries a grant's anchor DID (see [Grant].Anchor): the did:key whose
// ledger anchor puts the grant in force.
const ExtensionAnchor = "https://medid.dev/fhir/StructureDefinition/consent-anchor"

// MaxFHIRSize bounds the FHIR Consent JSON [ParseFHIR] accepts (64 KiB).
const MaxFHIRSize = 64 << 10

// The FHIR R4 JSON shapes medid reads and writes (a subset of Consent).
type (
	fhirConsent struct {
		ResourceType string           `json:"resourceType"`
		Extension    []fhirExtension  `json:"extension,omitempty"`
		Identifier   []fhirIdentifier `json:"identifier,omitempty"`
		Status       string           `json:"status"`
		Scope        *fhirConcept     `json:"scope,omitempty"`
		Category     []fhirConcept    `json:"category,omitempty"`
		Patient      *fhirReference   `json:"patient,omitempty"`
		DateTime     string           `json:"dateTime,omitempty"`
		PolicyRule   *fhirConcept     `json:"policyRule,omitempty"`
		Provision    *fhirProvision   `json:"provision,omitempty"`
	}
	fhirProvision struct {
		Extension []fhirExtension `json:"extension,omitempty"`
		Type      string          `json:"type"`
		Period    *fhirPeriod     `json:"period,omitempty"`
		Actor     []fhirActor     `json:"actor,omitempty"`
		Action    []fhirConcept   `json:"action,omitempty"`
		Purpose   []fhirCoding    `json:"purpose,omitempty"`
		Class     []fhirCoding    `json:"class,omitempty"`
	}
	fhirExtension struct {
		URL          string  `json:"url"`
		ValueBoolean *bool   `json:"valueBoolean,omitempty"`
		ValueURI     *string `json:"valueUri,omitempty"`
	}
	fhirPeriod struct {
		Start string `json:"start,omitempty"`
		End   string `json:"end,omitempty"`
	}
	fhirActor struct {
		Role      fhirConcept   `json:"role"`
		Reference fhirReference `json:"reference"`
	}
	fhirReference struct {
		Reference  string          `json:"reference,omitempty"`
		Identifier *fhirIdentifier `json:"identifier,omitempty"`
	}
	fhirIdentifier struct {
		System string `json:"system,omitempty"`
		Value  string `json:"value,omitempty"`
	}
	fhirConcept struct {
		Coding []fhirCoding `json:"coding,omitempty"`
	}
	fhirCoding struct {
		System string `json:"system,omitempty"`
		Code   string `json:"code,omitempty"`
	}
)

func didRef(d string) *fhirReference {
	return &fhirReference{Identifier: &fhirIdentifier{System: SystemURI, Value: d}}
}

// MarshalFHIR writes g as a FHIR R4 Consent resource (JSON) with the given
// status ([StatusActive] or [StatusInactive], e.g. for a revoked grant):
// scope patient-privacy, category LOINC 59284-0, policyRule OPTIN, the
// patient and the provider as DID identifiers (system urn:ietf:rfc:3986),
// dateTime the issue time, and one permit provision with the period, the
// provider as actor (role IRCP, information recipient), the actions,
// purposes and classes, and the break-glass flag as the [ExtensionBreakGlass]
// extension; the anchor DID as the Consent's [ExtensionAnchor] extension
// (a grant not yet given an anchor exports without it). Errors wrap
// [ErrInvalidGrant].
func (g *Grant) MarshalFHIR(status string) ([]byte, error) {
	if status != StatusActive && status != StatusInactive {
		return nil, fmt.Errorf("%w: status %.32q: use %s or %s", ErrInvalidGrant, status, StatusActive, StatusInactive)
	}
	n := g.normalized()
	if err := n.validate(n.Anchor != ""); err != nil {
		return nil, err
	}
	bg := n.BreakGlass
	p := &fhirProvision{
		Extension: []fhirExtension{{URL: ExtensionBreakGlass, ValueBoolean: &bg}},
		Type:      "permit",
		Period:    &fhirPeriod{Start: n.ValidFrom.Format(time.RFC3339)},
		Actor: []fhirActor{{
			Role:      fhirConcept{Coding: []fhirCoding{{System: SystemParticipationType, Code: "IRCP"}}},
			Reference: *didRef(n.Provider),
		}},
	}
	if !n.ValidUntil.IsZero() {
		p.Period.End = n.ValidUntil.Format(time.RFC3339)
	}
	for _, a := range n.Actions {
		p.Action = append(p.Action, fhirConcept{Coding: []fhirCoding{{System: SystemAction, Code: string(a)}}})
	}
	for _, c := range n.Purposes {
		p.Purpose = append(p.Purpose, fhirCoding{System: SystemPurpose, Code: c})
	}
	for _, c := range n.Classes {
		p.Class = append(p.Class, fhirCoding{System: SystemResourceType, Code: c})
	}
	out := fhirConsent{
		ResourceType: "Consent",
		Status:       status,
		Scope:        &fhirConcept{Coding: []fhirCoding{{System: SystemScope, Code: "patient-privacy"}}},
		Category:     []fhirConcept{{Coding: []fhirCoding{{System: SystemLOINC, Code: "59284-0"}}}},
		Patient:      didRef(n.Patient),
		PolicyRule:   &fhirConcept{Coding: []fhirCoding{{System: SystemActCode, Code: "OPTIN"}}},
		Provision:    p,
	}
	if n.ID != "" {
		out.Identifier = []fhirIdentifier{{System: SystemURI, Value: n.ID}}
	}
	if n.Anchor != "" {
		anchor := n.Anchor
		out.Extension = []fhirExtension{{URL: ExtensionAnchor, ValueURI: &anchor}}
	}
	if !n.Issued.IsZero() {
		out.DateTime = n.Issued.Format(time.RFC3339)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ParseFHIR reads a FHIR R4 Consent resource (JSON) into a grant and returns
// its status ([StatusActive] or [StatusInactive]). It accepts what
// [Grant.MarshalFHIR] writes and Consents from other systems in the same
// shape: elements medid does not interpret (id, meta, text, …) are ignored;
// the ones it interprets must be right. Required: resourceType Consent,
// status active or inactive, scope patient-privacy, category LOINC 59284-0,
// a patient DID, and one permit provision with period.start (a full RFC 3339
// date-time), exactly one actor naming the provider's DID, and at least one
// action, purpose and class with known codes of the expected systems. The
// [ExtensionAnchor] extension, when present, must name a did:key; a Consent
// made by another system has none, and reads with Anchor empty: whoever
// issues it as a grant (the patient's wallet) makes its anchor DID first.
// Errors wrap [ErrInvalidGrant] and name the element to fix.
func ParseFHIR(data []byte) (*Grant, string, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: FHIR Consent: %s", ErrInvalidGrant, fmt.Sprintf(format, args...))
	}
	if len(data) > MaxFHIRSize {
		return nil, "", bad("%d bytes, the limit is %d", len(data), MaxFHIRSize)
	}
	var c fhirConsent
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, "", bad("not JSON of the Consent shape: %v", err)
	}
	if c.ResourceType != "Consent" {
		return nil, "", bad("resourceType %.32q, want Consent", c.ResourceType)
	}
	if c.Status != StatusActive && c.Status != StatusInactive {
		return nil, "", bad("status %.32q: medid imports active or inactive consents", c.Status)
	}
	if c.Scope == nil || !c.Scope.has(SystemScope, "patient-privacy") {
		return nil, "", bad("scope must be %s#patient-privacy", SystemScope)
	}
	cat := false
	for _, cc := range c.Category {
		cat = cat || cc.has(SystemLOINC, "59284-0")
	}
	if !cat {
		return nil, "", bad("category must include %s#59284-0 (Patient Consent)", SystemLOINC)
	}
	g := &Grant{}
	for _, e := range c.Extension {
		if e.URL == ExtensionAnchor {
			if e.ValueURI == nil {
				return nil, "", bad("extension %s needs valueUri (the grant's anchor did:key)", ExtensionAnchor)
			}
			g.Anchor = *e.ValueURI
		}
	}
	var err error
	if g.Patient, err = c.Patient.did("patient"); err != nil {
		return nil, "", bad("%v", err)
	}
	for _, id := range c.Identifier {
		if id.System == SystemURI && id.Value != "" {
			g.ID = id.Value
			break
		}
	}
	if c.DateTime != "" {
		if g.Issued, err = fhirTime("dateTime", c.DateTime); err != nil {
			return nil, "", bad("%v", err)
		}
	}
	p := c.Provision
	if p == nil {
		return nil, "", bad("provision is required")
	}
	if p.Type != "permit" {
		return nil, "", bad("provision.type %.32q: medid grants are permits", p.Type)
	}
	if p.Period == nil || p.Period.Start == "" {
		return nil, "", bad("provision.period.start is required")
	}
	if g.ValidFrom, err = fhirTime("provision.period.start", p.Period.Start); err != nil {
		return nil, "", bad("%v", err)
	}
	if p.Period.End != "" {
		if g.ValidUntil, err = fhirTime("provision.period.end", p.Period.End); err != nil {
			return nil, "", bad("%v", err)
		}
	}
	if len(p.Actor) != 1 {
		return nil, "", bad("provision.actor: want exactly one actor (the provider's DID), got %d", len(p.Actor))
	}
	if g.Provider, err = p.Actor[0].Reference.did("provision.actor[0].reference"); err != nil {
		return nil, "", bad("%v", err)
	}
	for i, a := range p.Action {
		code, err := a.code(SystemAction, fmt.Sprintf("provision.action[%d]", i))
		if err != nil {
			return nil, "", bad("%v", err)
		}
		g.Actions = append(g.Actions, Action(code))
	}
	for i, cd := range p.Purpose {
		if cd.System != SystemPurpose {
			return nil, "", bad("provision.purpose[%d]: system %.80q, want %s", i, cd.System, SystemPurpose)
		}
		g.Purposes = append(g.Purposes, cd.Code)
	}
	for i, cd := range p.Class {
		if cd.System != SystemResourceType {
			return nil, "", bad("provision.class[%d]: system %.80q, want %s", i, cd.System, SystemResourceType)
		}
		g.Classes = append(g.Classes, cd.Code)
	}
	for _, e := range p.Extension {
		if e.URL == ExtensionBreakGlass {
			if e.ValueBoolean == nil {
				return nil, "", bad("extension %s needs valueBoolean", ExtensionBreakGlass)
			}
			g.BreakGlass = *e.ValueBoolean
		}
	}
	if err := g.validate(g.Anchor != ""); err != nil {
		return nil, "", fmt.Errorf("FHIR Consent: %w", err)
	}
	return g, c.Status, nil
}

func (c *fhirConcept) has(system, code string) bool {
	for _, cd := range c.Coding {
		if cd.System == system && cd.Code == code {
			return true
		}
	}
	return false
}

// code returns the one code of system in c.
func (c *fhirConcept) code(system, field string) (string, error) {
	for _, cd := range c.Coding {
		if cd.System == system {
			return cd.Code, nil
		}
	}
	return "", fmt.Errorf("%s: no coding of system %s", field, system)
}

// did returns the DID a reference names: an identifier of system
// urn:ietf:rfc:3986 whose value is a DID, or a reference that is a DID.
func (r *fhirReference) did(field string) (string, error) {
	if r == nil {
		return "", fmt.Errorf("%s is required (a DID)", field)
	}
	if r.Identifier != nil && r.Identifier.System == SystemURI && strings.HasPrefix(r.Identifier.Value, "did:") {
		return r.Identifier.Value, nil
	}
	if strings.HasPrefix(r.Reference, "did:") {
		return r.Reference, nil
	}
	return "", fmt.Errorf("%s must name a DID (identifier.system %s, identifier.value did:…)", field, SystemURI)
}

// fhirTime parses a FHIR dateTime that medid can use as an instant: a full
// RFC 3339 date-time with a time zone (FHIR also allows partial dates, which
// are not precise enough for a consent period).
func fhirTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %.40q must be a full date-time with a time zone, e.g. 2026-03-01T00:00:00Z", field, s)
	}
	return t.UTC(), nil
}
