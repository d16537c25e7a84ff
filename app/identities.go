package app

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/wallet"
)

// identitiesUI lists the patient's DIDs and makes new ones.
type identitiesUI struct {
	a       *App
	content fyne.CanvasObject
	list    *fyne.Container
	rows    []*didRow

	label       *widget.Entry // relationship name for a pairwise DID
	newPairwise *widget.Button
	register    *widget.Button
	find        *widget.Button // finds the registered identities of the recovery words
	progress    *widget.ProgressBarInfinite
	status      *widget.Label
	err         *widget.Label

	qr    dialog.Dialog
	qrImg *canvas.Image
}

// didRow is one identity.
type didRow struct {
	did   wallet.DID
	kind  *widget.Label
	id    *widget.Label     // the identifier itself, inside more
	more  *widget.Accordion // "Details": the identifier, for those who want it
	copy  *widget.Button
	showQ *widget.Button
}

func newIdentitiesUI(a *App) *identitiesUI {
	u := &identitiesUI{a: a}
	u.list = container.NewVBox()
	u.label = widget.NewEntry()
	u.label.SetPlaceHolder("Who is it for? e.g. St Mary's Hospital")
	u.newPairwise = widget.NewButtonWithIcon("New private identity", theme.ContentAddIcon(), u.createPairwise)
	u.register = widget.NewButtonWithIcon("Register on the medid network", theme.UploadIcon(), u.doRegister)
	u.find = widget.NewButtonWithIcon("Find my registered identities", theme.SearchIcon(), u.doFind)
	u.progress = widget.NewProgressBarInfinite()
	u.progress.Hide()
	u.status = wrapLabel("")
	u.status.Hide()
	u.err = errorLabel()
	u.content = container.NewVScroll(container.NewVBox(
		widget.NewLabelWithStyle("My identities", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapLabel("An identity is how hospitals recognise you. Use a private identity for each hospital "+
			"so that hospitals cannot link what you share with each other."),
		u.list, widget.NewSeparator(),
		widget.NewLabelWithStyle("Add an identity", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		u.label, container.NewHBox(u.newPairwise, u.register), u.progress, u.status, u.err,
		widget.NewSeparator(),
		wrapLabel("After restoring from your recovery words, the identities you had registered on the medid network can be looked up there."),
		container.NewHBox(u.find)))
	u.reload()
	return u
}

func didKind(d wallet.DID) string {
	var parts []string
	switch {
	case d.Primary:
		parts = append(parts, "Main identity")
	case d.Pairwise:
		parts = append(parts, "Private identity for "+d.Label)
	case d.Label != "":
		parts = append(parts, d.Label)
	default:
		parts = append(parts, "Identity")
	}
	if d.Method == wallet.MethodMedid {
		parts = append(parts, "registered on the medid network")
	}
	return strings.Join(parts, ", ")
}

// reload lists the identities, reading the wallet in the background.
func (u *identitiesUI) reload() {
	w := u.a.wallet()
	if w == nil {
		return
	}
	load(u.a, func(context.Context) ([]wallet.DID, error) { return w.DIDs() }, u.show)
}

func (u *identitiesUI) show(dids []wallet.DID, err error) {
	if err != nil {
		showError(u.err, err)
		return
	}
	u.rows = u.rows[:0]
	var objs []fyne.CanvasObject
	for _, d := range dids {
		r := &didRow{did: d}
		r.kind = widget.NewLabelWithStyle(didKind(d), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		r.id = widget.NewLabelWithStyle(d.DID, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		r.id.Wrapping = fyne.TextWrapBreak
		r.more = details(r.id)
		r.copy = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
			u.a.fa.Clipboard().SetContent(d.DID)
			u.status.SetText("Copied your identity to the clipboard.")
			u.status.Show()
		})
		r.showQ = widget.NewButtonWithIcon("QR", theme.MediaPhotoIcon(), func() { u.showQR(d) })
		objs = append(objs, container.NewBorder(nil, nil, nil, container.NewHBox(r.copy, r.showQ),
			container.NewVBox(r.kind, r.more)), widget.NewSeparator())
		u.rows = append(u.rows, r)
	}
	u.list.Objects = objs
	u.list.Refresh()
}

func (u *identitiesUI) showQR(d wallet.DID) {
	img, err := qrImage(d.DID, 512)
	if err != nil {
		showError(u.err, err)
		return
	}
	u.qrImg = canvas.NewImageFromImage(img)
	u.qrImg.FillMode = canvas.ImageFillContain
	u.qrImg.ScaleMode = canvas.ImageScalePixels
	u.qrImg.SetMinSize(fyne.NewSize(320, 320))
	id := widget.NewLabelWithStyle(d.DID, fyne.TextAlignCenter, fyne.TextStyle{Monospace: true})
	id.Wrapping = fyne.TextWrapBreak
	u.qr = dialog.NewCustom(didKind(d), "Close", container.NewVBox(u.qrImg,
		wrapLabel("Let the hospital scan this code: it tells them this identity."),
		container.NewGridWrap(fyne.NewSize(360, 90), details(id))), u.a.win)
	u.qr.Show()
}

func (u *identitiesUI) createPairwise() {
	showError(u.err, nil)
	label := strings.TrimSpace(u.label.Text)
	if label == "" {
		u.err.SetText("Type who the private identity is for (for example the hospital's name).")
		u.err.Show()
		return
	}
	w := u.a.wallet()
	u.newPairwise.Disable()
	load(u.a, func(context.Context) (wallet.DID, error) {
		return w.NewDID(wallet.NewDIDOptions{Label: label, Pairwise: true})
	}, func(d wallet.DID, err error) {
		u.newPairwise.Enable()
		if err != nil {
			showError(u.err, err)
			return
		}
		u.label.SetText("")
		u.status.SetText("Made a private identity for " + d.Label + ".")
		u.status.Show()
		u.reload()
	})
}

// doRegister registers a did:medid in the background (one block commit,
// about a second on a local registry, longer on a network).
func (u *identitiesUI) doRegister() {
	showError(u.err, nil)
	reg := u.a.reg()
	if reg == nil {
		showError(u.err, wallet.ErrNoRegistry)
		return
	}
	label := strings.TrimSpace(u.label.Text)
	opts := wallet.NewDIDOptions{Label: label, Pairwise: label != ""}
	w := u.a.wallet()
	u.register.Disable()
	u.newPairwise.Disable()
	u.progress.Show()
	u.status.SetText("Registering your identity on the medid network. This takes a few seconds; you can keep using the wallet.")
	u.status.Show()
	u.a.background(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		_, err := w.RegisterDID(ctx, reg, opts)
		u.a.do(func() {
			u.progress.Hide()
			u.register.Enable()
			u.newPairwise.Enable()
			if err != nil {
				u.status.Hide()
				showError(u.err, err)
				return
			}
			u.label.SetText("")
			u.status.SetText("Registered on the medid network. Hospitals can now look this identity up.")
			u.reload()
		})
	})
}

// doFind looks up on the registry the did:medid identities the wallet's
// recovery words control and adds those it lacks.
func (u *identitiesUI) doFind() {
	showError(u.err, nil)
	reg := u.a.reg()
	if reg == nil {
		showError(u.err, wallet.ErrNoRegistry)
		return
	}
	w := u.a.wallet()
	u.find.Disable()
	u.progress.Show()
	u.status.SetText("Looking for your registered identities on the medid network…")
	u.status.Show()
	load(u.a, func(ctx context.Context) ([]wallet.DID, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		return w.FindRegistered(ctx, reg, 0)
	}, func(found []wallet.DID, err error) {
		u.find.Enable()
		u.progress.Hide()
		if err != nil {
			u.status.Hide()
			showError(u.err, err)
			return
		}
		switch len(found) {
		case 0:
			u.status.SetText("No registered identity was found that this wallet does not already have.")
		default:
			u.status.SetText("Found " + plural(len(found), "identity") + " you registered on the medid network; " + "they are listed above.")
		}
		u.reload()
	})
}
