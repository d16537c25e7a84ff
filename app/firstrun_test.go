package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

// TestQuitBeforeConfirmingWords quits between creating the wallet and
// confirming three recovery words: the next start asks for them again
// after unlocking (and can show them again), and once they are confirmed
// the start after that goes straight to the main screen.
func TestQuitBeforeConfirmingWords(t *testing.T) {
	h := newHarness(t, "")
	s := h.a.setup
	test.Tap(s.createBtn)
	test.Type(s.pass, testPass)
	test.Type(s.pass2, testPass)
	test.Tap(s.doCreate)
	h.a.wait()
	phrase := append([]string(nil), s.phrase...)
	if len(phrase) != 24 {
		t.Fatalf("phrase has %d words", len(phrase))
	}
	dir := h.dir
	h.a.Close() // the patient quits on the words screen

	for _, tc := range []struct {
		name      string
		wantAsked bool
	}{
		{"second start asks", true},
		{"third start does not", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, dir)
			if h.a.unlock == nil {
				t.Fatal("no unlock screen for an existing wallet")
			}
			h.unlock(testPass)
			if !tc.wantAsked {
				if h.a.main == nil {
					t.Fatal("confirmed words asked again")
				}
				return
			}
			if h.a.main != nil {
				t.Fatal("main screen shown although the recovery words were never confirmed")
			}
			s := h.a.setup
			if s == nil || !s.resumed || s.confirmBtn == nil {
				t.Fatal("no recovery-word check after unlocking")
			}
			for i := range s.confirm {
				test.Type(s.confirm[i], "wrong")
			}
			test.Tap(s.confirmBtn)
			h.a.wait()
			if h.a.main != nil || !s.confirmErr.Visible() {
				t.Fatal("wrong words accepted")
			}
			// Show the words again: the same 24, then back to the check.
			test.Tap(s.againBtn)
			if s.words == nil || !strings.Contains(s.words.Text, "24. "+phrase[23]) {
				t.Fatalf("words shown again = %v", s.words)
			}
			test.Tap(s.wroteIt)
			test.Tap(s.toConfirm)
			for i, p := range s.confirmPos {
				test.Type(s.confirm[i], phrase[p])
			}
			test.Tap(s.confirmBtn)
			h.a.wait()
			if h.a.main == nil {
				t.Fatalf("not on the main screen after the right words; error %q", s.confirmErr.Text)
			}
		})
	}
}
