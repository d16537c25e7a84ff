package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/medid/medid/wallet"
)

// TestUnlockFeedback: "Unlocking…" shows while Argon2id runs, the last
// error goes when a new attempt starts, and the attempts left before a
// lockout are said.
func TestUnlockFeedback(t *testing.T) {
	h := newHarness(t, prepared(t)) // FreeAttempts: 2
	u := h.a.unlock
	test.Type(u.pass, "wrong passphrase one")
	test.Tap(u.btn)
	if !u.working.Visible() || u.working.Text != "Unlocking…" || !u.btn.Disabled() {
		t.Errorf("while unlocking: working %v %q, button disabled %v", u.working.Visible(), u.working.Text, u.btn.Disabled())
	}
	h.a.wait()
	if u.working.Visible() || !u.err.Visible() {
		t.Fatalf("after a wrong passphrase: working %v, error %q", u.working.Visible(), u.err.Text)
	}
	if want := "If the next passphrase is wrong too, the wallet locks itself for 1 minute."; !u.left.Visible() || u.left.Text != want {
		t.Errorf("attempts left = %q (visible %v), want %q", u.left.Text, u.left.Visible(), want)
	}
	test.Type(u.pass, testPass)
	test.Tap(u.btn)
	if u.err.Visible() || u.left.Visible() {
		t.Errorf("the last attempt's error is still shown during a new one: %q", u.err.Text)
	}
	h.a.wait()
	if h.a.main == nil {
		t.Fatal("not unlocked")
	}
}

// TestForgotPassphrase: from the locked screen, the 24 words restore the
// wallet with a new passphrase in place of the old one, which is kept.
func TestForgotPassphrase(t *testing.T) {
	dir := prepared(t)
	h := newHarness(t, dir)
	u := h.a.unlock
	if !strings.Contains(u.forgot.Text, "Forgot your passphrase? Restore with your 24 words or a backup") {
		t.Fatalf("forgot button = %q", u.forgot.Text)
	}
	test.Tap(u.forgot)
	s := h.a.setup
	if s == nil || !s.replace {
		t.Fatal("no restore screen from the locked screen")
	}
	test.Tap(s.phraseBtn)
	s.restoreWords.fields[0].SetText(fixedPhrase)
	newPass := "a brand new passphrase here"
	test.Type(s.restorePass, newPass)
	test.Type(s.restorePs2, newPass)
	test.Tap(s.doRestorePhrase)
	h.a.wait()
	if h.a.main == nil {
		t.Fatalf("not restored: %q / %q", s.restoreWords.msg.Text, s.restorePhraseErr.Text)
	}
	if got, want := h.primary(), fixedPrimary(t); got != want {
		t.Errorf("primary = %s, want %s", got, want)
	}
	// The restored wallet is the one in the folder, with the new passphrase.
	h.a.lock()
	h.unlock(newPass)
	if h.a.main == nil {
		t.Fatalf("the new passphrase does not open the wallet: %q", h.a.unlock.err.Text)
	}
	// The old wallet is kept aside, unchanged (it opens with the old one).
	kept, _ := filepath.Glob(dir + ".replaced-*")
	if len(kept) != 1 {
		t.Fatalf("kept: %v", kept)
	}
	old, err := wallet.Open(wallet.Config{Dir: kept[0], KDF: fastKDF()}, []byte(testPass))
	if err != nil {
		t.Fatalf("the old wallet: %v", err)
	}
	old.Close()
	if _, err := os.Stat(dir + ".restoring"); !os.IsNotExist(err) {
		t.Errorf("temporary folder left: %v", err)
	}
}
