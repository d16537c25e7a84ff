package app

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/wallet"
)

// setupUI is the first run: create a wallet, or restore one.
type setupUI struct {
	a *App

	// Welcome.
	welcome    fyne.CanvasObject
	createBtn  *widget.Button
	phraseBtn  *widget.Button
	backupBtn  *widget.Button
	createForm fyne.CanvasObject

	// Create: passphrase with strength feedback.
	pass, pass2 *widget.Entry
	strength    *widget.ProgressBar
	strengthMsg *widget.Label
	doCreate    *widget.Button
	createErr   *widget.Label
	busy        *widget.ProgressBarInfinite

	// Recovery phrase shown once, then confirmed.
	phrase      []string
	words       *widget.Label
	wroteIt     *widget.Check
	toConfirm   *widget.Button
	confirmPos  [3]int // 0-based positions asked back
	confirm     [3]*widget.Entry
	confirmBtn  *widget.Button
	againBtn    *widget.Button // show the words again
	confirmErr  *widget.Label
	phraseShown fyne.CanvasObject
	// resumed: the wallet exists but the words were never confirmed
	// (the patient quit during first run); asked again after unlocking.
	resumed bool
	// replace: restoring from the locked screen, in place of the wallet
	// whose passphrase was forgotten (see showForgotten).
	replace bool

	// Restore from phrase.
	restoreWords            *wordsEntry
	restorePass, restorePs2 *widget.Entry
	doRestorePhrase         *widget.Button
	restorePhraseErr        *widget.Label

	// Restore from backup.
	backupFile                *widget.Entry
	backupPass                *widget.Entry
	backupNewPass, backupNew2 *widget.Entry
	doRestoreBackup           *widget.Button
	restoreBackupErr          *widget.Label
}

func (a *App) showWelcome() {
	s := &setupUI{a: a}
	a.setup = s
	title := widget.NewLabelWithStyle("Welcome to your medical wallet", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	intro := widget.NewLabel("Your wallet keeps your medical records (allergies, vaccinations and more) on this device. " +
		"You decide who sees them. Nobody else, not even the hospital, can open it without your passphrase.")
	intro.Wrapping = fyne.TextWrapWord
	s.createBtn = widget.NewButtonWithIcon("Create a new wallet", theme.ContentAddIcon(), s.showCreate)
	s.createBtn.Importance = widget.HighImportance
	s.phraseBtn = widget.NewButtonWithIcon("I have my 24 recovery words", theme.HistoryIcon(), s.showRestorePhrase)
	s.backupBtn = widget.NewButtonWithIcon("Restore from a backup file", theme.FolderOpenIcon(), s.showRestoreBackup)
	s.welcome = narrow(container.NewVBox(title, intro, widget.NewSeparator(), s.createBtn,
		widget.NewLabel("Already had a wallet?"), s.phraseBtn, s.backupBtn))
	a.show(s.welcome)
}

// showForgotten is "Forgot your passphrase?" on the locked screen: the
// wallet is restored from the 24 words or a backup, with a new
// passphrase, in place of the one on this device. That is no way around
// the lockout: the words (or the backup and its passphrase) are worth as
// much as the wallet itself. The old wallet file is kept, renamed, in
// case the patient remembers its passphrase later.
func (a *App) showForgotten() {
	s := &setupUI{a: a, replace: true}
	a.setup = s
	title := widget.NewLabelWithStyle("Forgot your passphrase?", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	intro := wrapLabel("Nobody can open this wallet without its passphrase, not even us. You can restore it with a new passphrase " +
		"from your 24 recovery words or from a backup file. The wallet on this device is kept aside, unchanged, in case you remember the passphrase later.")
	s.phraseBtn = widget.NewButtonWithIcon("Restore with my 24 recovery words", theme.HistoryIcon(), s.showRestorePhrase)
	s.phraseBtn.Importance = widget.HighImportance
	s.backupBtn = widget.NewButtonWithIcon("Restore from a backup file", theme.FolderOpenIcon(), s.showRestoreBackup)
	s.welcome = narrow(container.NewVBox(title, intro, widget.NewSeparator(), s.phraseBtn, s.backupBtn,
		widget.NewSeparator(), container.NewHBox(widget.NewButtonWithIcon("Back to unlocking", theme.NavigateBackIcon(), a.showUnlock))))
	a.show(s.welcome)
}

// restoreWhatComesBack says exactly what a restore from the recovery
// words brings back.
const restoreWhatComesBack = "Your identities come back: your main identity, and those you registered on the medid network " +
	"(the wallet looks for them there once it knows the network's address). Records, consents and history come back only from a backup file."

// restore makes the restored wallet with mk and returns it open. From the
// first-run screen it goes into the wallet folder. From "Forgot your
// passphrase?" the folder holds the old wallet: the restored one is made
// beside it, the old one is closed and kept under a dated name, and the
// restored one takes its place, opened with pass. Run it in the
// background.
func (s *setupUI) restore(cfg wallet.Config, pass []byte, mk func(wallet.Config) (*wallet.Wallet, error)) (*wallet.Wallet, error) {
	if !s.replace {
		return mk(cfg)
	}
	dir := filepath.Clean(cfg.Dir)
	tmp := dir + ".restoring"
	if err := os.RemoveAll(tmp); err != nil { // left by an interrupted attempt
		return nil, err
	}
	tcfg := cfg
	tcfg.Dir = tmp
	w, err := mk(tcfg)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := w.Close(); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	s.a.setWallet(nil) // closes the old wallet, so its folder can move
	kept := dir + ".replaced-" + s.a.cfg.now().Format("2006-01-02-150405")
	if err := os.Rename(dir, kept); err != nil {
		s.reopen(cfg)
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.Rename(kept, dir)
		s.reopen(cfg)
		return nil, err
	}
	s.a.log.Info("wallet restored in place of one whose passphrase was forgotten", "kept", kept)
	return wallet.Open(cfg, pass)
}

// reopen loads the old wallet again after a failed replacement.
func (s *setupUI) reopen(cfg wallet.Config) {
	if w, err := wallet.Load(cfg); err == nil {
		s.a.setWallet(w)
	}
}

// narrow centres a column of readable width (560 px, less in a narrower
// window) that scrolls when the window is not tall enough, so a long form
// never makes the window grow.
func narrow(o fyne.CanvasObject) fyne.CanvasObject {
	return container.NewVScroll(container.New(columnLayout{width: 560}, o))
}

// columnLayout centres its one object at width (or the available width,
// if less) and, when there is room, vertically.
type columnLayout struct{ width float32 }

func (l columnLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	m := objs[0].MinSize()
	return fyne.NewSize(min(m.Width, l.width), m.Height)
}

func (l columnLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	w := min(l.width, size.Width)
	objs[0].Resize(fyne.NewSize(w, objs[0].MinSize().Height))
	h := objs[0].MinSize().Height
	objs[0].Resize(fyne.NewSize(w, h))
	objs[0].Move(fyne.NewPos((size.Width-w)/2, max(0, (size.Height-h)/2)))
}

func wrapLabel(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func errorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.DangerImportance
	l.Hide()
	return l
}

func showError(l *widget.Label, err error) {
	if err == nil {
		l.SetText("")
		l.Hide()
		return
	}
	l.SetText(friendly(err))
	l.Show()
}

func (s *setupUI) back() *widget.Button {
	return widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), func() { s.a.show(s.welcome) })
}

// focus moves the keyboard focus to f.
func (a *App) focus(f fyne.Focusable) {
	if a.win != nil {
		a.win.Canvas().Focus(f)
	}
}

// recoveredNotice looks up (call it in the background) the did:medid
// identities the recovery words control on the registry, adds them to w,
// and returns what to tell the patient about it.
func (a *App) recoveredNotice(ctx context.Context, w *wallet.Wallet) string {
	reg := a.reg()
	if reg == nil {
		return "Your main identity is back. Identities you registered on the medid network come back once you add its address in Settings " +
			"and choose \"Find my registered identities\" on the Identities screen. Records come back only from a backup file."
	}
	found, err := w.FindRegistered(ctx, reg, 0)
	if err != nil {
		return "Your main identity is back, but the medid network could not be asked for the identities you registered there (" +
			friendly(err) + ") Try \"Find my registered identities\" on the Identities screen later."
	}
	return foundText(found) + " Records come back only from a backup file."
}

// foundText says how many registered identities a search found.
func foundText(found []wallet.DID) string {
	if len(found) == 0 {
		return "Your main identity is back. No other identity registered on the medid network was found for these words."
	}
	return "Your main identity is back, and " + plural(len(found), "identity") + " you registered on the medid network."
}

func (s *setupUI) showCreate() {
	s.pass = widget.NewPasswordEntry()
	s.pass.SetPlaceHolder("Choose a passphrase")
	s.pass2 = widget.NewPasswordEntry()
	s.pass2.SetPlaceHolder("Type it again")
	s.strength = widget.NewProgressBar()
	s.strength.TextFormatter = func() string { return "" }
	s.strengthMsg = widget.NewLabel("")
	s.createErr = errorLabel()
	s.busy = widget.NewProgressBarInfinite()
	s.busy.Hide()
	s.doCreate = widget.NewButtonWithIcon("Create my wallet", theme.ConfirmIcon(), s.create)
	s.doCreate.Importance = widget.HighImportance
	s.doCreate.Disable()
	update := func(string) {
		sc, msg := wallet.PassphraseStrength(s.pass.Text)
		s.strength.SetValue(float64(sc) / 4)
		s.strengthMsg.SetText(msg)
		if sc >= 2 && s.pass.Text == s.pass2.Text {
			s.doCreate.Enable()
		} else {
			s.doCreate.Disable()
		}
	}
	s.pass.OnChanged, s.pass2.OnChanged = update, update
	update("")
	s.createForm = narrow(container.NewVBox(
		widget.NewLabelWithStyle("Create your wallet", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapLabel("The passphrase opens your wallet on this device. A few unrelated words are easy to remember and hard to guess."),
		s.pass, s.strength, s.strengthMsg, s.pass2, s.createErr, s.busy,
		container.NewHBox(s.back(), s.doCreate)))
	s.a.show(s.createForm)
}

func (s *setupUI) create() {
	pass := []byte(s.pass.Text)
	if sc, _ := wallet.PassphraseStrength(s.pass.Text); sc < 2 {
		showError(s.createErr, errTooWeak)
		return
	}
	if s.pass.Text != s.pass2.Text {
		showError(s.createErr, errMismatch)
		return
	}
	s.doCreate.Disable()
	s.busy.Show()
	cfg := s.a.walletConfig()
	s.a.background(func(context.Context) {
		w, phrase, err := wallet.Create(cfg, pass)
		clear(pass)
		s.a.do(func() {
			s.busy.Hide()
			if err != nil {
				s.doCreate.Enable()
				showError(s.createErr, err)
				return
			}
			s.a.setWallet(w)
			s.showPhrase(phrase)
		})
	})
}

// showPhrase shows the 24 words once and asks the patient to write them
// down.
func (s *setupUI) showPhrase(phrase string) {
	s.phrase = strings.Fields(phrase)
	var b strings.Builder
	for i, w := range s.phrase {
		fmt.Fprintf(&b, "%2d. %-10s", i+1, w)
		if i%4 == 3 {
			b.WriteByte('\n')
		} else {
			b.WriteString("  ")
		}
	}
	s.words = widget.NewLabelWithStyle(strings.TrimRight(b.String(), "\n "), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	s.toConfirm = widget.NewButtonWithIcon("Continue", theme.NavigateNextIcon(), s.showConfirm)
	s.toConfirm.Importance = widget.HighImportance
	s.toConfirm.Disable()
	s.wroteIt = widget.NewCheck("I have written these 24 words on paper and put it somewhere safe", func(on bool) {
		if on {
			s.toConfirm.Enable()
		} else {
			s.toConfirm.Disable()
		}
	})
	s.phraseShown = narrow(container.NewVBox(
		widget.NewLabelWithStyle("Your recovery words", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapLabel("If this device is lost or broken, these 24 words bring back your identities. "+
			"Write them down in order. Do not photograph them or type them anywhere else. Anyone who has them can become you."),
		s.words, s.wroteIt, s.toConfirm))
	s.a.show(s.phraseShown)
}

// showConfirm asks for three of the words back.
func (s *setupUI) showConfirm() {
	perm := rand.Perm(len(s.phrase))[:3]
	slices.Sort(perm)
	copy(s.confirmPos[:], perm)
	intro := "To make sure the words are written down correctly, type these three from your paper."
	if s.resumed {
		intro = "Last time, the wallet was closed before you checked your recovery words. " +
			"Before you go on, type these three from your paper. If you did not write the words down, show them again."
	}
	items := []fyne.CanvasObject{
		widget.NewLabelWithStyle("Check your recovery words", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapLabel(intro),
	}
	for i, p := range s.confirmPos {
		e := widget.NewEntry()
		e.SetPlaceHolder(fmt.Sprintf("Word number %d", p+1))
		s.confirm[i] = e
		items = append(items, widget.NewForm(widget.NewFormItem(fmt.Sprintf("Word %d", p+1), e)))
	}
	s.confirmErr = errorLabel()
	s.confirmBtn = widget.NewButtonWithIcon("Check", theme.ConfirmIcon(), s.checkWords)
	s.confirmBtn.Importance = widget.HighImportance
	s.againBtn = widget.NewButtonWithIcon("Show the words again", theme.NavigateBackIcon(), func() {
		if s.phraseShown == nil {
			s.showPhrase(strings.Join(s.phrase, " "))
			return
		}
		s.a.show(s.phraseShown)
	})
	items = append(items, s.confirmErr, container.NewHBox(s.againBtn, s.confirmBtn))
	s.a.show(narrow(container.NewVBox(items...)))
}

func (s *setupUI) checkWords() {
	var wrong []string
	for i, p := range s.confirmPos {
		if !strings.EqualFold(strings.TrimSpace(s.confirm[i].Text), s.phrase[p]) {
			wrong = append(wrong, fmt.Sprint(p+1))
		}
	}
	if len(wrong) > 0 {
		s.confirmErr.SetText(fmt.Sprintf("Word %s does not match. Look at your paper again; if a word is wrong there, go back and correct it.",
			strings.Join(wrong, " and ")))
		s.confirmErr.Show()
		return
	}
	clear(s.phrase)
	s.phrase = nil
	s.confirmBtn.Disable()
	w := s.a.wallet()
	s.a.background(func(context.Context) {
		err := markConfirmed(w)
		s.a.do(func() {
			if errors.Is(err, wallet.ErrLocked) { // auto-locked meanwhile: asked again after unlocking
				s.a.showUnlock()
				return
			}
			if err != nil {
				s.confirmBtn.Enable()
				showError(s.confirmErr, err)
				return
			}
			s.a.unlocked()
		})
	})
}

func (s *setupUI) showRestorePhrase() {
	s.restoreWords = newWordsEntry(s.a.focus)
	s.restorePass = widget.NewPasswordEntry()
	s.restorePass.SetPlaceHolder("New passphrase for this device")
	s.restorePs2 = widget.NewPasswordEntry()
	s.restorePs2.SetPlaceHolder("Type it again")
	s.restorePhraseErr = errorLabel()
	busy := widget.NewProgressBarInfinite()
	busy.Hide()
	s.doRestorePhrase = widget.NewButtonWithIcon("Restore", theme.ConfirmIcon(), func() {
		showError(s.restorePhraseErr, nil)
		if s.restoreWords.check(true) != nil {
			return // the words' note says which word
		}
		if err := checkNewPass(s.restorePass.Text, s.restorePs2.Text); err != nil {
			showError(s.restorePhraseErr, err)
			return
		}
		phrase, pass := s.restoreWords.phrase(), []byte(s.restorePass.Text)
		cfg := s.a.walletConfig()
		s.doRestorePhrase.Disable()
		busy.Show()
		s.a.background(func(ctx context.Context) {
			w, err := s.restore(cfg, pass, func(cfg wallet.Config) (*wallet.Wallet, error) {
				return wallet.Recover(cfg, pass, phrase, wallet.RecoverOptions{})
			})
			if err == nil {
				err = markConfirmed(w) // they just typed all 24 words
			}
			var notice string
			if err == nil {
				notice = s.a.recoveredNotice(ctx, w)
			}
			s.a.do(func() {
				busy.Hide()
				s.doRestorePhrase.Enable()
				if err != nil {
					showError(s.restorePhraseErr, err)
					return
				}
				s.restoreWords.clear()
				s.a.setWallet(w)
				s.a.notice = notice
				s.a.unlocked()
			})
		})
	})
	s.doRestorePhrase.Importance = widget.HighImportance
	s.a.show(narrow(container.NewVBox(
		widget.NewLabelWithStyle("Restore with your recovery words", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapLabel("Type the 24 words in order, one in each box (a space or Enter moves to the next), or paste all 24 into the first box. "+
			restoreWhatComesBack),
		s.restoreWords.content,
		s.restorePass, s.restorePs2, s.restorePhraseErr, busy,
		container.NewHBox(s.back(), s.doRestorePhrase))))
}

func (s *setupUI) showRestoreBackup() {
	s.backupFile = widget.NewEntry()
	s.backupFile.SetPlaceHolder("Backup file")
	choose := widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), func() {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err == nil && r != nil {
				s.backupFile.SetText(r.URI().Path())
				r.Close()
			}
		}, s.a.win)
	})
	s.backupPass = widget.NewPasswordEntry()
	s.backupPass.SetPlaceHolder("The backup's passphrase")
	s.backupNewPass = widget.NewPasswordEntry()
	s.backupNewPass.SetPlaceHolder("New passphrase for this device")
	s.backupNew2 = widget.NewPasswordEntry()
	s.backupNew2.SetPlaceHolder("Type it again")
	s.restoreBackupErr = errorLabel()
	busy := widget.NewProgressBarInfinite()
	busy.Hide()
	s.doRestoreBackup = widget.NewButtonWithIcon("Restore", theme.ConfirmIcon(), func() {
		if strings.TrimSpace(s.backupFile.Text) == "" || s.backupPass.Text == "" {
			showError(s.restoreBackupErr, errEmpty)
			return
		}
		if err := checkNewPass(s.backupNewPass.Text, s.backupNew2.Text); err != nil {
			showError(s.restoreBackupErr, err)
			return
		}
		path, bp, np := strings.TrimSpace(s.backupFile.Text), []byte(s.backupPass.Text), []byte(s.backupNewPass.Text)
		cfg := s.a.walletConfig()
		s.doRestoreBackup.Disable()
		busy.Show()
		s.a.background(func(context.Context) {
			w, err := s.restore(cfg, np, func(cfg wallet.Config) (*wallet.Wallet, error) { return restoreFile(cfg, path, bp, np) })
			s.a.do(func() {
				busy.Hide()
				s.doRestoreBackup.Enable()
				if err != nil {
					showError(s.restoreBackupErr, err)
					return
				}
				s.a.setWallet(w)
				s.a.recheck = true
				s.a.unlocked()
			})
		})
	})
	s.doRestoreBackup.Importance = widget.HighImportance
	s.a.show(narrow(container.NewVBox(
		widget.NewLabelWithStyle("Restore from a backup file", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewBorder(nil, nil, nil, choose, s.backupFile),
		s.backupPass, widget.NewSeparator(), s.backupNewPass, s.backupNew2, s.restoreBackupErr, busy,
		container.NewHBox(s.back(), s.doRestoreBackup))))
}

func restoreFile(cfg wallet.Config, path string, backupPass, walletPass []byte) (*wallet.Wallet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return wallet.Restore(cfg, f, backupPass, walletPass)
}

// checkNewPass checks a new passphrase typed twice.
func checkNewPass(p, p2 string) error {
	if p == "" {
		return errEmpty
	}
	if sc, _ := wallet.PassphraseStrength(p); sc < 2 {
		return errTooWeak
	}
	if p != p2 {
		return errMismatch
	}
	return nil
}
