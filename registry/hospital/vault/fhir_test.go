package vault

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/registry/hospital/balp"
	"github.com/medid/medid/registry/hospital/cdshooks"
	"github.com/medid/medid/registry/hospital/fhir"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// fhirHarness is a vault with its FHIR API on an HTTP server and an EHR
// registered as a SMART client.
type fhirHarness struct {
	*harness
	f   *FHIR
	srv *httptest.Server
	ehr credtest.Party
}

func newFHIRHarness(tb testing.TB, scopes ...string) *fhirHarness {
	tb.Helper()
	h := &fhirHarness{harness: newHarness(tb), ehr: newParty(tb, 3)}
	h.srv = httptest.NewUnstartedServer(nil)
	base := "http://" + h.srv.Listener.Addr().String() + "/fhir"
	if len(scopes) == 0 {
		scopes = []string{"system/*.rs", "system/AllergyIntolerance.c", "system/Patient.c", "system/Observation.c"}
	}
	var err error
	h.f, err = h.v.FHIR(FHIRConfig{Base: base, Name: "St Mary", Clients: map[string]FHIRClient{
		h.ehr.DID:           {Scopes: scopes, Name: "Ward 3 EHR"},
		newParty(tb, 4).DID: {Scopes: []string{"system/*.rs"}},
	}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.f.Close() })
	h.srv.Config.Handler = h.f.Handler()
	h.srv.Start()
	tb.Cleanup(h.srv.Close)
	return h
}

func (h *fhirHarness) base() string { return h.srv.URL + "/fhir" }

var jtis int

// assertion is a private_key_jwt client assertion by p for the token endpoint.
func assertion(tb testing.TB, p credtest.Party, aud string, now time.Time) string {
	jtis++
	hb, _ := json.Marshal(map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": p.Kid})
	cb, _ := json.Marshal(map[string]any{"iss": p.DID, "sub": p.DID, "aud": aud, "exp": now.Add(4 * time.Minute).Unix(), "jti": fmt.Sprint("jti-", jtis)})
	in := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sig, err := p.Key.Sign([]byte(in))
	if err != nil {
		tb.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func (h *fhirHarness) token(p credtest.Party, scope string) string {
	h.t.Helper()
	res, err := http.PostForm(h.base()+"/token", url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion(h.t, p, h.base()+"/token", h.clock.Now())}})
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || json.Unmarshal(b, &out) != nil {
		h.t.Fatalf("token: %d %s", res.StatusCode, b)
	}
	return out.AccessToken
}

func (h *fhirHarness) do(method, path, tok string, body string, hdr map[string]string) (int, []byte) {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = h.srv.URL + path
	}
	req, _ := http.NewRequest(method, u, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func patientJSON(d string) string {
	return `{"resourceType":"Patient","identifier":[{"system":"urn:ietf:rfc:3986","value":"` + d + `"}],"birthDate":"1970-01-01"}`
}

const allergyFHIR = `{"resourceType":"AllergyIntolerance","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},"code":{"text":"Penicillin"},"patient":{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"}}`

func (h *fhirHarness) writeAllergy(tok string) string {
	h.t.Helper()
	bundle := `{"resourceType":"Bundle","type":"transaction","entry":[` +
		`{"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":` + patientJSON(h.patient.DID) + `,"request":{"method":"POST","url":"Patient"}},` +
		`{"fullUrl":"urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059","resource":` + allergyFHIR + `,"request":{"method":"POST","url":"AllergyIntolerance"}}]}`
	st, b := h.do("POST", "/fhir", tok, bundle, nil)
	if st != 200 {
		h.t.Fatalf("transaction: %d %s", st, b)
	}
	if err := fhir.Validate(b); err != nil {
		h.t.Fatalf("transaction-response: %v", err)
	}
	var resp struct {
		Entry []struct{ Response struct{ Location string } }
	}
	json.Unmarshal(b, &resp)
	loc := resp.Entry[1].Response.Location
	return strings.TrimSuffix(strings.TrimPrefix(loc, "AllergyIntolerance/"), "/_history/1")
}

// TestFHIRDoneWhen is the acceptance path: a hospital system that
// speaks only SMART Backend Services and FHIR R4 writes a patient's
// allergy, is refused a read without consent, reads it under the
// patient's consent, searches, asks the CDS Hooks service, is refused a
// delete, and every one of those events is in the patient's verified
// access log, in BALP shape, and in the hospital's own feed.
func TestFHIRDoneWhen(t *testing.T) {
	h := newFHIRHarness(t)
	tok := h.token(h.ehr, "system/*.rs system/AllergyIntolerance.c system/Patient.c")
	id := h.writeAllergy(tok)
	pid := h.f.PatientID(h.patient.DID)

	// No consent: refused, with an OperationOutcome.
	st, b := h.do("GET", "/fhir/AllergyIntolerance/"+id, tok, "", nil)
	if st != 403 || !strings.Contains(string(b), "OperationOutcome") || strings.Contains(string(b), "Penicillin") {
		t.Fatalf("read without consent: %d %s", st, b)
	}
	// The patient's grant to the EHR: granted.
	grant := h.grant(h.patient, h.ehr.DID, []string{"AllergyIntolerance", "Patient"}, "TREAT", 30, false, true)
	st, b = h.do("GET", "/fhir/AllergyIntolerance/"+id, tok, "", map[string]string{HeaderConsent: grant})
	if st != 200 || !strings.Contains(string(b), "Penicillin") || !strings.Contains(string(b), `"reference":"Patient/`+pid+`"`) {
		t.Fatalf("read with consent: %d %s", st, b)
	}
	if err := fhir.Validate(b); err != nil {
		t.Errorf("served resource: %v", err)
	}
	// Remembered: the next read needs no header.
	if st, b = h.do("GET", "/fhir/AllergyIntolerance/"+id, tok, "", nil); st != 200 {
		t.Fatalf("read with the remembered grant: %d %s", st, b)
	}
	// The Patient resource under its id.
	if st, b = h.do("GET", "/fhir/Patient/"+pid, tok, "", nil); st != 200 || !strings.Contains(string(b), h.patient.DID) {
		t.Fatalf("Patient read: %d %s", st, b)
	}
	// Search.
	st, b = h.do("GET", "/fhir/AllergyIntolerance?patient=Patient/"+pid, tok, "", nil)
	if st != 200 || !strings.Contains(string(b), `"type":"searchset"`) || !strings.Contains(string(b), "Penicillin") {
		t.Fatalf("search: %d %s", st, b)
	}
	// CDS Hooks.
	q := `{"hook":"patient-consent-consult","hookInstance":"h1","context":{"patientId":[{"system":"urn:ietf:rfc:3986","value":"` + h.patient.DID +
		`"}],"scope":"patient-privacy","purposeOfUse":["TREAT"],"actor":[{"system":"urn:ietf:rfc:3986","value":"` + h.ehr.DID +
		`"}],"class":[{"system":"http://hl7.org/fhir/resource-types","code":"AllergyIntolerance"}]}}`
	st, b = h.do("POST", "/cds-services/patient-consent-consult", tok, q, nil)
	var cr cdshooks.Response
	json.Unmarshal(b, &cr)
	if st != 200 || len(cr.Cards) != 1 || cr.Cards[0].Extension.Decision != cdshooks.DecisionPermit {
		t.Fatalf("CDS Hooks: %d %s", st, b)
	}
	st, b = h.do("POST", "/cds-services/patient-consent-consult", tok, strings.Replace(q, `"code":"AllergyIntolerance"`, `"code":"Condition"`, 1), nil)
	json.Unmarshal(b, &cr)
	if st != 200 || cr.Cards[0].Extension.Decision != cdshooks.DecisionDeny {
		t.Fatalf("CDS Hooks, class not granted: %d %s", st, b)
	}
	// A hospital's DELETE: refused, the patient erases.
	if st, b = h.do("DELETE", "/fhir/AllergyIntolerance/"+id, tok, "", nil); st != 403 {
		t.Fatalf("delete: %d %s", st, b)
	}
	// Revoked: refused.
	h.ledger.revoke(grant, h.clock.Now())
	if st, b = h.do("GET", "/fhir/AllergyIntolerance/"+id, tok, "", nil); st != 403 {
		t.Fatalf("read after revocation: %d %s", st, b)
	}

	// The patient's verified trail has every attempt, each as a BALP
	// AuditEvent.
	seen := map[string]int{}
	for _, e := range h.trail(h.patient) {
		a, ok := balp.FromEntry(&e.Entry, h.hosp.DID)
		if !ok {
			t.Errorf("trail entry with unknown action %q", e.Action)
			continue
		}
		ev, err := balp.AuditEvent(a)
		if err != nil {
			t.Fatal(err)
		}
		if err := fhir.Validate(ev); err != nil {
			t.Errorf("AuditEvent of %s: %v", e.Action, err)
		}
		seen[e.Action+"/"+e.Outcome]++
	}
	for _, want := range []string{"put/granted", "read/denied", "read/granted", "query/granted", "consent-decision/granted", "consent-decision/denied", "erase/denied"} {
		if seen[want] == 0 {
			t.Errorf("the patient's trail has no %s entry (has %v)", want, seen)
		}
	}
	if seen["read/denied"] < 2 || seen["put/granted"] != 2 {
		t.Errorf("trail counts %v", seen)
	}

	// The hospital's own feed.
	st, b = h.do("GET", "/fhir/AuditEvent?patient=Patient/"+pid, tok, "", nil)
	if st != 200 {
		t.Fatalf("feed: %d %s", st, b)
	}
	var feed struct {
		Entry []struct{ Resource json.RawMessage }
	}
	json.Unmarshal(b, &feed)
	if len(feed.Entry) < 8 {
		t.Errorf("feed has %d events", len(feed.Entry))
	}
	other := h.token(newParty(t, 4), "system/AuditEvent.rs")
	if _, b = h.do("GET", "/fhir/AuditEvent", other, "", nil); strings.Contains(string(b), "AuditEvent/ae-") {
		t.Errorf("another client sees the EHR's feed: %s", b)
	}
}

func TestFHIRPagingAndRefusals(t *testing.T) {
	h := newFHIRHarness(t)
	tok := h.token(h.ehr, "system/*.rs system/AllergyIntolerance.c system/Patient.c")
	h.writeAllergy(tok)
	h.clock.Advance(time.Second)
	h.writeAllergy(tok)
	h.clock.Advance(time.Second)
	h.writeAllergy(tok)
	pid := h.f.PatientID(h.patient.DID)
	grant := h.grant(h.patient, h.ehr.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	hdr := map[string]string{HeaderConsent: grant}
	var ids []string
	next := "/fhir/AllergyIntolerance?patient=Patient/" + pid + "&_count=2"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		st, b := h.do("GET", next, tok, "", hdr)
		if st != 200 {
			t.Fatalf("page %d: %d %s", pages, st, b)
		}
		var bundle struct {
			Link  []struct{ Relation, URL string }
			Entry []struct{ Resource struct{ ID string } }
		}
		json.Unmarshal(b, &bundle)
		next = ""
		for _, l := range bundle.Link {
			if l.Relation == "next" {
				next = l.URL
				// Another client cannot use the cursor.
				other := h.token(newParty(t, 4), "system/*.rs")
				if st, _ := h.do("GET", l.URL, other, "", nil); st != 400 {
					t.Errorf("another client's cursor: %d", st)
				}
			}
		}
		for _, e := range bundle.Entry {
			ids = append(ids, e.Resource.ID)
		}
	}
	if len(ids) != 3 || ids[0] == ids[1] || ids[1] == ids[2] {
		t.Errorf("paged ids %v", ids)
	}

	for _, tc := range []struct {
		name, method, path, body string
		hdr                      map[string]string
		tok                      string
		status                   int
	}{
		{"no token", "GET", "/fhir/AllergyIntolerance?patient=" + pid, "", nil, "-", 401},
		{"bad token", "GET", "/fhir/AllergyIntolerance?patient=" + pid, "", nil, "nope", 401},
		{"two patients", "GET", "/fhir/AllergyIntolerance?patient=a,b", "", nil, "", 400},
		{"no patient", "GET", "/fhir/AllergyIntolerance", "", nil, "", 400},
		{"unknown parameter", "GET", "/fhir/AllergyIntolerance?patient=" + pid + "&name=x", "", nil, "", 400},
		{"scope does not cover Condition", "POST", "/fhir/Condition", `{"resourceType":"Condition","subject":{"reference":"Patient/` + pid + `"}}`, nil, "", 403},
		{"other patient in the write", "POST", "/fhir/AllergyIntolerance", strings.Replace(allergyFHIR, `"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"`, `"Patient/p-0000"`, 1), nil, "", 422},
		{"malformed JSON", "POST", "/fhir", `{"resourceType":`, nil, "", 400},
		{"unknown type", "GET", "/fhir/Robot/1", "", nil, "", 404},
		{"update", "PUT", "/fhir/AllergyIntolerance/r-00", allergyFHIR, nil, "", 405},
		{"break-glass without standing grant", "GET", "/fhir/AllergyIntolerance?patient=" + pid + "&purpose=ETREAT", "", map[string]string{HeaderBreakGlass: "unconscious"}, "", 403},
		{"bad purpose", "GET", "/fhir/AllergyIntolerance?patient=" + pid + "&purpose=FUN", "", nil, "", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := tok
			switch tc.tok {
			case "-":
				tk = ""
			case "":
			default:
				tk = tc.tok
			}
			// A fresh vault-remembered grant must not leak into these: use
			// a client without one where consent matters.
			st, b := h.do(tc.method, tc.path, tk, tc.body, tc.hdr)
			if st != tc.status || !strings.Contains(string(b), "OperationOutcome") {
				t.Errorf("got %d %s, want %d with an OperationOutcome", st, b, tc.status)
			}
			if err := fhir.Validate(b); err != nil {
				t.Errorf("outcome: %v", err)
			}
		})
	}
}

// TestFHIRBreakGlass: a break-glass read goes through the vault's
// break-glass path (the patient's standing grant) and is loud in the
// trail: DCM 110127 in the BALP event.
func TestFHIRBreakGlass(t *testing.T) {
	h := newFHIRHarness(t)
	tok := h.token(h.ehr, "system/*.rs system/AllergyIntolerance.c system/Patient.c")
	id := h.writeAllergy(tok)
	h.v.SetStaff([]string{h.ehr.DID}) // the hospital vouches for its EHR in emergencies
	standing := h.grant(h.patient, h.hosp.DID, []string{"AllergyIntolerance"}, "ETREAT", 30, true, true)
	if err := h.v.AllowBreakGlass(t.Context(), h.sign(h.patient, &vaultapi.Request{Op: vaultapi.OpBreakGlass, Consent: standing})); err != nil {
		t.Fatal(err)
	}
	// The longest reason taken, ending in a two-byte character: the
	// patient reads it whole, as the clinician wrote it.
	reason := "unconscious in the ER, brought in by ambulance; " + strings.Repeat("x", vaultapi.MaxReasonSize-len("unconscious in the ER, brought in by ambulance; ")-len("é")) + "é"
	st, b := h.do("GET", "/fhir/AllergyIntolerance/"+id+"?purpose=ETREAT", tok, "", map[string]string{HeaderBreakGlass: reason})
	if st != 200 {
		t.Fatalf("break-glass read: %d %s", st, b)
	}
	found := false
	for _, e := range h.trail(h.patient) {
		if e.Action == trail.ActionRead && e.BreakGlass && e.Outcome == trail.OutcomeGranted {
			if e.Reason != reason {
				t.Fatalf("the trail's reason is %d bytes, the clinician gave %d", len(e.Reason), len(reason))
			}
			a, _ := balp.FromEntry(&e.Entry, h.hosp.DID)
			ev, _ := balp.AuditEvent(a)
			found = strings.Contains(string(ev), `"code":"110127"`) && strings.Contains(string(ev), `"code":"ETREAT"`)
		}
	}
	if !found {
		t.Error("no break-glass read with DCM 110127 in the patient's trail")
	}
}
