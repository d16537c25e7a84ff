package app

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/internal/qr"
	"github.com/medid/medid/wallet"
)

// Giving a record to the person it is for (docs/design/0020, "Receiving
// and presenting for someone"): a record a representative received for
// someone is issued to that person, so it is theirs to keep in their own
// wallet, where it works as theirs (and the representative's copy only
// under the delegation). The acting screen offers, per record held for
// them, "Give to Ana…": a QR code their wallet scans ("Add a record"), a
// file to save for them, or a copy to paste. Nothing leaves the
// representative's wallet until they choose one of the three, and their
// own copy stays.

// exportUI is the "Give to …" dialog of one record held for the person.
type exportUI struct {
	x    *actingUI
	c    wallet.Credential // with its token
	dlg  dialog.Dialog
	img  *canvas.Image // the QR code (nil when the record is too large for one)
	code string        // what the QR code holds
	save *widget.Button
	copy *widget.Button
	done *note
	// saveTo writes the record to path (the save dialog calls it; tests
	// too, with a path of their own).
	saveTo func(path string) error
}

// giveButton is the "Give to Ana…" button of a record held for the person.
func (x *actingUI) giveButton(h heldRecord) *widget.Button {
	return widget.NewButtonWithIcon("Give to "+personName(x.d)+"…", theme.MailForwardIcon(), func() {
		x.export = x.showExport(h)
	})
}

// exportCode is what a record's QR code holds: the record as it is when
// it fits in one code, else compacted (the wallet's Add a record expands
// it); errTooBig when neither fits.
func exportCode(token string) (string, error) {
	if qr.Fits(token) {
		return token, nil
	}
	if c := qr.Compact(token); qr.Fits(c) {
		return c, nil
	}
	return "", errTooBig
}

// showExport opens the dialog for one held record.
func (x *actingUI) showExport(h heldRecord) *exportUI {
	whose := personName(x.d)
	e := &exportUI{x: x, c: h.c, done: newNote()}
	e.saveTo = func(path string) error { return writeFileAtomic(path, []byte(e.c.Token+"\n"), 0o600) }
	kind := typeName(h.c.Types, h.c.Name)
	intro := wrapLabel("This " + strings.ToLower(kind) + " record from " + who(h.issuer, h.c.Issuer) + " is " + whose + "'s: it was made out to " +
		whose + ", so it works as theirs only in their own medid wallet. Give it to them: in their wallet they choose \"Add a record\" and scan this code, " +
		"or open the file you save for them. You keep your copy, to show it for them while you may act for them.")
	objs := []fyne.CanvasObject{intro}
	scale := float32(1)
	if c := x.a.win.Canvas(); c != nil && c.Scale() > 0 {
		scale = c.Scale()
	}
	if code, err := exportCode(h.c.Token); err == nil {
		if img, err := qrImage(code, int(360*scale)); err == nil {
			e.code = code
			e.img = canvas.NewImageFromImage(img)
			e.img.FillMode = canvas.ImageFillStretch
			e.img.ScaleMode = canvas.ImageScalePixels
			px := float32(img.Bounds().Dx()) / scale
			e.img.SetMinSize(fyne.NewSize(px, px))
			objs = append(objs, container.NewCenter(container.NewStack(canvas.NewRectangle(qrBackground), container.NewPadded(e.img))))
		}
	}
	if e.img == nil {
		objs = append(objs, wrapLabel("This record is too large for a code: save it as a file for them instead."))
	}
	e.save = widget.NewButtonWithIcon("Save as a file for "+whose+"…", theme.DocumentSaveIcon(), func() {
		d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil || w == nil {
				return
			}
			path := w.URI().Path()
			w.Close()
			e.saved(path, e.saveTo(path))
		}, x.a.win)
		d.SetFileName(strings.ReplaceAll(strings.ToLower(whose+"-"+kind), " ", "-") + ".txt")
		d.Show()
	})
	e.copy = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		x.a.fa.Clipboard().SetContent(e.c.Token)
		e.done.good("Copied. Paste it in " + whose + "'s wallet under \"Add a record\"; do not send it where others can read it.")
	})
	closeBtn := widget.NewButton("Close", func() { e.dlg.Hide() })
	objs = append(objs, e.done, container.NewHBox(e.save, e.copy, layout.NewSpacer(), closeBtn))
	e.dlg = dialog.NewCustomWithoutButtons("Give "+whose+" their record", container.NewGridWrap(fyne.NewSize(600, 560),
		container.NewVScroll(container.NewVBox(objs...))), x.a.win)
	e.dlg.Show()
	return e
}

// saved says where the record went, or why it did not.
func (e *exportUI) saved(path string, err error) {
	if err != nil {
		e.done.fail(errors.Join(errors.New("the record was not saved"), err))
		return
	}
	e.done.good("Saved to " + path + ". Only you can read the file on this computer; give it to " + personName(e.x.d) +
		" privately (it holds their health information) and delete your copy of the file afterwards.")
}
