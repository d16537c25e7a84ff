package card

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/wallet"
)

// Licence makes a practitioner's licence card (credentials/licence: a
// presentation of the licence the wallet holds under id, signed by the
// licence's subject, one of the wallet's DIDs, valid for
// licence.CardLifetime) for anyone to check with
// registry/directory.Directory.CheckCard. It fails when id is not a
// licence the wallet holds for one of its own DIDs. The card is not
// recorded in the history: a wallet showing it makes a new one every
// minute, and a card discloses the licence only, which the practitioner
// shows in their public capacity.
func Licence(h Holder, id string) (string, error) {
	c, err := h.Credential(id)
	if err != nil {
		return "", err
	}
	if !slices.Contains(c.Types, licence.Type) {
		return "", fmt.Errorf("%w: this record is not a practitioner licence", licence.ErrInvalid)
	}
	k, kid, err := h.SignerFor(c.Subject)
	if err != nil {
		return "", fmt.Errorf("the licence is not issued to one of this wallet's identities: %w", err)
	}
	return licence.MakeCard(c.Token, k, kid, h.Now())
}

// ErrNoLicence is returned by [HeldLicence] when the wallet holds no
// practitioner licence.
var ErrNoLicence = errors.New("this wallet holds no practitioner licence (receive the one your licensing body issued with 'medid wallet receive')")

// NotValidError is returned by [HeldLicence] for a licence the wallet last
// found revoked, suspended, expired or invalid: its card would be refused
// by every checker, so none is made. At says when the wallet found it.
type NotValidError struct {
	ID     string
	Status wallet.Status
	Detail string
	At     time.Time
}

func (e *NotValidError) Error() string {
	s := fmt.Sprintf("the wallet found licence %s %s", e.ID, e.Status)
	if !e.At.IsZero() {
		s += " when it last checked it (" + e.At.UTC().Format(time.RFC3339) + ")"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s + "; a checker would refuse its card, so none was made (ask your licensing body)"
}

// Unwrap makes a NotValidError match licence.ErrInvalid.
func (e *NotValidError) Unwrap() error { return licence.ErrInvalid }

// HeldLicence returns, with its token, the licence a card is made of: the
// one the wallet holds under id, or, when id is "", the newest one it
// received (the one the app's "My licence" tab shows). It fails with
// [ErrNoLicence] when the wallet holds none, with an error wrapping
// licence.ErrInvalid when id is not a licence, and with a [*NotValidError]
// when the wallet last found the licence not valid. A licence whose last
// check could not be made (Unchecked) is used: nothing is known to be
// wrong with it, and the checker checks it anyway.
func HeldLicence(h Holder, id string) (wallet.Credential, error) {
	if id == "" {
		cs, err := h.Credentials(wallet.Filter{})
		if err != nil {
			return wallet.Credential{}, err
		}
		var newest wallet.Credential
		for _, c := range cs {
			if slices.Contains(c.Types, licence.Type) && (newest.ID == "" || c.ReceivedAt.After(newest.ReceivedAt)) {
				newest = c
			}
		}
		if id = newest.ID; id == "" {
			return wallet.Credential{}, ErrNoLicence
		}
	}
	c, err := h.Credential(id)
	if err != nil {
		return wallet.Credential{}, err
	}
	if !slices.Contains(c.Types, licence.Type) {
		return wallet.Credential{}, fmt.Errorf("%w: record %s is not a practitioner licence", licence.ErrInvalid, id)
	}
	if c.Status != "" && c.Status != wallet.StatusValid {
		return wallet.Credential{}, &NotValidError{ID: c.ID, Status: c.Status, Detail: c.StatusDetail, At: c.StatusCheckedAt}
	}
	return c, nil
}
