package app

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qrgen "github.com/skip2/go-qrcode"

	"github.com/medid/medid/credentials/emergency"
	"github.com/medid/medid/internal/atomicfile"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/card"
)

// shareUI is the Share screen: choose records, name the verifier, review
// exactly what is disclosed, then produce the vp+jwt; and the emergency
// card.
type shareUI struct {
	a       *App
	content fyne.CanvasObject
	picks   *fyne.Container
	choices []*shareChoice
	empty   *widget.Label

	audience *widget.Entry
	nonce    *widget.Entry
	review   *widget.Button
	err      *widget.Label
	busy     *widget.ProgressBarInfinite

	// Review dialog.
	confirm  dialog.Dialog
	summary  *widget.Label // exactly what will be disclosed and to whom
	yes, no  *widget.Button
	selected []*shareChoice

	// Result.
	result  *fyne.Container
	token   *widget.Entry
	copyBtn *widget.Button
	saveBtn *widget.Button
	saveTo  func(path string) error
	done    *widget.Label

	emergencyBtn *widget.Button
	emergency    *emergencyCard

	vp *vpUI // answering an OpenID4VP request

	details *detailsUI // sharing chosen details of one record, when open
}

// shareChoice is one record that can be shared.
type shareChoice struct {
	cred   wallet.Credential
	claims []claim // rendered claims, read once in the background
	issuer string  // issuer name, "" when the credential has none
	check  *widget.Check
	what   *widget.Label // which claims it contains
	// choose opens "Share details by hand" for a record kept detail by
	// detail (an SD-JWT VC); nil for other records.
	choose *widget.Button
}

func newShareUI(a *App) *shareUI {
	u := &shareUI{a: a}
	u.picks = container.NewVBox()
	u.empty = wrapLabel("You have no records to share yet.")
	u.audience = widget.NewEntry()
	u.audience.SetPlaceHolder("Their address, as they gave it (for example https://er.example.org)")
	u.nonce = widget.NewEntry()
	u.nonce.SetPlaceHolder("The request code they gave you")
	u.err = errorLabel()
	u.busy = widget.NewProgressBarInfinite()
	u.busy.Hide()
	u.review = widget.NewButtonWithIcon("Review what will be shared", theme.VisibilityIcon(), u.showReview)
	u.review.Importance = widget.HighImportance
	u.token = widget.NewMultiLineEntry()
	u.token.Wrapping = fyne.TextWrapBreak
	u.done = wrapLabel("")
	u.copyBtn = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		u.a.fa.Clipboard().SetContent(u.token.Text)
		u.done.SetText("Copied. Paste it where the verifier asked for it.")
	})
	u.saveTo = func(path string) error {
		return writeFileAtomic(path, []byte(u.token.Text+"\n"), 0o600)
	}
	u.saveBtn = saveButton(u.a, "shared-records.txt", func(path string) error { return u.saveTo(path) }, u.err, u.done)
	u.result = container.NewVBox(widget.NewSeparator(),
		widget.NewLabelWithStyle("Ready to share", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		details(container.NewGridWrap(fyne.NewSize(600, 110), u.token)),
		container.NewHBox(u.copyBtn, u.saveBtn), u.done)
	u.result.Hide()
	u.emergencyBtn = widget.NewButtonWithIcon("Show my emergency card", theme.WarningIcon(), u.showEmergency)
	u.emergencyBtn.Importance = widget.DangerImportance

	u.vp = newVPUI(u)
	form := widget.NewForm(widget.NewFormItem("Their address", u.audience), widget.NewFormItem("Request code", u.nonce))
	body := container.NewVBox(
		container.NewHBox(widget.NewLabelWithStyle("Share records", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			layout.NewSpacer(), u.emergencyBtn),
		u.vp.content, widget.NewSeparator(),
		widget.NewLabelWithStyle("Or share by hand", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapLabel("1. Choose the records to share."), u.empty, u.picks,
		wrapLabel("2. Say who asks. They give you their address and a request code."), form,
		u.err, u.busy, container.NewHBox(u.review), u.result)
	u.content = container.NewVScroll(body)
	u.reload()
	return u
}

// reload lists the records that can be shared, reading the wallet in the
// background.
func (u *shareUI) reload() {
	w := u.a.wallet()
	if w == nil {
		return
	}
	load(u.a, func(ctx context.Context) ([]*shareChoice, error) {
		creds, err := w.Credentials(wallet.Filter{})
		if err != nil {
			return nil, err
		}
		out := make([]*shareChoice, len(creds))
		for i, c := range creds {
			claims, _ := u.a.readClaims(ctx, w, c)
			out[i] = &shareChoice{cred: c, claims: claims, issuer: u.a.nameOf(ctx, c.Issuer)}
		}
		return out, nil
	}, func(choices []*shareChoice, err error) {
		if err != nil {
			showError(u.err, err)
			return
		}
		checked := map[string]bool{}
		for _, c := range u.choices {
			checked[c.cred.ID] = c.check.Checked
		}
		var objs []fyne.CanvasObject
		for _, ch := range choices {
			c := ch.cred
			label := recordLine(c, ch.claims)
			st := standingOf(c, u.a.cfg.now()).status
			ch.check = widget.NewCheck(label, nil)
			ch.check.Checked = checked[c.ID] && presentable(st)
			if !presentable(st) {
				// A record the wallet knows is withdrawn, suspended or
				// expired would be refused by whoever checks it, and
				// would mislead whoever does not.
				ch.check.Text += " (" + statusWords[st] + ": cannot be shared)"
				ch.check.Disable()
			} else if c.Format == wallet.FormatSDJWT {
				// Sent detail by detail: never ticked with the records
				// sent whole, but shared on its own with the details the
				// patient chooses (or in answer to a request, above).
				ch.check.Checked = false
				ch.check.Disable()
				ch.choose = widget.NewButtonWithIcon("Choose details to share…", theme.VisibilityIcon(), func() { u.openDetails(ch, nil) })
			}
			// What it contains, in the words of the detail view.
			var names []string
			for _, cl := range ch.claims {
				if n := strings.ToLower(cl.Label); !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
			// Who it is from goes here, in a label that wraps: a check box's
			// text does not, and a long line widened the whole window.
			ch.what = wrapLabel(issuerLine(c, ch.issuer) + "; contains: " + strings.Join(names, ", "))
			if c.Format == wallet.FormatSDJWT && presentable(st) {
				ch.what.SetText(ch.what.Text + "\n" + sdjwtByHand)
			}
			ch.what.Importance = widget.LowImportance
			objs = append(objs, ch.check, container.NewBorder(nil, nil, widget.NewLabel("   "), nil, ch.what))
			if ch.choose != nil {
				objs = append(objs, container.NewHBox(widget.NewLabel("   "), ch.choose))
			}
		}
		u.choices = choices
		u.picks.Objects = objs
		u.picks.Refresh()
		if len(choices) == 0 {
			u.empty.Show()
		} else {
			u.empty.Hide()
		}
	})
}

// sdjwtByHand says how a record sent detail by detail is shared: never
// whole with the ticked records, but with only the details chosen.
const sdjwtByHand = "shared detail by detail: choose which details leave your wallet"

// disclosure describes exactly what sharing sel with audience discloses:
// every claim value of every chosen record, and who receives it.
func disclosure(audience string, sel []*shareChoice) string {
	var b strings.Builder
	fmt.Fprintf(&b, "You are about to share with:\n    %s\n\n", audience)
	fmt.Fprintf(&b, "They will see %s:\n", plural(len(sel), "record"))
	for _, ch := range sel {
		c := ch.cred
		fmt.Fprintf(&b, "\n• %s (%s)\n", typeName(c.Types, c.Name), issuerLine(c, ch.issuer))
		for _, cl := range ch.claims {
			fmt.Fprintf(&b, "    %s: %s\n", cl.Label, cl.Value)
		}
	}
	b.WriteString("\nThey will also see the identity these records were issued to, and can check them with the hospitals. " +
		"Your wallet keeps a note of this sharing in its history.")
	return b.String()
}

func (u *shareUI) chosen() []*shareChoice {
	var sel []*shareChoice
	for _, c := range u.choices {
		if c.check.Checked {
			sel = append(sel, c)
		}
	}
	return sel
}

func (u *shareUI) showReview() {
	showError(u.err, nil)
	sel := u.chosen()
	aud, nonce := strings.TrimSpace(u.audience.Text), strings.TrimSpace(u.nonce.Text)
	switch {
	case len(sel) == 0:
		u.err.SetText("Choose at least one record to share (tick its box).")
		u.err.Show()
		return
	case aud == "" || nonce == "":
		u.err.SetText("Enter who asks and their request code. Both come from the person or service asking for your records.")
		u.err.Show()
		return
	}
	u.selected = sel
	u.summary = wrapLabel(disclosure(aud, sel))
	u.no = widget.NewButton("Do not share", func() { u.confirm.Hide() })
	u.yes = widget.NewButtonWithIcon("Share", theme.MailSendIcon(), func() {
		u.confirm.Hide()
		u.present(aud, nonce, sel)
	})
	u.yes.Importance = widget.HighImportance
	u.confirm = dialog.NewCustomWithoutButtons("Check before sharing", container.NewBorder(nil,
		container.NewHBox(layout.NewSpacer(), u.no, u.yes), nil, nil,
		container.NewGridWrap(fyne.NewSize(560, 320), container.NewVScroll(u.summary))), u.a.win)
	u.confirm.Show()
}

func (u *shareUI) present(aud, nonce string, sel []*shareChoice) {
	w := u.a.wallet()
	ids := make([]string, len(sel))
	for i, c := range sel {
		ids[i] = c.cred.ID
	}
	u.review.Disable()
	u.busy.Show()
	u.a.background(func(ctx context.Context) {
		tok, err := w.Present(ctx, wallet.PresentRequest{CredentialIDs: ids, Audience: aud, Nonce: nonce})
		u.a.do(func() {
			u.busy.Hide()
			u.review.Enable()
			if err != nil {
				showError(u.err, err)
				return
			}
			u.token.SetText(tok)
			u.done.SetText("Give this to " + aud + ": copy it, or save it to a file. It works for 5 minutes and for this request only.")
			u.result.Show()
		})
	})
}

// emergencyCard is the full-screen QR card.
type emergencyCard struct {
	content fyne.CanvasObject
	qr      *canvas.Image
	token   string // the vp+jwt
	payload string // what the QR code holds: emergency.QRText(token)
	nonce   string
	info    *widget.Label
	left    []string // emergency records that did not fit
	// leftOut says, per emergency record the wallet kept off the card
	// (revoked, expired, or in a form the card cannot carry), what it is
	// and why, so the patient knows what a reader will not see.
	leftOut []string
	close   *widget.Button
	// The essentials in large type, for people (Apple's Medical ID): one
	// line per record on the card, with who it is from and when its
	// status was checked; the patient's emergency contact, as they wrote it.
	facts   []*widget.Label
	contact *widget.Label // nil without one
	save    *widget.Button
	saveTo  func(path string) error // writes the card as a PNG picture
}

// leftOutWhy says in a patient's words why the wallet kept a record off
// the emergency card (card.LeftOut.Why is written for the CLI: "suspended
// by its issuer", "expired on 2026-01-31"), from the record's standing
// as the wallet last knew it.
func leftOutWhy(l card.LeftOut, now time.Time) string {
	c := l.Credential
	switch {
	case l.Why == card.SDJWTNotOnCard:
		return "kept in a form this card cannot carry: show it on its own from Share"
	case c.Status == wallet.StatusRevoked:
		return "withdrawn by the hospital that issued it"
	case c.Status == wallet.StatusSuspended:
		return "suspended for now by the hospital that issued it"
	case c.ValidUntil != nil && now.After(*c.ValidUntil):
		return "expired on " + c.ValidUntil.Local().Format("2 Jan 2006")
	case c.Status == wallet.StatusExpired:
		return "expired"
	}
	return "no longer passes its checks"
}

// essential is one record of the emergency card, in words.
type essential struct {
	fact, source string
}

// showEmergency presents the valid emergency records of the primary
// identity's records to EmergencyAudience and shows the QR full screen.
func (u *shareUI) showEmergency() {
	w := u.a.wallet()
	scale := float32(1)
	if c := u.a.win.Canvas(); c != nil && c.Scale() > 0 {
		scale = c.Scale()
	}
	u.emergencyBtn.Disable()
	u.busy.Show()
	showError(u.err, nil)
	type shown struct {
		card    *card.Card
		payload string
		img     image.Image
		facts   []essential
		contact string
	}
	load(u.a, func(ctx context.Context) (shown, error) {
		// The card medid verifiers read offline (as "medid wallet
		// emergency" makes it): compacted (DEFLATE + Base45) so that
		// about three credentials fit; those that do not are named.
		ec, err := card.Make(ctx, w, card.Options{Fits: emergency.FitsQR, Partial: true})
		if err != nil {
			return shown{}, err
		}
		payload := emergency.QRText(ec.Token)
		img, err := qrImage(payload, int(460*scale))
		if err != nil {
			return shown{}, err
		}
		s := shown{card: ec, payload: payload, img: img}
		for _, c := range ec.Included {
			claims, _ := u.a.readClaims(ctx, w, c)
			fact := recordLine(c, claims)
			s.facts = append(s.facts, essential{fact, "From " + who(u.a.nameOf(ctx, c.Issuer), c.Issuer) +
				", checked " + when(c.StatusCheckedAt)})
		}
		if set, err := w.Settings(); err == nil {
			s.contact = strings.TrimSpace(set.EmergencyContact)
		}
		return s, nil
	}, func(s shown, err error) {
		u.busy.Hide()
		u.emergencyBtn.Enable()
		if err != nil {
			showError(u.err, err)
			return
		}
		u.openEmergency(s.img, s.card, s.payload, s.facts, s.contact)
	})
}

func (u *shareUI) openEmergency(img image.Image, ec *card.Card, payload string, facts []essential, contact string) {
	e := &emergencyCard{token: ec.Token, nonce: ec.Nonce, payload: payload}
	// Shown at exactly its pixel size on the device (whole pixels per
	// module): a code stretched by a fractional factor scans badly.
	e.qr = canvas.NewImageFromImage(img)
	e.qr.FillMode = canvas.ImageFillStretch
	e.qr.ScaleMode = canvas.ImageScalePixels
	scale := float32(1)
	if c := u.a.win.Canvas(); c != nil && c.Scale() > 0 {
		scale = c.Scale()
	}
	px := float32(img.Bounds().Dx()) / scale
	e.qr.SetMinSize(fyne.NewSize(px, px))
	var names []string
	for _, c := range ec.Included {
		names = append(names, typeName(c.Types, c.Name))
	}
	for _, c := range ec.Omitted {
		e.left = append(e.left, typeName(c.Types, c.Name))
	}
	info := fmt.Sprintf("Contains: %s\nValid until %s", strings.Join(names, ", "), ec.Expires.Local().Format("2 January 2006"))
	if len(e.left) > 0 {
		info += "\nNot on this card (too much for one code): " + strings.Join(e.left, ", ")
	}
	for _, l := range ec.LeftOut {
		e.leftOut = append(e.leftOut, typeName(l.Credential.Types, l.Credential.Name)+" ("+leftOutWhy(l, u.a.cfg.now())+")")
	}
	if len(e.leftOut) > 0 {
		info += "\nNot on this card, so a reader will not see it: " + strings.Join(e.leftOut, "; ")
	}
	e.info = widget.NewLabelWithStyle(info, fyne.TextAlignCenter, fyne.TextStyle{})
	e.close = widget.NewButtonWithIcon("Close", theme.CancelIcon(), func() { u.closeEmergency() })
	title := canvas.NewText("EMERGENCY MEDICAL INFORMATION", theme.Color(theme.ColorNameError))
	title.TextSize = 28
	title.TextStyle = fyne.TextStyle{Bold: true}
	title.Alignment = fyne.TextAlignCenter
	white := canvas.NewRectangle(theme.Color(theme.ColorNameBackground))
	people := container.NewVBox()
	for _, f := range facts {
		l := widget.NewLabelWithStyle(f.fact, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.SizeName = theme.SizeNameSubHeadingText
		l.Wrapping = fyne.TextWrapWord
		e.facts = append(e.facts, l)
		people.Add(l)
		people.Add(wrapLabel(f.source))
	}
	if contact != "" {
		e.contact = widget.NewLabelWithStyle("In an emergency call: "+contact, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		e.contact.SizeName = theme.SizeNameSubHeadingText
		e.contact.Wrapping = fyne.TextWrapWord
		people.Add(e.contact)
		people.Add(wrapLabel("(as the patient wrote it)"))
	}
	e.saveTo = func(path string) error {
		var b bytes.Buffer
		if err := png.Encode(&b, u.a.win.Canvas().Capture()); err != nil {
			return err
		}
		return writeFileAtomic(path, b.Bytes(), 0o600)
	}
	e.save = widget.NewButtonWithIcon("Save as a picture…", theme.DocumentSaveIcon(), func() {
		d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
			if err != nil || wc == nil {
				return
			}
			wc.Close()
			if err := e.saveTo(wc.URI().Path()); err != nil {
				e.info.SetText(friendly(err))
				return
			}
			e.info.SetText("Saved to " + wc.URI().Path() + ". Print it for your wallet, or keep it on your phone.")
		}, u.a.win)
		d.SetFileName("emergency-card.png")
		d.Show()
	})
	e.content = container.NewStack(white, container.NewBorder(
		container.NewVBox(title, widget.NewLabelWithStyle("Read it, or let the hospital scan the code to check it", fyne.TextAlignCenter, fyne.TextStyle{})),
		container.NewVBox(e.info, container.NewCenter(container.NewHBox(e.save, e.close))), nil, nil,
		container.NewGridWithColumns(2, container.NewVScroll(container.NewPadded(people)), container.NewCenter(e.qr))))
	u.emergency = e
	u.a.win.SetContent(e.content)
	u.a.win.SetFullScreen(true)
}

func (u *shareUI) closeEmergency() {
	u.emergency = nil
	u.a.win.SetFullScreen(false)
	u.a.win.SetContent(u.a.root)
}

// qrImage renders text as a QR code of size×size pixels (low error
// correction, to fit as much as possible).
func qrImage(text string, size int) (image.Image, error) {
	q, err := qrgen.New(text, qrgen.Low)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errTooBig, err)
	}
	// Whole pixels per module keep the code sharp enough to scan.
	n := len(q.Bitmap())
	return q.Image(-max(size/max(n, 1), 2)), nil
}

// writeFileAtomic writes data to path atomically (see atomicWrite).
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	return atomicfile.Write(path, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// presentable reports whether a record in status st may be shared: not
// when the wallet knows it is withdrawn, suspended, expired or failed its
// checks. A record that could not be checked (no connection) may: whoever
// receives it checks it.
func presentable(st wallet.Status) bool {
	return st == wallet.StatusValid || st == statusUnchecked
}

// saveButton is "Save to a file…": it asks where (proposing name), calls
// save with the path, and says where it went in done, or the error in
// errLabel.
func saveButton(a *App, name string, save func(path string) error, errLabel, done *widget.Label) *widget.Button {
	return widget.NewButtonWithIcon("Save to a file…", theme.DocumentSaveIcon(), func() {
		d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
			if err != nil || wc == nil {
				return
			}
			wc.Close()
			if err := save(wc.URI().Path()); err != nil {
				showError(errLabel, err)
				return
			}
			done.SetText("Saved to " + wc.URI().Path() + ".")
		}, a.win)
		d.SetFileName(name)
		d.Show()
	})
}
