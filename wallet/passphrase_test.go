package wallet

import (
	"errors"
	"strings"
	"testing"
)

func TestPassphraseStrength(t *testing.T) {
	cases := []struct {
		pass      string
		min, max  int
		wantWords string
	}{
		{"", 0, 0, "Type"},
		{"abc", 0, 0, "Too short"},
		{"password1", 0, 0, "common"},
		{"aaaaaaaaaa", 0, 1, ""},
		{"sunflower", 1, 1, "Weak"},
		{"correct horse", 1, 1, "Weak"},
		{"correct horse battery", 2, 2, "Fair"},
		{"xK9#mQ2$", 3, 3, "Strong"},
		{"correct horse battery staple", 3, 4, "trong"},
		{"Tr0ub4dor&3-and-some-more", 4, 4, "Very strong"},
	}
	for _, tc := range cases {
		t.Run(tc.pass, func(t *testing.T) {
			got, words := PassphraseStrength(tc.pass)
			if got < tc.min || got > tc.max || !strings.Contains(words, tc.wantWords) {
				t.Errorf("PassphraseStrength(%q) = %d %q, want %d..%d containing %q", tc.pass, got, words, tc.min, tc.max, tc.wantWords)
			}
		})
	}
}

// TestWeakPassphraseRefused (issues 11 and 14): the CLI accepted "abc" and
// a one-character passphrase while the app asked for ten characters or a
// few words; the rule is now the library's, for every way a wallet gets a
// passphrase.
func TestWeakPassphraseRefused(t *testing.T) {
	for _, p := range []string{"a", "abc", "password1", "sunflower"} {
		if _, _, err := Create(Config{Dir: t.TempDir() + "/w", KDF: fastKDF}, []byte(p)); !errors.Is(err, ErrWeakPassphrase) {
			t.Errorf("Create with %q: %v, want ErrWeakPassphrase", p, err)
		}
	}
	w, _, err := Create(Config{Dir: t.TempDir() + "/w", KDF: fastKDF}, []byte("correct horse battery staple"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.ChangePassphrase([]byte("correct horse battery staple"), []byte("x")); !errors.Is(err, ErrWeakPassphrase) {
		t.Errorf("ChangePassphrase to %q: %v, want ErrWeakPassphrase", "x", err)
	}
}
