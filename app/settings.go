package app

import (
	"context"
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

	// Notes, each next to the control it is about (cleared when the
	// patient edits that control again or leaves the screen).
	regNote    *note // under the registry address
	vaultNote  *note // under the vault address
	glassMsg   *note // under the emergency access button
	lockNote   *note // under "Lock after"
	backupNote *note // under "Back up now"
}

func newSettingsUI(a *App) *settingsUI {
	u := &settingsUI{a: a}
	u.registry = widget.NewEntry()
	u.registry.SetPlaceHolder("http://127.0.0.1:8080")
	u.registry.SetText(a.registryURL())
	u.saveReg = widget.NewButton("Save", u.saveRegistry)
	u.vault = widget.NewEntry()
	u.vault.SetPlaceHolder("https://records.hospital.example (the hospital gives it to you)")
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
			u.lockNote.fail(err)
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
	u.regNote, u.vaultNote, u.glassMsg, u.lockNote, u.backupNote = newNote(), newNote(), newNote(), newNote(), newNote()
	clearOnEdit(u.regNote, u.registry)
	clearOnEdit(u.vaultNote, u.vault)
	clearOnEdit(u.backupNote, u.backupPath)
	clearOnEdit(u.backupNote, u.backupPass)
	clearOnEdit(u.backupNote, u.backupPass2)
	bold := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	u.content = container.NewVScroll(container.NewVBox(
		bold("Settings"),
		widget.NewForm(
			widget.NewFormItem("medid network", container.NewVBox(container.NewBorder(nil, nil, nil, u.saveReg, u.registry), u.regNote)),
			widget.NewFormItem("Hospital records", container.NewVBox(container.NewBorder(nil, nil, nil, u.saveVault, u.vault), u.vaultNote)),
			widget.NewFormItem("", container.NewVBox(container.NewHBox(u.allowGlass), u.glassNote, u.glassMsg)),
			widget.NewFormItem("Lock after", container.NewVBox(u.autoLock, u.lockNote)),
			widget.NewFormItem("Appearance", u.theme)),
		widget.NewSeparator(),
		bold("Backup"),
		wrapLabel("A backup file holds everything in your wallet, locked with its own passphrase. Keep it somewhere other than this device."),
		container.NewBorder(nil, nil, nil, u.choose, u.backupPath),
		u.backupPass, u.backupPass2, container.NewHBox(u.backupBtn), u.progress, u.backupNote))
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

// webAddress reports whether raw is "" or an http(s) URL with a host;
// otherwise it says so in n.
func webAddress(n *note, raw string) bool {
	if raw == "" {
		return true
	}
	p, err := url.Parse(raw)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		n.failText("That is not a web address. It looks like http://127.0.0.1:8080 or https://registry.example.org.")
		return false
	}
	return true
}

// saveVaultURL stores the hospital vault's address and rebuilds the
// Consent and Who-looked screens to use it.
func (u *settingsUI) saveVaultURL() {
	u.vaultNote.clear()
	raw := strings.TrimSpace(u.vault.Text)
	if !webAddress(u.vaultNote, raw) {
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
			u.vaultNote.fail(err)
			return
		}
		u.a.setVault(raw)
		if u.a.main != nil {
			u.a.main.rebuildServices()
		}
		u.refreshGlass()
		if raw == "" {
			u.vaultNote.good("Saved. Without a hospital address the Who looked screen stays empty.")
		} else {
			u.vaultNote.good("Saved. Who looked at your records now comes from " + raw + ".")
		}
	})
}

// confirmEmergencyAccess explains the standing break-glass permission and
// gives it once the patient says yes.
func (u *settingsUI) confirmEmergencyAccess() {
	u.glassMsg.clear()
	ws := u.a.walletServices()
	if ws == nil || ws.VaultURL == "" {
		u.glassMsg.failText("Save the medid network and hospital addresses first.")
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
				u.glassMsg.fail(err)
				return
			}
			u.glassMsg.good("Done. In an emergency, staff at " + ws.VaultURL + " can open your records; you will see each time on the Who looked screen. " +
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
	u.regNote.clear()
	raw := strings.TrimSpace(u.registry.Text)
	if !webAddress(u.regNote, raw) {
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
			u.regNote.fail(err)
			return
		}
		if raw == "" {
			u.regNote.good("Saved. The wallet now works offline: it cannot check records from hospitals on the medid network until you add its address again.")
		} else {
			u.regNote.good("Saved. The wallet now uses " + raw + ".")
		}
	})
}

func (u *settingsUI) setAutoLock(label string) {
	u.lockNote.clear()
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
				u.lockNote.fail(err)
			case l.d < 0:
				u.lockNote.good("The wallet will not lock itself. Lock it with the Lock button when you leave the device.")
			default:
				u.lockNote.good("The wallet locks itself after " + l.label + " without use.")
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
	u.a.fa.Settings().SetTheme(medidTheme{forced: true, variant: v})
	// A display preference, not wallet data: kept in the app's
	// preferences so that the unlock screen already uses it.
	u.a.fa.Preferences().SetString(themePref, name)
}

// themePref is the preference key of the chosen theme.
const themePref = "theme"

// applyThemePref sets the app's theme (medidTheme, whose colours meet
// WCAG AA), in the variant chosen in Settings on a previous run, else the
// system's.
func applyThemePref(fa fyne.App) {
	switch fa.Preferences().String(themePref) {
	case ThemeDark:
		fa.Settings().SetTheme(medidTheme{forced: true, variant: theme.VariantDark})
	case ThemeLight:
		fa.Settings().SetTheme(medidTheme{forced: true, variant: theme.VariantLight})
	default:
		fa.Settings().SetTheme(medidTheme{})
	}
}

func (u *settingsUI) backup() {
	u.backupNote.clear()
	path := strings.TrimSpace(u.backupPath.Text)
	if path == "" || u.backupPass.Text == "" {
		u.backupNote.failText("Choose where to save the backup and type a passphrase for it (twice).")
		return
	}
	if err := checkNewPass(u.backupPass.Text, u.backupPass2.Text); err != nil {
		u.backupNote.fail(err)
		return
	}
	pass := []byte(u.backupPass.Text)
	w := u.a.wallet()
	u.backupBtn.Disable()
	u.progress.Show()
	u.backupNote.say("Making the backup…")
	u.a.background(func(context.Context) {
		err := atomicfile.Write(path, 0o600, func(out io.Writer) error { return w.Backup(out, pass) })
		clear(pass)
		u.a.do(func() {
			u.progress.Hide()
			u.backupBtn.Enable()
			if err != nil {
				u.backupNote.fail(err)
				return
			}
			u.backupPass.SetText("")
			u.backupPass2.SetText("")
			u.backupNote.good("Backup saved to " + path + ". Keep it, and its passphrase, somewhere safe.")
		})
	})
}
