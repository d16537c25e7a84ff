package vc

import (
	_ "embed"
	"slices"
)

// ContextMedid is the URL of medid's JSON-LD context: it defines every term
// medid credentials use beyond VC 2.0's own (the credential types, the
// FHIR-shaped clinical claims such as code, criticality, vaccineCode and
// occurrenceDateTime, the consent grant's action, purpose and class), and
// maps any other claim an issuer adds into medid's vocabulary with
// @vocab, so a JSON-LD processor in safe mode expands every credential
// medid issues without error (VC 2.0 §5.2). Verifiers MUST NOT fetch it:
// [MedidContext] is the document, and the registry serves the same bytes.
const ContextMedid = "https://w3id.org/medid/v1"

//go:embed contexts/medid-v1.jsonld
var medidContext []byte

// MedidContext returns the JSON-LD context document at [ContextMedid].
func MedidContext() []byte { return slices.Clone(medidContext) }

// CredentialContext returns the @context of a credential medid issues:
// [ContextV2], then [ContextMedid].
func CredentialContext() []string { return []string{ContextV2, ContextMedid} }
