package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/card"
	"github.com/medid/medid/wallet/openid"
)

// Errors of the app itself (input it refuses before calling the wallet).
var (
	errNeedPIN  = errors.New("the offer needs the code the hospital gave")
	errMismatch = errors.New("the two passphrases differ")
	errEmpty    = errors.New("nothing entered")
	errNoQR     = errors.New("no QR code found in the picture")
	errTooWeak  = errors.New("passphrase too weak")
	errTooBig   = errors.New("too much data for one QR code")
)

// friendly turns an error into sentences a patient understands: what
// happened and what to do next. It is the only place that maps errors to
// text; screens call it and never show err.Error() directly. The wallet's
// errors never carry key material or health data, so the fallback may
// show the error itself.
func friendly(err error) string {
	var lo *wallet.LockedOutError
	var rej *wallet.RejectedError
	var ue *url.Error
	var ne net.Error
	var pe *openid4vci.ProtocolError
	var vpe *openid4vp.ProtocolError
	var pw *wallet.PhraseWordError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &lo):
		return fmt.Sprintf("Too many wrong passphrases. For your safety the wallet is locked for %s. Try again after %s.",
			humanDuration(lo.Left), lo.Until.Local().Format("15:04"))
	case errors.Is(err, wallet.ErrWrongPassphrase):
		return "That passphrase is not right. Check that Caps Lock is off and try again."
	case errors.Is(err, wallet.ErrLocked):
		return "The wallet locked itself. Unlock it with your passphrase and try again."
	case errors.As(err, &pw):
		return fmt.Sprintf("Word %d is not a recovery word. Check its spelling on your paper.", pw.Index)
	case errors.Is(err, wallet.ErrPhraseChecksum):
		return "All 24 are recovery words, but they do not fit together: one of them is wrong, or two are swapped. Compare each word with your paper, in order."
	case errors.Is(err, wallet.ErrInvalidPhrase):
		return "Those recovery words are not right. Check each of the 24 words, in order, and try again."
	case errors.Is(err, wallet.ErrExists):
		return "There is already a wallet in that folder. Nothing was changed. Open it instead, or choose another folder."
	case errors.Is(err, wallet.ErrNoWallet):
		return "There is no wallet here yet. Create one, or restore yours from its recovery phrase or a backup."
	case errors.Is(err, wallet.ErrCorruptBackup):
		return "This backup file is damaged or is not a medid wallet backup. Try another copy of your backup."
	case errors.Is(err, wallet.ErrCorrupt):
		return "The wallet file is damaged. Restore your wallet from a backup or from your recovery phrase."
	case errors.Is(err, wallet.ErrNotForThisWallet):
		return "This record was issued to someone else (or to an identity that is not in this wallet), so it was not added."
	case errors.As(err, &rej):
		return rejectedText(rej.Reason)
	case errors.Is(err, wallet.ErrNoRegistry):
		return "This needs the medid network. Enter its address in Settings and try again."
	case errors.Is(err, wallet.ErrNoVerifier):
		return "Records cannot be checked right now. Check the medid network address in Settings."
	case errors.Is(err, wallet.ErrNotFound):
		return "That item is no longer in the wallet. It may have been deleted."
	case errors.Is(err, wallet.ErrClosed):
		return "The wallet was closed. Restart the app."
	case errors.Is(err, errNeedPIN):
		return "This offer needs the code the hospital gave you (by text message, letter or on screen). Type it in the code box and try again."
	case errors.As(err, &pe):
		switch pe.Code {
		case openid4vci.ErrCodeInvalidGrant:
			return "The hospital did not accept this offer: the code is not right, or the offer was already used or has expired. Check the code, or ask the hospital for a new offer."
		case openid4vci.ErrCodeRequestDenied:
			return "The hospital refused to issue this record. Ask them why."
		}
		slog.Info("credential offer refused", "code", pe.Code)
		return "The hospital's service could not complete the offer. Try again later, or ask the hospital for a new offer."
	case errors.Is(err, ErrNeedProviderDID):
		return "Open the consent request the hospital or doctor gave you, above, or paste the identifier they gave you, not their name."
	case errors.Is(err, ErrNoVault):
		return "Add your hospital's address in Settings first."
	case errors.Is(err, errNotConsentRequest):
		return "That is not a consent request. Copy the whole link the hospital or doctor gave you, or open a picture of their QR code."
	case errors.Is(err, errForgedRequest):
		return "This consent request is not signed by the one it names, so it cannot be used. Nothing was given. Ask the hospital or doctor for a new one."
	case errors.Is(err, consent.ErrProposalExpired):
		return "This consent request has expired. Ask the hospital or doctor for a new one."
	case errors.Is(err, errNoDirectory):
		return "The medid directory cannot be searched right now. Paste the identifier the hospital or doctor gave you instead."
	case errors.Is(err, errNoConsentService):
		return "Giving consent needs the medid network. Enter its address in Settings and try again."
	case errors.Is(err, errNotLicenceCard), errors.Is(err, licence.ErrNotCard):
		return "This is not a practitioner's licence code. Ask them to open \"My licence\" in their medid wallet and show the code."
	case errors.Is(err, errNotLicenceRequest):
		return "This request asks for records, not for your licence. Answer it on the Share screen."
	case errors.Is(err, errNotVPLink):
		return "That is not a request for records. Copy the whole link they gave you, or open a picture of their QR code."
	case errors.Is(err, errNothingChosen):
		return "You left out everything they ask for. Tick at least one record to send, or say no."
	case errors.Is(err, wallet.ErrNothingChosen):
		return "Tick at least one detail to share."
	case errors.Is(err, errNoneTicked):
		return "They accept more than one record here, and none is ticked. Tick at least one record to send, or say no."
	case errors.Is(err, openid.ErrNoMatch):
		return "You have no record that answers this request. Nothing was sent."
	case errors.As(err, &vpe), errors.Is(err, openid4vp.ErrProtocol):
		return "The request could not be used: it may have expired or been answered already. Ask for a new one."
	case errors.Is(err, errMismatch):
		return "The two passphrases are different. Type the same passphrase in both boxes."
	case errors.Is(err, errEmpty):
		return "Nothing was entered. Fill in the box and try again."
	case errors.Is(err, errNoQR):
		return "No QR code was found in that picture. Use a sharp, well-lit picture showing the whole code."
	case errors.Is(err, errTooWeak):
		return "This passphrase is too easy to guess. Use four or more unrelated words, or a longer sentence."
	case errors.Is(err, card.ErrNoCredentials):
		return "You have no valid allergy, medication or blood type records for an emergency card yet. Add them in \"My records\"."
	case errors.Is(err, errTooBig):
		return "There is too much to fit in one QR code. Share fewer records at a time."
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "The medid network took too long to answer. Check your internet connection and try again."
	case errors.As(err, &ue):
		return "The medid network could not be reached. Check your internet connection and the network address in Settings, then try again."
	case errors.Is(err, context.Canceled):
		return "Stopped."
	}
	// The cause is for whoever helps the patient, not for the screen: it
	// names servers, formats and identifiers. It carries no health data
	// (errors never do, by the project's rule).
	slog.Warn("unexpected error shown to the patient as 'something went wrong'", "err", err)
	return "Something went wrong. Try again; if it keeps happening, restart the app."
}

// rejectedText explains a verification reason code (credentials/verify).
func rejectedText(reason string) string {
	switch reason {
	case "bad_signature":
		return "This record has been changed or damaged since the hospital issued it, so it was not added. Ask the hospital to send it again."
	case "expired":
		return "This record has expired, so it was not added. Ask the hospital for a current one."
	case "not_yet_valid":
		return "This record is not valid yet (its start date is in the future). Try again on or after that date."
	case "revoked":
		return "The hospital has withdrawn (revoked) this record, so it was not added."
	case "suspended":
		return "The hospital has suspended this record for now, so it was not added. Ask the hospital why."
	case "unknown_issuer":
		return "The hospital that issued this record could not be found on the medid network, so it was not added. Check the network address in Settings."
	case "issuer_not_accredited":
		return "The issuer of this record is not approved to issue this kind of record, so it was not added."
	case "status_unavailable":
		return "Whether this record is still valid could not be checked (the medid network was not reachable), so it was not added. Try again when you are online."
	case "malformed":
		return "This is not a record the wallet can read. Paste everything the hospital gave you, or open a picture of its QR code."
	}
	slog.Info("record refused", "reason", reason)
	return "This record did not pass the safety checks, so it was not added. Ask the hospital to send it again."
}

// humanDuration writes d for people: "45 seconds", "3 minutes", "2 hours".
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		s := int(d.Round(time.Second) / time.Second)
		return plural(max(s, 1), "second")
	case d < time.Hour:
		return plural(int(d.Round(time.Minute)/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int(d.Round(time.Hour)/time.Hour), "hour")
	}
	return plural(int(d/(24*time.Hour)), "day")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
