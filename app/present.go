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
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/openid"
)

// vpUI is the "Answer a request" part of the Share screen: an OpenID4VP
// request (openid4vp:// link, pasted or read from a QR picture) shown in
// words (who asks, for which records and details). When the verifier
// accepts several answers (DCQL credential sets and claim sets), each way
// of answering is listed with the details it sends, and the patient picks
// one; parts the verifier marks optional can be unticked. For every record
// the screen says exactly which details leave and which stay in the
// wallet; the records to send are chosen among those that match, then a
// review of exactly what is disclosed, then send, or decline
// (access_denied).
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
	req   *openid.PresentationRequest
	byID  map[string]*shareChoice // every matching record, by credential id
	panel *fyne.Container
	who   *widget.Label
	// copyID copies the request's signer's DID (nil when unsigned).
	copyID *widget.Button
	// ways lists the ways of answering when there are several (nil when
	// one or none); wayBox holds the chosen way's parts.
	ways     *widget.RadioGroup
	wayLabel []string // the ways' texts, as on the radio buttons
	way      int      // the chosen way (index into req.Ways)
	wayBox   *fyne.Container
	asks     []*vpAsk              // the chosen way's records
	optional map[int]*widget.Check // per optional part (credential set): send it
	cannot   *widget.Label         // why the request cannot be answered
	plan     []openid.Sending      // what the chosen answer sends, once computed
	planErr  error                 // why the chosen answer cannot be sent
	planGen  int                   // the plan computation the screen waits for
	review   *widget.Button
	decline  *widget.Button

	// Review dialog.
	confirm dialog.Dialog
	summary *widget.Label
	send    *widget.Button
	cancel  *widget.Button
}

// vpAsk is one record the chosen way sends.
type vpAsk struct {
	part    openid.Part
	what    *widget.Label
	choices []*shareChoice // the matching records, with their claims
	pick    *widget.Select // nil when nothing matches, or several may go
	// several has one box per matching record when the verifier accepts
	// several (DCQL multiple): the newest is ticked, the others only if
	// the patient ticks them. Nil otherwise.
	several []*widget.Check
	fields  *widget.Label // which details leave and which stay
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

// vpLinkProblem says what is wrong with text (trimmed) as an openid4vp://
// request link, or returns nil.
func vpLinkProblem(text string) error {
	switch {
	case text == "":
		return errEmpty
	case !strings.HasPrefix(strings.ToLower(text), openid4vp.Scheme+"://"):
		return errNotVPLink
	}
	return nil
}

// requestFetch is what a screen that answers OpenID4VP requests (Share,
// My licence) shows while one is read: its error line, the answer of the
// previous request, the Open button and the busy bar.
type requestFetch struct {
	a      *App
	err    *widget.Label
	answer *widget.Label
	open   *widget.Button
	busy   *widget.ProgressBarInfinite
}

// fetchRequest is the one way a screen reads a request link: it checks
// the link (a problem is shown at once, nothing is fetched), then, in the
// background, fetches and verifies the request and names its signer by
// the directory ("" when unsigned or unnamed), runs more (the screen's own
// reading of the candidates, in the background too), and hands the result
// to show on the UI goroutine with the busy bar hidden again. show gets
// the error of any step.
func fetchRequest[T any](f requestFetch, text string,
	more func(ctx context.Context, w *wallet.Wallet, pr *openid.PresentationRequest) (T, error),
	show func(pr *openid.PresentationRequest, signer string, v T, err error)) {
	text = strings.TrimSpace(text)
	showError(f.err, nil)
	f.answer.Hide()
	if err := vpLinkProblem(text); err != nil {
		showError(f.err, err)
		return
	}
	w := f.a.wallet()
	f.open.Disable()
	f.busy.Show()
	type fetched struct {
		pr     *openid.PresentationRequest
		signer string
		v      T
	}
	load(f.a, func(ctx context.Context) (fetched, error) {
		pr, err := openid.FetchPresentationRequest(ctx, w, text, nil, f.a.resolver())
		if err != nil {
			return fetched{}, err
		}
		r := fetched{pr: pr}
		if pr.Signer != "" {
			r.signer = f.a.nameOf(ctx, pr.Signer)
		}
		r.v, err = more(ctx, w, pr)
		return r, err
	}, func(r fetched, err error) {
		f.busy.Hide()
		f.open.Enable()
		show(r.pr, r.signer, r.v, err)
	})
}

// fetch fetches the request and the claims of the matching records in
// the background, then shows it.
func (u *vpUI) fetch(text string) {
	fetchRequest(requestFetch{u.s.a, u.err, u.answer, u.open, u.busy}, text,
		func(ctx context.Context, w *wallet.Wallet, pr *openid.PresentationRequest) (map[string]*shareChoice, error) {
			byID := map[string]*shareChoice{}
			for _, m := range pr.Queries {
				for _, c := range m.Candidates {
					if byID[c.ID] != nil {
						continue
					}
					claims, _ := u.s.a.readClaims(ctx, w, c)
					byID[c.ID] = &shareChoice{cred: c, claims: claims, issuer: u.s.a.nameOf(ctx, c.Issuer)}
				}
			}
			return byID, nil
		},
		func(pr *openid.PresentationRequest, signer string, byID map[string]*shareChoice, err error) {
			if err != nil {
				showError(u.err, err)
				return
			}
			u.verifier = signer
			u.show(pr, byID)
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

// requestNote says where the name [verifierName] shows for a request's
// sender comes from: the directory (signed by a DID it lists), nobody
// (unsigned), or nobody although signed (a DID the directory does not
// list: the signature proves only that the same key signed). A
// suspended organisation is named, flagged, and the patient warned.
func requestNote(pr *openid.PresentationRequest, named string) string {
	switch {
	case pr.Signer == "":
		return "They did not sign the request: nobody vouches for the name; check the address is the one you expect."
	case named == "":
		return "They signed the request, but the medid directory does not list them: nobody vouches for the name they give. Only answer someone you know."
	case strings.Contains(named, directory.SuspendedWords):
		return "They signed the request, but the medid directory has suspended them: do not send anything unless you know why."
	}
	return "They signed the request; the name is from the medid network's directory."
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

func (u *vpUI) show(pr *openid.PresentationRequest, byID map[string]*shareChoice) {
	u.req, u.byID = pr, byID
	u.link.SetText("") // read: the request below replaces the link
	u.asks, u.ways, u.wayLabel, u.way, u.plan = nil, nil, nil, 0, nil
	u.who.SetText(fmt.Sprintf("%s asks for records.\nThe answer goes to: %s\nTheir identifier: %s\n%s",
		verifierName(pr, u.verifier), pr.Verifier, clientIDWords(pr.Request.ClientID), requestNote(pr, u.verifier)))
	objs := []fyne.CanvasObject{widget.NewSeparator(), u.who}
	// The signer's identifier one tap away, as on every screen that names
	// someone (an unsigned request has none that anyone vouches for).
	u.copyID = nil
	if id := pr.Signer; id != "" {
		u.copyID = widget.NewButtonWithIcon("Copy their identifier", theme.ContentCopyIcon(), func() {
			u.s.a.fa.Clipboard().SetContent(id)
		})
		objs = append(objs, container.NewHBox(u.copyID))
	}
	u.wayBox = container.NewVBox()
	switch {
	case len(pr.Ways) == 0:
		u.cannot = wrapLabel(cannotAnswer(pr))
		u.cannot.Importance = widget.WarningImportance
		objs = append(objs, u.cannot)
		u.review.Disable()
	case len(pr.Ways) > 1:
		for i, w := range pr.Ways {
			u.wayLabel = append(u.wayLabel, wayText(i, w))
		}
		u.ways = widget.NewRadioGroup(u.wayLabel, func(sel string) {
			if i := slices.Index(u.wayLabel, sel); i >= 0 && i != u.way {
				u.selectWay(i)
			}
		})
		u.ways.Required = true
		u.ways.SetSelected(u.wayLabel[0])
		objs = append(objs, widget.NewLabelWithStyle("They accept more than one answer. Choose what to send:", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			u.ways)
		fallthrough
	default:
		objs = append(objs, u.wayBox)
		u.selectWay(0)
	}
	objs = append(objs, container.NewHBox(u.decline, u.review))
	u.panel.Objects = objs
	u.panel.Refresh()
	u.panel.Show()
}

// cannotAnswer says which records the patient lacks: for each need the
// verifier insists on (a required credential set) that nothing in the
// wallet meets, the kinds of record that would.
func cannotAnswer(pr *openid.PresentationRequest) string {
	types := map[string][]string{}
	for _, m := range pr.Queries {
		types[m.ID] = m.Types
	}
	var lines []string
	for _, s := range pr.Sets {
		if !s.Required || s.Held {
			continue
		}
		var alts []string
		for _, o := range s.Options {
			var kinds []string
			for _, id := range o {
				kinds = append(kinds, typeName(types[id], ""))
			}
			alts = append(alts, strings.Join(kinds, " and "))
		}
		if len(alts) == 1 {
			lines = append(lines, "They ask for: "+alts[0]+". You have no such record in the wallet.")
		} else {
			lines = append(lines, "They ask for one of: "+strings.Join(alts, ", or ")+". You have none of these in the wallet.")
		}
	}
	for _, m := range pr.Queries {
		if len(m.Candidates) == 0 && m.Untrusted > 0 {
			lines = append(lines, fmt.Sprintf("You have %s of the kind %s, but they accept it only from other issuers.",
				plural(m.Untrusted, "record"), typeName(m.Types, "")))
		}
	}
	lines = append(lines, "You do not have every record they ask for, so you cannot answer this request. You can say no.")
	return strings.Join(lines, "\n")
}

// partWords is one record of a way in words: its kind and the details
// asked ("Allergy intolerance: what it is, reaction").
func partWords(p openid.Part) string {
	s := typeName(p.Types, "")
	if len(p.Claims) > 0 {
		s += ": " + claimWords(p.Claims)
	}
	return s
}

// wayText is one way of answering on its radio button: the records and
// details it sends, optional ones marked as such.
func wayText(i int, w openid.Way) string {
	var req, opt []string
	for _, p := range w.Parts {
		if p.Required {
			req = append(req, partWords(p))
		} else {
			opt = append(opt, partWords(p))
		}
	}
	s := fmt.Sprintf("%d. %s", i+1, strings.Join(req, " + "))
	if len(opt) > 0 {
		if len(req) > 0 {
			s += " + "
		}
		s += "if you wish: " + strings.Join(opt, " + ")
	}
	return s
}

// selectWay shows way i of the request: each record it sends, with a
// choice among the matching records, what of it leaves, and a box for
// each part the verifier marks optional.
func (u *vpUI) selectWay(i int) {
	u.way = i
	w := u.req.Ways[i]
	u.asks = nil
	u.optional = map[int]*widget.Check{}
	var objs []fyne.CanvasObject
	add := func(p openid.Part) {
		a := &vpAsk{part: p, fields: wrapLabel("")}
		a.fields.Importance = widget.LowImportance
		lead := "They ask for: "
		if !p.Required {
			lead = "They would also like: "
		}
		a.what = wrapLabel(lead + partWords(p))
		var labels []string
		for _, c := range p.Candidates {
			if ch := u.byID[c.ID]; ch != nil {
				a.choices = append(a.choices, ch)
				labels = append(labels, choiceLabel(ch))
			}
		}
		objs = append(objs, a.what)
		switch {
		case p.Multiple && len(a.choices) > 1:
			objs = append(objs, wrapLabel("    They accept more than one of these. Tick each record to send:"))
			for i, l := range labels {
				c := widget.NewCheck(l, func(bool) { u.refreshPlan() })
				c.Checked = i == 0
				a.several = append(a.several, c)
				objs = append(objs, container.NewHBox(widget.NewLabel("   "), c))
			}
		case len(a.choices) > 0:
			a.pick = widget.NewSelect(labels, func(string) { u.refreshPlan() })
			a.pick.SetSelectedIndex(0)
			objs = append(objs, container.NewBorder(nil, nil, widget.NewLabel("    Send:"), nil, a.pick))
		}
		objs = append(objs, a.fields)
		u.asks = append(u.asks, a)
	}
	for _, p := range w.Parts {
		if p.Required {
			add(p)
		}
	}
	for _, set := range w.Optional {
		var kinds []string
		for _, p := range w.Parts {
			if !p.Required && slices.Contains(p.Sets, set) {
				kinds = append(kinds, typeName(p.Types, ""))
			}
		}
		check := widget.NewCheck("Also send "+strings.Join(kinds, " and ")+" (they say you may leave it out)", func(bool) { u.refreshPlan() })
		check.Checked = true
		u.optional[set] = check
		objs = append(objs, widget.NewSeparator(), check)
		for _, p := range w.Parts {
			if !p.Required && slices.Contains(p.Sets, set) && p.Sets[0] == set {
				add(p)
			}
		}
	}
	u.wayBox.Objects = objs
	u.wayBox.Refresh()
	u.refreshPlan()
}

// chosenAnswer is the answer the screen shows: the way, the records
// picked, and the optional parts unticked.
func (u *vpUI) chosenAnswer() openid.Answer {
	a := openid.Answer{Way: u.way, Credentials: map[string]string{}}
	for _, ask := range u.asks {
		if ask.pick != nil && ask.pick.SelectedIndex() >= 0 {
			a.Credentials[ask.part.Query] = ask.choices[ask.pick.SelectedIndex()].cred.ID
		}
		if ask.several != nil {
			var ids []string
			for i, c := range ask.several {
				if c.Checked {
					ids = append(ids, ask.choices[i].cred.ID)
				}
			}
			if a.Several == nil {
				a.Several = map[string][]string{}
			}
			a.Several[ask.part.Query] = ids
			if len(ids) > 0 {
				a.Credentials[ask.part.Query] = ids[0]
			}
		}
	}
	for set, c := range u.optional {
		if !c.Checked {
			a.LeaveOut = append(a.LeaveOut, set)
		}
	}
	slices.Sort(a.LeaveOut)
	return a
}

// refreshPlan works out, in the background, exactly what the chosen answer
// sends, and shows it under each record; review waits for it.
func (u *vpUI) refreshPlan() {
	if u.req == nil || len(u.req.Ways) == 0 {
		return
	}
	u.planGen++
	gen, pr, ans, w := u.planGen, u.req, u.chosenAnswer(), u.s.a.wallet()
	u.review.Disable()
	plan := func(context.Context) ([]openid.Sending, error) { return pr.Plan(w, ans) }
	for _, ask := range u.asks {
		// A part with boxes and none ticked: the plan would send the
		// newest record, which the patient did not choose.
		leftOut := !ask.part.Required && !slices.ContainsFunc(ask.part.Sets, func(s int) bool { return !slices.Contains(ans.LeaveOut, s) })
		if ask.several != nil && len(ans.Several[ask.part.Query]) == 0 && !leftOut {
			plan = func(context.Context) ([]openid.Sending, error) { return nil, errNoneTicked }
		}
	}
	load(u.s.a, plan,
		func(plan []openid.Sending, err error) {
			if gen != u.planGen || u.req != pr {
				return // a newer choice is being worked out
			}
			u.plan, u.planErr = plan, err
			for _, a := range u.asks {
				a.fields.SetText(fieldsText(plan, a.part.Query))
			}
			if errors.Is(err, openid.ErrNothingToSend) {
				err = errNothingChosen
			}
			if err != nil {
				showError(u.err, err)
				return
			}
			showError(u.err, nil)
			u.review.Enable()
		})
}

// errNothingChosen: every part of the request was unticked.
var errNothingChosen = errors.New("nothing chosen to send")

// errNoneTicked: a part that takes several records has none ticked.
var errNoneTicked = errors.New("tick at least one record for each thing they ask for, or say no")

// fieldsText says what of one record leaves: for an SD-JWT VC the details
// sent (with their values) and those kept in the wallet; for a vc+jwt
// record, that all of it leaves; for an optional part left out, nothing.
func fieldsText(plan []openid.Sending, query string) string {
	var parts []string
	for _, s := range plan {
		if s.Part.Query != query {
			continue
		}
		if s.Whole {
			parts = append(parts, "    This kind of record can only be sent whole: every detail in it leaves your wallet, not only what they ask for.")
			continue
		}
		leave, keep := fieldWordsOf(s)
		out := "    Leaves your wallet: " + strings.Join(leave, ", ") + "."
		if len(keep) > 0 {
			out += "\n    Stays in your wallet: " + strings.Join(keep, ", ") + "."
		}
		parts = append(parts, out)
	}
	if len(parts) == 0 {
		return "    Not sent."
	}
	if len(parts) > 1 && strings.HasPrefix(parts[0], "    This kind") {
		return fmt.Sprintf("    %d records. ", len(parts)) + strings.TrimPrefix(parts[0], "    ")
	}
	return strings.Join(parts, "\n")
}

// fieldWordsOf renders an SD-JWT VC's sent details ("what it is:
// Penicillin") and the kinds of detail kept back, without repeats; a kept
// detail of the same kind as a sent one (a code beside the name of a
// substance) is told apart.
func fieldWordsOf(s openid.Sending) (leave, keep []string) {
	sent := map[string]bool{}
	for _, f := range s.Disclosed {
		w := fieldWord(f.Path)
		sent[w] = true
		if v := text(f.Value); v != "" {
			w += " (" + v + ")"
		}
		if !slices.Contains(leave, w) {
			leave = append(leave, w)
		}
	}
	for _, p := range s.Withheld {
		w := fieldWord(p)
		if sent[w] {
			w = "other details of " + w
		}
		if !slices.Contains(keep, w) && !slices.Contains(leave, w) {
			keep = append(keep, w)
		}
	}
	return leave, keep
}

// selected returns the records the chosen answer sends.
func (u *vpUI) selected() []*shareChoice {
	var sel []*shareChoice
	for _, s := range u.plan {
		if ch := u.byID[s.Credential.ID]; ch != nil {
			sel = append(sel, ch)
		}
	}
	return sel
}

func (u *vpUI) showReview() {
	if u.req == nil || u.plan == nil || u.planErr != nil {
		return
	}
	u.summary = wrapLabel(vpDisclosure(verifierName(u.req, u.verifier)+"\n    identifier: "+clientIDWords(u.req.Request.ClientID), u.plan, u.byID, u.leftOut()))
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

// leftOut names the optional records the patient unticked.
func (u *vpUI) leftOut() []string {
	var out []string
	for _, a := range u.asks {
		if !slices.ContainsFunc(u.plan, func(s openid.Sending) bool { return s.Part.Query == a.part.Query }) {
			out = append(out, typeName(a.part.Types, ""))
		}
	}
	return out
}

// vpDisclosure describes exactly what an answer discloses to audience:
// per record, the details that leave (all of a record that can only be
// sent whole) and those that stay, and the optional records left out.
func vpDisclosure(audience string, plan []openid.Sending, byID map[string]*shareChoice, leftOut []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "You are about to share with:\n    %s\n\n", audience)
	fmt.Fprintf(&b, "They will see %s:\n", plural(len(plan), "record"))
	for _, s := range plan {
		ch := byID[s.Credential.ID]
		if ch == nil {
			ch = &shareChoice{cred: s.Credential}
		}
		c := ch.cred
		fmt.Fprintf(&b, "\n• %s (%s)\n", typeName(c.Types, c.Name), issuerLine(c, ch.issuer))
		if s.Whole {
			b.WriteString("    The whole record, every detail in it:\n")
			for _, cl := range ch.claims {
				fmt.Fprintf(&b, "    %s: %s\n", cl.Label, cl.Value)
			}
			continue
		}
		for _, f := range s.Disclosed {
			fmt.Fprintf(&b, "    %s: %s\n", capitalize(fieldWord(f.Path)), text(f.Value))
		}
		if _, keep := fieldWordsOf(s); len(keep) > 0 {
			fmt.Fprintf(&b, "    Stays in your wallet, not sent: %s\n", strings.Join(keep, ", "))
		}
	}
	if len(leftOut) > 0 {
		fmt.Fprintf(&b, "\nYou chose not to send: %s.\n", strings.Join(leftOut, ", "))
	}
	b.WriteString("\nThey will also see who issued these records and until when they are valid, and can check them with the hospitals. " +
		"Your wallet keeps a note of this sharing in its history.")
	return b.String()
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (u *vpUI) doSend() {
	pr, who := u.req, verifierName(u.req, u.verifier)
	ans := u.chosenAnswer()
	w := u.s.a.wallet()
	u.run(func(ctx context.Context) error { return openid.Respond(ctx, w, pr, ans, nil) },
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
