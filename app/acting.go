package app

import (
	"context"
	"errors"
	"fmt"
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

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/hospital"
	"github.com/medid/medid/wallet/openid"
)

// ErrNoVaultForActing is shown when a representative acts while no vault is
// configured: consents in someone's name are registered at their hospital's vault.
var ErrNoVaultForActing = errors.New("add the hospital's vault address in Settings first: a consent in someone's name is registered there, in their access log")

// actingUI is the screen of a representative acting for someone
// (docs/design/0020): it replaces the whole window while it is active, and
// a banner across the top says for whom, on what basis and until when, so
// nobody can mistake it for their own wallet. It lists the consents made in
// that person's name (with a button to take each back), gives a new one when
// the delegation allows consent, and shows that person's access log when it
// allows the trail. "Stop acting" returns to the representative's own
// screens.
type actingUI struct {
	a       *App
	d       wallet.Delegation
	content fyne.CanvasObject
	banner  *widget.Label
	stop    *widget.Button
	err     *widget.Label
	busy    *widget.ProgressBarInfinite
	copied  *widget.Label

	provider *widget.Entry // nil without consent scope
	pick     *picker       // finds the provider in the directory by name
	classes  *widget.CheckGroup
	duration *widget.Select
	grant    *widget.Button

	consents *fyne.Container
	empty    *widget.Label
	rows     []*actingConsentRow

	logBtn *widget.Button // nil without trail scope
	log    *fyne.Container

	// Credentials received for the person (receive): the offer link and
	// its PIN, the button, and the list of those held for them (shown
	// with receive or present; nil without either).
	offer    *widget.Entry // nil without receive scope
	offerPIN *widget.Entry
	receive  *widget.Button
	held     *fyne.Container
	heldNone *widget.Label
	heldRows []*widget.Label
	heldGive []*widget.Button  // per held record: give it to the person (acting_export.go)
	body     *fyne.Container   // the screen's parts, under the banner
	scroll   *container.Scroll // around body
	export   *exportUI         // the give-it dialog opened last

	// Answering a verifier for the person (present; nil without it): the
	// request link, the button, the check-before-sending dialog and what
	// came of it.
	request    *widget.Entry
	showBtn    *widget.Button
	review     dialog.Dialog
	reviewText *widget.Label
	send       *widget.Button
	answer     *widget.Label
}

// actingConsentRow is one consent made in the person's name.
type actingConsentRow struct {
	c       wallet.Consent
	summary *widget.Label
	left    *widget.Label
	copy    *widget.Button
	revoke  *widget.Button
	confirm dialog.Dialog
	yes     *widget.Button
}

// actingBanner is what the banner says: "ACTING FOR Rosa Silva (your
// mother), with their authorisation, until 2 Mar 2027", or why it no
// longer works.
func actingBanner(d wallet.Delegation, now time.Time) string {
	s := "ACTING FOR " + d.PersonWords() + ", " + d.ActingWords()
	if d.StatusAt(now) != wallet.DelegationActive {
		return s + ": NO LONGER (" + strings.ToLower(delegationLeft(d, now)) + ")"
	}
	return s + ", until " + d.ValidUntil.Local().Format("2 Jan 2006")
}

// startActing shows the acting screen for d in place of the main screens.
func (u *peopleUI) startActing(d wallet.Delegation) *actingUI {
	a := u.a
	x := &actingUI{a: a, d: d, err: errorLabel(), busy: widget.NewProgressBarInfinite(), copied: wrapLabel(""),
		consents: container.NewVBox(), empty: wrapLabel("No consent was given in their name from this wallet."), log: container.NewVBox()}
	x.busy.Hide()
	x.copied.Hide()
	x.banner = widget.NewLabelWithStyle(actingBanner(d, a.cfg.now()), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	x.banner.Wrapping = fyne.TextWrapWord
	x.banner.Importance = widget.WarningImportance
	x.stop = widget.NewButtonWithIcon("Stop acting for "+personName(d), theme.LogoutIcon(), func() {
		if a.main != nil {
			a.show(a.main.content)
			u.reload()
		}
	})
	x.stop.Importance = widget.HighImportance
	band := canvas.NewRectangle(theme.Color(theme.ColorNameWarning))
	band.SetMinSize(fyne.NewSize(8, 8))
	header := container.NewBorder(band, nil, nil, x.stop, x.banner)

	bold := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	body := container.NewVBox(wrapLabel(scopeWords(d)), x.err, x.busy, x.copied)
	if d.Covers(delegation.ActionConsent) {
		x.provider = widget.NewEntry()
		x.provider.SetPlaceHolder("Their name, then Find by name; or the identifier they gave you")
		x.pick = newPicker(a, x.provider)
		var offered []string
		for _, l := range DataClasses {
			if cs := wallet.ClassesForLabels([]string{l}); len(cs) > 0 && coversAll(d, cs) {
				offered = append(offered, l)
			}
		}
		x.classes = widget.NewCheckGroup(offered, nil)
		x.classes.Horizontal = true
		var durs []string
		for _, c := range consentDurations {
			durs = append(durs, c.label)
		}
		x.duration = widget.NewSelect(durs, nil)
		x.duration.SetSelected("30 days")
		x.grant = widget.NewButtonWithIcon("Give consent in "+personName(d)+"'s name", theme.ConfirmIcon(), x.doGrant)
		x.grant.Importance = widget.HighImportance
		body.Add(bold("Give consent in " + personName(d) + "'s name"))
		body.Add(widget.NewForm(widget.NewFormItem("Who", container.NewVBox(container.NewBorder(nil, nil, nil, x.pick.find, x.provider), x.pick.results, x.pick.note)), widget.NewFormItem("May see", x.classes),
			widget.NewFormItem("For how long", x.duration)))
		body.Add(container.NewHBox(x.grant))
	}
	if d.Covers(delegation.ActionReceive) || d.Covers(delegation.ActionPresent) {
		body.Add(widget.NewSeparator())
		body.Add(bold("Records you hold for " + personName(d)))
		x.heldNone = wrapLabel("You hold none of " + personName(d) + "'s records.")
		x.held = container.NewVBox()
		body.Add(x.heldNone)
		body.Add(x.held)
		if d.Covers(delegation.ActionReceive) {
			x.offer = widget.NewEntry()
			x.offer.SetPlaceHolder("Paste the offer link the hospital gave you for " + personName(d))
			x.offerPIN = widget.NewEntry()
			x.offerPIN.SetPlaceHolder("Code from the hospital (only if they gave you one)")
			x.receive = widget.NewButtonWithIcon("Receive for "+personName(d), theme.DownloadIcon(), x.doReceive)
			body.Add(wrapLabel("A hospital can give you " + personName(d) + "'s record: it is issued to " + personName(d) +
				", and you keep it for them."))
			body.Add(widget.NewForm(widget.NewFormItem("Offer", x.offer), widget.NewFormItem("PIN", x.offerPIN)))
			body.Add(container.NewHBox(x.receive))
		}
		if d.Covers(delegation.ActionPresent) {
			x.request = widget.NewEntry()
			x.request.SetPlaceHolder("Paste the request link a hospital or pharmacy showed you for " + personName(d))
			x.showBtn = widget.NewButtonWithIcon("Show "+personName(d)+"'s records", theme.MailSendIcon(), x.doShow)
			x.answer = wrapLabel("")
			x.answer.Hide()
			body.Add(wrapLabel("When someone asks for " + personName(d) + "'s records, you can show the ones you hold for them: " +
				"they see that you show them " + d.ActingWords() + "."))
			body.Add(widget.NewForm(widget.NewFormItem("Request", x.request)))
			body.Add(container.NewHBox(x.showBtn))
			body.Add(x.answer)
		}
	}
	body.Add(widget.NewSeparator())
	body.Add(bold("Consents you gave in " + personName(d) + "'s name"))
	body.Add(x.empty)
	body.Add(x.consents)
	if d.Covers(delegation.ActionTrail) {
		x.logBtn = widget.NewButtonWithIcon("Show who looked at "+personName(d)+"'s records", theme.VisibilityIcon(), x.showLog)
		body.Add(widget.NewSeparator())
		body.Add(container.NewHBox(x.logBtn))
		body.Add(x.log)
	}
	x.body, x.scroll = body, container.NewVScroll(body)
	x.content = container.NewBorder(header, nil, nil, nil, x.scroll)
	a.show(x.content)
	x.reload()
	return x
}

func personName(d wallet.Delegation) string {
	if d.PatientName != "" {
		return d.PatientName
	}
	return unnamed(d.Patient)
}

// coversAll reports whether d delegates every one of classes.
func coversAll(d wallet.Delegation, classes []string) bool {
	for _, c := range classes {
		if !slices.Contains(d.Classes, delegation.AllClasses) && !slices.Contains(d.Classes, c) {
			return false
		}
	}
	return true
}

// doReceive redeems a hospital's offer for the person (OpenID4VCI with
// the delegation): the hospital checks it and issues the record to them;
// it is verified and kept for them.
func (x *actingUI) doReceive() {
	w := x.a.wallet()
	uri := strings.TrimSpace(x.offer.Text)
	if w == nil || uri == "" {
		return
	}
	pin := strings.TrimSpace(x.offerPIN.Text)
	opts := openid.AcceptOfferOptions{TxCode: func(*openid4vci.TxCode) (string, error) {
		if pin == "" {
			return "", errNeedPIN
		}
		return pin, nil
	}}
	x.receive.Disable()
	x.busy.Show()
	showError(x.err, nil)
	id := x.d.Hash
	load(x.a, func(ctx context.Context) ([]wallet.Credential, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		return openid.AcceptOfferFor(ctx, w, id, uri, opts)
	}, func(_ []wallet.Credential, err error) {
		x.busy.Hide()
		x.receive.Enable()
		if err != nil {
			showError(x.err, err)
			return
		}
		x.offer.SetText("")
		x.offerPIN.SetText("")
		x.reload()
	})
}

// doShow fetches a verifier's request, matches it against the records held
// for the person and asks the representative to check before sending.
func (x *actingUI) doShow() {
	w := x.a.wallet()
	text := strings.TrimSpace(x.request.Text)
	if w == nil {
		return
	}
	if !strings.HasPrefix(strings.ToLower(text), openid4vp.Scheme+"://") {
		showError(x.err, errNotVPLink)
		return
	}
	x.showBtn.Disable()
	x.busy.Show()
	showError(x.err, nil)
	x.answer.Hide()
	type fetched struct {
		pr       *openid.PresentationRequest
		verifier string
		issuers  map[string]string
	}
	id := x.d.Hash
	load(x.a, func(ctx context.Context) (fetched, error) {
		pr, err := openid.FetchPresentationRequestFor(ctx, w, id, text, nil, x.a.resolver())
		if err != nil {
			return fetched{}, err
		}
		f := fetched{pr: pr, issuers: map[string]string{}}
		if pr.Signer != "" {
			f.verifier = x.a.nameOf(ctx, pr.Signer)
		}
		for _, m := range pr.Queries {
			for _, c := range m.Candidates {
				f.issuers[c.Issuer] = x.a.nameOf(ctx, c.Issuer)
			}
		}
		return f, nil
	}, func(f fetched, err error) {
		x.busy.Hide()
		x.showBtn.Enable()
		if err != nil {
			showError(x.err, err)
			return
		}
		asker := verifierName(f.pr, f.verifier)
		lines := []string{asker + " asks for " + personName(x.d) + "'s records. You would show, " + x.d.ActingWords() + ":"}
		for _, m := range f.pr.Queries {
			if len(m.Candidates) == 0 {
				showError(x.err, fmt.Errorf("you hold none of %s's records that %s asks for (%s): nothing was sent", personName(x.d), asker, typeName(m.Types, "")))
				return
			}
			c := m.Candidates[0]
			lines = append(lines, "  • "+typeName(c.Types, c.Name)+" from "+who(f.issuers[c.Issuer], c.Issuer))
		}
		x.reviewText = wrapLabel(strings.Join(lines, "\n"))
		no := widget.NewButton("Do not send", func() { x.review.Hide() })
		x.send = widget.NewButtonWithIcon("Send", theme.MailSendIcon(), func() {
			x.review.Hide()
			x.doSend(f.pr, asker)
		})
		x.send.Importance = widget.HighImportance
		x.review = dialog.NewCustomWithoutButtons("Check before sending", container.NewVBox(x.reviewText,
			container.NewHBox(layout.NewSpacer(), no, x.send)), x.a.win)
		x.review.Show()
	})
}

// doSend answers the request with the first held record for each query,
// under the delegation.
func (x *actingUI) doSend(pr *openid.PresentationRequest, who string) {
	w := x.a.wallet()
	x.showBtn.Disable()
	x.busy.Show()
	x.a.background(func(ctx context.Context) {
		err := openid.RespondPresentation(ctx, w, pr, nil, nil)
		x.a.do(func() {
			x.busy.Hide()
			x.showBtn.Enable()
			if err != nil {
				showError(x.err, errors.New(vpAnswerText(err, who)))
				return
			}
			x.request.SetText("")
			x.answer.SetText("Sent. " + who + " received " + personName(x.d) + "'s records, shown by you " + x.d.ActingWords() + ", and accepted them.")
			x.answer.Show()
		})
	})
}

// heldRecord is a record held for the person, with its issuer's name.
type heldRecord struct {
	c      wallet.Credential
	issuer string
}

// showHeld lists the records held for the person.
func (x *actingUI) showHeld(hs []heldRecord) {
	if x.held == nil {
		return
	}
	x.heldRows, x.heldGive = x.heldRows[:0], x.heldGive[:0]
	x.held.Objects = nil
	for _, h := range hs {
		c := h.c
		l := wrapLabel(fmt.Sprintf("%s from %s, received %s", typeName(c.Types, c.Name), who(h.issuer, c.Issuer),
			c.ReceivedAt.Local().Format("2 Jan 2006")))
		x.heldRows = append(x.heldRows, l)
		give := x.giveButton(h)
		x.heldGive = append(x.heldGive, give)
		x.held.Add(container.NewBorder(nil, nil, nil, give, l))
	}
	x.held.Refresh()
	if len(hs) == 0 {
		x.heldNone.Show()
	} else {
		x.heldNone.Hide()
	}
	// Rows added or removed change the list's height: lay the screen out
	// again, or the rows below would be drawn over.
	x.body.Refresh()
	x.scroll.Refresh()
}

func (x *actingUI) reload() {
	w := x.a.wallet()
	if w == nil {
		return
	}
	id := x.d.Hash
	if x.held != nil {
		load(x.a, func(ctx context.Context) ([]heldRecord, error) {
			hs, err := w.HeldFor(id)
			out := make([]heldRecord, len(hs))
			for i, c := range hs {
				out[i] = heldRecord{c, x.a.nameOf(ctx, c.Issuer)}
			}
			return out, err
		}, func(hs []heldRecord, err error) {
			if err != nil {
				showError(x.err, err)
				return
			}
			x.showHeld(hs)
		})
	}
	load(x.a, func(context.Context) ([]wallet.Consent, error) { return hospital.ConsentsFor(w, id) }, func(cs []wallet.Consent, err error) {
		if err != nil {
			showError(x.err, err)
			return
		}
		x.show(cs)
	})
}

func (x *actingUI) show(cs []wallet.Consent) {
	now := x.a.cfg.now()
	x.rows = x.rows[:0]
	var objs []fyne.CanvasObject
	for _, c := range cs {
		r := &actingConsentRow{c: c}
		var labels []string
		for _, cl := range c.Classes {
			labels = append(labels, classLabel(cl))
		}
		r.summary = wrapLabel(fmt.Sprintf("%s may see %s's %s.", whoStarts("", c.Provider), personName(x.d), strings.Join(labels, ", ")))
		st := c.StatusAt(now)
		left := "Ended " + c.ValidUntil.Local().Format("2 Jan 2006")
		switch {
		case c.Revoked != nil:
			left = "Taken back " + c.Revoked.Local().Format("2 Jan 2006")
		case st == wallet.ConsentActive:
			n, unit := ceilUnits(c.ValidUntil.Sub(now))
			left = plural(n, unit) + " left"
		}
		r.left = widget.NewLabel(left)
		buttons := container.NewVBox(r.left)
		if st == wallet.ConsentActive && c.Revoked == nil {
			r.copy = widget.NewButtonWithIcon("Copy for them", theme.ContentCopyIcon(), func() {
				x.a.fa.Clipboard().SetContent(r.c.Token)
				x.copied.SetText("Copied. Send it to the provider: they show it to the hospital to read " + personName(x.d) + "'s records.")
				x.copied.Show()
			})
			r.revoke = widget.NewButtonWithIcon("Take back…", theme.ContentRemoveIcon(), func() { x.confirmRevoke(r) })
			buttons.Add(r.copy)
			buttons.Add(r.revoke)
		}
		objs = append(objs, container.NewBorder(nil, nil, nil, buttons, r.summary), widget.NewSeparator())
		x.rows = append(x.rows, r)
	}
	x.consents.Objects = objs
	x.consents.Refresh()
	setVisible(x.empty, len(cs) == 0)
}

func (x *actingUI) doGrant() {
	showError(x.err, nil)
	req := wallet.ConsentRequest{Provider: x.pick.provider(strings.TrimSpace(x.provider.Text)), Classes: wallet.ClassesForLabels(x.classes.Selected),
		Purposes: x.d.Purposes}
	for _, c := range consentDurations {
		if c.label == x.duration.Selected {
			req.Duration = c.d
		}
	}
	if req.Provider == "" || len(req.Classes) == 0 || req.Duration == 0 {
		x.err.SetText("Say who gets consent (find them by name, or the identifier they gave you), tick at least one kind of record, and choose how long.")
		x.err.Show()
		return
	}
	led, ok := x.a.reg().(hospital.RepresentativeLedger)
	vaultURL, w := x.a.vault(), x.a.wallet()
	switch {
	case !ok || led == nil:
		showError(x.err, ErrNoRegistryForDelegation)
		return
	case vaultURL == "":
		showError(x.err, ErrNoVaultForActing)
		return
	case w == nil:
		return
	}
	x.grant.Disable()
	x.busy.Show()
	id := x.d.Hash
	x.a.background(func(ctx context.Context) {
		_, err := hospital.GrantConsentFor(ctx, w, led, vaultURL, id, req)
		x.a.do(func() {
			x.busy.Hide()
			x.grant.Enable()
			if err != nil {
				showError(x.err, err)
				return
			}
			x.provider.SetText("")
			x.classes.SetSelected(nil)
			x.reload()
		})
	})
}

func (x *actingUI) confirmRevoke(r *actingConsentRow) {
	no := widget.NewButton("Keep it", func() { r.confirm.Hide() })
	r.yes = widget.NewButtonWithIcon("Take back consent", theme.ContentRemoveIcon(), func() {
		r.confirm.Hide()
		led, ok := x.a.reg().(wallet.ConsentLedger)
		w := x.a.wallet()
		if !ok || led == nil || w == nil {
			showError(x.err, ErrNoRegistryForDelegation)
			return
		}
		x.busy.Show()
		id, cid := x.d.Hash, r.c.ID
		x.a.background(func(ctx context.Context) {
			_, err := hospital.WithdrawConsentFor(ctx, w, led, id, cid)
			x.a.do(func() {
				x.busy.Hide()
				if err != nil {
					showError(x.err, err)
					return
				}
				x.reload()
			})
		})
	})
	r.yes.Importance = widget.DangerImportance
	r.confirm = dialog.NewCustomWithoutButtons("Take back consent given in "+personName(x.d)+"'s name?", container.NewVBox(
		wrapLabel(whoStarts("", r.c.Provider)+" will no longer be able to see "+personName(x.d)+"'s records."),
		container.NewHBox(layout.NewSpacer(), no, r.yes)), x.a.win)
	r.confirm.Show()
}

// showLog fetches the representative's copy of the person's access log,
// verified against the ledger, and lists it in sentences.
func (x *actingUI) showLog() {
	showError(x.err, nil)
	anchors, ok := x.a.reg().(ledger)
	vaultURL, w := x.a.vault(), x.a.wallet()
	switch {
	case !ok || anchors == nil:
		showError(x.err, ErrNoRegistryForDelegation)
		return
	case vaultURL == "":
		showError(x.err, ErrNoVaultForActing)
		return
	case w == nil:
		return
	}
	x.busy.Show()
	id, whose := x.d.Hash, personName(x.d)
	load(x.a, func(ctx context.Context) ([]wallet.AccessEvent, error) {
		return hospital.AccessLogFor(ctx, w, id, hospital.AccessLogOptions{VaultURL: vaultURL, Anchors: anchors})
	}, func(evs []wallet.AccessEvent, err error) {
		x.busy.Hide()
		if err != nil {
			showError(x.err, err)
			return
		}
		x.log.Objects = nil
		if len(evs) == 0 {
			x.log.Add(wrapLabel("Nothing yet: your copy of " + whose + "'s access log begins when you first act for them at this hospital."))
		}
		for _, e := range evs {
			name := func(d string) string { return who("", d) }
			x.log.Add(wrapLabel(e.Time.Local().Format("2 Jan 2006 15:04") + "  " + e.SentenceAbout(name, whose)))
		}
		x.log.Refresh()
	})
}
