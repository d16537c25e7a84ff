package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	didPatient = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	didOther   = "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
	secret     = "SECRET-HEALTH-VALUE"
)

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	norm := func(x []byte) any {
		d := json.NewDecoder(bytes.NewReader(x))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, x)
		}
		return v
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// TestRoundTripOfficialExamples: the official FHIR R4 examples of every
// supported type (and Bundle, OperationOutcome, CapabilityStatement) read
// and written back are the same JSON, primitive extensions and decimal
// precision included.
func TestRoundTripOfficialExamples(t *testing.T) {
	files, _ := filepath.Glob("testdata/examples/*.json")
	if len(files) < 12 {
		t.Fatalf("found %d examples", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cr, ferr := decode(in)
			if ferr != nil {
				t.Fatalf("decode: %v", ferr)
			}
			out, err := encode(cr)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, in, out) {
				t.Errorf("round trip changed the resource:\n%s", out)
			}
		})
	}
}

// TestParseResourceOfficialExamples: the official examples pass the
// vault's write checks for their own patient, or fail for the reason
// named.
func TestParseResourceOfficialExamples(t *testing.T) {
	for _, tc := range []struct {
		file, patientID string
		want            error
	}{
		{"AllergyIntolerance-example", "example", nil},
		{"AllergyIntolerance-medication", "example", nil},
		{"Immunization-example", "example", nil},
		{"MedicationStatement-example001", "pat1", nil},
		{"Condition-example", "example", nil},
		{"Observation-example", "example", nil},
		{"DiagnosticReport-102", "pat2", nil},
		{"DocumentReference-example", "xcda", nil},
		{"Consent-consent-example-basic", "f001", nil},
		{"AuditEvent-example-rest", "example", nil},
		{"AllergyIntolerance-example", "someone-else", ErrOtherPatient},
		{"Patient-example", "example", ErrInvalid},                // no DID identifier
		{"AuditEvent-example-search", "example", ErrOtherPatient}, // no patient entity
	} {
		t.Run(tc.file+"/"+tc.patientID, func(t *testing.T) {
			in, err := os.ReadFile("testdata/examples/" + tc.file + ".json")
			if err != nil {
				t.Fatal(err)
			}
			r, err := ParseResource(in, Patient{ID: tc.patientID, DID: didPatient})
			if !errors.Is(err, tc.want) || (tc.want != nil && err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err == nil {
				typ := strings.SplitN(tc.file, "-", 2)[0]
				if r.Type() != typ {
					t.Errorf("type %s, want %s", r.Type(), typ)
				}
			}
		})
	}
}

func allergy(patient string) string {
	return `{"resourceType":"AllergyIntolerance","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},` +
		`"code":{"text":"` + secret + `"},"patient":` + patient + `}`
}

const didRef = `{"identifier":{"system":"urn:ietf:rfc:3986","value":"` + didPatient + `"}}`

func TestParseResourceRefusals(t *testing.T) {
	p := Patient{ID: "p1", DID: didPatient}
	big := `{"resourceType":"Patient","identifier":[{"system":"urn:ietf:rfc:3986","value":"` + didPatient + `"}],"name":[{"text":"` + strings.Repeat("a", MaxResourceSize) + `"}]}`
	for _, tc := range []struct {
		name, in string
		want     error
		status   int
	}{
		{"by DID identifier", allergy(didRef), nil, 0},
		{"by Patient/id", allergy(`{"reference":"Patient/p1"}`), nil, 0},
		{"not JSON", `{"resourceType":`, ErrInvalid, 400},
		{"array", `[` + allergy(didRef) + `]`, ErrInvalid, 400},
		{"unknown type", `{"resourceType":"Robot"}`, ErrInvalid, 400},
		{"unsupported type", `{"resourceType":"Practitioner"}`, ErrUnsupported, 400},
		{"unknown element", strings.Replace(allergy(didRef), `"code"`, `"secretField":"`+secret+`","code"`, 1), ErrInvalid, 400},
		{"bad code", strings.Replace(allergy(didRef), `"patient"`, `"criticality":"`+secret+`","patient"`, 1), ErrInvalid, 400},
		{"bad date", strings.Replace(allergy(didRef), `"patient"`, `"recordedDate":"2020-13-99`+secret+`","patient"`, 1), ErrInvalid, 400},
		{"missing patient", `{"resourceType":"Observation","status":"final","code":{"text":"` + secret + `"}}`, ErrInvalid, 422},
		{"other Patient/id", allergy(`{"reference":"Patient/p2"}`), ErrOtherPatient, 422},
		{"other DID", allergy(`{"identifier":{"system":"urn:ietf:rfc:3986","value":"` + didOther + `"}}`), ErrOtherPatient, 422},
		{"literal and other DID", allergy(`{"reference":"Patient/p1","identifier":{"system":"urn:ietf:rfc:3986","value":"` + didOther + `"}}`), ErrOtherPatient, 422},
		{"absolute patient URL", allergy(`{"reference":"https://other.example/fhir/Patient/p1"}`), ErrOtherPatient, 422},
		{"display only", allergy(`{"display":"` + secret + `"}`), ErrOtherPatient, 422},
		{"group subject", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Group/g1"}}`, ErrOtherPatient, 422},
		{"other patient elsewhere", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"focus":[{"reference":"Patient/p9"}]}`, ErrOtherPatient, 422},
		{"typed identifier of another patient", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"performer":[{"type":"Patient","identifier":{"system":"urn:oid:1.2.3","value":"` + secret + `"}}]}`, ErrOtherPatient, 422},
		{"contained patient", `{"resourceType":"Observation","contained":[{"resourceType":"Patient","id":"c"}],"status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`, ErrOtherPatient, 422},
		{"contained ref to other patient", `{"resourceType":"MedicationStatement","contained":[{"resourceType":"Medication","id":"m","ingredient":[{"itemReference":{"reference":"Substance/s"}}]},{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p9"}}],"status":"active","medicationReference":{"reference":"#m"},"subject":{"reference":"Patient/p1"}}`, ErrOtherPatient, 422},
		{"dangling urn:uuid", allergy(`{"reference":"urn:uuid:04121321-4af5-424c-a0e1-ed3aab1c349d"}`), ErrOtherPatient, 422},
		{"modifierExtension", strings.Replace(allergy(didRef), `"code":{`, `"modifierExtension":[{"url":"http://x.example/e","valueString":"`+secret+`"}],"code":{`, 1), ErrUnsupported, 422},
		{"implicitRules", strings.Replace(allergy(didRef), `"code":{`, `"implicitRules":"http://x.example/r","code":{`, 1), ErrUnsupported, 422},
		{"clinicalStatus binding", strings.Replace(allergy(didRef), `"code":"active"`, `"code":"sleeping"`, 1), ErrInvalid, 422},
		{"ait-1", `{"resourceType":"AllergyIntolerance","patient":` + didRef + `}`, ErrInvalid, 422},
		{"ait-2", strings.Replace(allergy(didRef), `"code":{`, `"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-verification","code":"entered-in-error"}]},"code":{`, 1), ErrInvalid, 422},
		{"con-5", `{"resourceType":"Condition","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"entered-in-error"}]},"subject":` + didRef + `}`, ErrInvalid, 422},
		{"con-4", `{"resourceType":"Condition","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"abatementString":"gone","subject":` + didRef + `}`, ErrInvalid, 422},
		{"obs-6", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":` + didRef + `,"valueString":"` + secret + `","dataAbsentReason":{"text":"x"}}`, ErrInvalid, 422},
		{"obs-7", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":` + didRef + `,"valueString":"x","component":[{"code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"valueString":"y"}]}`, ErrInvalid, 422},
		{"ppc-1", `{"resourceType":"Consent","status":"active","scope":{"text":"x"},"category":[{"text":"x"}],"patient":` + didRef + `}`, ErrInvalid, 422},
		{"patient with other DID", `{"resourceType":"Patient","identifier":[{"system":"urn:ietf:rfc:3986","value":"` + didOther + `"}]}`, ErrOtherPatient, 422},
		{"patient with other id", `{"resourceType":"Patient","id":"p2","identifier":[{"system":"urn:ietf:rfc:3986","value":"` + didPatient + `"}]}`, ErrOtherPatient, 422},
		{"patient linking another", `{"resourceType":"Patient","identifier":[{"system":"urn:ietf:rfc:3986","value":"` + didPatient + `"}],"link":[{"other":{"reference":"Patient/p2"},"type":"seealso"}]}`, ErrOtherPatient, 422},
		{"patient", `{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:ietf:rfc:3986","value":"` + didPatient + `"}],"birthDate":"1970-01-01"}`, nil, 0},
		{"too large", big, ErrTooLarge, 413},
		{"deep", strings.Repeat(`{"extension":[`, 60), ErrInvalid, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseResource([]byte(tc.in), p)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("got %T, want *Error", err)
			}
			if fe.Status != tc.status {
				t.Errorf("status %d, want %d (%v)", fe.Status, tc.status, err)
			}
			if strings.Contains(err.Error(), secret) || bytes.Contains(fe.Outcome(), []byte(secret)) || strings.Contains(err.Error(), "p9") {
				t.Errorf("the error echoes request data: %s", fe.Outcome())
			}
			if _, ferr := decode(fe.Outcome()); ferr != nil {
				t.Errorf("OperationOutcome is not valid FHIR: %v\n%s", ferr, fe.Outcome())
			}
		})
	}
}

func TestResourceMetaAndCategories(t *testing.T) {
	in := `{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"code":{"text":"x"},"subject":` + didRef + `,"valueQuantity":{"value":1.50,"unit":"mmol/L"}}`
	r, err := ParseResource([]byte(in), Patient{DID: didPatient})
	if err != nil {
		t.Fatal(err)
	}
	r.SetID("abc")
	at := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
	r.SetMeta("2", at)
	out, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(out, &got)
	meta, _ := got["meta"].(map[string]any)
	if got["id"] != "abc" || meta["versionId"] != "2" || meta["lastUpdated"] != "2026-03-01T10:00:00.123Z" {
		t.Errorf("id/meta: %s", out)
	}
	if !bytes.Contains(out, []byte(`"value":1.50`)) {
		t.Errorf("decimal precision lost: %s", out)
	}
	if c := r.Categories(); len(c) != 1 || c[0].Code != "laboratory" {
		t.Errorf("categories %v", c)
	}
	a, err := ParseResource([]byte(strings.Replace(allergy(didRef), `"patient"`, `"category":["food","medication"],"patient"`, 1)), Patient{DID: didPatient})
	if err != nil {
		t.Fatal(err)
	}
	if c := a.Categories(); len(c) != 2 || c[0] != (Coding{"http://hl7.org/fhir/allergy-intolerance-category", "food"}) || c[1].Code != "medication" {
		t.Errorf("allergy categories %v", c)
	}
}

type patients map[string]string // id -> DID

func (p patients) DIDOf(id string) (string, bool) { d, ok := p[id]; return d, ok }
func (p patients) IDOf(did string) (string, bool) {
	for id, d := range p {
		if d == did {
			return id, true
		}
	}
	return "", false
}

func bundle(entries ...string) string {
	return `{"resourceType":"Bundle","type":"transaction","entry":[` + strings.Join(entries, ",") + `]}`
}

func entry(fullURL, method, url, resource string) string {
	s := `{`
	if fullURL != "" {
		s += `"fullUrl":"` + fullURL + `",`
	}
	if resource != "" {
		s += `"resource":` + resource + `,`
	}
	return s + `"request":{"method":"` + method + `","url":"` + url + `"}}`
}

const (
	uuidP = "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"
	uuidA = "urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059"
)

func TestParseTransaction(t *testing.T) {
	pts := patients{"p1": didPatient, "p2": didOther}
	patient := `{"resourceType":"Patient","identifier":[{"system":"urn:ietf:rfc:3986","value":"` + didPatient + `"}]}`
	newPatient := `{"resourceType":"Patient","identifier":[{"system":"urn:ietf:rfc:3986","value":"did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"}]}`
	for _, tc := range []struct {
		name, in string
		want     error
		patient  Patient
		n        int
	}{
		{"patient and allergy by urn:uuid", bundle(entry(uuidP, "POST", "Patient", patient), entry(uuidA, "POST", "AllergyIntolerance", allergy(`{"reference":"`+uuidP+`"}`))), nil, Patient{"p1", didPatient}, 2},
		{"new patient", bundle(entry(uuidP, "POST", "Patient", newPatient), entry(uuidA, "POST", "AllergyIntolerance", allergy(`{"reference":"`+uuidP+`"}`))), nil, Patient{"", "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"}, 2},
		{"allergy by Patient/id", bundle(entry("", "POST", "AllergyIntolerance", allergy(`{"reference":"Patient/p1"}`))), nil, Patient{"p1", didPatient}, 1},
		{"update and delete", bundle(entry("", "PUT", "AllergyIntolerance/a1", strings.Replace(allergy(didRef), `{"resourceType":"AllergyIntolerance",`, `{"resourceType":"AllergyIntolerance","id":"a1",`, 1)), entry("", "DELETE", "Condition/c1", "")), nil, Patient{"p1", didPatient}, 2},
		{"two patients", bundle(entry("", "POST", "AllergyIntolerance", allergy(`{"reference":"Patient/p1"}`)), entry("", "POST", "AllergyIntolerance", allergy(`{"reference":"Patient/p2"}`))), ErrOtherPatient, Patient{}, 0},
		{"unknown patient id", bundle(entry("", "POST", "AllergyIntolerance", allergy(`{"reference":"Patient/p7"}`))), ErrOtherPatient, Patient{}, 0},
		{"no patient", bundle(entry("", "DELETE", "Condition/c1", "")), ErrInvalid, Patient{}, 0},
		{"two Patient entries", bundle(entry(uuidP, "POST", "Patient", patient), entry(uuidA, "POST", "Patient", patient)), ErrOtherPatient, Patient{}, 0},
		{"dangling uuid", bundle(entry("", "POST", "AllergyIntolerance", allergy(`{"reference":"`+uuidP+`"}`)), entry("", "POST", "AllergyIntolerance", allergy(didRef))), ErrOtherPatient, Patient{}, 0},
		{"batch", strings.Replace(bundle(entry("", "POST", "AllergyIntolerance", allergy(didRef))), "transaction", "batch", 1), ErrUnsupported, Patient{}, 0},
		{"GET entry", bundle(entry("", "GET", "AllergyIntolerance/a1", "")), ErrUnsupported, Patient{}, 0},
		{"conditional", bundle(entry("", "POST", "AllergyIntolerance?identifier=x", allergy(didRef))), ErrUnsupported, Patient{}, 0},
		{"type mismatch", bundle(entry("", "POST", "Condition", allergy(didRef))), ErrInvalid, Patient{}, 0},
		{"update id mismatch", bundle(entry("", "PUT", "AllergyIntolerance/a2", allergy(didRef))), ErrInvalid, Patient{}, 0},
		{"duplicate fullUrl", bundle(entry(uuidA, "POST", "AllergyIntolerance", allergy(didRef)), entry(uuidA, "POST", "AllergyIntolerance", allergy(didRef))), ErrInvalid, Patient{}, 0},
		{"empty", bundle(), ErrInvalid, Patient{}, 0},
		{"not a bundle", allergy(didRef), ErrInvalid, Patient{}, 0},
		{"official example (conditional, GET)", string(must(os.ReadFile("testdata/examples/Bundle-bundle-transaction.json"))), ErrUnsupported, Patient{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := ParseTransaction([]byte(tc.in), pts)
			if !errors.Is(err, tc.want) || (tc.want != nil && err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err != nil {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error echoes data: %v", err)
				}
				return
			}
			if tx.Patient != tc.patient || len(tx.Entries) != tc.n {
				t.Errorf("patient %+v with %d entries, want %+v with %d", tx.Patient, len(tx.Entries), tc.patient, tc.n)
			}
		})
	}
	var many []string
	for i := 0; i <= MaxBundleEntries; i++ {
		many = append(many, entry("", "POST", "AllergyIntolerance", allergy(didRef)))
	}
	if _, err := ParseTransaction([]byte(bundle(many...)), pts); !errors.Is(err, ErrTooLarge) {
		t.Errorf("%d entries: got %v, want ErrTooLarge", len(many), err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestParseSearch(t *testing.T) {
	for _, tc := range []struct {
		typ, q string
		want   error
		check  func(*Search) bool
	}{
		{"AllergyIntolerance", "patient=Patient/p1", nil, func(s *Search) bool { return s.Patient.ID == "p1" && s.Count == DefaultCount }},
		{"AllergyIntolerance", "patient=p1&_count=5", nil, func(s *Search) bool { return s.Patient.ID == "p1" && s.Count == 5 }},
		{"Observation", "patient:identifier=urn:ietf:rfc:3986%7C" + didPatient, nil, func(s *Search) bool { return s.Patient.DID == didPatient }},
		{"Observation", "patient=p1&_lastUpdated=ge2026-01-01&_lastUpdated=lt2026-02-01T00:00:00Z", nil, func(s *Search) bool {
			return len(s.LastUpdated) == 2 && s.Match(time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)) && !s.Match(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
		}},
		{"Patient", "_id=p1", nil, func(s *Search) bool { return s.Patient.ID == "p1" }},
		{"Patient", "identifier=urn:ietf:rfc:3986|" + didPatient, nil, func(s *Search) bool { return s.Patient.DID == didPatient }},
		{"AuditEvent", "_lastUpdated=2026", nil, func(s *Search) bool { return s.Patient == (Patient{}) }},
		{"AllergyIntolerance", "_cursor=abc&_format=json", nil, func(s *Search) bool { return s.Cursor == "abc" }},
		{"AllergyIntolerance", "", ErrInvalid, nil},
		{"AllergyIntolerance", "_count=10", ErrInvalid, nil},
		{"Patient", "", ErrInvalid, nil},
		{"Patient", "name=smith", ErrUnsupported, nil},
		{"AllergyIntolerance", "patient=p1,p2", ErrOtherPatient, nil},
		{"AllergyIntolerance", "patient=p1&patient=p2", ErrInvalid, nil},
		{"AllergyIntolerance", "patient=p1&patient:identifier=urn:ietf:rfc:3986|" + didOther, ErrInvalid, nil},
		{"AllergyIntolerance", "patient.name=smith", ErrUnsupported, nil},
		{"AllergyIntolerance", "patient:missing=true", ErrUnsupported, nil},
		{"AllergyIntolerance", "code=123&patient=p1", ErrUnsupported, nil},
		{"AllergyIntolerance", "patient=p1&_count=0", ErrInvalid, nil},
		{"AllergyIntolerance", "patient=p1&_count=1000", ErrInvalid, nil},
		{"AllergyIntolerance", "patient=p1&_lastUpdated=ne2026", ErrUnsupported, nil},
		{"AllergyIntolerance", "patient=p1&_lastUpdated=2026-01-01T10:00", ErrInvalid, nil},
		{"AllergyIntolerance", "patient=p1&_lastUpdated=a&_lastUpdated=b&_lastUpdated=c", ErrInvalid, nil},
		{"AllergyIntolerance", "patient=p1&_format=xml", ErrUnsupported, nil},
		{"AllergyIntolerance", "patient:identifier=urn:oid:1.2|x", ErrInvalid, nil},
		{"AllergyIntolerance", "_cursor=abc&patient=p2", ErrInvalid, nil},
		{"Practitioner", "patient=p1", ErrUnsupported, nil},
		{"AllergyIntolerance", "patient=%zz", ErrInvalid, nil},
	} {
		t.Run(tc.typ+"?"+tc.q, func(t *testing.T) {
			s, err := ParseSearch(tc.typ, tc.q)
			if !errors.Is(err, tc.want) || (tc.want != nil && err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err == nil && !tc.check(s) {
				t.Errorf("got %+v", s)
			}
		})
	}
}

func TestDateParam(t *testing.T) {
	at := func(s string) time.Time { return must(time.Parse(time.RFC3339Nano, s)) }
	for _, tc := range []struct {
		in         string
		start, end string
		match      []string
		nomatch    []string
	}{
		{"2026", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", []string{"2026-06-01T00:00:00Z"}, []string{"2027-01-01T00:00:00Z"}},
		{"eq2026-02", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", nil, nil},
		{"ge2026-02-03", "2026-02-03T00:00:00Z", "2026-02-04T00:00:00Z", []string{"2026-02-03T00:00:00Z", "2030-01-01T00:00:00Z"}, []string{"2026-02-02T23:59:59Z"}},
		{"gt2026-02-03", "2026-02-03T00:00:00Z", "2026-02-04T00:00:00Z", []string{"2026-02-04T00:00:00Z"}, []string{"2026-02-03T12:00:00Z"}},
		{"lt2026-02-03T10:00:00+01:00", "2026-02-03T09:00:00Z", "2026-02-03T09:00:01Z", []string{"2026-02-03T08:59:59Z"}, []string{"2026-02-03T09:00:00Z"}},
		{"le2026-02-03T10:00Z", "2026-02-03T10:00:00Z", "2026-02-03T10:01:00Z", []string{"2026-02-03T10:00:59Z"}, []string{"2026-02-03T10:01:00Z"}},
		{"sa2026-02-03T10:00:00.5Z", "2026-02-03T10:00:00.5Z", "2026-02-03T10:00:00.6Z", []string{"2026-02-03T10:00:00.6Z"}, []string{"2026-02-03T10:00:00.55Z"}},
		{"eb2026", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", []string{"2025-12-31T23:59:59Z"}, []string{"2026-01-01T00:00:00Z"}},
	} {
		d, err := ParseDateParam("_lastUpdated", tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !d.Start.Equal(at(tc.start)) || !d.End.Equal(at(tc.end)) {
			t.Errorf("%s: [%s, %s), want [%s, %s)", tc.in, d.Start, d.End, tc.start, tc.end)
		}
		for _, m := range tc.match {
			if !d.Match(at(m)) {
				t.Errorf("%s should match %s", tc.in, m)
			}
		}
		for _, m := range tc.nomatch {
			if d.Match(at(m)) {
				t.Errorf("%s should not match %s", tc.in, m)
			}
		}
	}
	for _, bad := range []string{"", "20", "2026-13", "2026-02-30", "2026-01-01T25:00Z", "2026-01-01T10:00:00", "xx2026", "ap2026", "2026-01-01T10:00:00+15:00", "2026-01-01T10:00:00.Z"} {
		if _, err := ParseDateParam("_lastUpdated", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPager(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	pg, err := NewPager(key)
	if err != nil {
		t.Fatal(err)
	}
	// Long enough that random cursor bytes cannot spell it by chance (a
	// two-letter id did, now and then, in base64url).
	const patient = "patient-7f3a9c1e"
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	pg.Now = func() time.Time { return now }
	page := Page{Client: "did:key:client", Type: "AllergyIntolerance", PatientID: patient, Count: 10, After: "x", LastUpdated: []string{"ge2026"}}
	c, err := pg.Seal(page)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c, patient) {
		t.Error("the cursor shows the patient")
	}
	got, err := pg.Open(c, "did:key:client")
	if err != nil || got.PatientID != patient || got.After != "x" {
		t.Fatalf("open: %+v, %v", got, err)
	}
	s, err := got.Search()
	if err != nil || len(s.LastUpdated) != 1 || s.Patient.ID != patient {
		t.Errorf("search %+v, %v", s, err)
	}
	other, _ := NewPager(bytes.Repeat([]byte{8}, 32))
	tampered := []byte(c)
	tampered[len(tampered)/2] ^= 1
	for name, open := range map[string]func() (*Page, error){
		"other client": func() (*Page, error) { return pg.Open(c, "did:key:other") },
		"other key":    func() (*Page, error) { return other.Open(c, "did:key:client") },
		"tampered":     func() (*Page, error) { return pg.Open(string(tampered), "did:key:client") },
		"garbage":      func() (*Page, error) { return pg.Open("!!", "did:key:client") },
		"expired": func() (*Page, error) {
			now = now.Add(pg.TTL)
			defer func() { now = now.Add(-pg.TTL) }()
			return pg.Open(c, "did:key:client")
		},
	} {
		if _, err := open(); !errors.Is(err, ErrBadCursor) {
			t.Errorf("%s: got %v, want ErrBadCursor", name, err)
		}
	}
}

// TestProducedResourcesValidate: what this package writes is valid FHIR
// R4 to the library's validator.
func TestProducedResourcesValidate(t *testing.T) {
	cap, err := Capability(CapabilityConfig{Base: "https://vault.example/fhir", Software: "medid", SoftwareVersion: "dev",
		Interactions: []string{InteractionRead, InteractionSearch, InteractionCreate, InteractionUpdate, InteractionDelete},
		Transaction:  true, TokenURL: "https://vault.example/fhir/token", Date: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	res := json.RawMessage(allergy(didRef))
	ss, err := SearchSet("https://v.example/fhir/AllergyIntolerance?patient=p1", "https://v.example/fhir/AllergyIntolerance?_cursor=x", 1, time.Now(),
		[]SearchEntry{{FullURL: "https://v.example/fhir/AllergyIntolerance/a1", Resource: res}})
	if err != nil {
		t.Fatal(err)
	}
	empty, _ := SearchSet("https://v.example/fhir/AllergyIntolerance?patient=p1", "", -1, time.Now(), nil)
	tr, err := TransactionResponse([]EntryResult{{Status: 201, Location: "AllergyIntolerance/a1/_history/1", Version: "1", LastModified: time.Now()}, {Status: 204}})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"capability": cap, "searchset": ss, "empty searchset": empty, "transaction-response": tr, "outcome": Outcome(), "error": invalid("Patient.x", "bad").Outcome()} {
		if _, ferr := decode(b); ferr != nil {
			t.Errorf("%s: %v\n%s", name, ferr, b)
		}
	}
	if !bytes.Contains(cap, []byte(`"name":"_lastUpdated"`)) || !bytes.Contains(cap, []byte(`"code":"transaction"`)) || !bytes.Contains(cap, []byte("SMART-on-FHIR")) {
		t.Errorf("capability lacks what the server does: %s", cap)
	}
	plain, _ := Capability(CapabilityConfig{Base: "https://v.example/fhir", Interactions: []string{InteractionRead}})
	if bytes.Contains(plain, []byte("transaction")) || bytes.Contains(plain, []byte("searchParam")) || bytes.Contains(plain, []byte("SMART")) || bytes.Contains(plain, []byte(`"create"`)) {
		t.Errorf("capability claims more than configured: %s", plain)
	}
	if _, err := Capability(CapabilityConfig{Base: "x", Types: []string{"Practitioner"}}); err == nil {
		t.Error("unsupported type accepted")
	}
}

func TestAsError(t *testing.T) {
	e := AsError(fmt.Errorf("disk: %s", secret))
	if e.Status != http.StatusInternalServerError || bytes.Contains(e.Outcome(), []byte(secret)) {
		t.Errorf("%d %s", e.Status, e.Outcome())
	}
}
