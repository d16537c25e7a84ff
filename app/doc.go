// Package app is the patient's wallet as a Fyne GUI: a library over
// package wallet, so that its screens are tested headless with
// fyne.io/fyne/v2/test and the binary (cmd/wallet) stays a few lines.
//
// # Screens
//
// First run (create a wallet with a passphrase, write down and confirm the
// 24-word recovery phrase, or restore from the phrase or a backup file),
// unlock (with lockout and auto-lock), and once unlocked a set of tabs:
// credentials, share (presentations and the emergency card), consent,
// access log, identities and settings. Each screen is a ui struct that
// keeps references to its widgets; tests drive those widgets with test.Tap
// and test.Type.
//
// # Threading
//
// Everything that may block (Argon2id, verification, registry calls,
// backups) runs in a goroutine started by [App] and touches widgets only
// through fyne.Do. The window never waits on the network.
//
// # Errors
//
// Errors reach the patient only through one function that turns wallet
// sentinel errors into sentences saying what happened and what to do next.
//
// # Pending features
//
// Consent and the access log live on the registry (a later issue): the
// screens are built against [ConsentService] and [AccessLogService], and
// show an explanatory empty state while no implementation is configured.
package app
