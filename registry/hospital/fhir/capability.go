package fhir

import (
	"encoding/json"
	"errors"
	"time"
)

// Interactions a server may declare per type (FHIR restful-interaction).
const (
	InteractionRead   = "read"
	InteractionSearch = "search-type"
	InteractionCreate = "create"
	InteractionUpdate = "update"
	InteractionDelete = "delete"
)

// CapabilityConfig says what a server serves; [Capability] states exactly
// that and nothing more.
type CapabilityConfig struct {
	// Base is the FHIR base URL (…/fhir). Required.
	Base string
	// Description names the implementation ("medid vault of St Mary").
	Description string
	// Software and SoftwareVersion name the software (optional).
	Software, SoftwareVersion string
	// Date is when the statement was made (the server's start time).
	Date time.Time
	// Types are the resource types served (default [Types]); each must be
	// one of [Types].
	Types []string
	// Interactions are the type-level interactions served for every type
	// (Interaction* constants).
	Interactions []string
	// TypeInteractions overrides Interactions for the types it names.
	TypeInteractions map[string][]string
	// Transaction is true when POST {base} takes transaction Bundles.
	Transaction bool
	// TokenURL is the SMART Backend Services token endpoint; when set the
	// statement declares the SMART-on-FHIR security service and the
	// oauth-uris extension.
	TokenURL string
}

// Capability writes the FHIR R4 CapabilityStatement (kind instance) of a
// server configured by cfg: its types, their interactions, the search
// parameters [ParseSearch] accepts for each, the transaction interaction
// and the SMART security service. Errors report a missing Base or a type
// this package does not support.
func Capability(cfg CapabilityConfig) ([]byte, error) {
	if cfg.Base == "" {
		return nil, errors.New("fhir.Capability: Base is required")
	}
	types := cfg.Types
	if len(types) == 0 {
		types = Types
	}
	type code struct {
		Code string `json:"code"`
	}
	type coding struct {
		System string `json:"system"`
		Code   string `json:"code"`
	}
	type ext struct {
		URL      string `json:"url"`
		ValueURI string `json:"valueUri,omitempty"`
		Ext      []ext  `json:"extension,omitempty"`
	}
	type searchParam struct {
		Name          string `json:"name"`
		Definition    string `json:"definition,omitempty"`
		Type          string `json:"type"`
		Documentation string `json:"documentation,omitempty"`
	}
	type resource struct {
		Type              string        `json:"type"`
		Interaction       []code        `json:"interaction"`
		Versioning        string        `json:"versioning"`
		ReadHistory       bool          `json:"readHistory"`
		UpdateCreate      bool          `json:"updateCreate"`
		ConditionalCreate bool          `json:"conditionalCreate"`
		ConditionalRead   string        `json:"conditionalRead"`
		ConditionalUpdate bool          `json:"conditionalUpdate"`
		ConditionalDelete string        `json:"conditionalDelete"`
		SearchParam       []searchParam `json:"searchParam,omitempty"`
	}
	type security struct {
		Extension []ext `json:"extension,omitempty"`
		Service   []struct {
			Coding []coding `json:"coding"`
		} `json:"service,omitempty"`
		Description string `json:"description,omitempty"`
	}
	type rest struct {
		Mode        string     `json:"mode"`
		Security    *security  `json:"security,omitempty"`
		Resource    []resource `json:"resource"`
		Interaction []code     `json:"interaction,omitempty"`
	}
	type software struct {
		Name    string `json:"name"`
		Version string `json:"version,omitempty"`
	}
	type impl struct {
		Description string `json:"description"`
		URL         string `json:"url"`
	}
	desc := cfg.Description
	if desc == "" {
		desc = "medid record vault (FHIR R4)"
	}
	out := struct {
		ResourceType   string    `json:"resourceType"`
		Status         string    `json:"status"`
		Date           string    `json:"date"`
		Kind           string    `json:"kind"`
		Software       *software `json:"software,omitempty"`
		Implementation impl      `json:"implementation"`
		FhirVersion    string    `json:"fhirVersion"`
		Format         []string  `json:"format"`
		Rest           []rest    `json:"rest"`
	}{ResourceType: "CapabilityStatement", Status: "active", Kind: "instance", FhirVersion: Version,
		Format: []string{"json", "application/fhir+json"}, Implementation: impl{Description: desc, URL: cfg.Base}}
	date := cfg.Date
	if date.IsZero() {
		date = time.Now()
	}
	out.Date = date.UTC().Format(time.RFC3339)
	if cfg.Software != "" {
		out.Software = &software{cfg.Software, cfg.SoftwareVersion}
	}
	r := rest{Mode: "server"}
	if cfg.TokenURL != "" {
		s := &security{Description: "SMART App Launch 2.2 Backend Services: client_credentials with a private_key_jwt assertion signed by a key of the client's DID; SMART v2 scopes; every read is also checked against the patient's consent.",
			Extension: []ext{{URL: "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris", Ext: []ext{{URL: "token", ValueURI: cfg.TokenURL}}}}}
		s.Service = append(s.Service, struct {
			Coding []coding `json:"coding"`
		}{[]coding{{"http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR"}}})
		r.Security = s
	}
	for _, t := range types {
		if !Supported(t) {
			return nil, errors.New("fhir.Capability: unsupported type " + t)
		}
		res := resource{Type: t, Versioning: "versioned", ConditionalRead: "not-supported", ConditionalDelete: "not-supported"}
		ins := cfg.Interactions
		if o, ok := cfg.TypeInteractions[t]; ok {
			ins = o
		}
		for _, in := range ins {
			res.Interaction = append(res.Interaction, code{in})
			if in == InteractionSearch {
				for _, p := range SearchParams(t) {
					res.SearchParam = append(res.SearchParam, searchParam{p.Name, p.Definition, p.Type, p.Documentation})
				}
			}
		}
		r.Resource = append(r.Resource, res)
	}
	if cfg.Transaction {
		r.Interaction = []code{{"transaction"}}
	}
	out.Rest = []rest{r}
	return json.Marshal(out)
}
