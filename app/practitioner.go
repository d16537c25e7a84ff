package app

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/card"
	"github.com/medid/medid/wallet/openid"
)

// practitionerUI is the "My licence" tab, there when the wallet holds a
// practitioner licence (docs/design/0019): what the licence says and
// whether it checks out now; answering a hospital's request for it (an
// OpenID4VP request signed by the hospital's record vault, as `medid
// licence request` makes it), so that the hospital names the practitioner
// in patients' access logs; and a QR code anyone can check at the bedside
// (a licence card, renewed every minute while it is shown).
type practitionerUI struct {
	a       *App
	content fyne.CanvasObject
	body    *fyne.Container   // the tab's parts, in order
	scroll  *container.Scroll // around body
	lic     wallet.Credential // the licence shown (the newest held)
	summary *widget.Label     // what the licence verifies now
	err     *widget.Label
	busy    *widget.ProgressBarInfinite

	// Answering a hospital's request for the licence.
	link    *widget.Entry
	open    *widget.Button
	openQR  *widget.Button
	qrFile  func(path string)
	req     *openid.PresentationRequest
	query   string // the request's licence query id
	asker   string // who asks, by the directory
	panel   *fyne.Container
	who     *widget.Label
	copyID  *widget.Button
	shares  *widget.Label // what leaves the wallet
	send    *widget.Button
	decline *widget.Button
	answer  *widget.Label // what came of it

	// The licence card for the bedside.
	showCard *widget.Button
	hideCard *widget.Button
	cardBox  *fyne.Container
	cardImg  *canvas.Image
	cardInfo *widget.Label
	cardText string        // what the code on screen holds
	cardStop chan struct{} // closed when the code is hidden (stops its renewal)
}

// qrBackground is the light quiet zone around a code, in every theme.
var qrBackground = color.White

// cardRenewal is how often the code on screen is renewed (a card lasts
// licence.CardLifetime).
const cardRenewal = time.Minute

// addPractitioner adds the "My licence" tab, before Settings, once the
// wallet holds a practitioner licence (checked again whenever a tab is
// selected, so a licence just added shows it).
func (m *mainUI) addPractitioner(a *App) {
	prev := m.tabs.OnSelected
	m.tabs.OnSelected = func(ti *container.TabItem) {
		if prev != nil {
			prev(ti)
		}
		if m.practice != nil && ti == m.items["licence"] {
			m.practice.reload()
			return
		}
		if m.practice != nil && ti != m.items["licence"] {
			m.practice.stopCard() // the code is shown only while the tab is
		}
		m.ensurePractitioner(a, nil)
	}
	m.ensurePractitioner(a, nil)
}

// ensurePractitioner adds the tab if the wallet holds a licence; then (if
// not nil) runs once the tab is there.
func (m *mainUI) ensurePractitioner(a *App, then func()) {
	w := a.wallet()
	if m.practice != nil && then != nil {
		then()
	}
	if m.practice != nil || w == nil {
		return
	}
	load(a, func(context.Context) (bool, error) {
		l, err := heldLicence(w)
		return l.ID != "", err
	}, func(some bool, err error) {
		if err != nil || !some || a.main != m {
			return
		}
		if m.practice != nil {
			if then != nil {
				then()
			}
			return
		}
		m.practice = newPractitionerUI(a)
		m.insertTab("licence", container.NewTabItemWithIcon("My licence", theme.InfoIcon(), m.practice.content))
		m.practice.reload()
		if then != nil {
			then()
		}
	})
}

// heldLicence is the newest practitioner licence the wallet holds (the
// zero Credential when none), with its token.
func heldLicence(w *wallet.Wallet) (wallet.Credential, error) {
	cs, err := w.Credentials(wallet.Filter{})
	if err != nil {
		return wallet.Credential{}, err
	}
	var best wallet.Credential
	for _, c := range cs {
		if slices.Contains(c.Types, licence.Type) && (best.ID == "" || c.ReceivedAt.After(best.ReceivedAt)) {
			best = c
		}
	}
	if best.ID == "" {
		return best, nil
	}
	return w.Credential(best.ID)
}

func newPractitionerUI(a *App) *practitionerUI {
	u := &practitionerUI{a: a, err: errorLabel(), busy: widget.NewProgressBarInfinite(), summary: wrapLabel("")}
	u.busy.Hide()
	u.link = widget.NewEntry()
	u.link.SetPlaceHolder("The link the hospital shows you")
	u.open = widget.NewButtonWithIcon("Open request", theme.SearchIcon(), func() { u.fetch(u.link.Text) })
	u.qrFile, u.openQR = qrPicture(a, u.link, u.err, u.fetch)
	u.who = wrapLabel("")
	u.copyID = widget.NewButtonWithIcon("Copy their identifier", theme.ContentCopyIcon(), func() {
		if u.req != nil {
			a.fa.Clipboard().SetContent(requester(u.req))
		}
	})
	u.shares = wrapLabel("")
	u.send = widget.NewButtonWithIcon("Send my licence", theme.MailSendIcon(), u.doSend)
	u.send.Importance = widget.HighImportance
	u.decline = widget.NewButtonWithIcon("Say no", theme.CancelIcon(), u.doDecline)
	u.panel = container.NewVBox(widget.NewSeparator(), container.NewBorder(nil, nil, nil, u.copyID, u.who), u.shares,
		container.NewHBox(u.decline, u.send))
	u.panel.Hide()
	u.answer = wrapLabel("")
	u.answer.TextStyle = fyne.TextStyle{Bold: true}
	u.answer.Hide()

	u.showCard = widget.NewButtonWithIcon("Show my licence as a QR code", theme.VisibilityIcon(), u.startCard)
	u.hideCard = widget.NewButtonWithIcon("Hide the code", theme.CancelIcon(), u.stopCard)
	u.cardInfo = wrapLabel("")
	u.cardBox = container.NewVBox()
	u.cardBox.Hide()

	bold := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	u.body = container.NewVBox(
		bold("Your practitioner licence"), u.summary, u.err, u.busy,
		widget.NewSeparator(),
		bold("A hospital asks for your licence"),
		wrapLabel("A hospital's record system asks for your licence once, so that the access logs of the patients whose records you open there name you. Paste the link it shows you, or open a picture of its QR code."),
		container.NewBorder(nil, nil, nil, container.NewHBox(u.open, u.openQR), u.link),
		u.panel, u.answer,
		widget.NewSeparator(),
		bold("Show a patient that you are licensed"),
		wrapLabel("Anyone with the medid wallet can check this code (\"Check a practitioner\"): they see your name, profession, employer and licensing body, as the medid directory confirms them. The code is valid for "+
			fmt.Sprint(int(licence.CardLifetime/time.Minute))+" minutes and renews itself while it is shown."),
		container.NewHBox(u.showCard), u.cardBox)
	u.scroll = container.NewVScroll(u.body)
	u.content = u.scroll
	return u
}

// relayout lays the tab out again after a part was shown, hidden or
// replaced (a widget's Show does not resize its container).
func (u *practitionerUI) relayout() {
	u.body.Refresh()
	u.scroll.Refresh()
}

// reload reads the licence and checks it with the directory.
func (u *practitionerUI) reload() {
	w := u.a.wallet()
	if w == nil {
		return
	}
	type checked struct {
		lic      wallet.Credential
		line     string
		verified bool
	}
	load(u.a, func(ctx context.Context) (checked, error) {
		l, err := heldLicence(w)
		if err != nil || l.ID == "" {
			return checked{lic: l}, err
		}
		line, ok := u.a.names().ShownLicence(ctx, l.Token, l.Subject).Licensed()
		return checked{l, line, ok}, nil
	}, func(c checked, err error) {
		if err != nil {
			showError(u.err, err)
			return
		}
		u.lic = c.lic
		// Every verdict says when it was reached: a licence can be revoked
		// after it was confirmed.
		at := " (checked " + when(u.a.cfg.now()) + ")"
		switch {
		case c.lic.ID == "":
			u.summary.SetText("This wallet holds no licence any more.")
			u.summary.Importance = widget.MediumImportance
		case c.verified:
			u.summary.SetText("Confirmed by the medid directory" + at + ": " + c.line + ".")
			u.summary.Importance = widget.SuccessImportance
		case strings.Contains(c.line, "could not be checked") || strings.Contains(c.line, "offline") || strings.Contains(c.line, "unavailable"):
			// Nothing was found wrong: say so, in a neutral colour.
			u.summary.SetText("Your licence could not be checked at " + when(u.a.cfg.now()) + " (" + strings.TrimSuffix(strings.TrimPrefix(c.line, "unverified ("), ")") +
				"). Nothing is known to be wrong with it; hospitals check it when you send it.")
			u.summary.Importance = widget.MediumImportance
		default:
			u.summary.SetText("The medid directory does not confirm your licence" + at + ": " + strings.TrimSuffix(strings.TrimPrefix(c.line, "unverified ("), ")") +
				". Hospitals and patients will not accept it; ask your licensing body.")
			u.summary.Importance = widget.WarningImportance
		}
		u.summary.Refresh()
		u.relayout()
	})
}

// nameParties names by the directory the parties a record's details
// identify (a licence's employer): a detail whose value is a DID shows
// the directory's label instead (background only: it may ask the
// registry).
func (a *App) nameParties(ctx context.Context, claims []claim) []claim {
	for i, c := range claims {
		if isDID(c.Value) {
			claims[i].Value = who(a.nameOf(ctx, c.Value), c.Value)
		}
	}
	return claims
}

// licenceQuery returns the id of the request's query for a practitioner
// licence, "" when the request asks for anything else too (the Share
// screen answers those).
func licenceQuery(pr *openid.PresentationRequest) string {
	if len(pr.Queries) != 1 || !slices.Contains(pr.Queries[0].Types, licence.Type) {
		return ""
	}
	return pr.Queries[0].ID
}

// errNotLicenceRequest: the request asks for records, not a licence.
var errNotLicenceRequest = errors.New("this request asks for records, not for your licence: answer it on the Share screen")

// requester is the DID that signed the request, else its client id.
func requester(pr *openid.PresentationRequest) string {
	if pr.Signer != "" {
		return pr.Signer
	}
	return pr.Request.ClientID
}

// fetch reads a hospital's licence request and shows who asks and what
// would leave the wallet.
func (u *practitionerUI) fetch(text string) {
	type shown struct {
		claims []claim
		body   string
	}
	fetchRequest(requestFetch{u.a, u.err, u.answer, u.open, u.busy}, text,
		func(ctx context.Context, w *wallet.Wallet, pr *openid.PresentationRequest) (shown, error) {
			var f shown
			if licenceQuery(pr) == "" {
				return f, errNotLicenceRequest
			}
			if cs := pr.Queries[0].Candidates; len(cs) > 0 {
				f.claims, _ = u.a.readClaims(ctx, w, cs[0])
				f.body = who(u.a.nameOf(ctx, cs[0].Issuer), cs[0].Issuer)
			}
			return f, nil
		},
		func(pr *openid.PresentationRequest, asker string, f shown, err error) {
			if err != nil {
				showError(u.err, err)
				u.relayout()
				return
			}
			u.show(pr, asker, f.claims, f.body)
		})
}

// show presents the request: who asks (by the directory, their identifier
// one tap away) and exactly what would be sent.
func (u *practitionerUI) show(pr *openid.PresentationRequest, asker string, claims []claim, body string) {
	u.req, u.query, u.asker = pr, licenceQuery(pr), verifierName(pr, asker)
	u.link.SetText("")
	u.who.SetText(u.asker + " asks for your practitioner licence.\n" + requestNote(pr, asker))
	if len(pr.Queries[0].Candidates) == 0 {
		u.shares.SetText("Your wallet holds no licence they would accept, so there is nothing to send. You can say no.")
		u.shares.Importance = widget.WarningImportance
		u.send.Disable()
	} else {
		lines := []string{"They will see your licence, as your licensing body issued it:"}
		for _, c := range claims {
			lines = append(lines, "    "+c.Label+": "+c.Value)
		}
		lines = append(lines, "    Issued by: "+body,
			"Nothing else leaves your wallet: no patient's records, none of your other records.")
		u.shares.SetText(strings.Join(lines, "\n"))
		u.shares.Importance = widget.MediumImportance
		u.send.Enable()
	}
	u.shares.Refresh()
	u.decline.Enable()
	u.panel.Show()
	u.panel.Refresh()
	u.relayout()
}

// doSend sends the licence and says truthfully what came of it.
func (u *practitionerUI) doSend() {
	if u.req == nil || len(u.req.Queries[0].Candidates) == 0 {
		return
	}
	pr, q, id := u.req, u.query, u.req.Queries[0].Candidates[0].ID
	w := u.a.wallet()
	u.run(func(ctx context.Context) error {
		return openid.RespondPresentation(ctx, w, pr, map[string]string{q: id}, nil)
	}, func(err error) (string, widget.Importance) { return licenceAnswerText(err, u.asker) })
}

func (u *practitionerUI) doDecline() {
	if u.req == nil {
		return
	}
	pr, asker := u.req, u.asker
	w := u.a.wallet()
	u.run(func(ctx context.Context) error { return openid.DeclinePresentation(ctx, w, pr, nil) },
		func(err error) (string, widget.Importance) {
			if err == nil {
				return "You said no. " + asker + " was told; your licence was not sent.", widget.MediumImportance
			}
			return "Your licence was not sent, but " + asker + " could not be told that you said no.", widget.MediumImportance
		})
}

// run sends an answer in the background; a network failure leaves the
// request open to try again, any answer of the hospital closes it.
func (u *practitionerUI) run(send func(ctx context.Context) error, words func(error) (string, widget.Importance)) {
	u.send.Disable()
	u.decline.Disable()
	u.busy.Show()
	u.a.background(func(ctx context.Context) {
		err := send(ctx)
		u.a.do(func() {
			u.busy.Hide()
			u.send.Enable()
			u.decline.Enable()
			var pe *openid4vp.ProtocolError
			if err != nil && !errors.As(err, &pe) {
				// Nothing reached them, or no answer came back: not a refusal.
				u.answer.SetText("Could not reach " + u.asker + ": " + friendly(err) + " Nothing is known to be wrong with your licence; try again.")
				u.answer.Importance = widget.MediumImportance
				u.answer.Show()
				u.answer.Refresh()
				u.relayout()
				return
			}
			text, imp := words(err)
			u.answer.SetText(text)
			u.answer.Importance = imp
			u.answer.Show()
			u.answer.Refresh()
			u.req = nil
			u.panel.Hide()
			u.relayout()
		})
	})
}

// licenceAnswerText says what a hospital answered to a licence: taken;
// refused, with the reason in words; or not checked (its registry did not
// answer), which is never said to be a refusal of the licence.
func licenceAnswerText(err error, asker string) (string, widget.Importance) {
	if err == nil {
		return "Sent. " + asker + " checked your licence and took it: the access logs of the patients whose records you open there will name you by it.", widget.SuccessImportance
	}
	var pe *openid4vp.ProtocolError
	if !errors.As(err, &pe) {
		return friendly(err), widget.MediumImportance
	}
	d := strings.ToLower(pe.Description)
	switch {
	case pe.Reason == "status_unavailable" || pe.Reason == "issuer_unavailable" || strings.Contains(d, "unavailable") || strings.Contains(d, "could not be checked"):
		return asker + " could not check your licence just now (their connection to the medid network failed). Nothing is known to be wrong with it: ask them for a new request in a few minutes.", widget.MediumImportance
	case pe.Code == openid4vp.ErrCodeInvalidRequest:
		return asker + " did not take the answer: the request may have expired or been answered already. Ask them for a new one.", widget.WarningImportance
	}
	return asker + " did not accept your licence: " + licenceRefusal(pe.Reason, d) + ".", widget.DangerImportance
}

// licenceRefusal says why a hospital refused a licence.
func licenceRefusal(reason, desc string) string {
	switch {
	case reason == "revoked" || strings.Contains(desc, "revoked"):
		return "your licensing body has revoked it"
	case reason == "suspended" || strings.Contains(desc, "suspended"):
		return "it is suspended"
	case reason == "expired" || strings.Contains(desc, "expired"):
		return "it has expired; ask your licensing body for a current one"
	case strings.Contains(desc, "not a licensing body"):
		return "it was not issued by a licensing body of the medid directory"
	case reason == "issuer_not_accredited" || strings.Contains(desc, "accredit"):
		return "its issuer is not accredited to issue licences"
	}
	return "it did not pass their checks; ask your licensing body"
}

// startCard shows the licence card and renews it every minute until it is
// hidden.
func (u *practitionerUI) startCard() {
	u.stopCard()
	stop := make(chan struct{})
	u.cardStop = stop
	u.refreshCard()
	u.a.loop(func(ctx context.Context) {
		t := time.NewTicker(cardRenewal)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-t.C:
				u.a.do(func() {
					switch {
					case u.cardStop != stop:
					case u.a.main == nil || u.a.main.practice != u:
						u.stopCard() // locked meanwhile: the screen is gone
					default:
						u.refreshCard()
					}
				})
			}
		}
	})
}

// stopCard hides the code and stops its renewal.
func (u *practitionerUI) stopCard() {
	if u.cardStop != nil {
		close(u.cardStop)
		u.cardStop = nil
	}
	u.cardText = ""
	u.cardBox.Objects = nil
	u.cardBox.Hide()
	u.showCard.Enable()
	if u.scroll != nil {
		u.relayout()
	}
}

// refreshCard makes a new card and shows its code.
func (u *practitionerUI) refreshCard() {
	w, id, stop := u.a.wallet(), u.lic.ID, u.cardStop
	if w == nil {
		return
	}
	scale := float32(1)
	if c := u.a.win.Canvas(); c != nil && c.Scale() > 0 {
		scale = c.Scale()
	}
	type made struct {
		text    string
		img     image.Image
		expires time.Time
	}
	load(u.a, func(context.Context) (made, error) {
		if id == "" { // shown before the tab's first reading finished
			l, err := heldLicence(w)
			if err != nil || l.ID == "" {
				return made{}, err
			}
			id = l.ID
		}
		tok, err := card.Licence(w, id)
		if err != nil {
			return made{}, err
		}
		_, _, exp, _, err := licence.ReadCard(tok)
		if err != nil {
			return made{}, err
		}
		text := licence.CardQRText(tok)
		img, err := qrImage(text, int(420*scale))
		return made{text, img, exp}, err
	}, func(m made, err error) {
		if u.cardStop != stop || stop == nil {
			return // hidden meanwhile
		}
		if err != nil {
			showError(u.err, err)
			return
		}
		u.cardText = m.text
		u.cardImg = canvas.NewImageFromImage(m.img)
		u.cardImg.FillMode = canvas.ImageFillStretch
		u.cardImg.ScaleMode = canvas.ImageScalePixels
		px := float32(m.img.Bounds().Dx()) / scale
		u.cardImg.SetMinSize(fyne.NewSize(px, px))
		u.cardInfo.SetText("Valid until " + m.expires.Local().Format("15:04") + "; a new code replaces it every minute while it is shown.")
		// The code sits on white with a margin, whatever the theme: a
		// scanner needs dark modules on a light quiet zone.
		white := canvas.NewRectangle(qrBackground)
		u.cardBox.Objects = []fyne.CanvasObject{container.NewCenter(container.NewStack(white, container.NewPadded(u.cardImg))),
			u.cardInfo, container.NewHBox(u.hideCard)}
		u.cardBox.Show()
		u.cardBox.Refresh()
		u.showCard.Disable()
		u.relayout()
	})
}
