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
	busy    *widget.ProgressBarInfinite
	until   time.Time // end of the current lockout (zero when none)
	ticking bool      // a countdown goroutine is running
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
	u.busy = widget.NewProgressBarInfinite()
	u.busy.Hide()
	u.content = narrow(container.NewVBox(
		widget.NewIcon(theme.AccountIcon()),
		widget.NewLabelWithStyle("Your wallet is locked", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
		wrapLabel("Type your passphrase to open it. It locks itself again when you leave it alone for a while."),
		u.pass, u.err, u.wait, u.busy, u.btn))
	a.show(u.content)
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
	u.btn.Disable()
	u.busy.Show()
	u.a.background(func(context.Context) {
		err := w.Unlock(pass) // Argon2id: never on the UI goroutine
		clear(pass)
		u.a.do(func() {
			u.busy.Hide()
			u.btn.Enable()
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
		})
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
