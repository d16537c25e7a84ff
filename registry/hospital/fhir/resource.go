package fhir

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	dpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	patpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/patient_go_proto"
)

// Size limits of what this package parses.
const (
	// MaxResourceSize bounds one resource's JSON (the vault's record limit).
	MaxResourceSize = 1 << 20
	// MaxBundleSize bounds a transaction Bundle's JSON.
	MaxBundleSize = 4 << 20
	// MaxBundleEntries bounds the entries of a transaction Bundle.
	MaxBundleEntries = 100
)

// SystemURI is the identifier system of a DID: medid names patients and
// providers in FHIR by identifiers {system: urn:ietf:rfc:3986, value: did:…}.
const SystemURI = "urn:ietf:rfc:3986"

// Types are the resource types the vault stores and serves, in the order
// the CapabilityStatement lists them.
var Types = []string{
	"Patient", "AllergyIntolerance", "Immunization", "MedicationStatement", "Condition",
	"Observation", "DiagnosticReport", "DocumentReference", "Consent", "AuditEvent",
}

// subjectField is the element (proto field name) that names a record's
// patient: required by the vault for every type but Patient itself and
// AuditEvent (whose patient is an entity).
var subjectField = map[string]string{
	"AllergyIntolerance":  "patient",
	"Immunization":        "patient",
	"MedicationStatement": "subject",
	"Condition":           "subject",
	"Observation":         "subject",
	"DiagnosticReport":    "subject",
	"DocumentReference":   "subject",
	"Consent":             "patient",
}

// SubjectElement returns the FHIR element naming a record's patient for a
// supported type ("patient" or "subject"), "" for Patient and AuditEvent.
func SubjectElement(typ string) string { return subjectField[typ] }

// Supported reports whether typ is one of [Types].
func Supported(typ string) bool { return slices.Contains(Types, typ) }

// Patient is the one patient a write or a search is for: their DID and,
// once the vault has given them one, the logical id of their Patient
// resource on this server.
type Patient struct {
	// ID is the logical id of the Patient resource ("" when the server has
	// none yet: then only DID identifiers can name the patient).
	ID string
	// DID is the patient's DID. Required.
	DID string
}

// Coding is a code and its system.
type Coding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

// Resource is a parsed, validated FHIR R4 resource of one of [Types].
// Its methods are not safe for concurrent use with its setters.
type Resource struct {
	typ string
	cr  *bcrpb.ContainedResource
	res protoreflect.Message
}

// Type returns the resource type ("AllergyIntolerance").
func (r *Resource) Type() string { return r.typ }

// ID returns the resource's logical id ("" when it has none).
func (r *Resource) ID() string {
	if v, ok := r.res.Interface().(interface{ GetId() *dpb.Id }); ok {
		return v.GetId().GetValue()
	}
	return ""
}

// SetID sets the logical id. The caller assigns ids: it MUST give one
// matching [A-Za-z0-9\-\.]{1,64}.
func (r *Resource) SetID(id string) {
	fd := r.res.Descriptor().Fields().ByName("id")
	r.res.Set(fd, protoreflect.ValueOfMessage((&dpb.Id{Value: id}).ProtoReflect()))
}

// SetMeta sets meta.versionId and meta.lastUpdated (to the millisecond,
// UTC), keeping the rest of meta.
func (r *Resource) SetMeta(versionID string, lastUpdated time.Time) {
	fd := r.res.Descriptor().Fields().ByName("meta")
	var meta *dpb.Meta
	if r.res.Has(fd) {
		meta = r.res.Get(fd).Message().Interface().(*dpb.Meta)
	} else {
		meta = &dpb.Meta{}
	}
	meta.VersionId = &dpb.Id{Value: versionID}
	meta.LastUpdated = instant(lastUpdated)
	r.res.Set(fd, protoreflect.ValueOfMessage(meta.ProtoReflect()))
}

func instant(t time.Time) *dpb.Instant {
	return &dpb.Instant{ValueUs: t.UTC().Truncate(time.Millisecond).UnixMicro(), Timezone: "Z", Precision: dpb.Instant_MILLISECOND}
}

// JSON returns the resource as FHIR R4 JSON.
func (r *Resource) JSON() ([]byte, error) { return encode(r.cr) }

// Categories returns the codings of the resource's category element
// (what SMART granular scopes such as patient/Observation.rs?category=…
// select on); nil for types without one.
func (r *Resource) Categories() []Coding {
	fd := r.res.Descriptor().Fields().ByName("category")
	if fd == nil || !r.res.Has(fd) {
		return nil
	}
	var out []Coding
	add := func(v protoreflect.Value) {
		switch m := v.Message().Interface().(type) {
		case *dpb.CodeableConcept:
			for _, c := range m.GetCoding() {
				out = append(out, Coding{c.GetSystem().GetValue(), c.GetCode().GetValue()})
			}
		default: // a code element bound to a value set (AllergyIntolerance.category)
			if code := enumCode(v.Message()); code != "" {
				out = append(out, Coding{categorySystem[r.typ], code})
			}
		}
	}
	if fd.IsList() {
		l := r.res.Get(fd).List()
		for i := 0; i < l.Len(); i++ {
			add(l.Get(i))
		}
	} else {
		add(r.res.Get(fd))
	}
	return out
}

var categorySystem = map[string]string{"AllergyIntolerance": "http://hl7.org/fhir/allergy-intolerance-category"}

// enumCode returns the FHIR code of a code message holding an enum value
// (FOOD -> food, ENTERED_IN_ERROR -> entered-in-error).
func enumCode(m protoreflect.Message) string {
	fd := m.Descriptor().Fields().ByName("value")
	if fd == nil || fd.Kind() != protoreflect.EnumKind {
		return ""
	}
	ev := fd.Enum().Values().ByNumber(m.Get(fd).Enum())
	if ev == nil || ev.Number() == 0 {
		return ""
	}
	return strings.ReplaceAll(strings.ToLower(string(ev.Name())), "_", "-")
}

// ParseResource parses data as a FHIR R4 resource of one of [Types] and
// checks it for a write for patient p: everything the library checks
// (see the package documentation), the element naming the record's
// patient present and naming p, no reference to another patient, no
// contained Patient, no modifierExtension or implicitRules (whose meaning
// the vault cannot know), required CodeableConcept bindings and the
// invariants listed in the package documentation. Errors are [*Error]s.
func ParseResource(data []byte, p Patient) (*Resource, error) {
	if len(data) > MaxResourceSize {
		return nil, Errorf(http.StatusRequestEntityTooLarge, ErrTooLarge, IssueTooLong, "", "the resource is %d bytes, the limit is %d", len(data), MaxResourceSize)
	}
	if p.DID == "" {
		return nil, fmt.Errorf("fhir.ParseResource: the patient's DID is required")
	}
	cr, ferr := decode(data)
	if ferr != nil {
		return nil, ferr
	}
	r, ferr := check(cr, &refs{p: p})
	if ferr != nil {
		return nil, ferr
	}
	return r, nil
}

// ReadStored parses a resource the vault stored after [ParseResource] or
// [ParseTransaction] accepted it: the library's checks only, to read
// elements such as [Resource.Categories]. Errors are [*Error]s.
func ReadStored(data []byte) (*Resource, error) {
	cr, ferr := decode(data)
	if ferr != nil {
		return nil, ferr
	}
	res := resourceOf(cr)
	return &Resource{typ: string(res.Descriptor().Name()), cr: cr, res: res}, nil
}

// check runs the vault's checks on a decoded resource.
func check(cr *bcrpb.ContainedResource, c *refs) (*Resource, *Error) {
	res := resourceOf(cr)
	typ := string(res.Descriptor().Name())
	if !Supported(typ) {
		return nil, Errorf(http.StatusBadRequest, ErrUnsupported, IssueNotSupported, typ, "this server stores %s only", strings.Join(Types, ", "))
	}
	r := &Resource{typ: typ, cr: cr, res: res}
	if err := c.subject(r); err != nil {
		return nil, err
	}
	if err := c.walk(res, typ); err != nil {
		return nil, err
	}
	if err := checkBindings(r); err != nil {
		return nil, err
	}
	return r, nil
}

// refs checks the references of a write for one patient.
type refs struct {
	p Patient
	// patientURL is the fullUrl of the Bundle entry holding the patient's
	// Patient resource; local the fullUrls of the other entries.
	patientURL string
	local      map[string]bool
}

const refName = "google.fhir.r4.core.Reference"

// subject checks the element naming the record's patient.
func (c *refs) subject(r *Resource) *Error {
	switch r.typ {
	case "Patient":
		return c.patientResource(r)
	case "AuditEvent":
		fd := r.res.Descriptor().Fields().ByName("entity")
		l := r.res.Get(fd).List()
		for i := 0; i < l.Len(); i++ {
			e := l.Get(i).Message()
			wfd := e.Descriptor().Fields().ByName("what")
			if e.Has(wfd) && c.isPatient(e.Get(wfd).Message().Interface().(*dpb.Reference)) {
				return nil
			}
		}
		return otherPatient("AuditEvent.entity", "an AuditEvent stored for a patient needs an entity whose what is the patient")
	}
	name := subjectField[r.typ]
	fd := r.res.Descriptor().Fields().ByName(protoreflect.Name(name))
	path := r.typ + "." + name
	if !r.res.Has(fd) {
		return Errorf(http.StatusUnprocessableEntity, ErrInvalid, IssueRequired, path, "the record's patient is required")
	}
	ref := r.res.Get(fd).Message().Interface().(*dpb.Reference)
	if !c.isPatient(ref) {
		return otherPatient(path, "must be the patient this write is for (Patient/{id} of this server, or an identifier with system %s and the patient's DID)", SystemURI)
	}
	return nil
}

// patientResource checks a Patient resource is the patient's own: its id
// (when set and known) and a DID identifier.
func (c *refs) patientResource(r *Resource) *Error {
	pt := r.res.Interface().(*patpb.Patient)
	if id := pt.GetId().GetValue(); id != "" && c.p.ID != "" && id != c.p.ID {
		return otherPatient("Patient.id", "is not the id of the patient this write is for")
	}
	found := false
	for i, idf := range pt.GetIdentifier() {
		if idf.GetSystem().GetValue() != SystemURI || !strings.HasPrefix(idf.GetValue().GetValue(), "did:") {
			continue
		}
		if idf.GetValue().GetValue() != c.p.DID {
			return otherPatient(fmt.Sprintf("Patient.identifier[%d]", i), "names another patient's DID")
		}
		found = true
	}
	if !found {
		return Errorf(http.StatusUnprocessableEntity, ErrInvalid, IssueRequired, "Patient.identifier", "needs the patient's DID as an identifier with system %s", SystemURI)
	}
	return nil
}

// isPatient reports whether ref names the patient.
func (c *refs) isPatient(ref *dpb.Reference) bool {
	kind, _ := c.classify(ref)
	return kind == refPatient
}

type refKind int

const (
	refNone         refKind = iota // names nothing checkable (display only)
	refPatient                     // the patient
	refOtherPatient                // another (or an unverifiable) patient
	refLocal                       // another entry of the Bundle, or contained
	refOther                       // a resource that is not a Patient
	refDangling                    // a urn:uuid or urn:oid that no entry has
)

// classify says what a reference points at.
func (c *refs) classify(ref *dpb.Reference) (refKind, string) {
	idKind := refNone
	if idf := ref.GetIdentifier(); idf != nil && idf.GetSystem().GetValue() == SystemURI && strings.HasPrefix(idf.GetValue().GetValue(), "did:") {
		idKind = refOther
		if idf.GetValue().GetValue() == c.p.DID {
			idKind = refPatient
		} else if t := ref.GetType().GetValue(); t == "Patient" || t == "http://hl7.org/fhir/StructureDefinition/Patient" {
			idKind = refOtherPatient
		}
	} else if ref.GetIdentifier() != nil {
		if t := ref.GetType().GetValue(); t == "Patient" || t == "http://hl7.org/fhir/StructureDefinition/Patient" {
			idKind = refOtherPatient // a patient identifier the vault cannot tie to the patient
		}
	}
	lit := refNone
	switch {
	case ref.GetPatientId() != nil:
		lit = refOtherPatient
		if c.p.ID != "" && ref.GetPatientId().GetValue() == c.p.ID {
			lit = refPatient
		}
	case ref.GetUri() != nil:
		u := ref.GetUri().GetValue()
		switch {
		case strings.HasPrefix(u, "urn:uuid:") || strings.HasPrefix(u, "urn:oid:"):
			switch {
			case u == c.patientURL && u != "":
				lit = refPatient
			case c.local[u]:
				lit = refLocal
			default:
				lit = refDangling
			}
		case strings.HasPrefix(u, "Patient") || strings.Contains(u, "/Patient/") || strings.Contains(u, "/Patient?"):
			// An absolute or conditional Patient reference the vault cannot
			// tie to the patient.
			lit = refOtherPatient
		default:
			lit = refOther
		}
	case ref.GetFragment() != nil:
		lit = refLocal
	default:
		if reflectLiteral(ref) {
			lit = refOther
		}
	}
	switch {
	case lit == refOtherPatient || idKind == refOtherPatient:
		return refOtherPatient, ""
	case lit == refDangling:
		return refDangling, ""
	case lit == refPatient && idKind == refOther:
		return refOtherPatient, "" // a literal naming the patient with another DID
	case lit == refPatient || (lit == refNone && idKind == refPatient):
		return refPatient, ""
	case lit != refNone:
		return lit, ""
	}
	return idKind, ""
}

// reflectLiteral reports whether a typed resource id (Practitioner/1, …)
// is set in the reference's oneof.
func reflectLiteral(ref *dpb.Reference) bool {
	m := ref.ProtoReflect()
	od := m.Descriptor().Oneofs().ByName("reference")
	return od != nil && m.WhichOneof(od) != nil
}

// walk visits every element of m (contained resources included) and
// checks references, modifier extensions and implicit rules.
func (c *refs) walk(m protoreflect.Message, path string) *Error {
	if m.Descriptor().FullName() == refName {
		ref := m.Interface().(*dpb.Reference)
		switch kind, _ := c.classify(ref); kind {
		case refOtherPatient:
			return otherPatient(path, "refers to a patient other than the one this write is for (or to a patient the server cannot identify)")
		case refDangling:
			return invalid(path, "refers to a urn:uuid or urn:oid that is not the fullUrl of an entry of this Bundle")
		}
	}
	var err *Error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := fd.JSONName()
		if name == "modifierExtension" {
			err = Errorf(http.StatusUnprocessableEntity, ErrUnsupported, IssueNotSupported, path+".modifierExtension", "modifier extensions are not understood by this server")
			return false
		}
		if name == "implicitRules" && path == string(m.Descriptor().Name()) {
			err = Errorf(http.StatusUnprocessableEntity, ErrUnsupported, IssueNotSupported, path+".implicitRules", "implicit rules are not understood by this server")
			return false
		}
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		visit := func(v protoreflect.Value, p string) bool {
			if a, ok := v.Message().Interface().(*anypb.Any); ok {
				err = c.contained(a, p)
				return err == nil
			}
			err = c.walk(v.Message(), p)
			return err == nil
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				if !visit(l.Get(i), path+"."+name+"["+strconv.Itoa(i)+"]") {
					return false
				}
			}
			return true
		}
		return visit(v, path+"."+name)
	})
	return err
}

// contained checks a contained resource: never a Patient (it would be a
// second patient or a copy the vault cannot tie to the DID), and its
// references like the container's.
func (c *refs) contained(a *anypb.Any, path string) *Error {
	msg, err := a.UnmarshalNew()
	if err != nil {
		return invalid(path, "unreadable contained resource")
	}
	cr, ok := msg.(*bcrpb.ContainedResource)
	if !ok {
		return invalid(path, "unreadable contained resource")
	}
	res := resourceOf(cr)
	if res == nil {
		return invalid(path, "empty contained resource")
	}
	if res.Descriptor().Name() == "Patient" {
		return otherPatient(path, "a contained Patient is not accepted: refer to the patient instead")
	}
	return c.walk(res, path)
}

// binding is a required binding on a CodeableConcept element.
type binding struct {
	field, system string
	codes         []string
}

var bindings = map[string][]binding{
	"AllergyIntolerance": {
		{"clinical_status", "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", []string{"active", "inactive", "resolved"}},
		{"verification_status", "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", []string{"unconfirmed", "confirmed", "refuted", "entered-in-error"}},
	},
	"Condition": {
		{"clinical_status", "http://terminology.hl7.org/CodeSystem/condition-clinical", []string{"active", "recurrence", "relapse", "inactive", "remission", "resolved"}},
		{"verification_status", "http://terminology.hl7.org/CodeSystem/condition-ver-status", []string{"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}},
	},
}

// code returns the code of the binding's system in the CodeableConcept
// field of m ("" when the field is absent); ok is false when the field is
// present without a coding of the value set.
func (b binding) code(m protoreflect.Message) (code string, present, ok bool) {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(b.field))
	if !m.Has(fd) {
		return "", false, true
	}
	cc := m.Get(fd).Message().Interface().(*dpb.CodeableConcept)
	for _, c := range cc.GetCoding() {
		if c.GetSystem().GetValue() == b.system && slices.Contains(b.codes, c.GetCode().GetValue()) {
			return c.GetCode().GetValue(), true, true
		}
	}
	return "", true, false
}

func has(m protoreflect.Message, field string) bool {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(field))
	return fd != nil && m.Has(fd)
}

// checkBindings checks required CodeableConcept bindings and invariants
// the library does not.
func checkBindings(r *Resource) *Error {
	codes := map[string]string{}
	for _, b := range bindings[r.typ] {
		code, _, ok := b.code(r.res)
		if !ok {
			return Errorf(http.StatusUnprocessableEntity, ErrInvalid, IssueValue, r.typ+"."+r.res.Descriptor().Fields().ByName(protoreflect.Name(b.field)).JSONName(),
				"needs a coding from %s (%s)", b.system, strings.Join(b.codes, ", "))
		}
		codes[b.field] = code
	}
	switch r.typ {
	case "AllergyIntolerance":
		eie := codes["verification_status"] == "entered-in-error"
		if !eie && codes["clinical_status"] == "" {
			return invariant("AllergyIntolerance.clinicalStatus", "ait-1", "clinicalStatus SHALL be present if verificationStatus is not entered-in-error")
		}
		if eie && codes["clinical_status"] != "" {
			return invariant("AllergyIntolerance.clinicalStatus", "ait-2", "clinicalStatus SHALL NOT be present if verificationStatus is entered-in-error")
		}
	case "Condition":
		if has(r.res, "abatement") && codes["clinical_status"] != "" && !slices.Contains([]string{"inactive", "resolved", "remission"}, codes["clinical_status"]) {
			return invariant("Condition.clinicalStatus", "con-4", "if the condition is abated, clinicalStatus must be inactive, resolved or remission")
		}
		if codes["verification_status"] == "entered-in-error" && codes["clinical_status"] != "" {
			return invariant("Condition.clinicalStatus", "con-5", "clinicalStatus SHALL NOT be present if verificationStatus is entered-in-error")
		}
	case "Observation":
		if has(r.res, "value") && has(r.res, "data_absent_reason") {
			return invariant("Observation.dataAbsentReason", "obs-6", "dataAbsentReason SHALL only be present if value[x] is not present")
		}
		if has(r.res, "value") {
			if err := obs7(r.res); err != nil {
				return err
			}
		}
	case "Consent":
		if !has(r.res, "policy") && !has(r.res, "policy_rule") {
			return invariant("Consent", "ppc-1", "either a policy or a policyRule is required")
		}
	}
	return nil
}

// obs7: if Observation.code is the same as a component.code, the value
// element associated with the code SHALL NOT be present.
func obs7(m protoreflect.Message) *Error {
	codings := func(v protoreflect.Message) map[Coding]bool {
		out := map[Coding]bool{}
		fd := v.Descriptor().Fields().ByName("code")
		if fd == nil || !v.Has(fd) {
			return out
		}
		for _, c := range v.Get(fd).Message().Interface().(*dpb.CodeableConcept).GetCoding() {
			out[Coding{c.GetSystem().GetValue(), c.GetCode().GetValue()}] = true
		}
		return out
	}
	own := codings(m)
	l := m.Get(m.Descriptor().Fields().ByName("component")).List()
	for i := 0; i < l.Len(); i++ {
		for c := range codings(l.Get(i).Message()) {
			if own[c] {
				return invariant("Observation.value[x]", "obs-7", "value SHALL NOT be present when a component has the same code as the Observation")
			}
		}
	}
	return nil
}
