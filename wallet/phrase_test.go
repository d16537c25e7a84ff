package wallet

import (
	"errors"
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
