package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/wallet/hospital"
)

// askUI is the part of the Consent screen where the patient answers a
// provider's consent request (a medid-consent:// link or a QR code of
// it): who asks (from the directory, never a name in the request), for
// which kinds of record, why and for how long, in the provider's own
// words too; the patient gives it as asked, gives less (fewer kinds, a
// shorter time, no emergency access) or declines. Nobody types a DID.
type askUI struct {
	c *consentUI

	link   *widget.Entry
	open   *widget.Button
	openQR *widget.Button
	qrFile func(path string) // what openQR does with the chosen picture
	err    *widget.Label
	busy   *widget.ProgressBarInfinite

	panel    *fyne.Container // the request, once read
	who      *widget.Label
	whoRow   *fyne.Container // who, with the provider's logo on its left when there is one
	logo     *canvas.Image
	licence  *widget.Label // what the licence shown with the request verifies, or why not
	note     *widget.Label // the provider's own words, quoted
	classes  *checkFlow    // what they asked for, ticked
	duration *widget.Select
	glass    *widget.Check // shown only when they asked for emergency access
	approve  *widget.Button
	decline  *widget.Button
	done     *note

	req     *consent.Proposal
	name    string            // the provider's name from the directory ("" if none)
	classOf map[string]string // the words on a box -> the FHIR resource type
	days    map[string]time.Duration
	content fyne.CanvasObject
}

func newAskUI(c *consentUI) *askUI {
	u := &askUI{c: c}
	u.link = widget.NewEntry()
	u.link.SetPlaceHolder("The consent request link from your hospital or doctor")
	u.open = widget.NewButtonWithIcon("Open request", theme.SearchIcon(), func() { u.read(u.link.Text) })
	u.err = errorLabel()
	u.qrFile, u.openQR = qrPicture(c.a, u.link, u.err, u.read)
	u.busy = widget.NewProgressBarInfinite()
	u.busy.Hide()
	u.who = wrapLabel("")
	u.whoRow = container.NewStack(u.who)
	u.licence = wrapLabel("")
	u.note = wrapLabel("")
	u.note.TextStyle = fyne.TextStyle{Italic: true}
	u.approve = widget.NewButtonWithIcon("Give consent", theme.ConfirmIcon(), u.doApprove)
	u.approve.Importance = widget.HighImportance
	u.decline = widget.NewButtonWithIcon("Decline", theme.CancelIcon(), u.doDecline)
	u.done = newNote()
	u.panel = container.NewVBox()
	u.panel.Hide()
	u.content = container.NewVBox(
		widget.NewLabelWithStyle("Answer a consent request", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapLabel("A hospital or doctor can ask for your consent with a link or a QR code. Paste the link, or open a picture of the code."),
		container.NewBorder(nil, nil, nil, container.NewHBox(u.open, u.openQR), u.link),
		u.err, u.busy, u.panel, u.done)
	return u
}

// errNotConsentRequest: what was pasted is not a consent request link.
var errNotConsentRequest = errors.New("not a consent request link")

// read checks the request in the background (its signature against the
// provider's DID, which may need the registry) and shows it.
func (u *askUI) read(text string) {
	showError(u.err, nil)
	u.done.clear()
	text = strings.TrimSpace(text)
	if text == "" {
		showError(u.err, errNotConsentRequest)
		return
	}
	w := u.c.a.wallet()
	res := u.c.a.resolver()
	u.open.Disable()
	u.busy.Show()
	type read struct {
		p        *consent.Proposal
		name     string
		licence  string // what a licence shown with it verifies ("" when none)
		verified bool
		logo     []byte // the provider's logo, checked (nil: none to show)
	}
	load(u.c.a, func(ctx context.Context) (read, error) {
		p, err := hospital.ReadConsentRequest(ctx, w, text, res)
		if err != nil {
			return read{}, err
		}
		r := read{p: p}
		if p.Licence != "" {
			// Checked first: a licence that verifies names them.
			r.licence, r.verified = u.c.a.names().ShownLicence(ctx, p.Licence, p.Provider).Licensed()
			u.c.a.saveNames()
		}
		id, _ := u.c.a.names().Lookup(ctx, p.Provider)
		r.name, r.logo = nameFor(id), u.c.a.logoOf(ctx, id)
		return r, nil
	}, func(r read, err error) {
		u.open.Enable()
		u.busy.Hide()
		switch {
		case errors.Is(err, consent.ErrInvalidProposal), errors.Is(err, vc.ErrMalformed):
			err = errNotConsentRequest
		case errors.Is(err, vc.ErrBadSignature):
			err = errForgedRequest
		}
		if err != nil {
			u.panel.Hide()
			showError(u.err, err)
			return
		}
		u.show(r.p, r.name)
		u.showLicence(r.licence, r.verified)
		u.showLogo(r.logo)
	})
}

// showLogo shows the provider's logo beside who asks, when the directory
// names one and the registry served exactly that image.
func (u *askUI) showLogo(b []byte) {
	u.logo = nil
	u.whoRow.Objects = []fyne.CanvasObject{u.who}
	if b != nil {
		u.logo = logoImage(b)
		u.whoRow.Objects = []fyne.CanvasObject{container.NewBorder(nil, nil, u.logo, nil, u.who)}
	}
	u.whoRow.Refresh()
}

// showLicence says what the licence shown with the request verified: the
// practitioner's name, licensing body and employer, or that it is
// unverified and why (then the name in it is not shown anywhere).
func (u *askUI) showLicence(line string, verified bool) {
	switch {
	case line == "":
		u.licence.Hide()
		return
	case verified:
		u.licence.SetText("Licence checked: " + line + ".")
		u.licence.Importance = widget.SuccessImportance
	default:
		u.licence.SetText("They showed a licence, " + line + ": the name in it is not shown.")
		u.licence.Importance = widget.WarningImportance
	}
	u.licence.Show()
	u.licence.Refresh()
}

// show lays out the request p from the provider called name.
func (u *askUI) show(p *consent.Proposal, name string) {
	u.req, u.name = p, name
	u.link.SetText("") // read: the request below replaces the link
	who := whoStarts(name, p.Provider)
	u.classOf = map[string]string{}
	var labels []string
	for _, cl := range p.Classes {
		l := classLabel(cl)
		if l == cl { // a resource type the app has no word for
			l = strings.ToLower(humanize(cl))
		}
		u.classOf[l] = cl
		labels = append(labels, l)
	}
	days := int(p.Duration / (24 * time.Hour))
	var purposes []string
	for _, c := range p.Purposes {
		purposes = append(purposes, strings.ToLower(purposeText(c)))
	}
	u.who.SetText(fmt.Sprintf("%s asks for your consent to see your %s, for %s, for %s.",
		who, strings.Join(labels, ", "), strings.Join(purposes, " and "), plural(days, "day")))
	if name == "" {
		u.who.SetText(u.who.Text + " The medid directory does not know them: give consent only if you expected this request.")
	}
	if p.Note != "" {
		u.note.SetText("In their words: “" + p.Note + "”")
		u.note.Show()
	} else {
		u.note.Hide()
	}
	u.classes = newCheckFlow(labels)
	u.classes.SetSelected(labels)
	// Durations up to what was asked; what was asked first.
	u.days = map[string]time.Duration{}
	asked := plural(days, "day") + " (as asked)"
	opts := []string{asked}
	u.days[asked] = p.Duration
	for _, d := range consentDurations {
		if d.d < p.Duration {
			opts = append(opts, d.label)
			u.days[d.label] = d.d
		}
	}
	u.duration = widget.NewSelect(opts, nil)
	u.duration.SetSelected(asked)
	u.glass = widget.NewCheck("Also allow emergency access without asking me", nil)
	u.glass.SetChecked(p.BreakGlass)
	if !p.BreakGlass {
		u.glass.Hide()
	}
	u.licence.Hide() // until showLicence
	u.panel.Objects = []fyne.CanvasObject{widget.NewSeparator(), u.whoRow, u.licence, u.note,
		widget.NewLabelWithStyle("You can give less than they ask:", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		u.classes.box, widget.NewForm(widget.NewFormItem("For how long", u.duration)), u.glass,
		container.NewHBox(u.approve, u.decline)}
	u.panel.Show()
	u.panel.Refresh()
}

// doApprove grants what the patient left ticked, checked against the
// request first (consent.Proposal.Narrow: never more than was asked).
func (u *askUI) doApprove() {
	p := u.req
	if p == nil {
		return
	}
	var labels, classes []string
	for _, l := range u.classes.Selected() {
		labels = append(labels, l)
		classes = append(classes, u.classOf[l])
	}
	d := u.days[u.duration.Selected]
	glass := u.glass.Visible() && u.glass.Checked
	if err := p.Narrow(classes, d, glass); err != nil {
		u.done.failText("Tick at least one kind of record, or choose Decline.")
		return
	}
	svc := u.c.svc
	if svc == nil {
		showError(u.err, errNoConsentService)
		return
	}
	name := who(u.name, p.Provider)
	u.approve.Disable()
	u.decline.Disable()
	u.done.say("Giving consent…")
	u.c.a.background(func(ctx context.Context) {
		_, err := svc.Grant(ctx, ConsentRequest{Provider: p.Provider, DataClasses: labels,
			Purpose: p.Purposes[0], Duration: d, BreakGlass: glass})
		u.c.a.do(func() {
			u.approve.Enable()
			u.decline.Enable()
			if err != nil {
				u.done.fail(err)
				return
			}
			u.close()
			u.done.good("Consent given to " + name + ". It is listed below; you can take it back at any time.")
			u.c.reload()
		})
	})
}

// doDecline drops the request: nothing is sent (a request binds nobody,
// and the provider learns nothing from a patient who does not answer).
func (u *askUI) doDecline() {
	name := who(u.name, u.req.Provider)
	u.close()
	u.done.say("Declined. Nothing was sent to " + name + ".")
}

func (u *askUI) close() {
	u.req = nil
	u.link.SetText("")
	u.panel.Hide()
}

// errForgedRequest: the request's signature is not its provider's.
var errForgedRequest = errors.New("consent request not signed by its provider")

// errNoConsentService: consent needs the medid network (Settings).
var errNoConsentService = errors.New("consent: no medid network configured")
