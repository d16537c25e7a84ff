// Package balp writes the vault's access events as FHIR R4 AuditEvents
// shaped by IHE Basic Audit Log Patterns (BALP, ITI.BasicAudit): the
// RESTful patient read, query, create, update and delete profiles, with
// the requesting client and the vault as agents, the vault as observer,
// the patient and the record as entities, the purpose of use, and the
// outcome. A break-glass access adds the DICOM subtype 110127
// "Emergency Override Started" with purpose ETREAT; the consent grant a
// decision rests on is an entity identified by its ledger hash.
//
// The package takes an [Access] as input and knows nothing of how the
// trail stores entries: the vault fills an Access from its decision.
package balp

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/registry/hospital/fhir"
)

// Action is the RESTful interaction audited.
type Action string

// The interactions BALP has a patient profile for.
const (
	ActionRead   Action = "read"
	ActionQuery  Action = "query"
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
)

// profiles maps an action to its BALP profile, its restful-interaction
// subtype and its AuditEvent.action code.
var profiles = map[Action]struct{ profile, subtype, code string }{
	ActionRead:   {"IHE.BasicAudit.PatientRead", "read", "R"},
	ActionQuery:  {"IHE.BasicAudit.PatientQuery", "search-type", "E"},
	ActionCreate: {"IHE.BasicAudit.PatientCreate", "create", "C"},
	ActionUpdate: {"IHE.BasicAudit.PatientUpdate", "update", "U"},
	ActionDelete: {"IHE.BasicAudit.PatientDelete", "delete", "D"},
}

// ProfileBase is the canonical base of the BALP profiles.
const ProfileBase = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/"

// Code systems.
const (
	SystemAuditEventType     = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	SystemRestfulInteraction = "http://hl7.org/fhir/restful-interaction"
	SystemDCM                = "http://dicom.nema.org/resources/ontology/DCM"
	SystemEntityType         = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	SystemObjectRole         = "http://terminology.hl7.org/CodeSystem/object-role"
	SystemSourceType         = "http://terminology.hl7.org/CodeSystem/security-source-type"
)

// DCMEmergencyOverride is DICOM 110127 "Emergency Override Started".
const DCMEmergencyOverride = "110127"

// Access is one access attempt on a patient's data at the vault.
type Access struct {
	// ID is the AuditEvent's logical id (a FHIR id; optional).
	ID string
	// Time is when the attempt was decided. Required.
	Time time.Time
	// Action is the interaction. Required.
	Action Action
	// Client is the DID of the requesting system (the SMART client);
	// ClientName its name from the directory, when known. One of them is
	// required: an unauthenticated attempt has no DID (a claimed identity
	// is never recorded as fact) and is named by ClientName alone.
	Client, ClientName string
	// Server is the vault's DID; ServerName its name. Required.
	Server, ServerName string
	// Patient is whose data it is. Patient.DID is required.
	Patient fhir.Patient
	// Record is "{type}/{id}" of the resource read, created, updated or
	// deleted ("" when there is none, e.g. a refused create).
	Record string
	// Query is the query string of a search (ActionQuery).
	Query string
	// Purpose is the HL7 v3 PurposeOfUse of the request ("" if none).
	Purpose string
	// Granted is the outcome; Reason says why it was refused (or the
	// emergency reason), without health data.
	Granted bool
	Reason  string
	// BreakGlass marks an emergency override.
	BreakGlass bool
	// Consent is the hex SHA-256 of the consent grant the decision used.
	Consent string
}

type (
	coding struct {
		System  string `json:"system"`
		Code    string `json:"code"`
		Display string `json:"display,omitempty"`
	}
	concept struct {
		Coding []coding `json:"coding"`
	}
	identifier struct {
		System string `json:"system"`
		Value  string `json:"value"`
	}
	reference struct {
		Reference  string      `json:"reference,omitempty"`
		Identifier *identifier `json:"identifier,omitempty"`
		Display    string      `json:"display,omitempty"`
	}
	agent struct {
		Type      concept   `json:"type"`
		Who       reference `json:"who"`
		Requestor bool      `json:"requestor"`
	}
	entity struct {
		What  *reference `json:"what,omitempty"`
		Type  *coding    `json:"type,omitempty"`
		Role  *coding    `json:"role,omitempty"`
		Query string     `json:"query,omitempty"`
	}
	source struct {
		Observer reference `json:"observer"`
		Type     []coding  `json:"type"`
	}
	auditEvent struct {
		ResourceType   string    `json:"resourceType"`
		ID             string    `json:"id,omitempty"`
		Meta           meta      `json:"meta"`
		Type           coding    `json:"type"`
		Subtype        []coding  `json:"subtype"`
		Action         string    `json:"action"`
		Recorded       string    `json:"recorded"`
		Outcome        string    `json:"outcome"`
		OutcomeDesc    string    `json:"outcomeDesc,omitempty"`
		PurposeOfEvent []concept `json:"purposeOfEvent,omitempty"`
		Agent          []agent   `json:"agent"`
		Source         source    `json:"source"`
		Entity         []entity  `json:"entity"`
	}
	meta struct {
		Profile []string `json:"profile"`
	}
)

func didRef(d, display string) reference {
	if d == "" {
		return reference{Display: display}
	}
	return reference{Identifier: &identifier{System: fhir.SystemURI, Value: d}, Display: display}
}

// AuditEvent writes a as a FHIR R4 AuditEvent of the BALP profile of its
// action. Errors name a missing or bad field of a.
func AuditEvent(a Access) ([]byte, error) {
	p, ok := profiles[a.Action]
	switch {
	case !ok:
		return nil, fmt.Errorf("balp: unknown action %q", a.Action)
	case a.Time.IsZero() || (a.Client == "" && a.ClientName == "") || a.Server == "" || a.Patient.DID == "":
		return nil, errors.New("balp: Time, Client (or ClientName), Server and Patient.DID are required")
	case a.ID != "" && !fhir.ValidID(a.ID):
		return nil, fmt.Errorf("balp: id %q is not a FHIR id", a.ID)
	case a.Purpose != "" && !consent.KnownPurpose(a.Purpose):
		return nil, fmt.Errorf("balp: purpose %q is not a PurposeOfUse code", a.Purpose)
	}
	ev := auditEvent{ResourceType: "AuditEvent", ID: a.ID, Meta: meta{Profile: []string{ProfileBase + p.profile}},
		Type:     coding{SystemAuditEventType, "rest", "Restful Operation"},
		Subtype:  []coding{{SystemRestfulInteraction, p.subtype, p.subtype}},
		Action:   p.code,
		Recorded: a.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		Outcome:  "0",
		Agent: []agent{
			{Type: concept{[]coding{{SystemDCM, "110153", "Source Role ID"}}}, Who: didRef(a.Client, a.ClientName), Requestor: true},
			{Type: concept{[]coding{{SystemDCM, "110152", "Destination Role ID"}}}, Who: didRef(a.Server, a.ServerName)},
		},
		Source: source{Observer: didRef(a.Server, a.ServerName), Type: []coding{{SystemSourceType, "4", "Application Server"}}},
	}
	if !a.Granted {
		ev.Outcome = "4"
	}
	ev.OutcomeDesc = a.Reason
	purpose := a.Purpose
	if a.BreakGlass {
		ev.Subtype = append(ev.Subtype, coding{SystemDCM, DCMEmergencyOverride, "Emergency Override Started"})
		purpose = consent.PurposeEmergencyTreatment
	}
	if purpose != "" {
		ev.PurposeOfEvent = []concept{{[]coding{{consent.SystemPurpose, purpose, ""}}}}
	}
	pat := didRef(a.Patient.DID, "")
	if a.Patient.ID != "" {
		pat.Reference = "Patient/" + a.Patient.ID
	}
	ev.Entity = append(ev.Entity, entity{What: &pat, Type: &coding{SystemEntityType, "1", "Person"}, Role: &coding{SystemObjectRole, "1", "Patient"}})
	if a.Record != "" && a.Record != "Patient/"+a.Patient.ID {
		ev.Entity = append(ev.Entity, entity{What: &reference{Reference: a.Record}, Type: &coding{SystemEntityType, "2", "System Object"}, Role: &coding{SystemObjectRole, "4", "Domain Resource"}})
	}
	if a.Action == ActionQuery {
		ev.Entity = append(ev.Entity, entity{Type: &coding{SystemEntityType, "2", "System Object"}, Role: &coding{SystemObjectRole, "24", "Query"},
			Query: base64.StdEncoding.EncodeToString([]byte(a.Query))})
	}
	if a.Consent != "" {
		ev.Entity = append(ev.Entity, entity{What: &reference{Identifier: &identifier{fhir.SystemConsentHash, a.Consent}, Display: "consent grant"},
			Type: &coding{"http://hl7.org/fhir/resource-types", "Consent", "Consent"}, Role: &coding{SystemObjectRole, "13", "Security Resource"}})
	}
	return json.Marshal(ev)
}

// Collection writes AuditEvents (each FHIR JSON, e.g. from [AuditEvent])
// as a FHIR R4 Bundle of type collection, each entry with a urn:uuid
// fullUrl derived from its position, stamped at.
func Collection(events []json.RawMessage, at time.Time) ([]byte, error) {
	type entry struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
	}
	out := struct {
		ResourceType string  `json:"resourceType"`
		Type         string  `json:"type"`
		Timestamp    string  `json:"timestamp"`
		Entry        []entry `json:"entry,omitempty"`
	}{ResourceType: "Bundle", Type: "collection", Timestamp: at.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
	for i, e := range events {
		out.Entry = append(out.Entry, entry{FullURL: fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012x", i+1), Resource: e})
	}
	return json.Marshal(out)
}
