package app

import (
	"context"
	"fmt"
	"image"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/wallet"
)

// detailsUI is "Share details by hand": for a record kept detail by
// detail (an SD-JWT VC), the patient ticks the details to share (none is
// ticked to start with), names who it is for or says they name nobody,
// sees exactly what the receiver will see, and gets a QR code and a file.
type detailsUI struct {
	a      *App
	choice *shareChoice
	fields []wallet.SDField
	dlg    dialog.Dialog

	scroll  *container.Scroll // the dialog's body
	checks  []*widget.Check   // one per detail, in fields' order
	who     *widget.Entry     // who it is for
	anyone  *widget.Check     // share without naming anyone (unbound)
	preview *widget.Label     // exactly what the receiver will see
	err     *widget.Label
	make    *widget.Button
	close   *widget.Button
	gen     int // the preview computation the screen waits for

	// Result.
	result  *fyne.Container
	qr      *canvas.Image
	qrNote  *widget.Label
	saveBtn *widget.Button
	copyBtn *widget.Button
	done    *widget.Label
	saveTo  func(path string) error
	shared  *wallet.SharedSDJWT
}

// detailLabel is one detail in words with its value: "What it is:
// Penicillin". The coding system and code of a coded value, which
// fieldWord names like the value itself, are told apart, and a coding
// system the patient may have heard of is named, not shown as its web
// address ("Medical coding system (what it is): SNOMED CT").
func detailLabel(p sdjwt.Path, v any) string {
	w := fieldWord(p.String())
	if n := len(p); n >= 2 {
		if last, _ := p[n-1].(string); last == "system" {
			w = "medical coding system (" + w + ")"
			if s, ok := v.(string); ok && codingSystems[s] != "" {
				v = codingSystems[s]
			}
		} else if last == "code" {
			w = "medical code for " + w
		}
	}
	if p.String() == "sub" {
		return "Your identifier in this wallet"
	}
	return capitalize(w) + ": " + text(v)
}

// codingSystems names the coding systems of FHIR codes that records carry.
var codingSystems = map[string]string{
	"http://snomed.info/sct":                      "SNOMED CT",
	"http://loinc.org":                            "LOINC",
	"http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
	"http://hl7.org/fhir/sid/cvx":                 "CVX (vaccines)",
	"http://hl7.org/fhir/sid/icd-10":              "ICD-10",
	"http://www.whocc.no/atc":                     "ATC (medicines)",
}

// openDetails opens "Share details by hand" for ch; then (if not nil) runs
// with the dialog once it shows.
func (u *shareUI) openDetails(ch *shareChoice, then func(*detailsUI)) {
	w := u.a.wallet()
	load(u.a, func(context.Context) ([]wallet.SDField, error) { return w.SDJWTFields(ch.cred.ID) },
		func(fields []wallet.SDField, err error) {
			if err != nil {
				showError(u.err, err)
				return
			}
			u.details = newDetailsUI(u.a, ch, fields)
			u.details.dlg.Show()
			if then != nil {
				then(u.details)
			}
		})
}

func newDetailsUI(a *App, ch *shareChoice, fields []wallet.SDField) *detailsUI {
	d := &detailsUI{a: a, choice: ch, fields: fields}
	list := container.NewVBox()
	for _, f := range fields {
		c := widget.NewCheck(detailLabel(f.Path, f.Value), func(bool) { d.refresh() })
		d.checks = append(d.checks, c)
		list.Add(c)
	}
	d.who = widget.NewEntry()
	d.who.SetPlaceHolder("Their name, or the address or identifier they gave you")
	d.who.OnChanged = func(string) { d.refresh() }
	d.anyone = widget.NewCheck("I do not want to name anyone (whoever gets it can show it to others as if it were theirs)", func(on bool) {
		if on {
			d.who.SetText("")
			d.who.Disable()
		} else {
			d.who.Enable()
		}
		d.refresh()
	})
	d.preview = wrapLabel("")
	d.err = errorLabel()
	d.make = widget.NewButtonWithIcon("Make the code", theme.ConfirmIcon(), d.doShare)
	d.make.Importance = widget.HighImportance
	d.close = widget.NewButton("Close", func() { d.dlg.Hide() })
	d.qr = canvas.NewImageFromImage(nil)
	d.qr.FillMode = canvas.ImageFillContain
	d.qr.ScaleMode = canvas.ImageScalePixels
	d.qr.SetMinSize(fyne.NewSize(220, 220))
	d.qrNote = wrapLabel("")
	d.done = wrapLabel("")
	d.saveTo = func(path string) error {
		return writeFileAtomic(path, []byte(d.shared.Token+"\n"), 0o600)
	}
	d.saveBtn = saveButton(a, "shared-details.txt", func(path string) error { return d.saveTo(path) }, d.err, d.done)
	d.copyBtn = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		a.fa.Clipboard().SetContent(d.shared.Token)
		d.done.SetText("Copied.")
	})
	d.result = container.NewVBox(widget.NewSeparator(),
		widget.NewLabelWithStyle("Ready to share", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewHBox(d.qr, container.NewVBox(d.qrNote, container.NewHBox(d.saveBtn, d.copyBtn), d.done)))
	d.result.Hide()
	name := typeName(ch.cred.Types, ch.cred.Name)
	body := container.NewVBox(
		wrapLabel(fmt.Sprintf("%s — %s. Tick only the details you want to share: nothing else leaves your wallet.", name, issuerLine(ch.cred, ch.issuer))),
		list, widget.NewSeparator(),
		widget.NewLabelWithStyle("Who is it for?", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		d.who, d.anyone, widget.NewSeparator(),
		widget.NewLabelWithStyle("What they will see", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		d.preview, d.err, d.result)
	d.scroll = container.NewVScroll(body)
	d.dlg = dialog.NewCustomWithoutButtons("Share details of a record", container.NewBorder(nil,
		container.NewHBox(layout.NewSpacer(), d.close, d.make), nil, nil,
		container.NewGridWrap(fyne.NewSize(600, 420), d.scroll)), a.win)
	d.refresh()
	return d
}

// request is what the screen would share now.
func (d *detailsUI) request() wallet.ShareSDJWTRequest {
	r := wallet.ShareSDJWTRequest{CredentialID: d.choice.cred.ID, Audience: strings.TrimSpace(d.who.Text), Unbound: d.anyone.Checked}
	for i, c := range d.checks {
		if c.Checked {
			r.Disclose = append(r.Disclose, d.fields[i].Path)
		}
	}
	return r
}

// refresh works out in the background exactly what the receiver would
// see, and enables "Make the code" once a detail is ticked and the
// patient said who it is for (or that they name nobody). A change after a
// code was made hides it: the code shows what was chosen then.
func (d *detailsUI) refresh() {
	d.gen++
	d.result.Hide()
	d.shared = nil
	d.make.Disable()
	req := d.request()
	switch {
	case len(req.Disclose) == 0:
		d.preview.SetText("Nothing yet: tick the details you want to share.")
		return
	case req.Audience == "" && !req.Unbound:
		req.Audience = "(whoever you name)" // a preview does not sign anything
	}
	gen, w := d.gen, d.a.wallet()
	ctx := context.Background()
	issuer := d.choice.issuer
	load(d.a, func(context.Context) (*wallet.SharedSDJWT, error) { return w.PreviewShare(req) },
		func(p *wallet.SharedSDJWT, err error) {
			if gen != d.gen {
				return // a newer choice is being worked out
			}
			if err != nil {
				showError(d.err, err)
				return
			}
			showError(d.err, nil)
			d.preview.SetText(seenWords(ctx, d.a, p, d.fields, req, issuer))
			if strings.TrimSpace(d.who.Text) != "" || d.anyone.Checked {
				d.make.Enable()
			}
		})
}

// seenWords is exactly what the receiver of p will see, in words: the
// always-visible facts of the record (who issued it, its kind and dates,
// the key and status list it carries), each chosen detail with its value,
// the details kept back, and for whom it is made.
func seenWords(ctx context.Context, a *App, p *wallet.SharedSDJWT, fields []wallet.SDField, req wallet.ShareSDJWTRequest, issuer string) string {
	var b strings.Builder
	seen := p.Seen
	iss, _ := seen["iss"].(string)
	fmt.Fprintf(&b, "Who issued it: %s\n", who(issuer, iss))
	if vct, _ := seen["vct"].(string); vct != "" {
		fmt.Fprintf(&b, "Kind of record: %s\n", typeName([]string{sdjwt.CredentialType(vct)}, ""))
	}
	for _, f := range [...]struct{ claim, words string }{{"iat", "Issued on"}, {"nbf", "Valid from"}, {"exp", "Valid until"}} {
		if at, ok, _ := vc.NumericDate(seen, f.claim); ok {
			fmt.Fprintf(&b, "%s: %s\n", f.words, at.Local().Format("2 January 2006"))
		}
	}
	// The chosen details, as the receiver rebuilds them (the preview is
	// the wallet's own processing of the very presentation it would send).
	for _, f := range fields {
		if v, ok := f.Path.Lookup(map[string]any(seen)); ok {
			fmt.Fprintf(&b, "%s\n", detailLabel(f.Path, v))
		}
	}
	if _, ok := seen["cnf"]; ok {
		b.WriteString("A key that lets them check the record was given to you\n")
	}
	if _, ok := seen["status"]; ok {
		b.WriteString("Where to check the hospital has not withdrawn it\n")
	}
	var kept []string
	for _, f := range fields {
		if _, ok := f.Path.Lookup(map[string]any(seen)); !ok {
			if w := strings.ToLower(strings.SplitN(detailLabel(f.Path, f.Value), ":", 2)[0]); !slices.Contains(kept, w) {
				kept = append(kept, w)
			}
		}
	}
	if len(kept) > 0 {
		fmt.Fprintf(&b, "\nThey will not see: %s.\n", strings.Join(kept, "; "))
	}
	switch {
	case req.Unbound:
		b.WriteString("\nNot made for anyone in particular: whoever gets the code or file can show it to others as if it were theirs.")
	case strings.TrimSpace(req.Audience) != "" && req.Audience != "(whoever you name)":
		fmt.Fprintf(&b, "\nMade for %s only: they can check that you made it for them, and nobody can show it as made for someone else.", req.Audience)
	default:
		b.WriteString("\nSay who it is for, or tick that you do not want to name anyone.")
	}
	b.WriteString(" Your wallet keeps a note of this sharing in its history.")
	return b.String()
}

// doShare makes the presentation, records it and shows its QR code.
func (d *detailsUI) doShare() {
	req := d.request()
	w := d.a.wallet()
	scale := float32(1)
	if c := d.a.win.Canvas(); c != nil && c.Scale() > 0 {
		scale = c.Scale()
	}
	d.make.Disable()
	type made struct {
		shared *wallet.SharedSDJWT
		img    image.Image
		qrErr  error
	}
	gen := d.gen
	load(d.a, func(ctx context.Context) (made, error) {
		s, err := w.ShareSDJWT(ctx, req)
		if err != nil {
			return made{}, err
		}
		img, qrErr := qrImage(s.Token, int(220*scale))
		return made{s, img, qrErr}, nil
	}, func(m made, err error) {
		if gen != d.gen {
			return
		}
		if err != nil {
			showError(d.err, err)
			d.make.Enable()
			return
		}
		d.shared = m.shared
		if m.qrErr != nil {
			d.qr.Image = nil
			d.qr.Hide()
			d.qrNote.SetText("Too many details for one QR code: save it to a file, or share fewer details.")
		} else {
			d.qr.Image = m.img
			d.qr.Show()
			d.qrNote.SetText("Let them scan this code, or give them the file.")
		}
		d.qr.Refresh()
		if m.shared.Bound() {
			d.done.SetText("Made for " + m.shared.Audience + ".")
		} else {
			d.done.SetText("Not made for anyone in particular.")
		}
		d.result.Show()
	})
}
