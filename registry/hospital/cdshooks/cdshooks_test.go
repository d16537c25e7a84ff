package cdshooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	patient = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	actor   = "did:medid:ehr1"
)

// specRequest is a request shaped as the CDS Hooks 2.0 specification's
// examples (hookInstance UUID, fhirServer, fhirAuthorization, prefetch)
// with the patient-consent-consult context.
const specRequest = `{
  "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
  "fhirServer": "https://ehr.example/r4",
  "hook": "patient-consent-consult",
  "fhirAuthorization": {"access_token": "some-opaque-fhir-access-token", "token_type": "Bearer", "expires_in": 300, "scope": "system/Patient.rs", "subject": "cds-service"},
  "context": {
    "patientId": [{"system": "urn:ietf:rfc:3986", "value": "` + patient + `"}],
    "scope": "patient-privacy",
    "purposeOfUse": ["TREAT"],
    "actor": [{"system": "urn:ietf:rfc:3986", "value": "` + actor + `"}],
    "class": [{"system": "http://hl7.org/fhir/resource-types", "code": "AllergyIntolerance"}]
  },
  "prefetch": {}
}`

func TestParseRequest(t *testing.T) {
	leap := `{"hook":"patient-consent-consult","hookInstance":"1","context":{"patientId":{"system":"urn:ietf:rfc:3986","value":"` + patient + `"},"scope":"patient-privacy","purposeOfUse":"TREAT","actor":{"system":"urn:ietf:rfc:3986","value":"` + actor + `"}}}`
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"spec-shaped", specRequest, true},
		{"LEAP single values", leap, true},
		{"wrong hook", strings.Replace(leap, `"patient-consent-consult"`, `"patient-view"`, 1), false},
		{"no hookInstance", strings.Replace(leap, `"hookInstance":"1",`, ``, 1), false},
		{"other scope", strings.Replace(leap, `patient-privacy`, `research`, 1), false},
		{"unknown purpose", strings.Replace(leap, `"TREAT"`, `"NOPE"`, 1), false},
		{"two purposes", strings.Replace(leap, `"TREAT"`, `["TREAT","HRESCH"]`, 1), false},
		{"patient not a DID", strings.Replace(leap, patient, `12345`, 1), false},
		{"patient other system", strings.Replace(leap, `{"system":"urn:ietf:rfc:3986","value":"`+patient, `{"system":"http://hl7.org/fhir/sid/us-ssn","value":"`+patient, 1), false},
		{"two patients", strings.Replace(specRequest, `"patientId": [{`, `"patientId": [{"system":"urn:ietf:rfc:3986","value":"did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"},{`, 1), false},
		{"no actor", strings.Replace(leap, `,"actor":{"system":"urn:ietf:rfc:3986","value":"`+actor+`"}`, ``, 1), false},
		{"bad class", strings.Replace(specRequest, `"AllergyIntolerance"`, `"Allergies"`, 1), false},
		{"unknown member", strings.Replace(leap, `"hook"`, `"extra":1,"hook"`, 1), false},
		{"not JSON", `{`, false},
		{"array", `[]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRequest([]byte(tc.in))
			if tc.ok != (err == nil) {
				t.Fatalf("got %v", err)
			}
			if err != nil {
				if !errors.Is(err, ErrBadRequest) || strings.Contains(err.Error(), "12345") {
					t.Errorf("error %v", err)
				}
				return
			}
			q := r.Question("did:medid:caller")
			if q.Patient != patient || q.Actor != actor || q.Purpose != "TREAT" || q.Client != "did:medid:caller" {
				t.Errorf("question %+v", q)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	var asked []Question
	h, err := New(Config{
		Decide: func(ctx context.Context, q Question) (Decision, error) {
			asked = append(asked, q)
			if q.Actor == actor {
				return Decision{Decision: DecisionPermit, BasedOn: "Consent/abc"}, nil
			}
			return Decision{Decision: DecisionNoConsent, Reason: "no consent grant to this actor"}, nil
		},
		Authenticate: func(r *http.Request) (string, error) {
			if r.Header.Get("Authorization") != "Bearer good" {
				return "", errors.New("no")
			}
			return "did:medid:caller", nil
		},
		Source: Source{Label: "St Mary consent", URL: "https://vault.example"},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/cds-services")
	if err != nil {
		t.Fatal(err)
	}
	var disc map[string][]Service
	json.NewDecoder(res.Body).Decode(&disc)
	res.Body.Close()
	if len(disc["services"]) != 1 || disc["services"][0].Hook != HookPatientConsentConsult || disc["services"][0].ID != ServiceID {
		t.Errorf("discovery %+v", disc)
	}
	post := func(auth, body string) (*http.Response, Response) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/cds-services/"+ServiceID, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out Response
		json.NewDecoder(res.Body).Decode(&out)
		return res, out
	}
	res, out := post("Bearer good", specRequest)
	if res.StatusCode != 200 || len(out.Cards) != 1 || out.Cards[0].Summary != DecisionPermit || out.Cards[0].Extension.Decision != DecisionPermit ||
		out.Cards[0].Extension.BasedOn != "Consent/abc" || out.Cards[0].Indicator != "info" || out.Cards[0].Source.Label != "St Mary consent" {
		t.Errorf("permit: %d %+v", res.StatusCode, out)
	}
	if len(asked) != 1 || asked[0].Classes[0] != "AllergyIntolerance" || asked[0].HookInstance != "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea" {
		t.Errorf("asked %+v", asked)
	}
	res, out = post("Bearer good", strings.ReplaceAll(specRequest, actor, "did:medid:stranger"))
	if res.StatusCode != 200 || out.Cards[0].Summary != DecisionNoConsent || out.Cards[0].Indicator != "warning" {
		t.Errorf("no consent: %+v", out)
	}
	if res, _ := post("", specRequest); res.StatusCode != 401 {
		t.Errorf("unauthenticated: %d", res.StatusCode)
	}
	if res, _ := post("Bearer good", `{"hook":"x"}`); res.StatusCode != 400 {
		t.Errorf("bad request: %d", res.StatusCode)
	}
	if res, _ := post("Bearer good", `{"hook":"`+strings.Repeat("x", MaxRequestSize)+`"}`); res.StatusCode != 413 {
		t.Errorf("large request: %d", res.StatusCode)
	}
	if len(asked) != 2 {
		t.Errorf("the decision function was asked %d times, want 2 (refused requests ask nothing)", len(asked))
	}
	res, _ = http.Get(srv.URL + "/cds-services/nope")
	if res.StatusCode != 404 {
		t.Errorf("unknown service: %d", res.StatusCode)
	}
}

func TestRespond(t *testing.T) {
	r := Respond(Decision{Decision: "weird"}, Source{Label: "x"})
	b, _ := json.Marshal(r)
	if r.Cards[0].Summary != DecisionDeny || !bytes.Contains(b, []byte(`"obligations":[]`)) {
		t.Errorf("%s", b)
	}
}
