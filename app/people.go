package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/delegate"
)

// ErrNoRegistryForDelegation is shown when the patient takes a delegation
// back while no registry is configured: the revocation is published there.
var ErrNoRegistryForDelegation = errors.New("add your hospital's registry address in Settings first: taking it back is published there, where hospitals check it")

// peopleUI is the People screen (docs/design/0020): "People who can act
// for you", the delegations the patient granted (with what each may do, the
// time left and a take-back button) and the guardianships over them their
// trail showed; and "People you act for", the delegations the wallet holds,
// each saying whom it acts for and on what basis. The tab appears once the
// wallet knows any delegation.
type peopleUI struct {
	a       *App
	content fyne.CanvasObject
	err     *widget.Label
	busy    *widget.ProgressBarInfinite
	notices *fyne.Container

	forMe     *fyne.Container
	noneForMe *widget.Label
	iAct      *fyne.Container
	noneIAct  *widget.Label
	rows      []*personRow // who can act for the patient, in list order
	acting    []*personRow // whom the patient acts for, in list order
	// authorities names the authorities that set a guardianship over the
	// patient, by the directory's rule (set with the list, on the UI
	// goroutine).
	authorities map[string]string
	actingNow   *actingUI // the acting screen last opened (acting.go)
}

// personRow is one delegation on the People screen.
type personRow struct {
	d        wallet.Delegation
	summary  *widget.Label
	scope    *widget.Label
	left     *widget.Label
	takeBack *widget.Button // nil when it is not the patient's to take back
	act      *widget.Button // "Act for …" on a delegation the wallet holds
	confirm  dialog.Dialog
	yes      *widget.Button
}

func newPeopleUI(a *App) *peopleUI {
	u := &peopleUI{a: a, err: errorLabel(), busy: widget.NewProgressBarInfinite(), notices: container.NewVBox(),
		forMe: container.NewVBox(), iAct: container.NewVBox(),
		noneForMe: wrapLabel("Nobody can act for you."), noneIAct: wrapLabel("You do not act for anyone.")}
	u.busy.Hide()
	bold := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	u.content = container.NewVScroll(container.NewVBox(bold("People"), u.notices, u.err, u.busy,
		bold("People who can act for you"),
		wrapLabel("They see and do what you allowed, in your name; your access log shows everything they did. Take it back at any time."),
		u.noneForMe, u.forMe, widget.NewSeparator(),
		bold("People you act for"), u.noneIAct, u.iAct))
	return u
}

// reload reads the wallet's delegations and notices in the background and
// rebuilds the lists.
func (u *peopleUI) reload() {
	w := u.a.wallet()
	if w == nil {
		return
	}
	type state struct {
		ds    []wallet.Delegation
		ns    []delegate.Notice
		names map[string]string // authorities' names, by the directory's rule
	}
	load(u.a, func(ctx context.Context) (state, error) {
		ds, err := w.Delegations()
		if err != nil {
			return state{}, err
		}
		ns, err := delegate.Notices(w)
		names := map[string]string{}
		for _, d := range ds {
			if d.Role == wallet.DelegationOverMe && d.Issuer != "" {
				names[d.Issuer] = u.a.nameOf(ctx, d.Issuer)
			}
		}
		return state{ds, ns, names}, err
	}, func(s state, err error) {
		if err != nil {
			showError(u.err, err)
			return
		}
		u.authorities = s.names
		u.show(s.ds, s.ns)
	})
}

func (u *peopleUI) show(ds []wallet.Delegation, ns []delegate.Notice) {
	now := u.a.cfg.now()
	// In force first, soonest ending first; the ones that ended after.
	slices.SortStableFunc(ds, func(a, b wallet.Delegation) int {
		ea, eb := a.StatusAt(now) != wallet.DelegationActive, b.StatusAt(now) != wallet.DelegationActive
		if ea != eb {
			if ea {
				return 1
			}
			return -1
		}
		return a.ValidUntil.Compare(b.ValidUntil)
	})
	u.notices.Objects = nil
	for _, n := range ns {
		l := wrapLabel(n.Text)
		l.Importance = widget.WarningImportance
		u.notices.Add(l)
		if len(n.Awaiting) > 0 {
			u.notices.Add(wrapLabel("Confirm or withdraw each of them on the Consent screen."))
		}
	}
	u.notices.Refresh()
	u.rows, u.acting = u.rows[:0], u.acting[:0]
	var forMe, iAct []fyne.CanvasObject
	for _, d := range ds {
		r := &personRow{d: d, left: widget.NewLabel(delegationLeft(d, now))}
		r.scope = wrapLabel(scopeWords(d))
		buttons := container.NewVBox(r.left)
		switch d.Role {
		case wallet.DelegationHeld:
			r.summary = widget.NewLabelWithStyle("You can act for "+d.PersonWords()+", "+d.ActingWords()+".",
				fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			r.summary.Wrapping = fyne.TextWrapWord
			r.act = widget.NewButtonWithIcon("Act for "+personName(d), theme.AccountIcon(), func() { u.actingNow = u.startActing(r.d) })
			if d.StatusAt(now) != wallet.DelegationActive {
				r.act.Disable()
			}
			buttons.Add(r.act)
			iAct = append(iAct, container.NewBorder(nil, nil, nil, buttons, container.NewVBox(r.summary, r.scope)), widget.NewSeparator())
			u.acting = append(u.acting, r)
			continue
		case wallet.DelegationGranted:
			r.summary = wrapLabel(fmt.Sprintf("%s can act for you, %s.", d.RepresentativeName, d.BasisWords()))
			r.takeBack = widget.NewButtonWithIcon("Take back…", theme.ContentRemoveIcon(), func() { u.confirmTakeBack(r) })
			if d.StatusAt(now) != wallet.DelegationActive {
				r.takeBack.Disable()
			}
			buttons.Add(r.takeBack)
		default: // over me: an authority's guardianship, learned from the trail
			r.summary = wrapLabel(fmt.Sprintf("%s can act for you, %s (set by %s: only they can end it).",
				d.RepresentativeName, d.BasisWords(), who(u.authorities[d.Issuer], d.Issuer)))
		}
		forMe = append(forMe, container.NewBorder(nil, nil, nil, buttons, container.NewVBox(r.summary, r.scope)), widget.NewSeparator())
		u.rows = append(u.rows, r)
	}
	u.forMe.Objects, u.iAct.Objects = forMe, iAct
	u.forMe.Refresh()
	u.iAct.Refresh()
	setVisible(u.noneForMe, len(u.rows) == 0)
	setVisible(u.noneIAct, len(u.acting) == 0)
}

func setVisible(o fyne.CanvasObject, v bool) {
	if v {
		o.Show()
	} else {
		o.Hide()
	}
}

// actionWords are the delegated actions as the People screen says them.
var actionWords = map[string]string{
	string(delegation.ActionView):    "see records",
	string(delegation.ActionConsent): "give and take back consent",
	string(delegation.ActionReceive): "receive records from hospitals",
	string(delegation.ActionPresent): "show records when asked",
	string(delegation.ActionTrail):   "read the access log",
}

// scopeWords says what a delegation allows: "May see records, give and
// take back consent: immunizations, for treatment. May pass it on."
func scopeWords(d wallet.Delegation) string {
	if len(d.Actions) == 0 {
		return "Learned from your access log: what they may do is in the guardianship, which whoever set it up holds."
	}
	var as []string
	for _, a := range d.Actions {
		if w, ok := actionWords[a]; ok {
			as = append(as, w)
		} else {
			as = append(as, a)
		}
	}
	var ps []string
	for _, p := range d.Purposes {
		ps = append(ps, strings.ToLower(purposeText(p)))
	}
	cw := wallet.ClassWords(d.Classes...)
	if cw == "records" { // every kind ("*"): "May see records: records" said nothing
		cw = "all kinds of records"
	}
	s := "May " + strings.Join(as, ", ") + ": " + cw + ", for " + strings.Join(ps, ", ") + "."
	if d.SubDelegation {
		s += " May pass it on."
	}
	return s
}

// delegationLeft says how long a delegation still works at now, or why it
// does not, as timeLeft does for consent.
func delegationLeft(d wallet.Delegation, now time.Time) string {
	switch d.StatusAt(now) {
	case wallet.DelegationRevoked:
		return "Taken back " + d.Revoked.Local().Format("2 Jan 2006")
	case wallet.DelegationCameOfAge:
		return "Ended " + d.ValidUntil.Local().Format("2 Jan 2006") + " (came of age)"
	case wallet.DelegationExpired:
		return "Ended " + d.ValidUntil.Local().Format("2 Jan 2006")
	case wallet.DelegationNotYet:
		return "From " + d.ValidFrom.Local().Format("2 Jan 2006")
	}
	n, unit := ceilUnits(d.ValidUntil.Sub(now))
	return plural(n, unit) + " left"
}

func (u *peopleUI) confirmTakeBack(r *personRow) {
	no := widget.NewButton("Keep it", func() { r.confirm.Hide() })
	r.yes = widget.NewButtonWithIcon("Take it back", theme.ContentRemoveIcon(), func() {
		r.confirm.Hide()
		u.takeBack(r)
	})
	r.yes.Importance = widget.DangerImportance
	r.confirm = dialog.NewCustomWithoutButtons("Take back what "+r.d.RepresentativeName+" may do for you?", container.NewVBox(
		wrapLabel(r.d.RepresentativeName+" will no longer be able to act for you, and the consents they gave in your name stop too. What they saw before stays in their files."),
		container.NewHBox(layout.NewSpacer(), no, r.yes)), u.a.win)
	r.confirm.Show()
}

func (u *peopleUI) takeBack(r *personRow) {
	showError(u.err, nil)
	reg, ok := u.a.reg().(delegate.Registry)
	w := u.a.wallet()
	if !ok || reg == nil || w == nil {
		showError(u.err, ErrNoRegistryForDelegation)
		return
	}
	u.busy.Show()
	r.takeBack.Disable()
	id := r.d.Hash
	u.a.background(func(ctx context.Context) {
		_, err := delegate.Revoke(ctx, w, reg, id)
		u.a.do(func() {
			u.busy.Hide()
			if err != nil {
				r.takeBack.Enable()
				showError(u.err, err)
				return
			}
			u.reload()
		})
	})
}

// addPeople gives m the People tab once the wallet knows a delegation (it
// checks again whenever another tab is selected), and reloads the screen
// whenever it is selected.
func (m *mainUI) addPeople(a *App) {
	prev := m.tabs.OnSelected
	m.tabs.OnSelected = func(ti *container.TabItem) {
		if prev != nil {
			prev(ti)
		}
		if m.people != nil && ti == m.items["people"] {
			m.people.reload()
			return
		}
		m.ensurePeople(a, nil)
	}
	m.ensurePeople(a, nil)
}

// ensurePeople adds the People tab, before Settings, if the wallet holds
// any delegation and the tab is not there yet; then (if not nil) runs once
// the tab is there.
func (m *mainUI) ensurePeople(a *App, then func()) {
	w := a.wallet()
	if m.people != nil && then != nil {
		then()
	}
	if m.people != nil || w == nil {
		return
	}
	load(a, func(context.Context) (bool, error) {
		ds, err := w.Delegations()
		return len(ds) > 0, err
	}, func(some bool, err error) {
		if err != nil || !some || a.main != m {
			return
		}
		if m.people != nil {
			if then != nil {
				then()
			}
			return
		}
		m.people = newPeopleUI(a)
		m.insertTab("people", container.NewTabItemWithIcon("People", peopleIcon, m.people.content))
		m.people.reload()
		if then != nil {
			then()
		}
	})
}

// insertTab adds the tab item under name before Settings. The tab the
// patient is on stays selected: the tabs select by position, so without
// this a tab that appears (People, My licence) would take the place of the
// one they were reading.
func (m *mainUI) insertTab(name string, ti *container.TabItem) {
	sel := m.tabs.Selected()
	m.items[name] = ti
	items := m.tabs.Items
	at := slices.Index(items, m.items["settings"])
	if at < 0 {
		at = len(items)
	}
	m.tabs.Items = slices.Insert(slices.Clone(items), at, ti)
	m.tabs.Refresh()
	if sel != nil && m.tabs.Selected() != sel {
		m.tabs.Select(sel)
	}
}
