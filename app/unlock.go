package app

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/wallet"
)

// unlockUI asks for the passphrase. During a lockout it counts down.
type unlockUI struct {
	a       *App
	content fyne.CanvasObject
	pass    *widget.Entry
	btn     *widget.Button
	err     *widget.Label
	wait    *widget.Label // lockout countdown
	left    *widget.Label // how many wrong passphrases are left before a lockout
	busy    *widget.ProgressBarInfinite
	working *widget.Label  // "Unlocking…" while Argon2id runs
	forgot  *widget.Button // restore with the 24 words or a backup
	until   time.Time      // end of the current lockout (zero when none)
	ticking bool           // a countdown goroutine is running
}

func (a *App) showUnlock() {
	u := &unlockUI{a: a}
	a.unlock = u
	u.pass = widget.NewPasswordEntry()
	u.pass.SetPlaceHolder("Your passphrase")
	u.pass.OnSubmitted = func(string) { u.submit() }
	u.btn = widget.NewButtonWithIcon("Unlock", theme.LoginIcon(), u.submit)
	u.btn.Importance = widget.HighImportance
	u.err = errorLabel()
	u.wait = widget.NewLabel("")
	u.wait.Hide()
	u.left = wrapLabel("")
	u.left.Importance = widget.WarningImportance
	u.left.Hide()
	u.busy = widget.NewProgressBarInfinite()
	u.busy.Hide()
	u.working = widget.NewLabelWithStyle("Unlocking…", fyne.TextAlignCenter, fyne.TextStyle{})
	u.working.Hide()
	u.forgot = widget.NewButtonWithIcon("Forgot your passphrase? Restore with your 24 words or a backup", theme.HelpIcon(), a.showForgotten)
	u.forgot.Importance = widget.LowImportance
	u.content = narrow(container.NewVBox(
		widget.NewIcon(theme.AccountIcon()),
		widget.NewLabelWithStyle("Your wallet is locked", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
		wrapLabel("Type your passphrase to open it. It locks itself again when you leave it alone for a while."),
		u.pass, u.err, u.left, u.wait, u.working, u.busy, u.btn, widget.NewSeparator(), u.forgot))
	a.show(u.content)
	u.showAttempts()
	if a.win != nil {
		a.win.Canvas().Focus(u.pass)
	}
}

func (u *unlockUI) submit() {
	if !u.until.IsZero() && u.a.cfg.now().Before(u.until) {
		return
	}
	w := u.a.wallet()
	if w == nil {
		return
	}
	pass := []byte(u.pass.Text)
	// A new attempt: the last one's error is stale.
	showError(u.err, nil)
	u.left.Hide()
	u.btn.Disable()
	u.pass.Disable()
	u.busy.Show()
	u.working.Show()
	u.a.background(func(context.Context) {
		err := w.Unlock(pass) // Argon2id: never on the UI goroutine
		clear(pass)
		u.a.do(func() {
			u.busy.Hide()
			u.working.Hide()
			u.btn.Enable()
			u.pass.Enable()
			if err == nil {
				u.a.unlocked()
				return
			}
			u.pass.SetText("")
			showError(u.err, err)
			var lo *wallet.LockedOutError
			if errors.As(err, &lo) {
				u.startLockout(lo.Until)
			}
			u.showAttempts()
		})
	})
}

// showAttempts says, after a wrong passphrase, how many more are allowed
// before the wallet locks itself for a while (read in the background).
func (u *unlockUI) showAttempts() {
	w := u.a.wallet()
	if w == nil {
		return
	}
	load(u.a, func(context.Context) (wallet.Attempts, error) { return w.Attempts() }, func(at wallet.Attempts, err error) {
		if err != nil || at.Failures == 0 || !at.Until.IsZero() {
			u.left.Hide()
			return
		}
		if at.Left > 1 {
			u.left.SetText(fmt.Sprintf("%d attempts left before the wallet locks itself for a while.", at.Left))
		} else {
			u.left.SetText(fmt.Sprintf("If the next passphrase is wrong too, the wallet locks itself for %s.", humanDuration(at.NextLockout)))
		}
		u.left.Show()
	})
}

// startLockout disables unlocking until until and shows the time left,
// updated every second.
func (u *unlockUI) startLockout(until time.Time) {
	u.until = until
	u.btn.Disable()
	u.pass.Disable()
	u.tick()
	if u.ticking {
		return
	}
	u.ticking = true
	u.a.loop(func(ctx context.Context) {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var done atomic.Bool
			u.a.doAndWait(func() { done.Store(u.tick()) })
			if done.Load() {
				return
			}
		}
	})
}

// tick updates the countdown; it reports true once the lockout is over.
func (u *unlockUI) tick() bool {
	left := u.until.Sub(u.a.cfg.now())
	if left <= 0 || u.a.unlock != u {
		u.wait.Hide()
		u.btn.Enable()
		u.pass.Enable()
		u.ticking = false
		return true
	}
	u.wait.SetText(fmt.Sprintf("You can try again in %s.", humanDuration(left)))
	u.wait.Show()
	return false
}
