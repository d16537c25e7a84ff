package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/validity"
)

// NoConsentText is shown on the Consent screen while no [ConsentService]
// is configured (no registry address in Settings).
const NoConsentText = "Add your hospital's address in Settings to manage consent. " +
	"Until then, share records yourself from the Share screen: nobody can read them without you."

// durations offered for a consent, in order.
var consentDurations = []struct {
	label string
	d     time.Duration
}{
	{"1 day", 24 * time.Hour},
	{"1 week", 7 * 24 * time.Hour},
	{"30 days", 30 * 24 * time.Hour},
	{"1 year", 365 * 24 * time.Hour},
}

// consentUI is the Consent screen: grant, list with time left, revoke.
type consentUI struct {
	a       *App
	svc     ConsentService // nil: none configured
	content fyne.CanvasObject
	none    *widget.Label // shown when no service is configured

	provider   *widget.Entry
	classes    *checkFlow
	purpose    *widget.Select
	duration   *widget.Select
	breakGlass *widget.Check
	grant      *widget.Button
	err        *widget.Label
	busy       *widget.ProgressBarInfinite

	list  *fyne.Container
	empty *widget.Label
	rows  []*consentRow
	// awaiting says, above the list, how many consents made in the
	// patient's name await their decision (hidden when none).
	awaiting *widget.Label

	ask  *askUI  // answering a provider's consent request
	pick *picker // finding the provider in the directory by name
}

// consentRow is one grant in the list.
type consentRow struct {
	grant   ConsentGrant
	summary *widget.Label
	left    *widget.Label
	glass   *widget.Label // "Emergency access allowed", hidden when not
	revoke  *widget.Button
	copy    *widget.Button // copies the grant for the provider; nil without a token
	copyDID *widget.Button // copies the provider's full DID; nil when it is shown whole
	confirm dialog.Dialog
	yes     *widget.Button
	note    *note // what the last action on this row did ("Copied…", an error)

	// A consent made in the patient's name by a representative: madeBy
	// says by whom; decision, while it awaits the patient's decision
	// (their authority ended), says it holds until they keep it (keep) or
	// withdraw it (revoke), and once kept, that they kept it.
	madeBy   *widget.Label
	decision *widget.Label
	keep     *widget.Button
}

func newConsentUI(a *App) *consentUI {
	u := &consentUI{a: a, svc: a.consentService()}
	title := widget.NewLabelWithStyle("Consent", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	if u.svc == nil {
		u.none = wrapLabel(NoConsentText)
		u.content = container.NewVBox(title, widget.NewIcon(theme.InfoIcon()), u.none)
		return u
	}
	u.provider = widget.NewEntry()
	u.provider.SetPlaceHolder("Their name, then Find by name; or the identifier they gave you")
	u.pick = newPicker(u.a, u.provider)
	u.classes = newCheckFlow(DataClasses)
	u.purpose = widget.NewSelect(slices.Sorted(maps.Values(Purposes)), nil)
	u.purpose.SetSelected(Purposes["TREAT"])
	var durs []string
	for _, d := range consentDurations {
		durs = append(durs, d.label)
	}
	u.duration = widget.NewSelect(durs, nil)
	u.duration.SetSelected("30 days")
	u.breakGlass = widget.NewCheck("Allow emergency access without asking me", nil)
	u.err = errorLabel()
	u.busy = widget.NewProgressBarInfinite()
	u.busy.Hide()
	u.grant = widget.NewButtonWithIcon("Give consent", theme.ConfirmIcon(), u.doGrant)
	u.grant.Importance = widget.HighImportance
	form := widget.NewForm(
		widget.NewFormItem("Who", container.NewVBox(container.NewBorder(nil, nil, nil, u.pick.find, u.provider), u.pick.results, u.pick.note)),
		widget.NewFormItem("May see", u.classes.box),
		widget.NewFormItem("For", u.purpose),
		widget.NewFormItem("For how long", u.duration),
		widget.NewFormItem("", u.breakGlass))
	u.list = container.NewVBox()
	u.empty = wrapLabel("You have not given anyone consent yet.")
	u.empty.Hide() // said only once the consents were read
	u.awaiting = wrapLabel("")
	u.awaiting.Importance = widget.WarningImportance
	u.awaiting.Hide()
	u.ask = newAskUI(u)
	u.content = container.NewVScroll(container.NewVBox(title,
		wrapLabel("Let a provider read some of your records without asking you each time. You can take consent back at any time."),
		u.ask.content, widget.NewSeparator(),
		widget.NewLabelWithStyle("Or give consent yourself", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		form, u.err, u.busy, container.NewHBox(u.grant), widget.NewSeparator(),
		widget.NewLabelWithStyle("Consents you gave", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		u.awaiting, u.empty, u.list))
	u.reload()
	return u
}

func purposeCode(text string) string {
	for code, t := range Purposes {
		if t == text {
			return code
		}
	}
	return text
}

func (u *consentUI) doGrant() {
	showError(u.err, nil)
	req := ConsentRequest{Provider: u.pick.provider(strings.TrimSpace(u.provider.Text)), DataClasses: u.classes.Selected(),
		Purpose: purposeCode(u.purpose.Selected), BreakGlass: u.breakGlass.Checked}
	for _, d := range consentDurations {
		if d.label == u.duration.Selected {
			req.Duration = d.d
		}
	}
	if req.Provider == "" || len(req.DataClasses) == 0 || req.Duration == 0 {
		u.err.SetText("Say who gets consent, tick at least one kind of record, and choose how long.")
		u.err.Show()
		return
	}
	u.grant.Disable()
	u.busy.Show()
	svc := u.svc
	u.a.background(func(ctx context.Context) {
		_, err := svc.Grant(ctx, req)
		u.a.do(func() {
			u.busy.Hide()
			u.grant.Enable()
			if err != nil {
				showError(u.err, err)
				return
			}
			u.provider.SetText("")
			u.classes.SetSelected(nil)
			u.breakGlass.SetChecked(false)
			u.reload()
		})
	})
}

// reload fetches the grants in the background and rebuilds the list.
func (u *consentUI) reload() {
	svc := u.svc
	if svc == nil {
		return
	}
	u.a.background(func(ctx context.Context) {
		grants, err := svc.List(ctx)
		u.a.do(func() {
			if err != nil {
				showError(u.err, err)
				u.empty.Hide() // unread is not "none given"
				return
			}
			showError(u.err, nil)
			u.show(grants)
		})
	})
}

// timeLeft says how long a grant still runs at now, as a patient counts:
// partial days and hours round up, so a 30-day grant reads "30 days left"
// right after it was given and "1 day left" on its last day. Under a day
// it counts hours, under an hour minutes. A grant taken back or past its
// end says so with the date.
func timeLeft(g ConsentGrant, now time.Time) string {
	switch {
	case g.Revoked:
		return "Taken back " + g.Expires.Local().Format("2 Jan 2006")
	case g.ended(now):
		return "Ended " + g.Expires.Local().Format("2 Jan 2006")
	case g.Expires.IsZero():
		return "No end date"
	}
	n, unit := ceilUnits(g.Expires.Sub(now))
	return plural(n, unit) + " left"
}

// ended reports whether a grant that was not taken back is past its end at
// now. A zero Expires is no end: the wallet's one period rule
// (wallet.Consent.Period, credentials/validity), which vaults enforce too.
func (g ConsentGrant) ended(now time.Time) bool {
	return !validity.Period{Until: validity.End(g.Expires)}.Contains(now)
}

// end orders grants by their end; no end sorts after every end.
func (g ConsentGrant) end() time.Time {
	if g.Expires.IsZero() {
		return time.Unix(1<<62, 0)
	}
	return g.Expires
}

// ceilUnits counts d (> 0) in days, hours under a day or minutes under an
// hour, rounding up.
func ceilUnits(d time.Duration) (int, string) {
	ceil := func(unit time.Duration) int { return int((d + unit - 1) / unit) }
	switch {
	case d >= 24*time.Hour:
		return ceil(24 * time.Hour), "day"
	case d >= time.Hour:
		return ceil(time.Hour), "hour"
	}
	return ceil(time.Minute), "minute"
}

func (u *consentUI) show(grants []ConsentGrant) {
	now := u.a.cfg.now()
	// Active first, soonest ending first; ended ones after.
	slices.SortStableFunc(grants, func(a, b ConsentGrant) int {
		ea, eb := a.Revoked || a.ended(now), b.Revoked || b.ended(now)
		if ea != eb {
			if ea {
				return 1
			}
			return -1
		}
		return a.end().Compare(b.end())
	})
	u.rows = u.rows[:0]
	var objs []fyne.CanvasObject
	for _, g := range grants {
		r := &consentRow{grant: g, note: newNote()}
		r.summary = wrapLabel(fmt.Sprintf("%s may see your %s, for %s.", whoStarts(g.ProviderName, g.Provider),
			strings.Join(g.DataClasses, ", "), strings.ToLower(purposeText(g.Purpose))))
		r.left = widget.NewLabel(timeLeft(g, now))
		r.glass = widget.NewLabelWithStyle("Emergency access allowed", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		r.glass.Importance = widget.WarningImportance
		if !g.BreakGlass {
			r.glass.Hide()
		}
		r.revoke = widget.NewButtonWithIcon("Take back…", theme.ContentRemoveIcon(), func() { u.confirmRevoke(r) })
		if g.MadeBy != "" {
			r.revoke.SetText("Withdraw…")
		}
		if g.Revoked || g.ended(now) {
			r.revoke.Disable()
		}
		buttons := container.NewVBox(r.left, r.revoke)
		if g.Awaiting {
			r.keep = widget.NewButtonWithIcon("Keep it", theme.ConfirmIcon(), func() { u.doKeep(r) })
			r.keep.Importance = widget.HighImportance
			buttons.Add(r.keep)
		}
		if g.Token != "" && !g.Revoked && !g.ended(now) {
			r.copy = widget.NewButtonWithIcon("Copy for them", theme.ContentCopyIcon(), func() {
				u.a.fa.Clipboard().SetContent(r.grant.Token)
				r.note.good("Copied. Send it to " + who(r.grant.ProviderName, r.grant.Provider) + " (by their secure message service or the referral): they show it to the hospital to read your records.")
			})
			buttons.Add(r.copy)
		}
		body := container.NewVBox(r.summary, r.glass)
		if g.MadeBy != "" {
			r.madeBy = wrapLabel("Given in your name by " + g.MadeBy + ".")
			body.Add(r.madeBy)
			switch {
			case g.Awaiting:
				r.decision = wrapLabel("You came of age: this consent stays in force only until you keep it or withdraw it.")
				r.decision.Importance = widget.WarningImportance
			case g.Confirmed && !g.Revoked:
				r.decision = wrapLabel("You kept it as your own.")
			}
			if r.decision != nil {
				body.Add(r.decision)
			}
		}
		if isDID(g.Provider) {
			r.copyDID = widget.NewButtonWithIcon("Copy their identifier", theme.ContentCopyIcon(), func() {
				u.a.fa.Clipboard().SetContent(r.grant.Provider)
				r.note.good("Copied the identifier of " + who(r.grant.ProviderName, r.grant.Provider) + ".")
			})
			r.copyDID.Importance = widget.LowImportance
			body.Add(container.NewHBox(r.copyDID))
		}
		body.Add(r.note)
		objs = append(objs, container.NewBorder(nil, nil, nil, buttons, body), widget.NewSeparator())
		u.rows = append(u.rows, r)
	}
	u.list.Objects = objs
	u.list.Refresh()
	switch n := countAwaiting(grants); n {
	case 0:
		u.awaiting.Hide()
	case 1:
		u.awaiting.SetText("One consent given in your name before you came of age awaits your decision: keep it or withdraw it.")
		u.awaiting.Show()
	default:
		u.awaiting.SetText(fmt.Sprintf("%d consents given in your name before you came of age await your decision: keep or withdraw each.", n))
		u.awaiting.Show()
	}
	if len(grants) == 0 {
		u.empty.Show()
	} else {
		u.empty.Hide()
	}
}

func countAwaiting(gs []ConsentGrant) int {
	n := 0
	for _, g := range gs {
		if g.Awaiting {
			n++
		}
	}
	return n
}

// doKeep keeps a consent made in the patient's name as their own.
func (u *consentUI) doKeep(r *consentRow) {
	c, ok := u.svc.(ConsentConfirmer)
	if !ok {
		r.note.fail(errors.New("this wallet cannot keep consents made in your name"))
		return
	}
	r.keep.Disable()
	r.note.say("Keeping it…")
	u.a.background(func(ctx context.Context) {
		err := c.Confirm(ctx, r.grant.ID)
		u.a.do(func() {
			if err != nil {
				r.keep.Enable()
				r.note.fail(err)
				return
			}
			u.reload()
		})
	})
}

func (u *consentUI) confirmRevoke(r *consentRow) {
	no := widget.NewButton("Keep it", func() { r.confirm.Hide() })
	r.yes = widget.NewButtonWithIcon("Take back consent", theme.ContentRemoveIcon(), func() {
		r.confirm.Hide()
		svc := u.svc
		r.note.say("Taking consent back…")
		r.revoke.Disable()
		u.a.background(func(ctx context.Context) {
			err := svc.Revoke(ctx, r.grant.ID)
			u.a.do(func() {
				if err != nil {
					r.revoke.Enable()
					r.note.fail(err)
					return
				}
				u.reload()
				if m := u.a.main; m != nil && m.settings != nil {
					m.settings.refreshGlass() // it may have been the emergency permission
				}
			})
		})
	})
	r.yes.Importance = widget.DangerImportance
	title, text := "Take back consent?", whoStarts(r.grant.ProviderName, r.grant.Provider)+" will no longer be able to see your records from now on. What they saw before stays in their files."
	if r.grant.MadeBy != "" {
		title = "Withdraw this consent?"
		r.yes.SetText("Withdraw consent")
		text = "It was given in your name by " + r.grant.MadeBy + ". " + text
	}
	r.confirm = dialog.NewCustomWithoutButtons(title, container.NewVBox(wrapLabel(text),
		container.NewHBox(layout.NewSpacer(), no, r.yes)), u.a.win)
	r.confirm.Show()
}
