package interop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/registry/hospital/balp"
	"github.com/medid/medid/registry/hospital/fhir"
)

const (
	fhirPatientDID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	fhirClientDID  = "did:medid:ehr1"
	fhirVaultDID   = "did:medid:stmary"
)

// fhirProduced returns every kind of FHIR JSON the hospital-side packages
// produce, by name.
func fhirProduced(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	add := func(name string, b []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = b
	}
	// Resources as the vault stores and serves them: the official examples
	// of each type, checked for their patient, with id and meta set.
	examples := map[string]string{"AllergyIntolerance-example": "example", "Immunization-example": "example", "MedicationStatement-example001": "pat1",
		"Condition-example": "example", "Observation-example": "example", "DiagnosticReport-102": "pat2", "DocumentReference-example": "xcda",
		"Consent-consent-example-basic": "f001", "AuditEvent-example-rest": "example"}
	for name, pid := range examples {
		in, err := os.ReadFile(filepath.Join("..", "..", "registry", "hospital", "fhir", "testdata", "examples", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := fhir.ParseResource(in, fhir.Patient{ID: pid, DID: fhirPatientDID})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r.SetID("r1")
		r.SetMeta("1", time.Now())
		b, err := r.JSON()
		add("stored-"+name, b, err)
	}
	pt, err := fhir.ParseResource([]byte(`{"resourceType":"Patient","identifier":[{"system":"urn:ietf:rfc:3986","value":"`+fhirPatientDID+`"}],"birthDate":"1970-01-01","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1970-01-01T10:00:00+01:00"}]}}`), fhir.Patient{ID: "p1", DID: fhirPatientDID})
	if err != nil {
		t.Fatal(err)
	}
	pt.SetID("p1")
	pt.SetMeta("1", time.Now())
	b, err := pt.JSON()
	add("stored-Patient", b, err)

	// Errors.
	_, err = fhir.ParseResource([]byte(`{"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/p2"}}`), fhir.Patient{ID: "p1", DID: fhirPatientDID})
	add("outcome-other-patient", fhir.AsError(err).Outcome(), nil)
	_, err = fhir.ParseResource([]byte(`{"resourceType":"Patient","gender":"robot","x":1}`), fhir.Patient{ID: "p1", DID: fhirPatientDID})
	add("outcome-invalid", fhir.AsError(err).Outcome(), nil)
	_, err = fhir.ParseSearch("AllergyIntolerance", "patient=a,b")
	add("outcome-search", fhir.AsError(err).Outcome(), nil)
	add("outcome-ok", fhir.Outcome(), nil)

	// Server documents and Bundles.
	b, err = fhir.Capability(fhir.CapabilityConfig{Base: "https://vault.example/fhir", Software: "medid", SoftwareVersion: "dev",
		Interactions: []string{fhir.InteractionRead, fhir.InteractionSearch, fhir.InteractionCreate, fhir.InteractionUpdate, fhir.InteractionDelete},
		Transaction:  true, TokenURL: "https://vault.example/fhir/token"})
	add("capability", b, err)
	b, err = fhir.SearchSet("https://vault.example/fhir/Patient?_id=p1", "https://vault.example/fhir/Patient?_cursor=abc", 1, time.Now(),
		[]fhir.SearchEntry{{FullURL: "https://vault.example/fhir/Patient/p1", Resource: out["stored-Patient"]}})
	add("searchset", b, err)
	b, err = fhir.TransactionResponse([]fhir.EntryResult{{Status: 201, Location: "Patient/p1/_history/1", Version: "1", LastModified: time.Now()}, {Status: 204}})
	add("transaction-response", b, err)

	// Audit events and their Bundle.
	var evs []json.RawMessage
	for _, a := range []balp.Access{
		{Action: balp.ActionRead, Record: "AllergyIntolerance/a1", Purpose: "TREAT", Granted: true, Consent: strings.Repeat("ab", 32)},
		{Action: balp.ActionRead, Record: "AllergyIntolerance/a1", Purpose: "TREAT", Reason: "consent revoked", Consent: strings.Repeat("ab", 32)},
		{Action: balp.ActionRead, Record: "AllergyIntolerance/a1", Purpose: "ETREAT", Granted: true, BreakGlass: true, Reason: "unconscious in the ER"},
		{Action: balp.ActionQuery, Query: "patient=Patient/p1&_count=10", Purpose: "TREAT", Granted: true},
		{Action: balp.ActionCreate, Record: "AllergyIntolerance/a1", Granted: true},
		{Action: balp.ActionUpdate, Record: "AllergyIntolerance/a1", Granted: true},
		{Action: balp.ActionDelete, Record: "AllergyIntolerance/a1", Granted: true},
	} {
		a.Time, a.Client, a.ClientName, a.Server, a.ServerName = time.Now(), fhirClientDID, "Ward 3 EHR", fhirVaultDID, "St Mary"
		a.Patient = fhir.Patient{ID: "p1", DID: fhirPatientDID}
		b, err := balp.AuditEvent(a)
		name := "auditevent-" + string(a.Action)
		if a.BreakGlass {
			name += "-breakglass"
		} else if !a.Granted {
			name += "-denied"
		}
		add(name, b, err)
		evs = append(evs, b)
	}
	b, err = balp.Collection(evs, time.Now())
	add("auditevent-collection", b, err)

	// IHE PCF Consents.
	g := &consent.Grant{Patient: fhirPatientDID, Provider: fhirClientDID, Actions: []consent.Action{consent.ActionAccess}, Purposes: []string{"TREAT"},
		Classes: []string{"AllergyIntolerance"}, ValidFrom: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), BreakGlass: true}
	b, err = fhir.ConsentPCF(g, consent.StatusActive, "c1", fhir.Patient{ID: "p1", DID: fhirPatientDID}, strings.Repeat("cd", 32))
	add("consent-pcf-active", b, err)
	b, err = fhir.ConsentPCF(g, consent.StatusInactive, "c2", fhir.Patient{DID: fhirPatientDID}, "")
	add("consent-pcf-revoked", b, err)
	return out
}

// TestFHIRValidatesIndependently: FHIR.js (npm fhir) finds every
// resource and Bundle the FHIR layer, the BALP writer and the PCF export
// produce valid FHIR R4: stored resources, OperationOutcomes, the
// CapabilityStatement, searchset and transaction-response Bundles,
// AuditEvents of every action (denied and break-glass included), their
// collection Bundle, and Consents.
func TestFHIRValidatesIndependently(t *testing.T) {
	node, dir := nodeEnv(t)
	produced := fhirProduced(t)
	tmp := t.TempDir()
	var files []string
	for name, b := range produced {
		f := filepath.Join(tmp, name+".json")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	// A negative control: the validator must refuse this one, or the
	// test proves nothing.
	control := filepath.Join(tmp, "control-invalid.json")
	if err := os.WriteFile(control, []byte(`{"resourceType":"AuditEvent","recorded":"yesterday","outcome":"7","agent":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	files = append(files, control)
	cmd := exec.Command(node, append([]string{filepath.Join(dir, "fhir_validate.mjs")}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("FHIR.js: %v\n%s", err, stderr.String())
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r struct {
			File     string
			Valid    bool
			Messages []map[string]any
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("FHIR.js output: %v\n%s", err, sc.Bytes())
		}
		seen++
		if r.File == control {
			if r.Valid {
				t.Error("FHIR.js accepted the invalid control resource")
			}
			continue
		}
		if !r.Valid {
			name := strings.TrimSuffix(filepath.Base(r.File), ".json")
			t.Errorf("%s is not valid FHIR R4 to FHIR.js: %v\n%s", name, r.Messages, produced[name])
		}
	}
	if seen != len(files) {
		t.Errorf("FHIR.js validated %d of %d files", seen, len(files))
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		t.Fatal(sc.Err())
	}
}
