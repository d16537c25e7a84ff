package wallet

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
)

// MinPassphraseStrength is the lowest [PassphraseStrength] score a wallet
// passphrase may have: one rule for the CLI, the app and the library.
const MinPassphraseStrength = 2

// ErrWeakPassphrase: a new wallet passphrase is too easy to guess.
var ErrWeakPassphrase = errors.New("passphrase too weak")

// CheckPassphrase returns nil when p is strong enough to protect a wallet,
// or an error wrapping [ErrWeakPassphrase] that says what to do. Create,
// Recover, Restore and ChangePassphrase apply it to the new passphrase.
func CheckPassphrase(p []byte) error {
	if sc, words := PassphraseStrength(string(p)); sc < MinPassphraseStrength {
		return fmt.Errorf("%w: %s", ErrWeakPassphrase, words)
	}
	return nil
}

// commonPasswords are refused outright (a tiny list: the point is the
// feedback, the real protection is Argon2id and the lockout).
var commonPasswords = []string{"password", "123456", "12345678", "123456789", "qwerty", "letmein",
	"iloveyou", "admin", "welcome", "monkey", "dragon", "passw0rd", "password1", "abc123"}

// PassphraseStrength rates a wallet passphrase from 0 (unusable) to 4
// (very strong) by a rough entropy estimate, and says in words what to do.
// The wallet accepts [MinPassphraseStrength] and above ([CheckPassphrase]);
// the app shows the words as the patient types.
func PassphraseStrength(p string) (int, string) {
	if p == "" {
		return 0, "Type a passphrase."
	}
	lower := strings.ToLower(p)
	for _, c := range commonPasswords {
		if strings.Contains(lower, c) && len(p) < len(c)+6 {
			return 0, "Very weak: this is one of the most common passwords."
		}
	}
	var classes [4]bool
	distinct := map[rune]bool{}
	for _, r := range p {
		distinct[r] = true
		switch {
		case unicode.IsLower(r):
			classes[0] = true
		case unicode.IsUpper(r):
			classes[1] = true
		case unicode.IsDigit(r):
			classes[2] = true
		default:
			classes[3] = true
		}
	}
	pool := 0
	for i, n := range []int{26, 26, 10, 33} {
		if classes[i] {
			pool += n
		}
	}
	// bits ~ length × log2(pool), discounted for repeated characters.
	bits := float64(len([]rune(p))) * math.Log2(float64(max(pool, 1)))
	if len(distinct) < len([]rune(p))/2 {
		bits /= 2
	}
	// Letters and spaces only: most likely dictionary words, worth about
	// 13 bits each (a vocabulary of some 8,000 words), not 4.7 per letter.
	if strings.IndexFunc(p, func(r rune) bool { return !unicode.IsLetter(r) && r != ' ' }) < 0 {
		bits = min(bits, 13*float64(len(strings.Fields(p))))
	}
	switch {
	case len([]rune(p)) < 8:
		return 0, "Too short: use at least 10 characters, or a few words."
	case bits < 36:
		return 1, "Weak: add another word or two."
	case bits < 50:
		return 2, "Fair: acceptable. One more word makes it strong."
	case bits < 70:
		return 3, "Strong."
	}
	return 4, "Very strong."
}
