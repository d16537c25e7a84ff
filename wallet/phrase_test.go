package wallet

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestPhraseConfirmedPersists checks that the recovery phrase can be read
// back while unlocked (not while locked) and that PhraseConfirmed and
// Vault survive closing and reopening the wallet.
func TestPhraseConfirmedPersists(t *testing.T) {
	clk := newClock()
	w, phrase := newTestWallet(t, clk)
	got, err := w.RecoveryPhrase()
	if err != nil || got != phrase {
		t.Fatalf("RecoveryPhrase = %q, %v; want the phrase Create returned", got, err)
	}
	s, err := w.Settings()
	if err != nil {
		t.Fatal(err)
	}
	if s.PhraseConfirmed {
		t.Fatal("a new wallet says its phrase is confirmed")
	}
	s.PhraseConfirmed, s.Vault = true, "http://127.0.0.1:9"
	if err := w.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	w.Lock()
	if _, err := w.RecoveryPhrase(); !errors.Is(err, ErrLocked) {
		t.Errorf("RecoveryPhrase while locked: %v, want ErrLocked", err)
	}
	dir := w.Dir()
	w.Close()
	r, err := Open(Config{Dir: dir, Now: clk.Now, KDF: fastKDF}, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err = r.Settings()
	if err != nil || !s.PhraseConfirmed || s.Vault != "http://127.0.0.1:9" {
		t.Errorf("after reopening: %+v, %v; want PhraseConfirmed and the vault kept", s, err)
	}
}

func TestCheckPhrase(t *testing.T) {
	valid := "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon " +
		"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"
	words := strings.Fields(valid)
	with := func(i int, w string) string {
		c := slices.Clone(words)
		c[i] = w
		return strings.Join(c, " ")
	}
	for _, c := range []struct {
		name, phrase string
		wordIndex    int  // a *PhraseWordError for this word (1-based)
		checksum     bool // ErrPhraseChecksum
		count        bool // a count error
	}{
		{name: "valid", phrase: valid},
		{name: "any case and spacing", phrase: "  " + strings.ToUpper(strings.ReplaceAll(valid, " ", "\n\t ")) + " "},
		{name: "typo in word 7", phrase: with(6, "abandn"), wordIndex: 7},
		{name: "not a word in word 24", phrase: with(23, "zzz"), wordIndex: 24},
		{name: "wrong recovery word", phrase: with(23, "zoo"), checksum: true},
		{name: "23 words", phrase: strings.Join(words[:23], " "), count: true},
		{name: "two words run together", phrase: strings.Join(words[:11], " ") + " " + words[11] + words[12] + " " + strings.Join(words[13:], " "), count: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckPhrase(c.phrase)
			var we *PhraseWordError
			switch {
			case c.wordIndex > 0:
				if !errors.As(err, &we) || we.Index != c.wordIndex || !errors.Is(err, ErrInvalidPhrase) {
					t.Errorf("err = %v, want word %d named", err, c.wordIndex)
				}
			case c.checksum:
				if !errors.Is(err, ErrPhraseChecksum) || !errors.Is(err, ErrInvalidPhrase) {
					t.Errorf("err = %v, want ErrPhraseChecksum", err)
				}
			case c.count:
				if !errors.Is(err, ErrInvalidPhrase) || errors.As(err, &we) {
					t.Errorf("err = %v, want a word-count error", err)
				}
			default:
				if err != nil {
					t.Errorf("err = %v", err)
				}
			}
		})
	}
	if ws := RecoveryWords(); len(ws) != 2048 || !IsRecoveryWord("Zoo") || IsRecoveryWord("zo") {
		t.Errorf("word list: %d words", len(ws))
	}
}
