package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/wallet"
)

// statusUnchecked is the app's status for a credential whose standing
// could not be checked (no connection to the registry or the issuer's
// status list): not an alarm, so never red and never "Problem".
const statusUnchecked wallet.Status = "unchecked"

// statusWords are the badge words.
var statusWords = map[wallet.Status]string{
	wallet.StatusValid:     "Valid",
	wallet.StatusSuspended: "Suspended",
	wallet.StatusRevoked:   "Revoked",
	wallet.StatusExpired:   "Expired",
	wallet.StatusInvalid:   "Not valid",
	statusUnchecked:        "Not checked",
}

// badgeColors are the text and background colour names of a status badge
// (each pair is in textPairs' contrast test).
func badgeColors(s wallet.Status) (fg, bg fyne.ThemeColorName) {
	switch s {
	case wallet.StatusValid:
		return theme.ColorNameForegroundOnSuccess, theme.ColorNameSuccess
	case wallet.StatusSuspended:
		return theme.ColorNameForegroundOnWarning, theme.ColorNameWarning
	case wallet.StatusExpired, statusUnchecked:
		return colorNameForegroundOnNeutral, colorNameNeutral
	}
	return theme.ColorNameForegroundOnError, theme.ColorNameError
}

// badge is a coloured status word. Its colours are read from the theme
// whenever it is refreshed, so a theme change repaints it.
type badge struct {
	widget.BaseWidget
	status wallet.Status
	word   string
}

func newBadge(s wallet.Status) *badge {
	b := &badge{status: s, word: statusWords[s]}
	if b.word == "" {
		b.word = string(s)
	}
	b.ExtendBaseWidget(b)
	return b
}

func (b *badge) CreateRenderer() fyne.WidgetRenderer {
	r := &badgeRenderer{b: b, bg: canvas.NewRectangle(nil), text: canvas.NewText(b.word, nil)}
	r.bg.CornerRadius = 10
	r.text.TextStyle = fyne.TextStyle{Bold: true}
	r.text.Alignment = fyne.TextAlignCenter
	r.Refresh()
	return r
}

type badgeRenderer struct {
	b    *badge
	bg   *canvas.Rectangle
	text *canvas.Text
}

func (r *badgeRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	ts := r.text.MinSize()
	r.text.Move(fyne.NewPos((size.Width-ts.Width)/2, (size.Height-ts.Height)/2))
	r.text.Resize(ts)
}

func (r *badgeRenderer) MinSize() fyne.Size {
	p := theme.Padding()
	return r.text.MinSize().Add(fyne.NewSize(4*p, 2*p))
}

func (r *badgeRenderer) Refresh() {
	fg, bg := badgeColors(r.b.status)
	r.text.Text = r.b.word
	r.text.Color = themeColor(fg)
	r.bg.FillColor = themeColor(bg)
	r.text.Refresh()
	r.bg.Refresh()
}

func (r *badgeRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.text} }
func (r *badgeRenderer) Destroy()                     {}
