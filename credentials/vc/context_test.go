package vc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/piprate/json-gold/ld"

	"github.com/medid/medid/credentials/key"
)

// TestInlineContext is the regression test for credentials whose @context
// holds an embedded object (VC 2.0 §4.3 allows it; medid refused it as
// "@context[1] must be a non-empty string"), and for what §4.3 forbids.
func TestInlineContext(t *testing.T) {
	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	issuer := "did:key:" + k.Public().Multikey()
	kid := issuer + "#" + k.Public().Multikey()
	keys := func(context.Context, string) (key.PublicKey, error) { return k.Public(), nil }
	sign := func(payload string) string {
		tok, err := SignJWS([]byte(payload), k, MediaTypeVC, "vc", kid)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	body := `,"type":["VerifiableCredential","AllergyIntoleranceCredential"],"issuer":"` + issuer + `","credentialSubject":{"id":"did:example:patient","criticality":"high"}}`
	for _, tc := range []struct {
		name    string
		context string
		ok      bool
	}{
		{"object after the base context", `["https://www.w3.org/ns/credentials/v2",{"criticality":"https://example.org/vocab#criticality"}]`, true},
		{"objects and URLs mixed", `["https://www.w3.org/ns/credentials/v2","https://w3id.org/medid/v1",{"@vocab":"https://example.org/vocab#"}]`, true},
		{"object first", `[{"@vocab":"https://example.org/vocab#"},"https://www.w3.org/ns/credentials/v2"]`, false},
		{"object alone", `{"@vocab":"https://example.org/vocab#"}`, false},
		{"base context missing", `["https://w3id.org/medid/v1"]`, false},
		{"not a URL", `["https://www.w3.org/ns/credentials/v2","not a url"]`, false},
		{"nested array", `["https://www.w3.org/ns/credentials/v2",[{"@vocab":"x"}]]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Verify(context.Background(), sign(`{"@context":`+tc.context+body), keys, VerifyOptions{})
			if tc.ok {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if len(c.Context) < 2 {
					t.Errorf("Context = %v", c.Context)
				}
				if _, err := Issue(c, k, kid); err != nil {
					t.Errorf("re-issuing it: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

// contextLoader serves the medid context and nothing else: no JSON-LD
// document is ever fetched.
type contextLoader struct{}

func (contextLoader) LoadDocument(u string) (*ld.RemoteDocument, error) {
	if u != ContextMedid {
		return nil, fmt.Errorf("no document %s offline", u)
	}
	var doc any
	if err := json.Unmarshal(MedidContext(), &doc); err != nil {
		return nil, err
	}
	return &ld.RemoteDocument{DocumentURL: u, Document: doc}, nil
}

// TestMedidContextSafeMode is the regression test for credentials whose
// terms no context defined: a JSON-LD processor in safe mode (json-gold,
// which refuses to drop a property) expands the claims of every credential
// type medid issues with the medid context, the terms the independent
// stacks reported map to their FHIR IRIs, and the same claims without the
// context fail (so the test can fail). The expansion of whole credentials
// with the VC 2.0 context runs against jsonld.js in internal/interop.
func TestMedidContextSafeMode(t *testing.T) {
	docs := map[string]string{
		"allergy": `{"id":"did:example:p","type":"AllergyIntolerance","clinicalStatus":"active","criticality":"high",
			"code":{"system":"http://snomed.info/sct","code":"764146007","display":"Penicillin"},"reaction":"anaphylaxis","note":"x",
			"allergies":[{"substance":"Penicillin","reaction":[{"manifestation":"anaphylaxis","severity":"severe"}]}],"recordedDate":"2026-01-01"}`,
		"immunization": `{"id":"did:example:p","vaccineCode":{"system":"http://hl7.org/fhir/sid/cvx","code":"208","display":"COVID-19"},
			"occurrenceDateTime":"2026-01-01T10:00:00Z","lotNumber":"A1","protocolApplied":[{"doseNumberPositiveInt":2}],"performer":"did:example:h"}`,
		"consent grant": `{"id":"did:example:h","type":"ConsentGrant","action":["access"],"purpose":["TREAT"],"class":["AllergyIntolerance"],"breakGlass":true}`,
		"blood type":    `{"id":"did:example:p","bloodType":"O","rhesus":"negative"}`,
		"free-form":     `{"id":"did:example:p","anyClaimAnIssuerAdds":"x"}`,
	}
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = contextLoader{}
	opts.SafeMode = true
	proc := ld.NewJsonLdProcessor()
	for name, d := range docs {
		t.Run(name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal([]byte(d), &doc); err != nil {
				t.Fatal(err)
			}
			doc["@context"] = ContextMedid
			out, err := proc.Expand(doc, opts)
			if err != nil {
				t.Fatalf("safe-mode expansion with the medid context: %v", err)
			}
			if len(out) != 1 {
				t.Fatalf("expanded to %d nodes", len(out))
			}
			doc["@context"] = map[string]any{}
			if name != "free-form" {
				if _, err := proc.Expand(doc, opts); err == nil {
					t.Error("the same claims expand without the medid context: the test proves nothing")
				}
			}
		})
	}
	// The terms the independent stacks reported are defined, not caught by @vocab.
	var c struct {
		Context map[string]any `json:"@context"`
	}
	if err := json.Unmarshal(MedidContext(), &c); err != nil {
		t.Fatal(err)
	}
	for _, term := range []string{"code", "criticality", "vaccineCode", "occurrenceDateTime", "ConsentGrant", "AllergyIntoleranceCredential", "ImmunizationCredential", "action", "purpose", "class", "breakGlass"} {
		if _, ok := c.Context[term]; !ok {
			t.Errorf("term %s is not defined by the medid context", term)
		}
	}
	// VC 2.0 protects its own terms; redefining one is an error in every processor.
	for _, term := range []string{"id", "type", "name", "description", "issuer", "credentialSubject", "credentialStatus", "validFrom", "validUntil", "proof", "iat", "exp", "nbf", "iss", "sub", "aud", "cnf", "nonce"} {
		if _, ok := c.Context[term]; ok {
			t.Errorf("the medid context redefines the VC 2.0 term %s", term)
		}
	}
}
