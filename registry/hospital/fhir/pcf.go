package fhir

import (
	"encoding/json"
	"fmt"

	"github.com/medid/medid/credentials/consent"
)

// IHE Privacy Consent on FHIR (PCF) names.
const (
	// ProfilePCFConsent is the canonical URL of the IHE PCF Consent profile.
	ProfilePCFConsent = "https://profiles.ihe.net/ITI/PCF/StructureDefinition/IHE.PCF.consent"
	// PolicyConsentGrant identifies the policy a medid grant is made
	// under: the patient permits what the provision lists and nothing else.
	PolicyConsentGrant = "https://medid.dev/fhir/policy/consent-grant"
	// SystemConsentHash is the identifier system of a grant's ledger
	// anchor: the hex SHA-256 of its token.
	SystemConsentHash = "https://medid.dev/fhir/NamingSystem/consent-grant-sha256"
)

// ConsentPCF exports a consent grant as an IHE PCF Consent: the FHIR
// Consent that consent.Grant.MarshalFHIR writes (status, scope
// patient-privacy, category LOINC 59284-0, the patient and the provider
// as DID identifiers, the permit provision with period, actions,
// purposes, classes and the break-glass extension), plus the PCF profile
// in meta, the logical id (a FHIR id, may be ""), the patient's
// Patient/{id} on this server when p.ID is set, dateTime (the grant's
// issue time, or validFrom when unknown), the policy URI, and the grant's
// ledger hash as an identifier when hash is set. The result is checked
// with [Validate]. status is consent.StatusActive or
// consent.StatusInactive (a revoked grant).
func ConsentPCF(g *consent.Grant, status, id string, p Patient, hash string) ([]byte, error) {
	if id != "" && !ValidID(id) {
		return nil, fmt.Errorf("fhir.ConsentPCF: id %q is not a FHIR id", id)
	}
	base, err := g.MarshalFHIR(status)
	if err != nil {
		return nil, err
	}
	var c map[string]any
	if err := json.Unmarshal(base, &c); err != nil {
		return nil, err
	}
	if id != "" {
		c["id"] = id
	}
	c["meta"] = map[string]any{"profile": []string{ProfilePCFConsent}}
	if p.ID != "" {
		if pt, ok := c["patient"].(map[string]any); ok {
			pt["reference"] = "Patient/" + p.ID
		}
	}
	if _, ok := c["dateTime"]; !ok {
		c["dateTime"] = g.ValidFrom.UTC().Format("2006-01-02T15:04:05Z07:00")
	}
	c["policy"] = []map[string]any{{"uri": PolicyConsentGrant}}
	if hash != "" {
		ids, _ := c["identifier"].([]any)
		c["identifier"] = append(ids, map[string]any{"system": SystemConsentHash, "value": hash})
	}
	out, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	if err := Validate(out); err != nil {
		return nil, fmt.Errorf("fhir.ConsentPCF: %w", err)
	}
	return out, nil
}
