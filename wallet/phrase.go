package wallet

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tyler-smith/go-bip39"
)

// PhraseWords is the number of words of a recovery phrase.
const PhraseWords = 24

// ErrPhraseChecksum (which wraps [ErrInvalidPhrase]) means every word of a
// phrase is a recovery word but together they are not a phrase: a word is
// wrong (another recovery word) or two are swapped.
var ErrPhraseChecksum = fmt.Errorf("%w: the words do not fit together (one is wrong or out of order)", ErrInvalidPhrase)

// PhraseWordError is returned (it wraps [ErrInvalidPhrase]) when a word of
// a phrase is not a recovery word at all. It names the position only,
// never the words.
type PhraseWordError struct {
	Index int // 1-based position of the first such word
}

func (e *PhraseWordError) Error() string {
	return fmt.Sprintf("%v: word %d is not a recovery word", ErrInvalidPhrase, e.Index)
}

func (e *PhraseWordError) Unwrap() error { return ErrInvalidPhrase }

// RecoveryWords returns the words recovery phrases are made of (the
// BIP-39 English list, sorted), for word completion.
func RecoveryWords() []string { return slices.Clone(bip39.GetWordList()) }

// IsRecoveryWord reports whether w (any case, no spaces) is a recovery
// word.
func IsRecoveryWord(w string) bool {
	_, ok := bip39.GetWordIndex(strings.ToLower(w))
	return ok
}

// CheckPhrase checks a recovery phrase as [Recover] would (24 recovery
// words, any case or spacing, with a valid checksum) without opening
// anything: a *PhraseWordError names the first word that is not a
// recovery word; ErrPhraseChecksum means they do not fit together.
func CheckPhrase(phrase string) error {
	_, err := normalizePhrase(phrase)
	return err
}

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
