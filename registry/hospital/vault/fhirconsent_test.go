package vault

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/registry/hospital/fhir"
	"github.com/medid/medid/registry/hospital/trail"
)

// consentBody is an IHE PCF Consent for grant tok (as fhir.ConsentPCF
// writes it for the patient named by p) carrying tok as its
// sourceAttachment, with edit applied to the JSON object.
func consentBody(t *testing.T, tok string, p fhir.Patient, edit func(map[string]any)) string {
	t.Helper()
	g, err := consent.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fhir.ConsentPCF(g, consent.StatusActive, "", p, "")
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	c["sourceAttachment"] = map[string]any{"contentType": MediaTypeGrant, "data": base64.StdEncoding.EncodeToString([]byte(tok))}
	if edit != nil {
		edit(c)
	}
	out, _ := json.Marshal(c)
	return string(out)
}

// TestFHIRConsentDeposit: a provider deposits the patient's grant by
// POSTing a PCF Consent carrying its vc+jwt; it is checked like the
// MedID-Consent header's grant, opens reads without the header, and is
// listed by GET /fhir/Consent. Each bad deposit is an OperationOutcome
// with its status, and nothing is remembered.
func TestFHIRConsentDeposit(t *testing.T) {
	scopes := []string{"system/*.rs", "system/AllergyIntolerance.c", "system/Patient.c", "system/Consent.c"}
	h := newFHIRHarness(t, scopes...)
	tok := h.token(h.ehr, strings.Join(scopes, " "))
	id := h.writeAllergy(tok)
	pid := h.f.PatientID(h.patient.DID)
	me := fhir.Patient{DID: h.patient.DID}
	good := h.grant(h.patient, h.ehr.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	other := h.grant(h.patient, newParty(t, 9).DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	unanchored := h.grant(h.patient, h.ehr.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, false)
	stranger := newParty(t, 8)
	noScope := h.token(h.ehr, "system/*.rs")

	for _, tc := range []struct {
		name   string
		tok    string
		body   string
		status int
		want   string
	}{
		{"not FHIR JSON", tok, `{"resourceType":"Consent",`, 400, "OperationOutcome"},
		{"not a Consent", tok, patientJSON(h.patient.DID), 400, "takes a Consent"},
		{"no attachment", tok, consentBody(t, good, me, func(c map[string]any) { delete(c, "sourceAttachment") }), 422, "sourceAttachment"},
		{"wrong media type", tok, consentBody(t, good, me, func(c map[string]any) {
			c["sourceAttachment"].(map[string]any)["contentType"] = "text/plain"
		}), 422, MediaTypeGrant},
		{"not a token", tok, consentBody(t, good, me, func(c map[string]any) {
			c["sourceAttachment"].(map[string]any)["data"] = base64.StdEncoding.EncodeToString([]byte("hello"))
		}), 422, "not a consent grant"},
		{"another patient named", tok, consentBody(t, good, me, func(c map[string]any) {
			c["patient"] = map[string]any{"identifier": map[string]any{"system": fhir.SystemURI, "value": stranger.DID}}
		}), 422, "grant's patient"},
		{"the DID and another Patient id", tok, consentBody(t, good, me, func(c map[string]any) {
			c["patient"].(map[string]any)["reference"] = "Patient/" + h.f.PatientID(stranger.DID)
		}), 422, "grant's patient"},
		{"another Patient id", tok, consentBody(t, good, me, func(c map[string]any) {
			c["patient"] = map[string]any{"reference": "Patient/" + h.f.PatientID(stranger.DID)}
		}), 422, "grant's patient"},
		{"grant to another provider", tok, consentBody(t, other, me, nil), 403, "another provider"},
		{"grant not on the ledger", tok, consentBody(t, unanchored, me, nil), 403, "not in force"},
		{"scope without Consent.c", noScope, consentBody(t, good, me, nil), 403, "Consent.c"},
		{"no token", "", consentBody(t, good, me, nil), 401, "OperationOutcome"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, b := h.do("POST", "/fhir/Consent", tc.tok, tc.body, nil)
			if st != tc.status || !strings.Contains(string(b), tc.want) || !strings.Contains(string(b), "OperationOutcome") {
				t.Fatalf("got %d %s, want %d with %q", st, b, tc.status, tc.want)
			}
			if strings.Contains(string(b), "Penicillin") {
				t.Fatalf("health data in the outcome: %s", b)
			}
		})
	}
	// Nothing was remembered: a read without the header is refused.
	if st, b := h.do("GET", "/fhir/AllergyIntolerance/"+id, tok, "", nil); st != 403 {
		t.Fatalf("read before the deposit: %d %s", st, b)
	}
	if _, b := h.do("GET", "/fhir/Consent?patient="+pid, tok, "", nil); strings.Contains(string(b), `"resourceType":"Consent"`) {
		t.Fatalf("a refused deposit is listed: %s", b)
	}

	// The deposit, by the DID or by Patient/{id}.
	st, b := h.do("POST", "/fhir/Consent", tok, consentBody(t, good, fhir.Patient{DID: h.patient.DID, ID: pid}, nil), nil)
	if st != 201 || !strings.Contains(string(b), fhir.ProfilePCFConsent) || !strings.Contains(string(b), consent.Hash(good)) {
		t.Fatalf("deposit: %d %s", st, b)
	}
	if err := fhir.Validate(b); err != nil {
		t.Fatalf("deposit answer: %v", err)
	}
	if st, b := h.do("GET", "/fhir/AllergyIntolerance/"+id, tok, "", nil); st != 200 || !strings.Contains(string(b), "Penicillin") {
		t.Fatalf("read after the deposit: %d %s", st, b)
	}
	st, b = h.do("GET", "/fhir/Consent?patient="+pid, tok, "", nil)
	if st != 200 || !strings.Contains(string(b), "c-"+consent.Hash(good)[:32]) || !strings.Contains(string(b), `"status":"active"`) {
		t.Fatalf("search after the deposit: %d %s", st, b)
	}
	// The patient's trail has every deposit of one of their grants, refused
	// or not: here the grant to another provider, the unanchored one (both
	// refused) and the good one; a body that named the wrong patient is
	// recorded for the grant's patient, who is the one concerned.
	var denied, granted int
	for _, e := range h.trail(h.patient) {
		if e.Action != trail.ActionConsentDeposit {
			continue
		}
		if e.Provider != h.ehr.DID || e.Class != "AllergyIntolerance" || e.Consent == "" {
			t.Fatalf("deposit entry: %+v", e)
		}
		switch e.Outcome {
		case trail.OutcomeGranted:
			granted++
			if e.Consent != consent.Hash(good) || e.Record != "c-"+consent.Hash(good)[:32] {
				t.Fatalf("granted deposit entry: %+v", e)
			}
		default:
			denied++
			if e.Reason == "" || strings.Contains(e.Reason, "Penicillin") {
				t.Fatalf("refused deposit entry without a reason, or with health data: %+v", e)
			}
		}
	}
	// Refused: the three bodies naming someone else, the grant to another
	// provider, the unanchored grant. (Without the Consent.c scope or a
	// token, or with no grant in the body, there is no patient to tell.)
	if granted != 1 || denied != 5 {
		t.Fatalf("deposits in the patient's trail: %d granted, %d refused; want 1 and 5", granted, denied)
	}
	// The client's feed has the deposit (and the refusals it could attribute).
	if _, b := h.do("GET", "/fhir/AuditEvent?patient="+pid, tok, "", nil); !strings.Contains(string(b), `"reference":"Consent/c-`) {
		t.Fatalf("feed: %s", b)
	}
}
