package wallet

import (
	"context"
	"testing"

	"github.com/medid/medid/wallet/wallettest"
)

// testSecretNeedles are strings addTestSecrets puts in the wallet that must
// never appear in the wallet file.
var testSecretNeedles = []string{"Penicillin", "anaphylaxis", "Testville General", "AllergyCredential", "vc+jwt", "eyJ"}

// addTestSecrets receives a credential with health data, and presents it.
func addTestSecrets(t *testing.T, w *Wallet) {
	t.Helper()
	is := newIssuer(t, "Hospital")
	w.cfg.Verifier = testVerifier{wallettest.NewVerifier(w.cfg.now)}
	p, err := w.PrimaryDID()
	if err != nil {
		t.Fatal(err)
	}
	tok := is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "Penicillin", "reaction": "anaphylaxis", "issuerName": "Testville General"})
	testSecretNeedles = append(testSecretNeedles, is.DID, tok[:40])
	c, err := w.Receive(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Present(context.Background(), PresentRequest{CredentialIDs: []string{c.ID}, Audience: "did:web:testville-er.example", Nonce: "n-123"}); err != nil {
		t.Fatal(err)
	}
	testSecretNeedles = append(testSecretNeedles, "testville-er")
}
