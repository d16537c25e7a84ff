package openid4vp_test

import (
	"encoding/json"
	"fmt"

	"github.com/medid/medid/credentials/openid4vp"
)

// A DCQL query for an allergy credential with its allergy claim.
func ExampleNewQuery() {
	q := openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{
		openid4vp.NewQuery("allergies", "AllergyIntoleranceCredential", "allergy"),
	}}
	b, _ := json.Marshal(q)
	fmt.Println(string(b))
	fmt.Println(q.Credentials[0].Claims[0].PathString())
	// Output:
	// {"credentials":[{"id":"allergies","format":"vc+jwt","meta":{"type_values":[["VerifiableCredential","AllergyIntoleranceCredential"]]},"claims":[{"path":["credentialSubject","allergy"]}]}]}
	// credentialSubject.allergy
}
