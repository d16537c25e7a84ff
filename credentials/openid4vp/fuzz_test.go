package openid4vp

import (
	"encoding/json"
	"testing"

	"github.com/medid/medid/credentials/sdjwt"
)

// FuzzDCQLQuery varies the dcql_query of a request (from an untrusted
// verifier, read by the wallet; or posted to the verifier's admin API):
// Validate never panics, and for a query it accepts, Options, SDPaths,
// MatchesSDJWT and Unrequested never panic, every option of a query with
// claim_sets asks for claims of that query only, and Unrequested never
// reports a path that was not disclosed.
func FuzzDCQLQuery(f *testing.F) {
	for _, s := range []string{
		`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["urn:medid:vct:AllergyIntoleranceCredential"]},"claims":[{"id":"x","path":["code","display"]},{"id":"y","path":["reaction",0,"manifestation"]}],"claim_sets":[["x","y"],["x"]]}]}`,
		`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[{"path":["reaction",null,"manifestation"]}]}]}`,
		`{"credentials":[{"id":"c1","format":"vc+jwt","meta":{"type_values":[["VerifiableCredential","AllergyIntoleranceCredential"]]},"claims":[{"path":["credentialSubject","allergy"]}]}]}`,
		`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[{"id":"x","path":["a"]}],"claim_sets":[["z"]]}]}`,
	} {
		f.Add([]byte(s))
	}
	sd := &sdjwt.VerifiedVC{
		Verified: sdjwt.Verified{
			Claims: map[string]any{"code": map[string]any{"display": "Penicillin"}, "reaction": []any{map[string]any{"manifestation": "anaphylaxis"}, map[string]any{"manifestation": "urticaria"}}},
			Disclosed: []sdjwt.Path{{"code"}, {"code", "display"}, {"reaction"}, {"reaction", 0}, {"reaction", 0, "manifestation"},
				{"reaction", 1}, {"reaction", 1, "manifestation"}},
		},
		Credential: &sdjwt.Credential{VCT: "urn:medid:vct:AllergyIntoleranceCredential"},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var q DCQLQuery
		if json.Unmarshal(b, &q) != nil || q.Validate() != nil {
			return
		}
		for _, c := range q.Credentials {
			ids := map[string]bool{}
			for _, cl := range c.Claims {
				ids[cl.ID] = true
			}
			for _, o := range c.Options() {
				if len(c.ClaimSets) > 0 && len(o.Claims) == 0 {
					t.Fatalf("an option of %s asks for nothing", c.ID)
				}
				for _, cl := range o.Claims {
					if !ids[cl.ID] {
						t.Fatalf("option claim %q is not a claim of %s", cl.ID, c.ID)
					}
				}
				o.SDPaths()
				o.MatchesSDJWT(sd)
				o.ClaimValuesSDJWT(sd)
				for _, x := range o.Unrequested(sd) {
					found := false
					for _, d := range sd.Disclosed {
						found = found || d.String() == x.String()
					}
					if !found {
						t.Fatalf("Unrequested reports %s, which was not disclosed", x)
					}
				}
			}
		}
	})
}
