package app

import (
	"context"
	"fmt"
	"image/color"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/wallet"
)

// NoAccessLogText is shown on the access log screen while no
// [AccessLogService] is configured (no registry or hospital vault address
// in Settings).
const NoAccessLogText = "Add your hospital's address in Settings to see who looked at your records. " +
	"Then you will see here every time a provider reads your records, or tries to: who, what, when and why."

// chartDays is how many days the access chart covers.
const chartDays = 14

// accessUI is the access log: a chart of accesses per day and the list of
// events, emergency (break-glass) and denied attempts highlighted.
type accessUI struct {
	a       *App
	svc     AccessLogService // nil: none configured
	content fyne.CanvasObject
	none    *widget.Label

	chart *accessChart
	list  *fyne.Container
	empty *widget.Label
	err   *widget.Label
	rows  []*accessRow
	alert *widget.Label // "n emergency accesses" banner

	notified time.Time // the newest access a desktop notification announced
}

// accessRow is one event in the list.
type accessRow struct {
	event     AccessEvent
	bg        *canvas.Rectangle // coloured for break-glass and denied
	what      *widget.Label
	flag      *widget.Label  // "EMERGENCY ACCESS" / "DENIED"
	copyDID   *widget.Button // copies the accessor's full DID; nil when it is shown whole
	highlight string         // "break-glass", "denied" or ""
}

func newAccessUI(a *App) *accessUI {
	u := &accessUI{a: a, svc: a.accessService()}
	title := widget.NewLabelWithStyle("Who looked at my records", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	if u.svc == nil {
		u.none = wrapLabel(NoAccessLogText)
		u.content = container.NewVBox(title, widget.NewIcon(theme.InfoIcon()), u.none)
		return u
	}
	u.chart = newAccessChart()
	u.list = container.NewVBox()
	u.empty = wrapLabel("Nobody has accessed your records in the last 90 days.")
	u.empty.Hide() // said only once the access log was read: never while it could not be
	u.err = errorLabel()
	u.alert = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	u.alert.Importance = widget.DangerImportance
	u.alert.Wrapping = fyne.TextWrapWord
	u.alert.Hide()
	u.content = container.NewBorder(container.NewVBox(title, u.alert, u.err,
		widget.NewLabel(fmt.Sprintf("Accesses per day, last %d days", chartDays)), u.chart.content, widget.NewSeparator()),
		nil, nil, nil, container.NewVScroll(container.NewVBox(u.empty, u.list)))
	u.reload()
	return u
}

func (u *accessUI) reload() {
	svc := u.svc
	if svc == nil {
		return
	}
	since := u.a.cfg.now().Add(-90 * 24 * time.Hour)
	w := u.a.wallet()
	u.a.background(func(ctx context.Context) {
		evs, err := svc.Accesses(ctx, since)
		var seen time.Time
		if w != nil {
			if s, serr := w.Settings(); serr == nil {
				seen = s.AccessSeen
			}
		}
		u.a.do(func() {
			showError(u.err, err)
			if err != nil {
				// Unread is not empty: "nobody has accessed your records"
				// would be a false reassurance.
				u.empty.Hide()
				return
			}
			u.show(evs)
			u.announce(evs, seen)
		})
	})
}

// accessTitle is the Who looked tab's title without news.
const accessTitle = "Who looked"

// announce tells the patient of accesses newer than seen (the newest one
// they saw): while Who looked is on screen they are seen now, and the
// newest is recorded in the wallet's settings; otherwise the tab says how
// many are new and the desktop shows a notification, once per new access
// (EHDS Art. 9 wants every access, emergency ones included, notified).
func (u *accessUI) announce(evs []AccessEvent, seen time.Time) {
	m := u.a.main
	if m == nil || m.items == nil {
		return
	}
	var fresh, emergencies int
	newest := seen
	for _, e := range evs {
		if e.At.After(seen) {
			fresh++
			if e.BreakGlass && e.Outcome == OutcomePermitted {
				emergencies++
			}
			if e.At.After(newest) {
				newest = e.At
			}
		}
	}
	tab := m.items["access"]
	if m.current == tab {
		tab.Text = accessTitle
		m.tabs.Refresh()
		if newest.After(seen) {
			u.markSeen(newest)
		}
		return
	}
	tab.Text = accessTitle
	if fresh > 0 {
		tab.Text = fmt.Sprintf("%s (%d new)", accessTitle, fresh)
	}
	m.tabs.Refresh()
	if fresh == 0 || !newest.After(u.notified) {
		return
	}
	u.notified = newest
	n := "1 access"
	if fresh > 1 {
		n = fmt.Sprintf("%d accesses", fresh)
	}
	text := n + " to your records since you last looked."
	if emergencies > 0 {
		text = fmt.Sprintf("%s to your records since you last looked, %d in an emergency.", n, emergencies)
	}
	u.a.fa.SendNotification(fyne.NewNotification("medid wallet: who looked at your records", text+" Open Who looked in your wallet to see who."))
}

// markSeen records in the wallet's settings that the patient has seen the
// accesses up to t.
func (u *accessUI) markSeen(t time.Time) {
	w := u.a.wallet()
	if w == nil {
		return
	}
	u.a.background(func(context.Context) {
		s, err := w.Settings()
		if err == nil && t.After(s.AccessSeen) {
			s.AccessSeen = t
			err = w.SetSettings(s)
		}
		if err != nil {
			u.a.log.Warn("could not record the accesses seen", "err", err)
		}
	})
}

func (u *accessUI) show(evs []AccessEvent) {
	evs = slices.Clone(evs)
	slices.SortStableFunc(evs, func(a, b AccessEvent) int { return b.At.Compare(a.At) }) // newest first
	u.rows = u.rows[:0]
	var objs []fyne.CanvasObject
	glass := 0
	for _, e := range evs {
		r := &accessRow{event: e}
		r.bg = canvas.NewRectangle(theme.Color(theme.ColorNameBackground))
		r.bg.CornerRadius = 6
		r.flag = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		r.flag.Hide()
		switch {
		case e.Outcome == OutcomeDenied:
			// A refused emergency attempt is a refusal: nothing was read.
			r.highlight = "denied"
			r.bg.FillColor = theme.Color(theme.ColorNameWarning)
			r.flag.SetText("REFUSED: they asked, and were refused")
			if e.BreakGlass {
				r.flag.SetText("REFUSED: they tried an emergency access, and were refused")
			}
			r.flag.Importance = widget.WarningImportance
			r.flag.Show()
		case e.BreakGlass:
			glass++
			r.highlight = "break-glass"
			r.bg.FillColor = theme.Color(theme.ColorNameError)
			r.bg.StrokeWidth = 0
			r.flag.SetText("EMERGENCY ACCESS, under the consent you gave them")
			if e.Standing {
				text := "EMERGENCY ACCESS, with your standing emergency permission"
				if !e.StandingSince.IsZero() {
					text += " of " + e.StandingSince.Local().Format("2 Jan 2006")
				}
				r.flag.SetText(text)
			}
			r.flag.Importance = widget.DangerImportance
			r.flag.Show()
		}
		r.what = wrapLabel(fmt.Sprintf("%s — %s (for %s).", e.At.Local().Format("2 Jan 2006 15:04"),
			sentenceOf(e), strings.ToLower(purposeText(e.Purpose))))
		if r.highlight != "" {
			r.bg.FillColor = withAlpha(r.bg.FillColor, 0x40)
		}
		body := container.NewVBox(r.flag, r.what)
		if isDID(e.Accessor) {
			r.copyDID = widget.NewButtonWithIcon("Copy their identifier", theme.ContentCopyIcon(), func() {
				u.a.fa.Clipboard().SetContent(r.event.Accessor)
			})
			r.copyDID.Importance = widget.LowImportance
			body.Add(container.NewHBox(r.copyDID))
		}
		objs = append(objs, container.NewStack(r.bg, container.NewPadded(body)))
		u.rows = append(u.rows, r)
	}
	u.list.Objects = objs
	u.list.Refresh()
	if len(evs) == 0 {
		u.empty.Show()
	} else {
		u.empty.Hide()
	}
	if glass > 0 {
		u.alert.SetText(fmt.Sprintf("%s, without asking you first. If you do not know why, contact the hospital.",
			map[bool]string{true: "Someone opened your records in an emergency", false: fmt.Sprintf("Your records were opened in an emergency %d times", glass)}[glass == 1]))
		u.alert.Show()
	} else {
		u.alert.Hide()
	}
	u.chart.set(perDay(evs, u.a.cfg.now(), chartDays))
}

// sentenceOf is what happened, in the wallet's words (one wording for the
// CLI and the app): the service's sentence, or one the wallet makes from
// the event's fields.
func sentenceOf(e AccessEvent) string {
	if e.Sentence != "" {
		return e.Sentence
	}
	te := trail.Entry{Provider: e.Accessor, Action: trail.ActionRead, Outcome: trail.OutcomeGranted,
		Class: strings.Join(wallet.ClassesForLabels(e.Data), ","), BreakGlass: e.BreakGlass, Standing: e.Standing}
	if e.Outcome == OutcomeDenied {
		te.Outcome = trail.OutcomeDenied
	}
	if !e.Standing {
		// The event carries no grant hash here: any non-empty one says
		// "a grant of the provider's own" (see UnderStanding).
		te.Consent = "provider's grant"
	}
	we := wallet.AccessEvent{VerifiedEntry: vaultclient.VerifiedEntry{Entry: te}}
	return we.Describe(wallet.Naming{Label: func(d string) string { return who(e.AccessorName, d) }}, "")
}

// perDay counts events per local calendar day over the last days days,
// oldest first; the last entry is today.
func perDay(evs []AccessEvent, now time.Time, days int) []dayCount {
	out := make([]dayCount, days)
	y, m, d := now.Local().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.Local)
	for i := range out {
		out[i].day = today.AddDate(0, 0, i-days+1)
	}
	for _, e := range evs {
		y, m, d := e.At.Local().Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, time.Local)
		for i := range out {
			if out[i].day.Equal(day) {
				out[i].total++
				if e.BreakGlass {
					out[i].glass++
				}
				if e.Outcome == OutcomeDenied {
					out[i].denied++
				}
			}
		}
	}
	return out
}

type dayCount struct {
	day                  time.Time
	total, glass, denied int
}

// accessChart is a bar chart drawn with canvas rectangles: one bar per
// day, red where break-glass accesses happened.
type accessChart struct {
	content *fyne.Container
	bars    []*canvas.Rectangle
	counts  []dayCount
	labels  []*canvas.Text
}

func newAccessChart() *accessChart {
	c := &accessChart{}
	c.content = container.New(&barLayout{c: c})
	return c
}

func (c *accessChart) set(counts []dayCount) {
	c.counts = counts
	c.bars = c.bars[:0]
	c.labels = c.labels[:0]
	var objs []fyne.CanvasObject
	axis := canvas.NewLine(theme.Color(theme.ColorNameForeground))
	objs = append(objs, axis)
	for _, d := range counts {
		col := theme.Color(theme.ColorNamePrimary)
		if d.glass > 0 {
			col = theme.Color(theme.ColorNameError)
		}
		bar := canvas.NewRectangle(col)
		c.bars = append(c.bars, bar)
		lbl := canvas.NewText(d.day.Format("2"), theme.Color(theme.ColorNameForeground))
		lbl.TextSize = 10
		lbl.Alignment = fyne.TextAlignCenter
		c.labels = append(c.labels, lbl)
		objs = append(objs, bar, lbl)
	}
	c.content.Objects = objs
	c.content.Refresh()
}

// barLayout lays the chart out: bars scaled to the busiest day.
type barLayout struct{ c *accessChart }

func (l *barLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(300, 110) }

func (l *barLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	n := len(l.c.bars)
	if n == 0 || len(objs) == 0 {
		return
	}
	maxCount := 1
	for _, d := range l.c.counts {
		maxCount = max(maxCount, d.total)
	}
	const labelH = 16
	chartH := size.Height - labelH
	slot := size.Width / float32(n)
	if ax, ok := objs[0].(*canvas.Line); ok {
		ax.Position1 = fyne.NewPos(0, chartH)
		ax.Position2 = fyne.NewPos(size.Width, chartH)
	}
	for i, b := range l.c.bars {
		h := chartH * float32(l.c.counts[i].total) / float32(maxCount)
		b.Move(fyne.NewPos(float32(i)*slot+slot*0.15, chartH-h))
		b.Resize(fyne.NewSize(slot*0.7, h))
		lbl := l.c.labels[i]
		lbl.Move(fyne.NewPos(float32(i)*slot, chartH+1))
		lbl.Resize(fyne.NewSize(slot, labelH-1))
	}
}

// withAlpha returns c with alpha a (premultiplied as image/color needs).
func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}
