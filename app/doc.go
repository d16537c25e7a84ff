// Package app is the patient's wallet as a Fyne GUI: a library over
// package wallet, so that its screens are tested headless with
// fyne.io/fyne/v2/test and the binary (cmd/wallet) stays a few lines.
//
// # Screens
//
// First run (create a wallet with a passphrase, write down and confirm the
// 24-word recovery phrase, asked again at the next start if the app was
// closed before; or restore from the phrase or a backup file),
// unlock (with lockout and auto-lock), and once unlocked a set of tabs:
// credentials (a record offered by paste, QR picture or OpenID4VCI link is
// previewed before anything is stored), share (OpenID4VP requests,
// presentations by hand and the emergency card), consent (answering a
// provider's signed consent request, picking a provider by name from the
// directory, or an identifier), access log (with a count of what is new
// and a desktop notification), identities and settings. Each screen is a
// ui struct that keeps references to its widgets; tests drive those
// widgets with test.Tap and test.Type.
//
// # Words
//
// Patient screens use no developer terms: no DID, JWT, nonce, status list
// or service error code outside a "Details" tap, and a party the
// directory does not name is "Unnamed (ref. …)", never its DID
// (TestNoDeveloperTerms walks every screen). A check that could not be
// made is never shown as a failure: "Not checked since T", in a neutral
// colour.
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
// # Consent, access log and requests
//
// The Consent and Who-looked screens use [ConsentService] and
// [AccessLogService]; by default [WalletServices] implements both over the
// wallet, the registry (consent anchoring and revocation, audit anchors)
// and the hospital vault set in Settings. Without those addresses the
// screens ask the patient to add the hospital's address. The Share screen
// answers OpenID4VP requests (openid4vp:// links or QR pictures).
package app
