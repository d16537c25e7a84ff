// Package fhir is the FHIR R4 (4.0.1) layer of a hospital's vault: it reads
// and checks what an EHR writes, and writes what the vault serves, in FHIR
// R4 JSON exactly.
//
// The resource model, the JSON parser and the JSON writer are Google's
// FHIR protocol buffers (github.com/google/fhir/go, jsonformat): they know
// every R4 element, its cardinality, the codes of every required binding
// on a code element, primitive formats, primitive extensions (_birthDate)
// and decimal precision, and they refuse unknown elements.
// docs/design/0017-fhir-smart-cds-hooks.md says why this library and not
// another.
//
// On top of the library this package adds what a patient-held vault needs:
//
//   - [ParseResource] and [ParseTransaction] check a write is for exactly
//     one patient: the element that names the record's patient is present
//     and names them, and no reference anywhere in the resource (contained
//     resources included) points at another patient;
//   - required bindings on CodeableConcept elements and the invariants the
//     library does not check (ait-1, ait-2, con-4, con-5, obs-6,
//     obs-7, ppc-1) for the supported types ([Types]);
//   - size limits ([MaxResourceSize], [MaxBundleSize], [MaxBundleEntries]);
//   - [ParseSearch] reads the search parameters the vault supports, always
//     scoped to one patient, and [Pager] seals paging cursors so that a
//     cursor cannot be pointed at another patient or used by another client;
//   - errors are [*Error]s that render as an OperationOutcome ([Error.Outcome])
//     naming the element and the rule, never the value that was sent;
//   - [Capability] writes the CapabilityStatement from the same tables the
//     parsers use, so it cannot claim more than the server does.
package fhir
