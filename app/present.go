package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/wallet/openid"
)

// vpUI is the "Answer a request" part of the Share screen: an OpenID4VP
// request (openid4vp:// link, pasted or read from a QR picture) shown in
// words (who asks, for which records and details), the records to send
// chosen among those that match, a review of exactly what is disclosed,
// then send, or decline (access_denied).
type vpUI struct {
	s       *shareUI
	content fyne.CanvasObject
	// verifier is the directory's name of the verifier of the request
	// shown ("" when unsigned or unknown).
	verifier string

	link   *widget.Entry
	open   *widget.Button
	openQR *widget.Button
	qrFile func(path string) // opens a QR picture (the file dialog calls it)
	err    *widget.Label
	busy   *widget.ProgressBarInfinite
	answer *widget.Label // the verifier's answer, in words

	// The request being answered (nil when none).
	req     *openid.PresentationRequest
	panel   *fyne.Container
	who     *widget.Label
	asks    []*vpAsk
	review  *widget.Button
	decline *widget.Button

	// Review dialog.
	confirm dialog.Dialog
	summary *widget.Label
	send    *widget.Button
	cancel  *widget.Button
}

// vpAsk is one credential the verifier asks for.
type vpAsk struct {
	match   openid.QueryMatch
	what    *widget.Label
	choices []*shareChoice // the matching records, with their claims
	pick    *widget.Select // nil when nothing matches
}

func newVPUI(s *shareUI) *vpUI {
	u := &vpUI{s: s}
	u.link = widget.NewEntry()
	u.link.SetPlaceHolder("The link from the pharmacy, clinic or ER")
	u.open = widget.NewButtonWithIcon("Open request", theme.SearchIcon(), func() { u.fetch(u.link.Text) })
	u.err = errorLabel()
	u.qrFile, u.openQR = qrPicture(s.a, u.link, u.err, u.fetch)
	u.busy = widget.NewProgressBarInfinite()
	u.busy.Hide()
	u.answer = wrapLabel("")
	u.answer.TextStyle = fyne.TextStyle{Bold: true}
	u.answer.Hide()
	u.who = wrapLabel("")
	u.review = widget.NewButtonWithIcon("Review what will be sent", theme.VisibilityIcon(), u.showReview)
	u.review.Importance = widget.HighImportance
	u.decline = widget.NewButtonWithIcon("Say no", theme.CancelIcon(), u.doDecline)
	u.panel = container.NewVBox()
	u.panel.Hide()
	u.content = container.NewVBox(
		widget.NewLabelWithStyle("Answer a request", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapLabel("A pharmacy, clinic or ER can ask for records with a link or a QR code. Paste the link, or open a picture of the code."),
		container.NewBorder(nil, nil, nil, container.NewHBox(u.open, u.openQR), u.link),
		u.err, u.busy, u.panel, u.answer)
	return u
}

// errNotVPLink is shown when the pasted text is not an openid4vp:// link.
var errNotVPLink = errors.New("not an openid4vp:// request link")

// fetch fetches the request and the claims of the matching records in
// the background, then shows it.
func (u *vpUI) fetch(text string) {
	text = strings.TrimSpace(text)
	showError(u.err, nil)
	u.answer.Hide()
	switch {
	case text == "":
		showError(u.err, errEmpty)
		return
	case !strings.HasPrefix(strings.ToLower(text), openid4vp.Scheme+"://"):
		showError(u.err, errNotVPLink)
		return
	}
	w := u.s.a.wallet()
	u.open.Disable()
	u.busy.Show()
	type fetched struct {
		req      *openid.PresentationRequest
		choices  [][]*shareChoice
		verifier string // the directory's name of a signing verifier
	}
	load(u.s.a, func(ctx context.Context) (fetched, error) {
		pr, err := openid.FetchPresentationRequest(ctx, w, text, nil, u.s.a.resolver())
		if err != nil {
			return fetched{}, err
		}
		f := fetched{req: pr}
		if pr.Signer != "" {
			f.verifier = u.s.a.nameOf(ctx, pr.Signer)
		}
		for _, m := range pr.Queries {
			var cs []*shareChoice
			for _, c := range m.Candidates {
				claims, _, _ := parseClaims(w, c)
				cs = append(cs, &shareChoice{cred: c, claims: claims, issuer: u.s.a.nameOf(ctx, c.Issuer)})
			}
			f.choices = append(f.choices, cs)
		}
		return f, nil
	}, func(f fetched, err error) {
		u.busy.Hide()
		u.open.Enable()
		if err != nil {
			showError(u.err, err)
			return
		}
		u.verifier = f.verifier
		u.show(f.req, f.choices)
	})
}

// verifierName says who asks: for a request the verifier signed with its
// DID, its name from the registry's directory (named); for an unsigned
// one, "Unverified" with the address the answer goes to, and the name it
// gives itself marked as such.
func verifierName(pr *openid.PresentationRequest, named string) string {
	if pr.Signer != "" && named != "" {
		return named
	}
	s := "Unverified: " + pr.Verifier
	if pr.Name != "" {
		s += " (calls itself \"" + pr.Name + "\")"
	}
	return s
}

// claimWords turns claim paths (credentialSubject.allergy, code.display,
// reaction.*.manifestation) into words a patient reads ("what it is",
// "reaction"), without repeats.
func claimWords(paths []string) string {
	var out []string
	for _, p := range paths {
		if w := fieldWord(p); !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return strings.Join(out, ", ")
}

func choiceLabel(ch *shareChoice) string {
	c := ch.cred
	return typeName(c.Types, c.Name) + " — " + issuerLine(c, ch.issuer) + ", received " + c.ReceivedAt.Local().Format("2 Jan 2006")
}

func (u *vpUI) show(pr *openid.PresentationRequest, choices [][]*shareChoice) {
	u.req = pr
	u.asks = nil
	note := "They did not sign the request: nobody vouches for the name; check the address is the one you expect."
	if pr.Signer != "" {
		note = "They signed the request; the name is from the medid network's directory."
	}
	u.who.SetText(fmt.Sprintf("%s asks for records.\nThe answer goes to: %s\nTheir identifier: %s\n%s",
		verifierName(pr, u.verifier), pr.Verifier, clientIDWords(pr.Request.ClientID), note))
	objs := []fyne.CanvasObject{widget.NewSeparator(), u.who}
	missing := false
	for i, m := range pr.Queries {
		a := &vpAsk{match: m, choices: choices[i]}
		what := typeName(m.Types, "")
		if len(m.Claims) > 0 {
			what += ": " + claimWords(m.Claims)
		}
		a.what = wrapLabel("They ask for: " + what)
		objs = append(objs, a.what)
		if len(a.choices) == 0 {
			missing = true
			none := wrapLabel("    You have no such record in the wallet.")
			none.Importance = widget.WarningImportance
			objs = append(objs, none)
		} else {
			var labels []string
			for _, ch := range a.choices {
				labels = append(labels, choiceLabel(ch))
			}
			a.pick = widget.NewSelect(labels, nil)
			a.pick.SetSelectedIndex(0)
			objs = append(objs, container.NewHBox(widget.NewLabel("    Send:"), a.pick))
		}
		u.asks = append(u.asks, a)
	}
	if missing {
		objs = append(objs, wrapLabel("You do not have every record they ask for, so you cannot answer this request. You can say no."))
		u.review.Disable()
	} else {
		u.review.Enable()
	}
	objs = append(objs, container.NewHBox(u.decline, u.review))
	u.panel.Objects = objs
	u.panel.Refresh()
	u.panel.Show()
}

// selected returns, per query, the chosen record.
func (u *vpUI) selected() []*shareChoice {
	var sel []*shareChoice
	for _, a := range u.asks {
		if a.pick == nil {
			continue
		}
		if i := a.pick.SelectedIndex(); i >= 0 {
			sel = append(sel, a.choices[i])
		}
	}
	return sel
}

func (u *vpUI) showReview() {
	if u.req == nil {
		return
	}
	sel := u.selected()
	u.summary = wrapLabel(disclosure(verifierName(u.req, u.verifier)+"\n    identifier: "+clientIDWords(u.req.Request.ClientID), sel))
	u.cancel = widget.NewButton("Do not send", func() { u.confirm.Hide() })
	u.send = widget.NewButtonWithIcon("Send", theme.MailSendIcon(), func() {
		u.confirm.Hide()
		u.doSend()
	})
	u.send.Importance = widget.HighImportance
	u.confirm = dialog.NewCustomWithoutButtons("Check before sending", container.NewBorder(nil,
		container.NewHBox(layout.NewSpacer(), u.cancel, u.send), nil, nil,
		container.NewGridWrap(fyne.NewSize(560, 320), container.NewVScroll(u.summary))), u.s.a.win)
	u.confirm.Show()
}

func (u *vpUI) doSend() {
	pr, who := u.req, verifierName(u.req, u.verifier)
	choice := map[string]string{}
	for _, a := range u.asks {
		if a.pick != nil && a.pick.SelectedIndex() >= 0 {
			choice[a.match.ID] = a.choices[a.pick.SelectedIndex()].cred.ID
		}
	}
	w := u.s.a.wallet()
	u.run(func(ctx context.Context) error { return openid.RespondPresentation(ctx, w, pr, choice, nil) },
		func(err error) string {
			if err == nil {
				return "Sent. " + who + " received your records and accepted them."
			}
			return vpAnswerText(err, who)
		})
}

func (u *vpUI) doDecline() {
	pr, who := u.req, verifierName(u.req, u.verifier)
	w := u.s.a.wallet()
	u.run(func(ctx context.Context) error { return openid.DeclinePresentation(ctx, w, pr, nil) },
		func(err error) string {
			if err == nil {
				return "You said no. " + who + " was told that you declined; nothing was shared."
			}
			return "Nothing was shared, but " + who + " could not be told that you declined: " + friendly(err)
		})
}

// run sends an answer in the background and shows the verifier's reply
// in words; the request is closed either way unless the network failed.
func (u *vpUI) run(send func(ctx context.Context) error, words func(error) string) {
	u.review.Disable()
	u.decline.Disable()
	u.busy.Show()
	u.s.a.background(func(ctx context.Context) {
		err := send(ctx)
		u.s.a.do(func() {
			u.busy.Hide()
			u.review.Enable()
			u.decline.Enable()
			var pe *openid4vp.ProtocolError
			if err != nil && !errors.As(err, &pe) {
				showError(u.err, err) // e.g. network: the patient can try again
				return
			}
			u.answer.SetText(words(err))
			u.answer.Importance = widget.SuccessImportance
			if err != nil {
				u.answer.Importance = widget.DangerImportance
			}
			u.answer.Show()
			u.answer.Refresh()
			u.req = nil
			u.panel.Hide()
			u.link.SetText("")
		})
	})
}

// vpAnswerText says in words why a verifier refused the records.
func vpAnswerText(err error, who string) string {
	var pe *openid4vp.ProtocolError
	if !errors.As(err, &pe) {
		return friendly(err)
	}
	switch {
	case pe.Reason != "":
		return who + " did not accept your records. " + rejectedText(pe.Reason)
	case pe.Code == openid4vp.ErrCodeInvalidRequest:
		return who + " did not accept the answer: the request may have expired or been answered already. Ask them for a new one."
	}
	slog.Info("presentation refused", "code", pe.Code)
	return who + " did not accept the answer. Ask them for a new request."
}

// clientIDWords shows a verifier's OpenID4VP client identifier without its
// scheme prefix (redirect_uri:, decentralized_identifier:, …): the address
// or the (shortened) identifier itself.
func clientIDWords(cid string) string {
	for _, p := range []string{"redirect_uri:", "decentralized_identifier:", "x509_san_dns:", "x509_hash:", "verifier_attestation:", "openid_federation:"} {
		if rest, ok := strings.CutPrefix(cid, p); ok {
			cid = rest
			break
		}
	}
	if u, err := url.Parse(cid); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		return u.Host + u.Path
	}
	if isDID(cid) {
		return "ref. " + directory.Ref(cid)
	}
	return cid
}
