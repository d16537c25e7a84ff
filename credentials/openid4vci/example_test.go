package openid4vci_test

import (
	"fmt"

	"github.com/medid/medid/credentials/openid4vci"
)

// A wallet reads a credential offer from a QR code or link.
func ExampleParseOfferURI() {
	uri := "openid-credential-offer://?credential_offer=%7B%22credential_issuer%22%3A%22https%3A%2F%2Fhospital.example%22%2C" +
		"%22credential_configuration_ids%22%3A%5B%22AllergyIntoleranceCredential%22%5D%2C%22grants%22%3A%7B%22urn%3Aietf%3A" +
		"params%3Aoauth%3Agrant-type%3Apre-authorized_code%22%3A%7B%22pre-authorized_code%22%3A%22abc%22%2C%22tx_code%22%3A" +
		"%7B%22input_mode%22%3A%22numeric%22%2C%22length%22%3A6%7D%7D%7D%7D"
	offer, _, err := openid4vci.ParseOfferURI(uri)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(offer.CredentialIssuer, offer.ConfigurationIDs, offer.Grants.PreAuthorized.TxCode.Length)
	// Output: https://hospital.example [AllergyIntoleranceCredential] 6
}
