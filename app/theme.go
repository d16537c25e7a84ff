package app

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Colours. Fyne's default palette puts white text on bright green (1.5:1),
// light-grey "low importance" text on white (1.3:1) and white on orange;
// a patient with low vision, or anyone in sunlight, cannot read those.
// medidTheme keeps Fyne's fonts, sizes and icons and replaces every colour
// that text is drawn with or on, in both variants, so that each pair in
// [textPairs] meets WCAG 2.1 AA for normal text (4.5:1); theme_test.go
// computes the ratios from these values.

// The app's own colour names (resolved by medidTheme; another theme
// falls back to a Fyne colour, see themeColor).
const (
	// colorNameNeutral is the background of a neutral badge ("Not
	// checked", "Expired"): information, not an alarm.
	colorNameNeutral fyne.ThemeColorName = "medid.neutral"
	// colorNameForegroundOnNeutral is text on colorNameNeutral.
	colorNameForegroundOnNeutral fyne.ThemeColorName = "medid.foregroundOnNeutral"
	// colorNameErrorTint, colorNameWarningTint and colorNameInfoTint are
	// the backgrounds of highlighted rows (an emergency access, a refused
	// attempt, a new entry): light tints that text in Foreground and in
	// Error/Warning/Primary stays readable on.
	colorNameErrorTint   fyne.ThemeColorName = "medid.errorTint"
	colorNameWarningTint fyne.ThemeColorName = "medid.warningTint"
	colorNameInfoTint    fyne.ThemeColorName = "medid.infoTint"
)

func rgb(v uint32) color.NRGBA {
	return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

// lightPalette and darkPalette are the colours medidTheme changes; the
// others are Fyne's defaults (shadows, the hover overlay, scroll bars),
// checked where text or icons are read on them (theme_test.go).
var (
	lightPalette = map[fyne.ThemeColorName]color.Color{
		theme.ColorNameBackground:          rgb(0xffffff),
		theme.ColorNameForeground:          rgb(0x1f1f1f),
		theme.ColorNameButton:              rgb(0xeeeeee),
		theme.ColorNameDisabledButton:      rgb(0xf2f2f2),
		theme.ColorNameDisabled:            rgb(0x6b6b6b), // disabled text and LowImportance labels
		theme.ColorNameInputBackground:     rgb(0xf3f3f3),
		theme.ColorNameInputBorder:         rgb(0x8a8a8a),
		theme.ColorNameMenuBackground:      rgb(0xf5f5f5),
		theme.ColorNameOverlayBackground:   rgb(0xffffff),
		theme.ColorNameHeaderBackground:    rgb(0xf9f9f9),
		theme.ColorNamePlaceHolder:         rgb(0x666666),
		theme.ColorNamePrimary:             rgb(0x1557b0),
		theme.ColorNameHyperlink:           rgb(0x1557b0),
		theme.ColorNameForegroundOnPrimary: rgb(0xffffff),
		theme.ColorNameFocus:               color.NRGBA{R: 0x15, G: 0x57, B: 0xb0, A: 0x7f},
		theme.ColorNameSelection:           color.NRGBA{R: 0x15, G: 0x57, B: 0xb0, A: 0x40},
		theme.ColorNameSuccess:             rgb(0x1e7b34),
		theme.ColorNameForegroundOnSuccess: rgb(0xffffff),
		theme.ColorNameWarning:             rgb(0x9a4f00),
		theme.ColorNameForegroundOnWarning: rgb(0xffffff),
		theme.ColorNameError:               rgb(0xb3261e),
		theme.ColorNameForegroundOnError:   rgb(0xffffff),
		theme.ColorNameSeparator:           rgb(0xd0d0d0),
		colorNameNeutral:                   rgb(0x595f66),
		colorNameForegroundOnNeutral:       rgb(0xffffff),
		colorNameErrorTint:                 rgb(0xfbe9e7),
		colorNameWarningTint:               rgb(0xfdf0dc),
		colorNameInfoTint:                  rgb(0xe3eefb),
	}
	darkPalette = map[fyne.ThemeColorName]color.Color{
		theme.ColorNameBackground:          rgb(0x171718),
		theme.ColorNameForeground:          rgb(0xf3f3f3),
		theme.ColorNameButton:              rgb(0x2f3036),
		theme.ColorNameDisabledButton:      rgb(0x26272b),
		theme.ColorNameDisabled:            rgb(0xa0a0a0),
		theme.ColorNameInputBackground:     rgb(0x232326),
		theme.ColorNameInputBorder:         rgb(0x7a7a7a),
		theme.ColorNameMenuBackground:      rgb(0x28292e),
		theme.ColorNameOverlayBackground:   rgb(0x181d25),
		theme.ColorNameHeaderBackground:    rgb(0x1b1b1b),
		theme.ColorNamePlaceHolder:         rgb(0xa8a8a8),
		theme.ColorNamePrimary:             rgb(0x8ab4f8),
		theme.ColorNameHyperlink:           rgb(0x8ab4f8),
		theme.ColorNameForegroundOnPrimary: rgb(0x101214),
		theme.ColorNameFocus:               color.NRGBA{R: 0x8a, G: 0xb4, B: 0xf8, A: 0x7f},
		theme.ColorNameSelection:           color.NRGBA{R: 0x8a, G: 0xb4, B: 0xf8, A: 0x40},
		// Fyne's dark tap overlay (white at 40%) leaves text on a button
		// being pressed at 3.4:1; at 25% it stays above 4.5:1 and still shows.
		theme.ColorNamePressed:             color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0x40},
		theme.ColorNameSuccess:             rgb(0x6dd58c),
		theme.ColorNameForegroundOnSuccess: rgb(0x101214),
		theme.ColorNameWarning:             rgb(0xf6b26b),
		theme.ColorNameForegroundOnWarning: rgb(0x101214),
		theme.ColorNameError:               rgb(0xf28b82),
		theme.ColorNameForegroundOnError:   rgb(0x101214),
		theme.ColorNameSeparator:           rgb(0x3c3c3f),
		colorNameNeutral:                   rgb(0xb8bec6),
		colorNameForegroundOnNeutral:       rgb(0x101214),
		colorNameErrorTint:                 rgb(0x3b1f1d),
		colorNameWarningTint:               rgb(0x3a2a12),
		colorNameInfoTint:                  rgb(0x1b2a3f),
	}
)

// textPair is a colour that text is drawn in and the colour it is drawn
// on, with where the app does it.
type textPair struct {
	fg, bg fyne.ThemeColorName
	where  string
}

// textPairs lists every text/background pair the app's screens (and the
// Fyne widgets they use) draw; each MUST reach 4.5:1 in both variants.
// Disabled controls are exempt from WCAG's minimum but are held to it too:
// the same colour is Fyne's LowImportance label colour.
var textPairs = []textPair{
	{theme.ColorNameForeground, theme.ColorNameBackground, "labels"},
	{theme.ColorNameForeground, theme.ColorNameInputBackground, "entries, record cards"},
	{theme.ColorNameForeground, theme.ColorNameButton, "buttons"},
	{theme.ColorNameForeground, theme.ColorNameOverlayBackground, "dialogs"},
	{theme.ColorNameForeground, theme.ColorNameMenuBackground, "drop-down lists"},
	{theme.ColorNameForeground, theme.ColorNameHeaderBackground, "headers"},
	{theme.ColorNamePlaceHolder, theme.ColorNameInputBackground, "placeholders"},
	{theme.ColorNameDisabled, theme.ColorNameBackground, "low-importance labels, disabled text"},
	{theme.ColorNameDisabled, theme.ColorNameInputBackground, "low-importance labels on cards"},
	{theme.ColorNameDisabled, theme.ColorNameDisabledButton, "disabled buttons"},
	{theme.ColorNamePrimary, theme.ColorNameBackground, "selected tab, high-importance labels"},
	{theme.ColorNameHyperlink, theme.ColorNameBackground, "links"},
	{theme.ColorNameError, theme.ColorNameBackground, "error messages, emergency card title"},
	{theme.ColorNameError, theme.ColorNameOverlayBackground, "errors in dialogs"},
	{theme.ColorNameWarning, theme.ColorNameBackground, "warnings"},
	{theme.ColorNameSuccess, theme.ColorNameBackground, "confirmations"},
	{theme.ColorNameSuccess, theme.ColorNameOverlayBackground, "a practitioner verified in Check a practitioner (a dialog)"},
	{theme.ColorNameWarning, theme.ColorNameOverlayBackground, "warnings in dialogs"},
	{theme.ColorNameForegroundOnPrimary, theme.ColorNamePrimary, "main buttons"},
	{theme.ColorNameForegroundOnError, theme.ColorNameError, "danger buttons, Revoked badge"},
	{theme.ColorNameForegroundOnWarning, theme.ColorNameWarning, "Suspended badge"},
	{theme.ColorNameForegroundOnSuccess, theme.ColorNameSuccess, "Valid badge"},
	{colorNameForegroundOnNeutral, colorNameNeutral, "Not checked and Expired badges"},
	{theme.ColorNameForeground, colorNameErrorTint, "emergency access rows"},
	{theme.ColorNameError, colorNameErrorTint, "emergency access flags"},
	{theme.ColorNameForeground, colorNameWarningTint, "refused attempt rows"},
	{theme.ColorNameWarning, colorNameWarningTint, "refused attempt flags"},
	{theme.ColorNameForeground, colorNameInfoTint, "new entries"},
	{theme.ColorNamePrimary, colorNameInfoTint, "new entry flags"},
}

// medidTheme is Fyne's default theme with the colours above. A zero
// variant follows the system's light or dark preference; a forced one
// (chosen in Settings) wins over it.
type medidTheme struct {
	forced  bool
	variant fyne.ThemeVariant
}

var _ fyne.Theme = medidTheme{}

func (t medidTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.forced {
		v = t.variant
	}
	pal := lightPalette
	if v == theme.VariantDark {
		pal = darkPalette
	}
	if c, ok := pal[n]; ok {
		return c
	}
	return theme.DefaultTheme().Color(n, v)
}

func (medidTheme) Font(s fyne.TextStyle) fyne.Resource     { return theme.DefaultTheme().Font(s) }
func (medidTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }
func (medidTheme) Size(n fyne.ThemeSizeName) float32       { return theme.DefaultTheme().Size(n) }

// fallbackColor is the Fyne colour an app colour name stands for under a
// theme that does not know it (tests that keep Fyne's test theme).
var fallbackColor = map[fyne.ThemeColorName]fyne.ThemeColorName{
	colorNameNeutral:             theme.ColorNameDisabled,
	colorNameForegroundOnNeutral: theme.ColorNameForeground,
	colorNameErrorTint:           theme.ColorNameBackground,
	colorNameWarningTint:         theme.ColorNameBackground,
	colorNameInfoTint:            theme.ColorNameBackground,
}

// themeColor resolves n in the current app's theme, app colour names
// included.
func themeColor(n fyne.ThemeColorName) color.Color {
	if _, ours := fallbackColor[n]; ours {
		if app := fyne.CurrentApp(); app != nil {
			if _, isOurs := app.Settings().Theme().(medidTheme); !isOurs {
				n = fallbackColor[n]
			}
		}
	}
	return theme.Color(n)
}

// contrastRatio is the WCAG 2.1 contrast ratio of two opaque colours
// (1 to 21).
func contrastRatio(a, b color.Color) float64 {
	la, lb := relativeLuminance(a), relativeLuminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// relativeLuminance is WCAG 2.1's relative luminance of c (sRGB).
func relativeLuminance(c color.Color) float64 {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(n.R) + 0.7152*lin(n.G) + 0.0722*lin(n.B)
}
