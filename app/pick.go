package app

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	rledger "github.com/medid/medid/registry/ledger"
)

// directorySearcher is the registry's directory search
// (*client.Client implements it).
type directorySearcher interface {
	SearchDirectory(ctx context.Context, q rledger.DirectorySearch) (*rledger.DirectoryPage, error)
}

// errNoDirectory: the registry in use cannot search its directory.
var errNoDirectory = errors.New("consent: the directory cannot be searched")

// picker finds a provider by name in the medid directory for a Who box
// (the Consent screen's, the acting screen's consent in someone's name),
// so the patient picks "St Mary's Hospital" instead of typing its
// identifier. Search results are the registry's index, not
// proven: the consent list names the provider from a proven directory
// read (App.nameOf), so a wrong index shows as a wrong name there.
type picker struct {
	a       *App
	entry   *widget.Entry // the Who box
	find    *widget.Button
	results *fyne.Container
	found   []*widget.Button // one per result, in order
	note    *note

	name, did string // the pick; cleared when the Who box is edited
}

func newPicker(a *App, entry *widget.Entry) *picker {
	p := &picker{a: a, entry: entry, results: container.NewVBox(), note: newNote()}
	p.find = widget.NewButtonWithIcon("Find by name", theme.SearchIcon(), p.search)
	entry.OnChanged = func(s string) {
		if p.did != "" && s != p.name {
			p.name, p.did = "", ""
		}
	}
	return p
}

// provider is the DID the Who box stands for: the picked provider's while
// the box shows its name, else the text itself.
func (p *picker) provider(text string) string {
	if p.did != "" && text == p.name {
		return p.did
	}
	return text
}

func (p *picker) search() {
	q := strings.TrimSpace(p.entry.Text)
	p.note.clear()
	if q == "" || isDID(q) {
		p.note.say("Type part of the hospital's or doctor's name, then Find by name.")
		return
	}
	s, ok := p.a.reg().(directorySearcher)
	if !ok {
		p.note.fail(errNoDirectory)
		return
	}
	p.find.Disable()
	load(p.a, func(ctx context.Context) (*rledger.DirectoryPage, error) {
		return s.SearchDirectory(ctx, rledger.DirectorySearch{Query: q, Status: rledger.DirectoryActive, Limit: 10})
	}, func(page *rledger.DirectoryPage, err error) {
		p.find.Enable()
		if err != nil {
			p.note.fail(err)
			return
		}
		p.show(page.Results)
	})
}

func (p *picker) show(rs []rledger.DirectorySummary) {
	p.found = p.found[:0]
	var objs []fyne.CanvasObject
	for _, r := range rs {
		label := r.DisplayName
		if r.Kind != "" {
			label += " (" + strings.ToLower(humanize(r.Kind)) + ")"
		}
		b := widget.NewButton(label, func() {
			p.name, p.did = r.DisplayName, r.DID
			p.entry.SetText(r.DisplayName)
			p.results.Objects = nil
			p.results.Refresh()
			p.note.good("Consent will go to " + r.DisplayName + ", as the medid directory lists them.")
		})
		b.Alignment = widget.ButtonAlignLeading
		p.found = append(p.found, b)
		objs = append(objs, b)
	}
	p.results.Objects = objs
	p.results.Refresh()
	if len(rs) == 0 {
		p.note.say("Nobody by that name is in the medid directory. Check the spelling, or ask them for their consent request.")
	}
}
