package app

import (
	"context"
	"image/color"
	"io"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/internal/atomicfile"
	"github.com/medid/medid/wallet"
)

// auto-lock choices, in order.
var autoLocks = []struct {
	label string
	d     time.Duration
}{
	{"1 minute", time.Minute},
	{"5 minutes", 5 * time.Minute},
	{"15 minutes", 15 * time.Minute},
	{"1 hour", time.Hour},
	{"Never", -1},
}

// Theme names offered in Settings.
const (
	ThemeLight = "Light"
	ThemeDark  = "Dark"
)

// settingsUI is the Settings screen.
type settingsUI struct {
	a       *App
	content fyne.CanvasObject

	registry    *widget.Entry
	saveReg     *widget.Button
	vault       *widget.Entry // the hospital vault (access log)
	saveVault   *widget.Button
	allowGlass  *widget.Button // standing emergency access at the vault's hospital
	glassNote   *widget.Label  // how to take it back, shown while it is allowed
	glassOn     bool           // the wallet holds a standing permission for the vault
	glassYes    *widget.Button // in the confirmation dialog
	glassDlg    dialog.Dialog
	autoLock    *widget.Select
	theme       *widget.RadioGroup
	backupPath  *widget.Entry
	choose      *widget.Button
	backupPass  *widget.Entry
	backupPass2 *widget.Entry
	backupBtn   *widget.Button
	progress    *widget.ProgressBarInfinite
	msg         *widget.Label
	err         *widget.Label
}

func newSettingsUI(a *App) *settingsUI {
	u := &settingsUI{a: a}
	u.registry = widget.NewEntry()
	u.registry.SetPlaceHolder("http://127.0.0.1:8080")
	u.registry.SetText(a.registryURL())
	u.saveReg = widget.NewButton("Save", u.saveRegistry)
	u.vault = widget.NewEntry()
	u.vault.SetPlaceHolder("https://vault.hospital.example (the hospital gives it to you)")
	u.vault.SetText(a.vault())
	u.saveVault = widget.NewButton("Save", u.saveVaultURL)
	u.allowGlass = widget.NewButtonWithIcon(allowGlassText, theme.WarningIcon(), u.confirmEmergencyAccess)
	u.glassNote = wrapLabel("To take it back, open Consent (tap the button above) and choose Take back… on its row.")
	u.glassNote.Hide()
	var locks []string
	for _, l := range autoLocks {
		locks = append(locks, l.label)
	}
	u.autoLock = widget.NewSelect(locks, nil)
	w := a.wallet()
	load(a, func(context.Context) (wallet.Settings, error) { return w.Settings() }, func(s wallet.Settings, err error) {
		if err != nil {
			u.fail(err)
			return
		}
		u.autoLock.SetSelected(autoLockLabel(s.AutoLock))
		u.autoLock.OnChanged = u.setAutoLock // only patient choices save
	})
	u.theme = widget.NewRadioGroup([]string{ThemeLight, ThemeDark}, u.setTheme)
	u.theme.Horizontal = true
	if a.fa != nil && (a.fa.Preferences().String(themePref) == ThemeDark ||
		a.fa.Preferences().String(themePref) == "" && a.fa.Settings().ThemeVariant() == theme.VariantDark) {
		u.theme.Selected = ThemeDark
	} else {
		u.theme.Selected = ThemeLight
	}
	u.backupPath = widget.NewEntry()
	u.backupPath.SetPlaceHolder("Where to save the backup file")
	u.choose = widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), func() {
		d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
			if err == nil && wc != nil {
				u.backupPath.SetText(wc.URI().Path())
				wc.Close()
			}
		}, a.win)
		d.SetFileName("medid-wallet-" + a.cfg.now().Format("2006-01-02") + ".age")
		d.Show()
	})
	u.backupPass = widget.NewPasswordEntry()
	u.backupPass.SetPlaceHolder("A passphrase for the backup")
	u.backupPass2 = widget.NewPasswordEntry()
	u.backupPass2.SetPlaceHolder("Type it again")
	u.backupBtn = widget.NewButtonWithIcon("Back up now", theme.DocumentSaveIcon(), u.backup)
	u.backupBtn.Importance = widget.HighImportance
	u.progress = widget.NewProgressBarInfinite()
	u.progress.Hide()
	u.msg = wrapLabel("")
	u.msg.Hide()
	u.err = errorLabel()
	bold := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	u.content = container.NewVScroll(container.NewVBox(
		bold("Settings"),
		widget.NewForm(
			widget.NewFormItem("medid network (registry)", container.NewBorder(nil, nil, nil, u.saveReg, u.registry)),
			widget.NewFormItem("Hospital vault URL", container.NewBorder(nil, nil, nil, u.saveVault, u.vault)),
			widget.NewFormItem("", container.NewVBox(container.NewHBox(u.allowGlass), u.glassNote)),
			widget.NewFormItem("Lock after", u.autoLock),
			widget.NewFormItem("Appearance", u.theme)),
		widget.NewSeparator(),
		bold("Backup"),
		wrapLabel("A backup file holds everything in your wallet, locked with its own passphrase. Keep it somewhere other than this device."),
		container.NewBorder(nil, nil, nil, u.choose, u.backupPath),
		u.backupPass, u.backupPass2, container.NewHBox(u.backupBtn), u.progress, u.msg, u.err))
	u.refreshGlass()
	return u
}

// Texts of the emergency access button.
const (
	allowGlassText   = "Allow emergency access at this hospital…"
	glassAllowedText = "Emergency access is allowed at this hospital"
)

// refreshGlass asks the wallet, in the background, whether it holds a
// standing emergency permission for the configured vault's hospital and
// shows the answer on the button. Without a registry or vault address, or
// when the vault cannot be asked for its DID, the button offers the
// permission (giving it then says what is missing).
func (u *settingsUI) refreshGlass() {
	ws := u.a.walletServices()
	if ws == nil || ws.VaultURL == "" {
		u.showGlass(false)
		return
	}
	now := u.a.cfg.now()
	load(u.a, func(ctx context.Context) (bool, error) {
		_, ok, err := ws.EmergencyAccess(ctx, now)
		return ok, err
	}, func(ok bool, err error) { u.showGlass(ok && err == nil) })
}

// showGlass shows whether emergency access is allowed: when it is, the
// button names the state and opens the Consent screen, where the
// permission is listed and can be taken back.
func (u *settingsUI) showGlass(on bool) {
	u.glassOn = on
	if on {
		u.allowGlass.SetText(glassAllowedText)
		u.allowGlass.SetIcon(theme.ConfirmIcon())
		u.allowGlass.OnTapped = u.openConsent
		u.glassNote.Show()
		return
	}
	u.allowGlass.SetText(allowGlassText)
	u.allowGlass.SetIcon(theme.WarningIcon())
	u.allowGlass.OnTapped = u.confirmEmergencyAccess
	u.glassNote.Hide()
}

func (u *settingsUI) openConsent() {
	if u.a.main != nil {
		u.a.main.selectScreen("consent")
	}
}

func autoLockLabel(d time.Duration) string {
	if d == 0 {
		d = wallet.DefaultAutoLock
	}
	for _, l := range autoLocks {
		if l.d == d || (d < 0 && l.d < 0) {
			return l.label
		}
	}
	return ""
}

func (u *settingsUI) say(s string) {
	showError(u.err, nil)
	u.msg.SetText(s)
	u.msg.Show()
}

func (u *settingsUI) fail(err error) {
	u.msg.Hide()
	showError(u.err, err)
}

// webAddress reports whether raw is "" or an http(s) URL with a host;
// otherwise it says so on the screen.
func (u *settingsUI) webAddress(raw string) bool {
	if raw == "" {
		return true
	}
	p, err := url.Parse(raw)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		u.msg.Hide()
		u.err.SetText("That is not a web address. It looks like http://127.0.0.1:8080 or https://registry.example.org.")
		u.err.Show()
		return false
	}
	return true
}

// saveVaultURL stores the hospital vault's address and rebuilds the
// Consent and Who-looked screens to use it.
func (u *settingsUI) saveVaultURL() {
	raw := strings.TrimSpace(u.vault.Text)
	if !u.webAddress(raw) {
		return
	}
	w := u.a.wallet()
	load(u.a, func(context.Context) (struct{}, error) {
		s, err := w.Settings()
		if err != nil {
			return struct{}{}, err
		}
		s.Vault = raw
		return struct{}{}, w.SetSettings(s)
	}, func(_ struct{}, err error) {
		if err != nil {
			u.fail(err)
			return
		}
		u.a.setVault(raw)
		if u.a.main != nil {
			u.a.main.rebuildServices()
		}
		u.refreshGlass()
		if raw == "" {
			u.say("Saved. No hospital vault: the Who looked screen stays empty.")
		} else {
			u.say("Saved. Who looked at your records now comes from " + raw + ".")
		}
	})
}

// confirmEmergencyAccess explains the standing break-glass permission and
// gives it once the patient says yes.
func (u *settingsUI) confirmEmergencyAccess() {
	ws := u.a.walletServices()
	if ws == nil || ws.VaultURL == "" {
		u.msg.Hide()
		u.err.SetText("Save the medid network and hospital vault addresses first.")
		u.err.Show()
		return
	}
	no := widget.NewButton("Not now", func() { u.glassDlg.Hide() })
	u.glassYes = widget.NewButtonWithIcon("Allow emergency access", theme.WarningIcon(), func() {
		u.glassDlg.Hide()
		u.allowGlass.Disable()
		u.progress.Show()
		load(u.a, ws.AllowEmergencyAccess, func(_ ConsentGrant, err error) {
			u.progress.Hide()
			u.allowGlass.Enable()
			if u.a.main != nil {
				u.a.main.consent.reload()
			}
			u.refreshGlass()
			if err != nil {
				u.fail(err)
				return
			}
			u.say("Done. In an emergency, staff at " + ws.VaultURL + " can open your records; you will see each time on the Who looked screen. " +
				"Take it back on the Consent screen at any time.")
		})
	})
	u.glassYes.Importance = widget.DangerImportance
	u.glassDlg = dialog.NewCustomWithoutButtons("Allow emergency access?", container.NewVBox(
		wrapLabel("If you cannot be asked (for example, you are unconscious), staff at this hospital may open all your records for emergency treatment, for one year. "+
			"Every opening is recorded and shown to you on the Who looked screen."),
		container.NewHBox(layout.NewSpacer(), no, u.glassYes)), u.a.win)
	u.glassDlg.Show()
}

func (u *settingsUI) saveRegistry() {
	raw := strings.TrimSpace(u.registry.Text)
	if !u.webAddress(raw) {
		return
	}
	w := u.a.wallet()
	load(u.a, func(context.Context) (struct{}, error) {
		s, err := w.Settings()
		if err != nil {
			return struct{}{}, err
		}
		s.Registry = raw
		return struct{}{}, w.SetSettings(s)
	}, func(_ struct{}, err error) {
		if err == nil {
			err = u.a.connect(raw)
		}
		if u.a.main != nil {
			u.a.main.rebuildServices()
		}
		u.refreshGlass()
		if err != nil {
			u.fail(err)
			return
		}
		if raw == "" {
			u.say("Saved. The wallet works offline: it can only check records from hospitals with a did:key.")
		} else {
			u.say("Saved. The wallet now uses " + raw + ".")
		}
	})
}

func (u *settingsUI) setAutoLock(label string) {
	for _, l := range autoLocks {
		if l.label != label {
			continue
		}
		w := u.a.wallet()
		load(u.a, func(context.Context) (struct{}, error) {
			s, err := w.Settings()
			if err == nil {
				s.AutoLock = l.d
				err = w.SetSettings(s)
			}
			return struct{}{}, err
		}, func(_ struct{}, err error) {
			switch {
			case err != nil:
				u.fail(err)
			case l.d < 0:
				u.say("The wallet will not lock itself. Lock it with the Lock button when you leave the device.")
			default:
				u.say("The wallet locks itself after " + l.label + " without use.")
			}
		})
	}
}

func (u *settingsUI) setTheme(name string) {
	if u.a.fa == nil || name == "" {
		return
	}
	v := theme.VariantLight
	if name == ThemeDark {
		v = theme.VariantDark
	}
	u.a.fa.Settings().SetTheme(variantTheme{Theme: theme.DefaultTheme(), variant: v})
	// A display preference, not wallet data: kept in the app's
	// preferences so that the unlock screen already uses it.
	u.a.fa.Preferences().SetString(themePref, name)
}

// themePref is the preference key of the chosen theme.
const themePref = "theme"

// applyThemePref applies the theme chosen in Settings on a previous run.
func applyThemePref(fa fyne.App) {
	switch fa.Preferences().String(themePref) {
	case ThemeDark:
		fa.Settings().SetTheme(variantTheme{Theme: theme.DefaultTheme(), variant: theme.VariantDark})
	case ThemeLight:
		fa.Settings().SetTheme(variantTheme{Theme: theme.DefaultTheme(), variant: theme.VariantLight})
	}
}

// variantTheme is the default theme forced to one variant (light or dark)
// whatever the system prefers.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

func (u *settingsUI) backup() {
	path := strings.TrimSpace(u.backupPath.Text)
	if path == "" || u.backupPass.Text == "" {
		u.msg.Hide()
		u.err.SetText("Choose where to save the backup and type a passphrase for it (twice).")
		u.err.Show()
		return
	}
	if err := checkNewPass(u.backupPass.Text, u.backupPass2.Text); err != nil {
		u.fail(err)
		return
	}
	pass := []byte(u.backupPass.Text)
	w := u.a.wallet()
	u.backupBtn.Disable()
	u.progress.Show()
	u.say("Making the backup…")
	u.a.background(func(context.Context) {
		err := atomicfile.Write(path, 0o600, func(out io.Writer) error { return w.Backup(out, pass) })
		clear(pass)
		u.a.do(func() {
			u.progress.Hide()
			u.backupBtn.Enable()
			if err != nil {
				u.fail(err)
				return
			}
			u.backupPass.SetText("")
			u.backupPass2.SetText("")
			u.say("Backup saved to " + path + ". Keep it, and its passphrase, somewhere safe.")
		})
	})
}
