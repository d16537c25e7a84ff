package app

import (
	"fmt"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/wallet"
)

// maxSuggestions is how many completions are offered for a word.
const maxSuggestions = 6

// wordsEntry is the 24-word recovery phrase entry: one numbered field per
// word (typing the phrase into one box lost the space between two words in
// every attempt we watched), completion from the recovery word list, and
// pasting the whole phrase into any field fills the fields from there on.
// A word that is not a recovery word is named as soon as it is typed.
type wordsEntry struct {
	content fyne.CanvasObject
	fields  [wallet.PhraseWords]*widget.Entry
	suggest []*widget.Button // completions of the word being typed
	hint    *fyne.Container  // holds the suggestions
	msg     *note            // which word is not a recovery word
	current int              // index of the field last typed in
	filling bool             // set while a paste is spread over the fields
	words   []string         // the recovery word list, sorted
	focus   func(fyne.Focusable)
}

func newWordsEntry(focus func(fyne.Focusable)) *wordsEntry {
	w := &wordsEntry{words: wallet.RecoveryWords(), focus: focus}
	cells := make([]fyne.CanvasObject, 0, 2*wallet.PhraseWords)
	for i := range w.fields {
		e := widget.NewEntry()
		e.SetPlaceHolder(fmt.Sprintf("word %d", i+1))
		e.OnChanged = func(s string) { w.changed(i, s) }
		e.OnSubmitted = func(string) { w.complete(i) }
		w.fields[i] = e
		num := widget.NewLabel(fmt.Sprintf("%d.", i+1))
		num.Alignment = fyne.TextAlignTrailing
		cells = append(cells, container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(34, e.MinSize().Height), num), nil, e))
	}
	w.hint = container.NewHBox()
	w.msg = newNote()
	w.content = container.NewVBox(container.NewGridWithColumns(4, cells...), w.hint, w.msg)
	return w
}

// changed handles an edit of field i: a pasted phrase is spread over the
// fields from i on; a partial word gets completions; a word that cannot
// be a recovery word is named.
func (w *wordsEntry) changed(i int, s string) {
	if w.filling {
		return
	}
	w.current = i
	// A space ends a word: several words are a paste, one word and a
	// space moves on to the next field.
	if parts := strings.Fields(s); len(parts) > 0 && strings.ContainsAny(s, " \t\r\n") {
		w.spread(i, parts)
		return
	}
	w.showSuggestions(strings.ToLower(strings.TrimSpace(s)))
	w.checkWord(i)
}

// spread fills fields i, i+1, … with words (a paste) and moves the focus
// after the last one filled.
func (w *wordsEntry) spread(i int, words []string) {
	w.filling = true
	last := i
	for k, word := range words {
		if i+k >= len(w.fields) {
			break
		}
		w.fields[i+k].SetText(strings.ToLower(word))
		last = i + k
	}
	w.filling = false
	w.hint.Objects = nil
	w.hint.Refresh()
	w.current = last
	if n := i + len(words); n > len(w.fields) {
		w.msg.failText(fmt.Sprintf("That was %d words; a recovery phrase has %d. The extra words were left out: check them.", n, len(w.fields)))
	} else {
		w.check(false)
	}
	if next := last + 1; next < len(w.fields) && w.focus != nil {
		w.focus(w.fields[next])
	}
}

// completions returns up to maxSuggestions recovery words starting with
// prefix.
func (w *wordsEntry) completions(prefix string) []string {
	if prefix == "" {
		return nil
	}
	i := sort.SearchStrings(w.words, prefix)
	var out []string
	for ; i < len(w.words) && strings.HasPrefix(w.words[i], prefix) && len(out) < maxSuggestions; i++ {
		out = append(out, w.words[i])
	}
	return out
}

func (w *wordsEntry) showSuggestions(prefix string) {
	w.suggest = w.suggest[:0]
	var objs []fyne.CanvasObject
	cs := w.completions(prefix)
	if len(cs) == 1 && cs[0] == prefix {
		cs = nil // already a whole word
	}
	if len(cs) > 0 {
		objs = append(objs, widget.NewLabel("Did you mean"))
		for _, c := range cs {
			b := widget.NewButton(c, func() { w.pick(c) })
			w.suggest = append(w.suggest, b)
			objs = append(objs, b)
		}
		objs = append(objs, layout.NewSpacer())
	}
	w.hint.Objects = objs
	w.hint.Refresh()
}

// pick puts word in the field being typed in and moves to the next.
func (w *wordsEntry) pick(word string) {
	i := w.current
	w.filling = true
	w.fields[i].SetText(word)
	w.filling = false
	w.showSuggestions("")
	w.checkWord(i)
	if i+1 < len(w.fields) && w.focus != nil {
		w.focus(w.fields[i+1])
	}
}

// complete (Enter in field i) completes a word its first letters already
// name (recovery words differ in their first four letters).
func (w *wordsEntry) complete(i int) {
	w.current = i
	p := strings.ToLower(strings.TrimSpace(w.fields[i].Text))
	if cs := w.completions(p); len(cs) == 1 {
		w.pick(cs[0])
		return
	}
	if i+1 < len(w.fields) && w.focus != nil {
		w.focus(w.fields[i+1])
	}
}

// checkWord names field i's word if no recovery word starts with it.
func (w *wordsEntry) checkWord(i int) {
	p := strings.ToLower(strings.TrimSpace(w.fields[i].Text))
	if p != "" && len(w.completions(p)) == 0 {
		w.msg.failText(fmt.Sprintf("Word %d (%q) is not a recovery word. Check its spelling on your paper.", i+1, p))
		return
	}
	w.check(false)
}

// check looks at every field: with complete set, an empty field or a
// phrase whose words do not fit together is an error too. It shows the
// first problem (naming the word) and returns it as an error.
func (w *wordsEntry) check(complete bool) error {
	for i, f := range w.fields {
		word := strings.ToLower(strings.TrimSpace(f.Text))
		switch {
		case word == "" && complete:
			err := fmt.Errorf("word %d is empty", i+1)
			w.msg.failText(fmt.Sprintf("Word %d is empty. Type all %d words, in order.", i+1, len(w.fields)))
			return err
		case word != "" && !wallet.IsRecoveryWord(word) && (complete || len(w.completions(word)) == 0):
			w.msg.failText(fmt.Sprintf("Word %d (%q) is not a recovery word. Check its spelling on your paper.", i+1, word))
			return &wallet.PhraseWordError{Index: i + 1}
		}
	}
	if !complete {
		w.msg.clear()
		return nil
	}
	if err := wallet.CheckPhrase(w.phrase()); err != nil {
		w.msg.fail(err)
		return err
	}
	w.msg.clear()
	return nil
}

// phrase is the words typed, separated by spaces.
func (w *wordsEntry) phrase() string {
	words := make([]string, len(w.fields))
	for i, f := range w.fields {
		words[i] = strings.ToLower(strings.TrimSpace(f.Text))
	}
	return strings.Join(words, " ")
}

// clear empties every field (the words are secret: not kept on screen).
func (w *wordsEntry) clear() {
	w.filling = true
	for _, f := range w.fields {
		f.SetText("")
	}
	w.filling = false
	w.showSuggestions("")
	w.msg.clear()
}
