package app

import (
	"bytes"
	"context"
	"errors"
	"image"
	_ "image/gif"  // QR pictures may be GIF
	_ "image/jpeg" // or JPEG
	_ "image/png"  // or PNG
	"io"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/internal/qr"
	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/openid"
)

// credentialsUI is the "My records" screen: a list of cards, a detail
// view, receiving and deleting.
type credentialsUI struct {
	a       *App
	content *fyne.Container // list or detail
	list    fyne.CanvasObject
	cards   *fyne.Container
	empty   *widget.Label
	items   []*credCard // the cards shown, in order

	addBtn     *widget.Button
	refreshBtn *widget.Button
	busy       *widget.ProgressBarInfinite
	msg        *note // what the last check or addition found, under the buttons

	// Receive dialog.
	recv      dialog.Dialog
	recvText  *widget.Entry
	recvPIN   *widget.Entry // OpenID4VCI transaction code, when the offer asks for one
	recvBtn   *widget.Button
	recvQR    *widget.Button
	recvErr   *widget.Label
	recvBusy  *widget.ProgressBarInfinite
	recvFile  func(path string) // opens a QR picture (the file dialog calls it)
	recvInput *fyne.Container   // the paste box, code and buttons; hidden during the preview
	// The preview: what is offered, before anything is stored.
	preview    *fyne.Container
	previewed  []wallet.Offered
	recvAccept *widget.Button // "Add to my wallet"
	recvReject *widget.Button // "Don't add"
	// issuerLines say who offers each previewed record and whether the
	// directory accredits them for it.
	issuerLines []*widget.Label
	issuerLogos []*canvas.Image // their logos, when the directory names one and it matched
	detail      *credDetail
	lastAdded   wallet.Credential
}

// credCard is one credential in the list.
type credCard struct {
	cred    wallet.Credential
	title   *widget.Label
	fact    *widget.Label // what tells it apart from others of its type
	issuer  *widget.Label
	date    *widget.Label
	checked *widget.Label // when its status was last checked
	badge   *badge
	open    *widget.Button
	box     fyne.CanvasObject
}

// credDetail is the detail view of one credential.
type credDetail struct {
	cred    wallet.Credential
	claims  []claim
	form    *widget.Form
	status  *badge
	checked *widget.Label // what its status is and when it was checked
	back    *widget.Button
	del     *widget.Button
	confirm dialog.Dialog
	yes, no *widget.Button
	err     *widget.Label
	copyDID *widget.Button // copies the issuer's full DID
}

func newCredentialsUI(a *App) *credentialsUI {
	u := &credentialsUI{a: a}
	u.cards = container.NewVBox()
	u.empty = wrapLabel("No records yet. When a hospital gives you a record (for example your allergies or vaccinations), add it here with \"Add a record\".")
	u.addBtn = widget.NewButtonWithIcon("Add a record", theme.ContentAddIcon(), u.showReceive)
	u.addBtn.Importance = widget.HighImportance
	u.refreshBtn = widget.NewButtonWithIcon("Check status", theme.ViewRefreshIcon(), u.refresh)
	u.busy = widget.NewProgressBarInfinite()
	u.busy.Hide()
	u.msg = newNote()
	top := container.NewVBox(
		container.NewHBox(widget.NewLabelWithStyle("My records", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			layout.NewSpacer(), u.refreshBtn, u.addBtn),
		u.busy, u.msg)
	u.list = container.NewBorder(top, nil, nil, nil, container.NewVScroll(container.NewVBox(u.empty, u.cards)))
	u.content = container.NewStack(u.list)
	u.reload()
	return u
}

// reload rebuilds the cards from the wallet, reading it (and each
// record's claims, for the fact that tells it apart) in the background.
func (u *credentialsUI) reload() {
	w := u.a.wallet()
	if w == nil {
		return
	}
	type card struct {
		c      wallet.Credential
		issuer string
		fact   string
	}
	load(u.a, func(ctx context.Context) ([]card, error) {
		creds, err := w.Credentials(wallet.Filter{})
		if err != nil {
			return nil, err
		}
		out := make([]card, len(creds))
		for i, c := range creds {
			claims, _ := u.a.readClaims(ctx, w, c)
			out[i] = card{c, u.a.nameOf(ctx, c.Issuer), keyFact(claims)}
		}
		u.a.saveNames()
		return out, nil
	}, func(cards []card, err error) {
		if err != nil {
			u.msg.fail(err)
			return
		}
		u.items = u.items[:0]
		objs := make([]fyne.CanvasObject, 0, len(cards))
		for _, c := range cards {
			k := u.newCard(c.c, c.issuer, c.fact)
			u.items = append(u.items, k)
			objs = append(objs, k.box)
		}
		u.cards.Objects = objs
		u.cards.Refresh()
		if len(cards) == 0 {
			u.empty.Show()
		} else {
			u.empty.Hide()
		}
	})
}

func issuerLine(c wallet.Credential, name string) string {
	if name != "" {
		return "From " + name
	}
	return "From " + who("", c.Issuer)
}

func dateLine(c wallet.Credential) string {
	if c.ValidFrom != nil {
		return "Issued " + c.ValidFrom.Format("2 Jan 2006")
	}
	return "Received " + c.ReceivedAt.Format("2 Jan 2006")
}

func (u *credentialsUI) newCard(c wallet.Credential, issuerName, fact string) *credCard {
	k := &credCard{cred: c}
	k.title = widget.NewLabelWithStyle(typeName(c.Types, c.Name), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	k.fact = widget.NewLabel(fact)
	k.fact.Truncation = fyne.TextTruncateEllipsis
	if fact == "" {
		k.fact.Hide()
	}
	k.issuer = widget.NewLabel(issuerLine(c, issuerName))
	k.date = widget.NewLabel(dateLine(c))
	st := standingOf(c, u.a.cfg.now())
	k.badge = newBadge(st.status)
	k.checked = widget.NewLabel(st.line)
	k.checked.Wrapping = fyne.TextWrapWord
	k.open = widget.NewButtonWithIcon("Open", theme.NavigateNextIcon(), func() { u.showDetail(c) })
	bg := canvas.NewRectangle(themeColor(theme.ColorNameInputBackground))
	bg.CornerRadius = 8
	body := container.NewBorder(nil, nil, nil, container.NewVBox(k.badge, k.open),
		container.NewVBox(k.title, k.fact, k.issuer, k.date, k.checked))
	k.box = container.NewStack(bg, container.NewPadded(body))
	return k
}

// refreshRestored checks the records a backup brought back, whose
// statuses are as old as the backup: at once when the wallet can reach
// the medid network; otherwise it says that they were not checked since
// (each card says since when).
func (u *credentialsUI) refreshRestored() {
	if u.a.reg() == nil {
		u.msg.say("Your records came back from the backup. They have not been checked since the backup was made (each record says when it last was): add the medid network in Settings, then tap Check status.")
		return
	}
	u.refresh()
}

// refresh asks the hospitals (status lists, issuer keys) whether every
// record is still valid, and says what it found next to the button.
func (u *credentialsUI) refresh() {
	w := u.a.wallet()
	if w == nil {
		return
	}
	u.refreshBtn.Disable()
	u.busy.Show()
	u.msg.say("Checking with the hospitals whether your records are still valid…")
	u.a.background(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		creds, err := w.Refresh(ctx)
		u.a.do(func() {
			u.busy.Hide()
			u.refreshBtn.Enable()
			var cnc *wallet.CouldNotCheckError
			if err != nil && !errors.As(err, &cnc) {
				u.msg.fail(err)
				return
			}
			// Records that could not be checked keep their last known
			// status; the summary says which (never as invalid).
			u.msg.say(refreshSummary(creds, u.a.cfg.now()))
			u.reload()
		})
	})
}

// showReceive opens the "Add a record" dialog.
func (u *credentialsUI) showReceive() {
	u.recvText = widget.NewMultiLineEntry()
	u.recvText.Wrapping = fyne.TextWrapBreak
	u.recvText.SetPlaceHolder("Paste the record or the offer link the hospital gave you here")
	u.recvPIN = widget.NewEntry()
	u.recvPIN.SetPlaceHolder("Code from the hospital (only if they gave you one)")
	u.recvErr = errorLabel()
	u.recvBusy = widget.NewProgressBarInfinite()
	u.recvBusy.Hide()
	u.recvBtn = widget.NewButtonWithIcon("Add", theme.ConfirmIcon(), func() { u.receive(u.recvText.Text) })
	u.recvBtn.Importance = widget.HighImportance
	u.recvFile, u.recvQR = qrPicture(u.a, u.recvText, u.recvErr, u.receive)
	cancel := widget.NewButton("Cancel", func() { u.recv.Hide() })
	u.recvInput = container.NewVBox(
		wrapLabel("Paste the record, or open a picture of its QR code."),
		container.NewGridWrap(fyne.NewSize(520, 140), u.recvText),
		u.recvPIN,
		container.NewHBox(u.recvQR, layout.NewSpacer(), cancel, u.recvBtn))
	u.preview = container.NewVBox()
	u.preview.Hide()
	u.recvAccept = widget.NewButtonWithIcon("Add to my wallet", theme.ConfirmIcon(), u.acceptPreview)
	u.recvAccept.Importance = widget.HighImportance
	u.recvReject = widget.NewButtonWithIcon("Don't add", theme.CancelIcon(), func() {
		u.previewed = nil
		u.preview.Hide()
		u.recvInput.Show()
		u.msg.say("Not added. Nothing was stored.")
		u.recv.Hide()
	})
	content := container.NewVBox(u.recvInput, u.preview, u.recvErr, u.recvBusy)
	u.recv = dialog.NewCustomWithoutButtons("Add a record", content, u.a.win)
	u.recv.Show()
}

// receive reads a pasted or scanned credential, or redeems an offer
// link, and shows what is offered: nothing is stored until the patient
// accepts (acceptPreview).
func (u *credentialsUI) receive(text string) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		showError(u.recvErr, errEmpty)
		return
	case strings.HasPrefix(strings.ToLower(text), "openid-credential-offer://"):
		u.acceptOffer(text)
		return
	case strings.HasPrefix(text, qr.CompactPrefix):
		// A record too large for a plain QR code, compacted (a
		// representative giving a person their record, acting_export.go).
		full, err := qr.Expand(text)
		if err != nil {
			showError(u.recvErr, err)
			return
		}
		text = strings.TrimSpace(full)
	}
	u.showPreview([]string{text})
}

// acceptOffer fetches the credentials of an OpenID4VCI offer (pre-authorized
// code, with the PIN the hospital gave, if any) and previews them; they
// are verified and stored only if the patient accepts.
func (u *credentialsUI) acceptOffer(uri string) {
	w := u.a.wallet()
	if w == nil {
		return
	}
	pin := strings.TrimSpace(u.recvPIN.Text)
	u.recvBtn.Disable()
	u.recvBusy.Show()
	showError(u.recvErr, nil)
	opts := openid.AcceptOfferOptions{TxCode: func(*openid4vci.TxCode) (string, error) {
		if pin == "" {
			return "", errNeedPIN
		}
		return pin, nil
	}}
	load(u.a, func(ctx context.Context) ([]string, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		return openid.RedeemOffer(ctx, w, uri, opts)
	}, func(toks []string, err error) {
		u.recvBusy.Hide()
		u.recvBtn.Enable()
		if err != nil {
			showError(u.recvErr, err)
			return
		}
		u.showPreview(toks)
	})
}

// showPreview shows what the tokens offer (type, fields, issuer by its
// directory name, dates), read but not yet checked, with Add to my wallet
// and Don't add.
func (u *credentialsUI) showPreview(toks []string) {
	showError(u.recvErr, nil)
	var offered []wallet.Offered
	for _, t := range toks {
		o, err := wallet.Inspect(t)
		if err != nil {
			showError(u.recvErr, err)
			return
		}
		offered = append(offered, o)
	}
	if len(offered) == 0 {
		showError(u.recvErr, errEmpty)
		return
	}
	u.recvBusy.Show()
	type seen struct {
		froms  []offeredFrom
		claims [][]claim // each record's details, parties named by the directory
	}
	load(u.a, func(ctx context.Context) (seen, error) {
		var v seen
		for _, o := range offered {
			v.froms = append(v.froms, u.a.issuerOf(ctx, o))
			v.claims = append(v.claims, u.a.nameParties(ctx, claimsOf(o.Types, o.Claims)))
		}
		return v, nil
	}, func(v seen, _ error) {
		froms := v.froms
		u.recvBusy.Hide()
		u.previewed = offered
		u.issuerLines, u.issuerLogos = nil, nil
		objs := []fyne.CanvasObject{}
		for i, o := range offered {
			line := offeredByLine(froms[i], o.Issuer)
			u.issuerLines = append(u.issuerLines, line)
			var by fyne.CanvasObject = line
			if froms[i].logo != nil {
				img := logoImage(froms[i].logo)
				u.issuerLogos = append(u.issuerLogos, img)
				by = container.NewBorder(nil, nil, img, nil, line)
			}
			objs = append(objs, widget.NewLabelWithStyle(typeName(o.Types, ""), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), by)
			form := widget.NewForm()
			for _, cl := range v.claims[i] {
				v := widget.NewLabel(cl.Value)
				v.Wrapping = fyne.TextWrapWord
				form.Append(cl.Label, v)
			}
			objs = append(objs, form)
			if o.ValidUntil != nil {
				objs = append(objs, wrapLabel("Valid until "+o.ValidUntil.Local().Format("2 Jan 2006")+"."))
			}
			objs = append(objs, widget.NewSeparator())
		}
		objs = append(objs, wrapLabel("The wallet checks with the hospital that it is genuine and still valid when you add it."),
			container.NewHBox(layout.NewSpacer(), u.recvReject, u.recvAccept))
		u.preview.Objects = objs
		u.recvInput.Hide()
		u.preview.Show()
		u.preview.Refresh()
	})
}

// offeredByLine says who offers a record, by the directory: its name and
// whether it is accredited to issue that kind of record, or that the
// directory does not list it.
func offeredByLine(f offeredFrom, issuer string) *widget.Label {
	var l *widget.Label
	switch {
	case f.unreachable:
		// Nothing is known either way: never "not in the directory".
		l = wrapLabel("Who offers this could not be checked: the medid directory could not be reached (ref. " + directory.Ref(issuer) +
			"). The wallet checks the record itself when you add it; you can also try again when you are online.")
	case f.asOf != "" && f.accredited:
		l = wrapLabel("Offered by " + f.name + ", accredited in the medid directory to issue this kind of record since " +
			f.since.Local().Format("2 Jan 2006") + ", as the directory said on " + f.asOf + " (it could not be reached just now).")
	case f.asOf != "":
		l = wrapLabel("Offered by " + f.name + ", as the directory named it on " + f.asOf + ". Whether it may issue this kind of record could not be checked just now: the medid directory could not be reached.")
	case f.name == "":
		l = wrapLabel("Offered by " + who("", issuer) + ", not in the medid directory.")
		l.Importance = widget.WarningImportance
	case f.accredited:
		l = wrapLabel("Offered by " + f.name + ", accredited in the medid directory to issue this kind of record since " +
			f.since.Local().Format("2 Jan 2006") + ".")
		l.Importance = widget.SuccessImportance
	default:
		l = wrapLabel("Offered by " + f.name + ", which the medid directory does not accredit to issue this kind of record.")
		l.Importance = widget.WarningImportance
	}
	return l
}

// acceptPreview verifies and stores what the preview showed.
func (u *credentialsUI) acceptPreview() {
	w := u.a.wallet()
	offered := u.previewed
	if w == nil || len(offered) == 0 {
		return
	}
	u.recvAccept.Disable()
	u.recvBusy.Show()
	showError(u.recvErr, nil)
	load(u.a, func(ctx context.Context) ([]wallet.Credential, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		var got []wallet.Credential
		for _, o := range offered {
			c, err := w.Receive(ctx, o.Token)
			if err != nil {
				return got, err
			}
			got = append(got, c)
		}
		return got, nil
	}, func(got []wallet.Credential, err error) {
		u.recvBusy.Hide()
		u.recvAccept.Enable()
		if err != nil {
			showError(u.recvErr, err)
			u.reload() // some may have been stored before the error
			return
		}
		var names []string
		for _, c := range got {
			names = append(names, typeName(c.Types, c.Name))
		}
		u.lastAdded = got[len(got)-1]
		u.previewed = nil
		u.recv.Hide()
		u.msg.good("Added: " + strings.Join(names, ", ") + ".")
		u.reload()
	})
}

// decodeQRFile reads a picture and returns the text of the QR code in it.
func decodeQRFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return decodeQR(f)
}

// decodeQR returns the text of the QR code in a PNG, JPEG or GIF picture.
// The picture is untrusted input: any failure is errNoQR, and pictures
// over 40 megapixels are refused before decoding.
func decodeQR(r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, 32<<20))
	if err != nil {
		return "", err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > 40_000_000 {
		return "", errNoQR
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", errNoQR
	}
	return decodeQRImage(img)
}

// decodeQRImage finds and decodes a QR code in img.
func decodeQRImage(img image.Image) (text string, err error) {
	defer func() {
		if recover() != nil {
			text, err = "", errNoQR
		}
	}()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", errNoQR
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		// A generated, unrotated code (a screenshot, a saved file) decodes
		// more reliably as a pure barcode.
		hints[gozxing.DecodeHintType_PURE_BARCODE] = true
		if res, err = qrcode.NewQRCodeReader().Decode(bmp, hints); err != nil {
			return "", errors.Join(errNoQR, err)
		}
	}
	return res.GetText(), nil
}

// showDetail shows one credential readably (its token is read and parsed
// in the background).
func (u *credentialsUI) showDetail(c wallet.Credential) {
	w := u.a.wallet()
	type parsed struct {
		claims []claim
		issuer string
		err    error
	}
	load(u.a, func(ctx context.Context) (parsed, error) {
		claims, err := u.a.readClaims(ctx, w, c)
		return parsed{claims, u.a.nameOf(ctx, c.Issuer), err}, nil
	}, func(p parsed, _ error) { u.renderDetail(c, p.claims, p.issuer, p.err) })
}

func (u *credentialsUI) renderDetail(c wallet.Credential, claims []claim, issuerName string, err error) {
	d := &credDetail{cred: c}
	u.detail = d
	d.claims = claims
	d.form = widget.NewForm()
	for _, cl := range claims {
		v := widget.NewLabel(cl.Value)
		v.Wrapping = fyne.TextWrapWord
		d.form.Append(cl.Label, v)
	}
	st := standingOf(c, u.a.cfg.now())
	d.status = newBadge(st.status)
	d.err = errorLabel()
	if err != nil {
		showError(d.err, err)
	}
	d.back = widget.NewButtonWithIcon("All records", theme.NavigateBackIcon(), u.showList)
	d.del = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), func() { u.confirmDelete(d) })
	d.del.Importance = widget.DangerImportance
	about := widget.NewForm()
	d.copyDID = widget.NewButtonWithIcon("Copy their identifier", theme.ContentCopyIcon(), func() { u.a.fa.Clipboard().SetContent(c.Issuer) })
	d.copyDID.Importance = widget.LowImportance
	about.Append("Issued by", container.NewVBox(widget.NewLabel(who(issuerName, c.Issuer)), container.NewHBox(d.copyDID)))
	d.checked = wrapLabel(st.line)
	about.Append("Dates", widget.NewLabel(dates(c)))
	about.Append("Status", container.NewVBox(container.NewHBox(d.status), d.checked))
	body := container.NewVBox(
		widget.NewLabelWithStyle(typeName(c.Types, c.Name), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		d.form, widget.NewSeparator(), about, d.err)
	u.content.Objects = []fyne.CanvasObject{container.NewBorder(
		container.NewHBox(d.back, layout.NewSpacer(), d.del), nil, nil, nil, container.NewVScroll(body))}
	u.content.Refresh()
}

func dates(c wallet.Credential) string {
	s := dateLine(c)
	if c.ValidUntil != nil {
		s += ", valid until " + c.ValidUntil.Format("2 Jan 2006")
	}
	return s
}

func (u *credentialsUI) showList() {
	u.detail = nil
	u.content.Objects = []fyne.CanvasObject{u.list}
	u.content.Refresh()
	u.reload()
}

func (u *credentialsUI) confirmDelete(d *credDetail) {
	d.no = widget.NewButton("Keep it", func() { d.confirm.Hide() })
	d.yes = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), func() {
		d.confirm.Hide()
		w := u.a.wallet()
		load(u.a, func(context.Context) (struct{}, error) { return struct{}{}, w.Delete(d.cred.ID) }, func(_ struct{}, err error) {
			if err != nil {
				showError(d.err, err)
				return
			}
			u.msg.say("Deleted: " + typeName(d.cred.Types, d.cred.Name) + ".")
			u.showList()
		})
	})
	d.yes.Importance = widget.DangerImportance
	d.confirm = dialog.NewCustomWithoutButtons("Delete this record?", container.NewVBox(
		wrapLabel("\""+typeName(d.cred.Types, d.cred.Name)+"\" will be removed from this device. "+
			"The hospital can give it to you again. This cannot be undone."),
		container.NewHBox(layout.NewSpacer(), d.no, d.yes)), u.a.win)
	d.confirm.Show()
}
