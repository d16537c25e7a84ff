package app

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

// TestRestoreFromPhrase types the recovery words one per field with
// completion, is told which word is not a recovery word and when the words
// do not fit together, then pastes all 24 into the first field and
// restores the wallet.
func TestRestoreFromPhrase(t *testing.T) {
	h := newHarness(t, "")
	s := h.a.setup
	test.Tap(s.phraseBtn)
	r := s.restoreWords

	// Completion: "aban" offers "abandon"; picking it moves on.
	test.Type(r.fields[0], "aban")
	if len(r.suggest) != 1 || r.suggest[0].Text != "abandon" {
		t.Fatalf("suggestions for aban: %d", len(r.suggest))
	}
	test.Tap(r.suggest[0])
	if r.fields[0].Text != "abandon" || h.win.Canvas().Focused() != r.fields[1] {
		t.Errorf("after picking: field 1 = %q, focus on field 2: %v", r.fields[0].Text, h.win.Canvas().Focused() == r.fields[1])
	}
	// A space ends a word and moves to the next field (the lost space
	// between words 12 and 13 cannot happen: each word has its field).
	test.Type(r.fields[1], "abandon ")
	if r.fields[1].Text != "abandon" || h.win.Canvas().Focused() != r.fields[2] {
		t.Errorf("after a space: field 2 = %q", r.fields[1].Text)
	}
	// A word that is not a recovery word is named at once.
	test.Type(r.fields[2], "abandn")
	if !r.msg.Visible() || !strings.Contains(r.msg.Text, `Word 3 ("abandn") is not a recovery word`) {
		t.Errorf("typo message = %q", r.msg.Text)
	}
	test.Type(s.restorePass, testPass)
	test.Type(s.restorePs2, testPass)
	test.Tap(s.doRestorePhrase)
	h.a.wait()
	if h.a.main != nil || !strings.Contains(r.msg.Text, "Word 3") {
		t.Fatalf("restored with a typo; message %q", r.msg.Text)
	}
	// An empty field is named.
	r.fields[2].SetText("abandon")
	test.Tap(s.doRestorePhrase)
	if !strings.Contains(r.msg.Text, "Word 4 is empty") {
		t.Errorf("incomplete phrase: %q", r.msg.Text)
	}
	// All recovery words, but the last one wrong: they do not fit.
	words := strings.Fields(fixedPhrase)
	wrong := append(append([]string{}, words[:23]...), "zoo")
	r.fields[0].SetText(strings.Join(wrong, " ")) // a paste into the first field
	for i, f := range r.fields {
		if f.Text != wrong[i] {
			t.Fatalf("after the paste field %d = %q, want %q", i+1, f.Text, wrong[i])
		}
	}
	test.Tap(s.doRestorePhrase)
	h.a.wait()
	if h.a.main != nil || !strings.Contains(r.msg.Text, "do not fit together") {
		t.Fatalf("wrong word: main=%v message %q", h.a.main != nil, r.msg.Text)
	}
	// The right phrase, pasted in capitals with odd spacing.
	r.fields[0].SetText(" " + strings.ToUpper(strings.ReplaceAll(fixedPhrase, " ", "\n ")))
	test.Tap(s.doRestorePhrase)
	h.a.wait()
	if h.a.main == nil {
		t.Fatalf("not restored: %q / %q", r.msg.Text, s.restorePhraseErr.Text)
	}
	if got, want := h.a.main.ids.rows[0].did.DID, fixedPrimary(t); got != want {
		t.Errorf("primary DID = %s, want %s", got, want)
	}
	// What came back is said, and the words left the screen.
	if n := h.a.main.notice; !n.Visible() || !strings.Contains(n.Text, "Your main identity is back") {
		t.Errorf("notice after restoring = %q", n.Text)
	}
	for i, f := range r.fields {
		if f.Text != "" {
			t.Fatalf("word %d still on screen after restoring", i+1)
		}
	}
}

func TestWordCompletions(t *testing.T) {
	r := newWordsEntry(nil)
	for _, c := range []struct {
		prefix string
		want   string
	}{
		{"zo", "[zone zoo]"},
		{"abando", "[abandon]"},
		{"xyz", "[]"},
		{"", "[]"},
		{"a", "[abandon ability able about above absent]"},
	} {
		if got := fmt.Sprint(r.completions(c.prefix)); got != c.want {
			t.Errorf("completions(%q) = %s, want %s", c.prefix, got, c.want)
		}
	}
}
