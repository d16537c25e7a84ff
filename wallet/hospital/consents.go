package hospital

import (
	"context"
	"fmt"
	"strings"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/tx"
	"github.com/medid/medid/wallet"
)

// FindConsent returns the holder's grant whose id is id or starts with id
// (at least 8 hex digits, unambiguous). Errors wrap [wallet.ErrNotFound].
func FindConsent(h Holder, id string) (wallet.Consent, error) {
	cs, err := h.Consents()
	if err != nil {
		return wallet.Consent{}, err
	}
	var found []wallet.Consent
	for _, c := range cs {
		if c.ID == id || (len(id) >= 8 && strings.HasPrefix(c.ID, id)) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return wallet.Consent{}, fmt.Errorf("%w: consent %.64s", wallet.ErrNotFound, id)
	case 1:
		return found[0], nil
	}
	return wallet.Consent{}, fmt.Errorf("consent id %s is ambiguous: give more digits", id)
}

// RevokeConsent revokes a grant on the ledger (consent.revoke, signed by the
// grant's anchor key, re-derived from the seed) and marks it revoked in the
// wallet. A vault served by registryd refuses providers from the block that
// commits the revocation on (it reads consent status from the node's
// committed state on every decision). A legacy grant (see
// [wallet.Consent.Legacy]) is only marked revoked: no vault accepts it any
// more, and its old anchor cannot be changed. A grant already revoked is
// returned as it is.
func RevokeConsent(ctx context.Context, h Holder, led wallet.ConsentLedger, id string) (wallet.Consent, error) {
	c, err := FindConsent(h, id)
	if err != nil {
		return wallet.Consent{}, err
	}
	if c.Revoked != nil {
		return c, nil
	}
	if !c.Legacy() {
		if err := revokeAnchor(ctx, h, led, &c); err != nil {
			return wallet.Consent{}, err
		}
	}
	now := h.Now().UTC()
	c.Revoked = &now
	if err := h.SaveConsent(&c); err != nil {
		return wallet.Consent{}, err
	}
	return c, nil
}

// revokeAnchor submits consent.revoke of c's anchor.
func revokeAnchor(ctx context.Context, h Holder, led wallet.ConsentLedger, c *wallet.Consent) error {
	grantID := c.GrantID
	if grantID == "" {
		g, err := consent.Parse(c.Token)
		if err != nil {
			return fmt.Errorf("consent: read the stored grant %s: %w", c.ID, err)
		}
		grantID = g.ID
	}
	anchorKey := h.AnchorKey
	if c.Inherited {
		// Made for the owner by a representative: its anchor key came
		// sealed to the owner in their trail.
		anchorKey = func(string) (*key.PrivateKey, string, string, error) { return inheritedAnchorKey(h, c) }
	}
	k, anchor, kid, err := anchorKey(grantID)
	if err != nil {
		return err
	}
	defer k.Destroy()
	if anchor != c.Anchor {
		return fmt.Errorf("consent: grant %s was anchored by %s, which this wallet's recovery phrase does not derive: revoke it from the wallet that made it", c.ID, c.Anchor)
	}
	p, err := tx.NewConsentRevoke(anchor, c.ID)
	if err != nil {
		return err
	}
	raw, err := tx.Sign(p, k, kid)
	if err != nil {
		return err
	}
	if _, err := led.Submit(ctx, raw); err != nil {
		// Already revoked on the ledger (e.g. from another device): take
		// the ledger's word for it.
		st, serr := led.ConsentStatus(ctx, anchor, c.ID)
		if serr != nil || !st.Revoked {
			return fmt.Errorf("consent: revoke on the registry: %w", err)
		}
	}
	return nil
}

// inheritedAnchorKey opens the anchor key of a grant a representative made
// for the wallet's owner, sealed to the owner's DID key in their trail, and
// checks it is the grant's anchor.
func inheritedAnchorKey(h Holder, c *wallet.Consent) (*key.PrivateKey, string, string, error) {
	if c.AnchorSeal == "" {
		return nil, "", "", fmt.Errorf("consent %s came without its anchor key: ask the vault to withdraw it (medid wallet consent withdraw)", c.ID)
	}
	own, _, err := h.SignerFor(c.OnBehalfOf)
	if err != nil {
		return nil, "", "", err
	}
	priv, err := trail.DecryptionKey(own)
	if err != nil {
		return nil, "", "", err
	}
	seed, err := trail.OpenSecret(c.AnchorSeal, priv)
	if err != nil {
		return nil, "", "", fmt.Errorf("consent %s: its sealed anchor key: %w", c.ID, err)
	}
	defer clear(seed)
	k, err := key.NewEd25519FromSeed(seed)
	if err != nil {
		return nil, "", "", fmt.Errorf("consent %s: its sealed anchor key: %w", c.ID, err)
	}
	anchor := did.KeyDID(k.Public())
	return k, anchor, anchor + "#" + k.Public().Multikey(), nil
}

// ConfirmConsent records that the wallet's owner keeps a consent grant a
// representative made in their name (it stays in force as theirs; they
// can withdraw it later like their own).
func ConfirmConsent(h Holder, id string) (wallet.Consent, error) {
	c, err := FindConsent(h, id)
	if err != nil {
		return wallet.Consent{}, err
	}
	if !c.Inherited {
		return wallet.Consent{}, fmt.Errorf("consent %s is your own: there is nothing to confirm", c.ID)
	}
	if c.Revoked != nil {
		return wallet.Consent{}, fmt.Errorf("consent %s was withdrawn", c.ID)
	}
	if c.Confirmed == nil {
		now := h.Now().UTC()
		c.Confirmed = &now
		if err := h.SaveConsent(&c); err != nil {
			return wallet.Consent{}, err
		}
	}
	return c, nil
}

// WithdrawInherited withdraws a consent grant a representative made in the
// wallet owner's name: at the vault where it was registered (signed by the
// owner, as the patient), then on the ledger with the anchor key sealed to
// them, so it ends everywhere. The vault step is best effort: the ledger's
// revocation alone ends the grant at every vault within a block.
func WithdrawInherited(ctx context.Context, h Holder, led wallet.ConsentLedger, id string) (wallet.Consent, error) {
	c, err := FindConsent(h, id)
	if err != nil {
		return wallet.Consent{}, err
	}
	if !c.Inherited {
		return wallet.Consent{}, fmt.Errorf("consent %s is your own: revoke it", c.ID)
	}
	if c.Revoked == nil && c.Vault != "" {
		vc, err := vault(h, c.Vault, c.OnBehalfOf)
		if err != nil {
			return wallet.Consent{}, err
		}
		if err := vc.WithdrawConsent(ctx, c.Token, ""); err != nil {
			h.Logger().Warn("consent: withdraw at the vault", "err", err)
		}
	}
	return RevokeConsent(ctx, h, led, c.ID)
}

// Withdraw ends the holder's grant id the way it was made: a grant a
// representative made in the owner's name with [WithdrawInherited] (at its
// vault, then on the ledger with the anchor key sealed to the owner), any
// other with [RevokeConsent]. What the patient's "withdraw" button and
// command do.
func Withdraw(ctx context.Context, h Holder, led wallet.ConsentLedger, id string) (wallet.Consent, error) {
	if c, err := FindConsent(h, id); err == nil && c.Inherited {
		return WithdrawInherited(ctx, h, led, id)
	}
	return RevokeConsent(ctx, h, led, id)
}
