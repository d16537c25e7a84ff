package wallet

import "time"

// Attempts says where a wallet stands with wrong passphrases, so an app
// can warn before a lockout (as the CLI's error does).
type Attempts struct {
	// Failures is the number of consecutive wrong passphrases so far.
	Failures int
	// Left is how many more wrong passphrases cost nothing; 0 once each
	// further one locks the wallet.
	Left int
	// NextLockout is how long the next wrong passphrase locks the wallet
	// for (0 while Left > 1).
	NextLockout time.Duration
	// Until is the end of the lockout in force (zero when none).
	Until time.Time
}

// Attempts reads the wrong-passphrase counter (which lives outside the
// encrypted part: it works while locked). It never fails for a damaged
// counter (see lockout).
func (w *Wallet) Attempts() (Attempts, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return Attempts{}, ErrClosed
	}
	lo, err := w.readLockout()
	if err != nil {
		return Attempts{}, err
	}
	pol := w.cfg.Lockout.orDefault()
	a := Attempts{Failures: lo.Failures, Left: max(pol.FreeAttempts-lo.Failures, 0), NextLockout: pol.delay(lo.Failures + 1)}
	if w.cfg.now().Before(lo.Until) {
		a.Until = lo.Until
	}
	return a, nil
}
