package app

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/registry/directory"
)

// checkUI is "Check a practitioner": anyone (a patient at the bedside, a
// relative) reads the QR code a nurse or doctor shows from their wallet
// (a licence card, see practitionerUI) and sees, by the medid directory,
// who they are: "Sam Nurse is a registered nurse at St Mary's Hospital,
// licensed by Nursing Council"; or that the code is not a valid licence,
// and why; or that it could not be checked now (offline, the network not
// answering), in a neutral colour, never as invalid. The practitioner's
// identifier is one tap away.
type checkUI struct {
	a       *App
	dlg     dialog.Dialog
	text    *widget.Entry
	check   *widget.Button
	openQR  *widget.Button
	qrFile  func(path string)
	err     *widget.Label
	busy    *widget.ProgressBarInfinite
	result  *widget.Label
	detail  *widget.Label
	copyID  *widget.Button
	holder  string // the DID of a verified practitioner
	verdict directory.CardState
	body    *fyne.Container   // the dialog's content, laid out again when a line shows or hides
	scroll  *container.Scroll // around body
}

// errNotLicenceCard: the text or picture holds something else.
var errNotLicenceCard = errors.New("this is not a practitioner's licence code: ask them to open \"My licence\" in their medid wallet and show the code")

// showCheck opens the "Check a practitioner" dialog.
func (a *App) showCheck() *checkUI {
	u := &checkUI{a: a, err: errorLabel(), busy: widget.NewProgressBarInfinite(), result: wrapLabel(""), detail: wrapLabel("")}
	u.busy.Hide()
	u.result.TextStyle = fyne.TextStyle{Bold: true}
	u.result.Hide()
	u.detail.Hide()
	u.text = widget.NewEntry()
	u.text.SetPlaceHolder("Paste the code's text, or open a picture of it")
	u.check = widget.NewButtonWithIcon("Check", theme.SearchIcon(), func() { u.run(u.text.Text) })
	u.check.Importance = widget.HighImportance
	u.qrFile, u.openQR = qrPicture(a, u.text, u.err, u.run)
	u.copyID = widget.NewButtonWithIcon("Copy their identifier", theme.ContentCopyIcon(), func() {
		if u.holder != "" {
			a.fa.Clipboard().SetContent(u.holder)
		}
	})
	u.copyID.Hide()
	closeBtn := widget.NewButton("Close", func() { u.dlg.Hide() })
	u.body = container.NewVBox(
		wrapLabel("A nurse, doctor or pharmacist can show you a QR code from their medid wallet. The wallet checks it with the medid network: who they are, their profession, where they work and who licensed them."),
		container.NewBorder(nil, nil, nil, container.NewHBox(u.openQR, u.check), u.text),
		u.err, u.busy, u.result, u.detail,
		container.NewHBox(u.copyID, layout.NewSpacer(), closeBtn))
	u.scroll = container.NewVScroll(u.body)
	u.dlg = dialog.NewCustomWithoutButtons("Check a practitioner", container.NewGridWrap(fyne.NewSize(620, 340), u.scroll), a.win)
	u.dlg.Show()
	return u
}

// run checks the code in text in the background.
func (u *checkUI) run(text string) {
	showError(u.err, nil)
	u.result.Hide()
	u.detail.Hide()
	u.copyID.Hide()
	u.holder = ""
	tok, err := licence.CardFromText(text)
	if err == nil && tok == "" {
		err = errEmpty
	}
	if err != nil {
		showError(u.err, err)
		u.relayout()
		return
	}
	u.check.Disable()
	u.busy.Show()
	u.relayout()
	load(u.a, func(ctx context.Context) (*directory.CardCheck, error) {
		c, err := u.a.names().CheckCard(ctx, tok)
		if err == nil && c.State == directory.CardVerified {
			u.a.saveNames()
		}
		return c, err
	}, func(c *directory.CardCheck, err error) {
		u.busy.Hide()
		u.check.Enable()
		if errors.Is(err, licence.ErrNotCard) {
			err = errNotLicenceCard
		}
		if err != nil {
			showError(u.err, err)
			u.relayout()
			return
		}
		u.show(c)
	})
}

// relayout lays the dialog out again after a line was shown or hidden.
func (u *checkUI) relayout() {
	u.body.Refresh()
	u.scroll.Refresh()
}

// show says the verdict: verified in green with the practitioner's
// identifier to copy; refused in red with why; unchecked in the normal
// text colour, saying nothing was found wrong.
func (u *checkUI) show(c *directory.CardCheck) {
	u.verdict = c.State
	made := "The code was made at " + c.Made.Local().Format("15:04") + " and is valid until " + c.Expires.Local().Format("15:04") + "."
	switch c.State {
	case directory.CardVerified:
		u.result.SetText("Licensed. " + c.Sentence() + ".")
		u.result.Importance = widget.SuccessImportance
		u.detail.SetText(made + " Their licence was checked just now with the medid network; the names are those of the medid directory. " +
			"The code shows that their wallet made it: compare the name with their badge.")
		u.holder = c.Holder
		u.copyID.Show()
	case directory.CardRefused:
		u.result.SetText(c.Sentence() + ".")
		u.result.Importance = widget.DangerImportance
		u.detail.SetText(made + " Do not rely on this code. You can ask the hospital who this person is.")
	default:
		u.result.SetText("Not checked: " + c.Why + ".")
		u.result.Importance = widget.MediumImportance
		u.detail.SetText(made + " This does not mean the licence is invalid. Check again when the wallet is online.")
	}
	u.result.Show()
	u.result.Refresh()
	u.detail.Show()
	u.relayout()
}
