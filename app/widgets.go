package app

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// details folds away what only a curious patient or a hospital's IT desk
// needs (an identifier in full, a technical cause) behind a "Details" tap:
// patient screens show no developer terms outside one (TestNoDeveloperTerms).
func details(content fyne.CanvasObject) *widget.Accordion {
	return widget.NewAccordion(widget.NewAccordionItem("Details", content))
}

// qrPicture returns what to do with a picture of a QR code (decode it, put
// its text in into and hand it to use; or say on errl that no code was
// found) and the "Open a QR code picture…" button that asks for one.
func qrPicture(a *App, into *widget.Entry, errl *widget.Label, use func(text string)) (func(path string), *widget.Button) {
	open := func(path string) {
		text, err := decodeQRFile(path)
		if err != nil {
			showError(errl, err)
			return
		}
		into.SetText(text)
		use(text)
	}
	b := widget.NewButtonWithIcon("Open a QR code picture…", theme.FileImageIcon(), func() {
		dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			r.Close()
			open(r.URI().Path())
		}, a.win).Show()
	})
	return open, b
}

// checkFlow is a set of check boxes that flow into as many columns as the
// width allows and stack when the window is narrow (a horizontal
// CheckGroup sets its whole row as the window's minimum width: six data
// classes made it ~1,000 px).
type checkFlow struct {
	box    *fyne.Container
	checks []*widget.Check // in the order of options
}

func newCheckFlow(options []string) *checkFlow {
	f := &checkFlow{}
	cell := fyne.NewSize(0, 0)
	objs := make([]fyne.CanvasObject, len(options))
	for i, o := range options {
		c := widget.NewCheck(o, nil)
		f.checks = append(f.checks, c)
		objs[i] = c
		cell = cell.Max(c.MinSize())
	}
	f.box = container.NewGridWrap(cell, objs...)
	return f
}

// Selected returns the ticked options, in order.
func (f *checkFlow) Selected() []string {
	var out []string
	for _, c := range f.checks {
		if c.Checked {
			out = append(out, c.Text)
		}
	}
	return out
}

// SetSelected ticks exactly the options in sel.
func (f *checkFlow) SetSelected(sel []string) {
	for _, c := range f.checks {
		c.SetChecked(slices.Contains(sel, c.Text))
	}
}

// check returns the box of option o (nil if there is none).
func (f *checkFlow) check(o string) *widget.Check {
	for _, c := range f.checks {
		if c.Text == o {
			return c
		}
	}
	return nil
}

// note is a status message shown next to the control it is about ("Saved",
// "Copied", an error). It is never left to go stale: the screen clears it
// when the patient starts another action on that control or edits its
// field, and [mainUI] clears every note of a screen the patient leaves.
type note struct {
	widget.Label
}

func newNote() *note {
	n := &note{}
	n.Wrapping = fyne.TextWrapWord
	n.ExtendBaseWidget(n)
	n.Hide()
	return n
}

// say shows s as information.
func (n *note) say(s string) { n.set(s, widget.MediumImportance) }

// good shows s as a success.
func (n *note) good(s string) { n.set(s, widget.SuccessImportance) }

// fail shows err in words (friendly), or clears the note when err is nil.
func (n *note) fail(err error) {
	if err == nil {
		n.clear()
		return
	}
	n.set(friendly(err), widget.DangerImportance)
}

// failText shows s as an error.
func (n *note) failText(s string) { n.set(s, widget.DangerImportance) }

func (n *note) set(s string, imp widget.Importance) {
	n.Importance = imp
	n.SetText(s)
	n.Show()
}

// clear hides the note.
func (n *note) clear() {
	if n.Text == "" && !n.Visible() {
		return
	}
	n.SetText("")
	n.Hide()
}

// clearOnEdit clears n whenever the patient edits e, keeping e's own
// OnChanged.
func clearOnEdit(n *note, e *widget.Entry) {
	prev := e.OnChanged
	e.OnChanged = func(s string) {
		n.clear()
		if prev != nil {
			prev(s)
		}
	}
}

// clearNotes clears every note in o's tree (a screen being left).
func clearNotes(o fyne.CanvasObject) {
	switch x := o.(type) {
	case *note:
		x.clear()
	case *fyne.Container:
		for _, c := range x.Objects {
			clearNotes(c)
		}
	case *container.Scroll:
		clearNotes(x.Content)
	case *widget.Form:
		for _, it := range x.Items {
			clearNotes(it.Widget)
		}
	}
}
