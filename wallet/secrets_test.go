package wallet

import "testing"

// testSecretNeedles are strings addTestSecrets puts in the wallet that must
// never appear in the file.
var testSecretNeedles []string

func addTestSecrets(t *testing.T, w *Wallet) {}
