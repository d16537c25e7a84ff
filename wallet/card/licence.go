package card

import (
	"fmt"
	"slices"

	"github.com/medid/medid/credentials/licence"
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
