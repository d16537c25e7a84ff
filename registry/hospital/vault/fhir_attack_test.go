package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/medid/medid/registry/hospital/cdshooks"
	"github.com/medid/medid/registry/hospital/fhir"
	"github.com/medid/medid/registry/hospital/smart"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// TestFHIRClientAttacks is docs/design/0013's "hospital system with SMART
// credentials" through the real vault: a registered client that tries to
// read beyond what the patient consented to, with another client's grant,
// with scopes the consent does not cover, with an oversized Bundle, or with
// a client assertion it replays after the vault restarts. Each is refused.
func TestFHIRClientAttacks(t *testing.T) {
	h := newFHIRHarness(t)
	tok := h.token(h.ehr, "system/*.rs system/AllergyIntolerance.c system/Patient.c")
	id := h.writeAllergy(tok)
	pid := h.f.PatientID(h.patient.DID)
	other := newParty(t, 4) // registered too, with system/*.rs
	otherTok := h.token(other, "system/*.rs")
	grant := h.grant(h.patient, h.ehr.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	patientOnly := h.grant(h.patient, h.ehr.DID, []string{"Patient"}, "TREAT", 30, false, true)
	// The EHR's grant opens a read, and is remembered for the EHR.
	if st, b := h.do("GET", "/fhir/AllergyIntolerance/"+id, tok, "", map[string]string{HeaderConsent: grant}); st != 200 {
		t.Fatalf("the EHR's read under its grant: %d %s", st, b)
	}
	obsTok := h.token(h.ehr, "system/Observation.rs")

	for _, tc := range []struct {
		name, method, path, tok, body string
		hdr                           map[string]string
		status                        int
	}{
		{"another client, where the EHR's grant is remembered", "GET", "/fhir/AllergyIntolerance/" + id, otherTok, "", nil, 403},
		{"another client presenting the EHR's grant", "GET", "/fhir/AllergyIntolerance/" + id, otherTok, "", map[string]string{HeaderConsent: grant}, 403},
		{"another client searching with the EHR's grant", "GET", "/fhir/AllergyIntolerance?patient=Patient/" + pid, otherTok, "", map[string]string{HeaderConsent: grant}, 403},
		{"scopes wider than the consent: a class the grant does not name", "GET", "/fhir/AllergyIntolerance/" + id, tok, "", map[string]string{HeaderConsent: patientOnly}, 403},
		{"consent wider than the scopes: a type the token does not cover", "GET", "/fhir/AllergyIntolerance/" + id, obsTok, "", map[string]string{HeaderConsent: grant}, 403},
		{"search outside the token's scopes", "GET", "/fhir/AllergyIntolerance?patient=Patient/" + pid, obsTok, "", map[string]string{HeaderConsent: grant}, 403},
		{"a search naming two patients", "GET", "/fhir/AllergyIntolerance?patient=Patient/" + pid + ",Patient/p-0", tok, "", nil, 400},
		{"a search naming no patient", "GET", "/fhir/AllergyIntolerance?clinical-status=active", tok, "", nil, 400},
		{"a search by _id across patients", "GET", "/fhir/AllergyIntolerance?_id=" + id, tok, "", nil, 400},
		{"a Bundle over the size limit", "POST", "/fhir", tok, `{"resourceType":"Bundle","type":"transaction","entry":[],"x":"` + strings.Repeat("a", fhir.MaxBundleSize) + `"}`, nil, 413},
		{"a read with an unknown purpose of use", "GET", "/fhir/AllergyIntolerance/" + id + "?purpose=FUN", tok, "", nil, 400},
		{"an emergency reason with a tab", "GET", "/fhir/AllergyIntolerance/" + id + "?purpose=ETREAT", tok, "", map[string]string{HeaderBreakGlass: "unconscious\tnow"}, 400},
		{"an emergency reason that is not UTF-8", "GET", "/fhir/AllergyIntolerance/" + id + "?purpose=ETREAT", tok, "", map[string]string{HeaderBreakGlass: "unconscious \xff"}, 400},
		{"an emergency reason over 500 bytes", "GET", "/fhir/AllergyIntolerance/" + id + "?purpose=ETREAT", tok, "", map[string]string{HeaderBreakGlass: strings.Repeat("a", 501)}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, b := h.do(tc.method, tc.path, tc.tok, tc.body, tc.hdr)
			if st != tc.status || strings.Contains(string(b), "Penicillin") {
				t.Fatalf("got %d %.300s, want %d and nothing released", st, b, tc.status)
			}
		})
	}

	// Whether this hospital holds records of a patient is not told by a
	// search without consent: the same refusal for a patient with records,
	// one without (a DID that resolves) and a made-up DID.
	t.Run("a search that would tell whether a patient has records here", func(t *testing.T) {
		stranger := newParty(t, 77)
		var answers []string
		for _, d := range []string{h.patient.DID, stranger.DID, "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"} {
			st, b := h.do("GET", "/fhir/AllergyIntolerance?patient:identifier="+url.QueryEscape("urn:ietf:rfc:3986|"+d), otherTok, "", nil)
			answers = append(answers, fmt.Sprintf("%d %s", st, diagnostics(t, b)))
		}
		if answers[0] != answers[1] || answers[1] != answers[2] || !strings.HasPrefix(answers[0], "403 ") {
			t.Fatalf("answers differ or are not refusals:\n%s", strings.Join(answers, "\n"))
		}
		// Nor by a CDS Hooks question: the same card.
		var cards []string
		for _, d := range []string{h.patient.DID, stranger.DID, "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"} {
			q := `{"hook":"patient-consent-consult","hookInstance":"h1","context":{"patientId":[{"system":"urn:ietf:rfc:3986","value":"` + d +
				`"}],"scope":"patient-privacy","purposeOfUse":["TREAT"],"actor":[{"system":"urn:ietf:rfc:3986","value":"` + other.DID +
				`"}],"class":[{"system":"http://hl7.org/fhir/resource-types","code":"AllergyIntolerance"}]}}`
			st, b := h.do("POST", "/cds-services/patient-consent-consult", otherTok, q, nil)
			var cr cdshooks.Response
			if err := json.Unmarshal(b, &cr); err != nil || len(cr.Cards) != 1 {
				t.Fatalf("CDS Hooks: %d %.300s", st, b)
			}
			cards = append(cards, fmt.Sprintf("%d %s %s %s", st, cr.Cards[0].Extension.Decision, cr.Cards[0].Summary, cr.Cards[0].Detail))
		}
		if cards[0] != cards[1] || cards[1] != cards[2] || !strings.Contains(cards[0], cdshooks.DecisionNoConsent) {
			t.Fatalf("cards differ or are not NO_CONSENT:\n%s", strings.Join(cards, "\n"))
		}
		// Under the patient's consent, a patient with no records here is
		// an empty searchset.
		g := h.grant(stranger, other.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
		st, b := h.do("GET", "/fhir/AllergyIntolerance?patient:identifier="+url.QueryEscape("urn:ietf:rfc:3986|"+stranger.DID), otherTok, "", map[string]string{HeaderConsent: g})
		if st != 200 || !strings.Contains(string(b), `"type":"searchset"`) || strings.Contains(string(b), `"entry"`) {
			t.Fatalf("with consent, no records: %d %.300s", st, b)
		}
	})

	// A reason of the longest length taken reaches the trail whole (as a
	// signed request's does), multi-byte characters included; a longer one
	// is refused before any read (above).
	long := strings.Repeat("a", vaultapi.MaxReasonSize-len("é and more")) + "é and more"
	r := httptest.NewRequest("GET", "/fhir/AllergyIntolerance/"+id, nil)
	r.Header.Set(HeaderBreakGlass, long)
	if got := h.f.request(r, h.ehr.DID, h.patient.DID, "ETREAT").BreakGlass; got != long {
		t.Fatalf("reason of %d bytes reached the request as %d bytes", len(long), len(got))
	}

	// A client assertion used once, replayed after the vault's FHIR API
	// restarts (within its exp): refused.
	a := assertion(t, h.ehr, h.base()+"/token", h.clock.Now())
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"},
		"client_assertion_type": {smart.AssertionType}, "client_assertion": {a}}
	if _, err := h.f.Auth().Token(context.Background(), form); err != nil {
		t.Fatal(err)
	}
	if err := h.f.Close(); err != nil {
		t.Fatal(err)
	}
	f2, err := h.v.FHIR(FHIRConfig{Base: h.base(), Name: "St Mary", Clients: map[string]FHIRClient{
		h.ehr.DID: {Scopes: []string{"system/*.rs"}}, other.DID: {Scopes: []string{"system/*.rs"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	if _, err := f2.Auth().Token(context.Background(), form); !errors.Is(err, smart.ErrInvalidClient) {
		t.Fatalf("an assertion replayed after a restart: %v, want invalid_client", err)
	}
}

// diagnostics returns an OperationOutcome's diagnostics (the whole body
// when it is not one).
func diagnostics(t *testing.T, b []byte) string {
	t.Helper()
	var oo struct {
		Issue []struct{ Diagnostics string }
	}
	if json.Unmarshal(b, &oo) != nil || len(oo.Issue) == 0 {
		return string(b)
	}
	return oo.Issue[0].Diagnostics
}
