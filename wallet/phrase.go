package wallet

import "fmt"

// RecoveryPhrase returns the wallet's 24-word recovery phrase, so that an
// app can ask the patient to confirm words of it until
// [Settings.PhraseConfirmed] is set. Show it only to the patient.
func (w *Wallet) RecoveryPhrase() (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return "", err
	}
	var r root
	if err := getSealed(w.store, w.sealer, keysBucket, rootID, &r); err != nil {
		return "", fmt.Errorf("%w: the wallet has no readable root key: %v", ErrCorrupt, err)
	}
	return normalizePhrase(r.Phrase)
}
