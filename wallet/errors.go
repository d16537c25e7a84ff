package wallet

import (
	"errors"
	"fmt"
	"time"
)

// Errors callers branch on with errors.Is. Messages never carry key
// material, passphrases or credential contents.
var (
	// ErrNotFound: no DID, credential or record with that id.
	ErrNotFound = errors.New("not found")
	// ErrLocked: the wallet is locked (explicitly or after idle time); unlock
	// it with the passphrase.
	ErrLocked = errors.New("wallet is locked: unlock it with the passphrase")
	// ErrWrongPassphrase: the passphrase does not open this wallet or backup.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrLockedOut: too many wrong passphrases; see [LockedOutError] for how
	// long to wait.
	ErrLockedOut = errors.New("too many wrong passphrases")
	// ErrNotForThisWallet: the credential's subject (credentialSubject.id) is
	// not one of this wallet's DIDs.
	ErrNotForThisWallet = errors.New("credential is not for this wallet")
	// ErrRejected: the credential failed verification on receipt; see
	// [RejectedError] for the reason.
	ErrRejected = errors.New("credential rejected")
	// ErrCorruptBackup: the backup file is truncated, damaged or not a
	// medid wallet backup.
	ErrCorruptBackup = errors.New("backup is corrupt or truncated")
	// ErrCorrupt: the wallet store is damaged; restore it from a backup or
	// the recovery phrase.
	ErrCorrupt = errors.New("wallet store is corrupt")
	// ErrNoWallet: there is no wallet in the folder; create one first.
	ErrNoWallet = errors.New("no wallet here")
	// ErrExists: a wallet (or other files) already exist where a new wallet
	// was to be created or restored; nothing is ever overwritten.
	ErrExists = errors.New("a wallet or other files already exist there")
	// ErrInvalidPhrase: the recovery phrase is not a valid 24-word BIP-39
	// mnemonic (wrong word, wrong checksum or wrong length).
	ErrInvalidPhrase = errors.New("invalid recovery phrase")
	// ErrNoRegistry: the operation needs a registry and none is configured.
	ErrNoRegistry = errors.New("no registry configured")
	// ErrNoVerifier: receiving or refreshing needs Config.Verifier.
	ErrNoVerifier = errors.New("no credential verifier configured")
	// ErrCouldNotCheck: a credential's issuer or status could not be
	// checked because the registry (or a status list's host) did not
	// answer. Nothing was found wrong with it: try again when online. See
	// [CouldNotCheckError].
	ErrCouldNotCheck = errors.New("could not check right now")
)

// ErrNotPresentable: the wallet knows the credential is revoked,
// suspended, expired or invalid, so it is not presented unless the caller
// insists (PresentRequest.Force). See [NotPresentableError].
var ErrNotPresentable = errors.New("credential is not current")

// NotPresentableError names the credential Present refused and why.
type NotPresentableError struct {
	ID, Why   string
	CheckedAt time.Time // when its status was last checked
}

func (e *NotPresentableError) Error() string {
	return fmt.Sprintf("%v: %s is %s (status checked %s); the verifier would refuse it", ErrNotPresentable, e.ID, e.Why, e.CheckedAt.UTC().Format(time.DateTime+" MST"))
}

// Unwrap makes errors.Is(err, ErrNotPresentable) true.
func (e *NotPresentableError) Unwrap() error { return ErrNotPresentable }

// CouldNotCheckError is returned when verification could not be done
// because a source did not answer: by Receive (nothing was stored) and by
// Refresh (for the credentials listed; every credential keeps its last
// known status). It matches [ErrCouldNotCheck].
type CouldNotCheckError struct {
	// IDs are the credentials that could not be checked (Refresh only).
	IDs []string
	// Cause says what did not answer, e.g. the registry's connection error.
	Cause string
}

func (e *CouldNotCheckError) Error() string {
	what := "the credential"
	if len(e.IDs) == 1 {
		what = "credential " + e.IDs[0]
	} else if len(e.IDs) > 1 {
		what = fmt.Sprintf("%d credentials", len(e.IDs))
	}
	return fmt.Sprintf("%v: %s could not be checked (%s); try again when online", ErrCouldNotCheck, what, e.Cause)
}

// Unwrap makes errors.Is(err, ErrCouldNotCheck) true.
func (e *CouldNotCheckError) Unwrap() error { return ErrCouldNotCheck }

// LockedOutError is returned by Unlock while a lockout after repeated wrong
// passphrases lasts. It matches [ErrLockedOut] with errors.Is.
type LockedOutError struct {
	Until    time.Time     // when the next attempt is allowed
	Left     time.Duration // time left at the moment of the call
	Failures int           // consecutive wrong passphrases so far
}

func (e *LockedOutError) Error() string {
	return fmt.Sprintf("%v: %d failed attempts, try again in %s", ErrLockedOut, e.Failures, e.Left.Round(time.Second))
}

// Unwrap makes errors.Is(err, ErrLockedOut) true.
func (e *LockedOutError) Unwrap() error { return ErrLockedOut }

// RejectedError says why a received credential was refused. It matches
// [ErrRejected]; Reason is a credentials/verify reason code (bad_signature,
// expired, revoked, malformed, ...).
type RejectedError struct {
	Reason string
	Detail string
}

func (e *RejectedError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%v: %s", ErrRejected, e.Reason)
	}
	return fmt.Sprintf("%v: %s: %s", ErrRejected, e.Reason, e.Detail)
}

// Unwrap makes errors.Is(err, ErrRejected) true.
func (e *RejectedError) Unwrap() error { return ErrRejected }
