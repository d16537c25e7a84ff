// Package emergency is medid's offline emergency card: a verifiable
// presentation (vp+jwt) of a patient's emergency credentials (allergies,
// medications, blood type) that the wallet signs in advance for any
// emergency department, and that fits in one QR code.
//
// # The card
//
// A card is addressed to [Audience] and, since no verifier gave a
// challenge, its nonce names the day it was made: [NoncePrefix] followed
// by the date (YYYY-MM-DD, UTC), see [Nonce]. A verifier with no channel to
// the patient can so check that the presentation was made as an emergency
// card, and how old it is; the presentation's own exp bounds its life.
//
// The QR code holds the token compacted (DEFLATE, then Base45 for the QR
// code's alphanumeric mode): [QRText] makes it, [FitsQR] says whether it
// fits in one code, and [FromQR] turns a scanned code back into the token.
//
// # Verifying
//
// [Verify] checks a card with a credentials/verify Verifier: it reads the
// card's nonce ([ReadNonce], which accepts only the dated form), then
// verifies the presentation for [Audience] and that nonce, and every
// credential in it (issuer, signature, validity, status, accreditation).
// An emergency department offline passes a Verifier built from did:key,
// cached DID documents and cached status lists.
package emergency

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/internal/qr"
)

// The card's audience and the prefix of its nonce.
const (
	Audience    = "medid:emergency"
	NoncePrefix = "medid:emergency:"
)

// ErrNotCard reports a presentation that is not an emergency card: it does
// not parse, or its nonce is not [NoncePrefix] and a date.
var ErrNotCard = errors.New("not an emergency card")

// NotCardError is [ErrNotCard] with the nonce found ("" when there was
// none to read).
type NotCardError struct {
	Nonce string
	// Err says what was wrong, when the token did not parse at all.
	Err error
}

func (e *NotCardError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%v (nonce %q): %v", ErrNotCard, e.Nonce, e.Err)
	}
	return fmt.Sprintf("%v (nonce %q)", ErrNotCard, e.Nonce)
}

// Unwrap returns [ErrNotCard].
func (e *NotCardError) Unwrap() error { return ErrNotCard }

// Nonce returns the nonce of a card made at made: [NoncePrefix] and the
// UTC date.
func Nonce(made time.Time) string { return NoncePrefix + made.UTC().Format(time.DateOnly) }

// ParseNonce returns the day (midnight UTC) a card's nonce names. Anything
// but [NoncePrefix] followed by a valid YYYY-MM-DD date is a
// [*NotCardError].
func ParseNonce(nonce string) (time.Time, error) {
	day, ok := strings.CutPrefix(nonce, NoncePrefix)
	if !ok {
		return time.Time{}, &NotCardError{Nonce: nonce}
	}
	t, err := time.Parse(time.DateOnly, day)
	if err != nil || t.Format(time.DateOnly) != day {
		return time.Time{}, &NotCardError{Nonce: nonce}
	}
	return t, nil
}

// ReadNonce reads the nonce of the card token WITHOUT checking anything
// else (the verification that follows checks the signature, which covers
// the nonce) and returns it with the day it names. A token that is not a
// vp+jwt, or whose nonce is not a card's, is a [*NotCardError].
func ReadNonce(token string) (nonce string, made time.Time, err error) {
	p, _, err := vc.ParsePresentation(token)
	if err != nil {
		return "", time.Time{}, &NotCardError{Err: err}
	}
	nonce, _ = p.Extra["nonce"].(string)
	made, err = ParseNonce(nonce)
	if err != nil {
		return nonce, time.Time{}, err
	}
	return nonce, made, nil
}

// Card is a verified (or refused) emergency card.
type Card struct {
	// Nonce is the card's nonce and Made the day it names.
	Nonce string
	Made  time.Time
	// Result is the verification of the presentation and of each
	// credential in it; the card is valid if and only if Result.Valid.
	Result *verify.Result
}

// Verify checks the emergency card token with v: it reads the card's dated
// nonce ([ReadNonce]) and verifies the presentation for [Audience] and that
// nonce, and every credential in it. A token that is not a card is a
// [*NotCardError] (and no Card); otherwise the verdict is in Card.Result,
// with the error nil even when the card is invalid.
func Verify(ctx context.Context, v *verify.Verifier, token string) (*Card, error) {
	if v == nil {
		return nil, errors.New("emergency: Verify needs a verifier")
	}
	nonce, made, err := ReadNonce(token)
	if err != nil {
		return nil, err
	}
	return &Card{Nonce: nonce, Made: made, Result: v.Presentation(ctx, token, Audience, nonce)}, nil
}

// QRText returns what the card's QR code holds: token compacted (DEFLATE
// and Base45, for the QR alphanumeric mode), about a third of its size.
func QRText(token string) string { return qr.Compact(token) }

// FitsQR reports whether the card token fits in one QR code once
// compacted.
func FitsQR(token string) bool { return qr.Fits(qr.Compact(token)) }

// FromQR returns the token held by a scanned QR code: the compacted form
// expanded (a code holding the plain token is accepted too), surrounding
// white space removed. A code that claims the compacted form but does not
// expand is an error.
func FromQR(text string) (string, error) {
	tok, err := qr.Expand(text)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(tok), nil
}
