package hospital

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/tx"
	"github.com/medid/medid/wallet"
)

// Acting at a vault in someone's name (docs/design/0020-delegation.md),
// under a delegation the holder holds (wallet.DelegationHeld).

// RepresentativeLedger is what granting consent in someone's name needs from
// the registry: the consent transactions, and resolving the patient's DID
// to seal the grant's anchor key to them. *client.Client implements it.
type RepresentativeLedger interface {
	wallet.ConsentLedger
	Resolve(ctx context.Context, id string) (*did.Resolution, error)
}

// actingAs returns the held delegation id names with the representative's
// key (see wallet.Wallet.HeldDelegation).
func actingAs(h Holder, id string) (wallet.Delegation, *key.PrivateKey, string, error) {
	d, err := h.HeldDelegation(id)
	if err != nil {
		return wallet.Delegation{}, nil, "", err
	}
	k, kid, err := h.SignerFor(d.Representative)
	if err != nil {
		return wallet.Delegation{}, nil, "", err
	}
	return d, k, kid, nil
}

// GrantConsentFor grants consent in the name of the person a held
// delegation is for: a grant signed by the representative (the delegation's
// subject, one of the wallet's DIDs) naming the person (onBehalfOf) and the
// delegation, anchored under a did:key derived from the representative's
// recovery phrase for this grant alone. It is first registered at the vault
// that holds the person's records, which checks the delegation allows
// consent for its classes and purposes and puts the grant, with its anchor
// key sealed to the person, in the person's trail; only then is it
// anchored. A refusal by the vault (its reason is in the error and in the
// person's trail) leaves nothing anchored or stored. req.DID is ignored.
func GrantConsentFor(ctx context.Context, h Holder, led RepresentativeLedger, vaultURL, delegationID string, req wallet.ConsentRequest) (wallet.Consent, error) {
	if req.Duration <= 0 {
		return wallet.Consent{}, errors.New("consent: say for how long (a positive duration)")
	}
	d, k, kid, err := actingAs(h, delegationID)
	if err != nil {
		return wallet.Consent{}, err
	}
	rk, err := recipientOf(ctx, led, d.Patient)
	if err != nil {
		return wallet.Consent{}, err
	}
	g, ak, akid, err := newGrant(h, d.Representative, req)
	if err != nil {
		return wallet.Consent{}, err
	}
	defer ak.Destroy()
	g.OnBehalfOf, g.Delegation = d.Patient, d.Hash
	seed := ak.Signer().(ed25519.PrivateKey).Seed()
	seal, err := trail.SealSecret(seed, rk)
	clear(seed)
	if err != nil {
		return wallet.Consent{}, err
	}
	tok, err := consent.Issue(g, k, kid)
	if err != nil {
		return wallet.Consent{}, err
	}
	vc := signedClient(h, vaultURL, nil, d.Representative, k, kid)
	if err := vc.RegisterConsent(ctx, tok, d.Token, seal); err != nil {
		return wallet.Consent{}, fmt.Errorf("the vault refused the consent in %s's name: %w", d.PersonWords(), err)
	}
	c := wallet.ConsentOf(tok, g)
	c.MadeUnder, c.Basis, c.Vault = d.Hash, d.Basis, vaultURL
	p, err := tx.NewConsentAnchorHash(g.Anchor, c.ID, c.ValidFrom, c.ValidUntil)
	if err == nil {
		var raw []byte
		if raw, err = tx.Sign(p, ak, akid); err == nil {
			_, err = led.Submit(ctx, raw)
		}
	}
	if err != nil {
		// Registered but not anchored, so not in force: take it back at
		// the vault too, so the person's trail says it went nowhere.
		if werr := vc.WithdrawConsent(ctx, tok, d.Token); werr != nil {
			h.Logger().Warn("consent: withdraw an unanchored registration", "err", werr)
		}
		return wallet.Consent{}, fmt.Errorf("consent: anchor the grant on the registry: %w", err)
	}
	if err := h.SaveConsent(&c); err != nil {
		return wallet.Consent{}, fmt.Errorf("consent: the grant %s is anchored but could not be stored: %w", c.ID, err)
	}
	return c, nil
}

// recipientOf is the key-agreement key of patient's DID (the first
// authentication key of their document): what trail entries and sealed
// anchor keys are encrypted to.
func recipientOf(ctx context.Context, r did.Resolver, patient string) (any, error) {
	res, err := r.Resolve(ctx, patient)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", patient, err)
	}
	pub, err := trail.PatientKey(res.Document)
	if err != nil {
		return nil, err
	}
	return trail.RecipientKey(pub)
}

// ConsentsFor returns the consent grants the wallet's owner made in the
// name of the person a held delegation is for, newest first.
func ConsentsFor(h Holder, delegationID string) ([]wallet.Consent, error) {
	d, err := h.FindDelegation(delegationID)
	if err != nil {
		return nil, err
	}
	cs, err := h.Consents()
	if err != nil {
		return nil, err
	}
	var out []wallet.Consent
	for _, c := range cs {
		if !c.Inherited && c.OnBehalfOf == d.Patient && c.Patient == d.Representative {
			out = append(out, c)
		}
	}
	return out, nil
}

// WithdrawConsentFor withdraws a consent grant the wallet's owner made in
// someone's name: at the vault where it is registered (under the held
// delegation, which must still allow consent; a refusal changes nothing),
// then on the ledger with its anchor key, so it ends at every vault.
func WithdrawConsentFor(ctx context.Context, h Holder, led wallet.ConsentLedger, delegationID, consentID string) (wallet.Consent, error) {
	d, err := h.FindDelegation(delegationID)
	if err != nil {
		return wallet.Consent{}, err
	}
	c, err := FindConsent(h, consentID)
	if err != nil {
		return wallet.Consent{}, err
	}
	if c.Inherited || c.OnBehalfOf != d.Patient {
		return wallet.Consent{}, fmt.Errorf("consent %s was not made in %s's name under this delegation", c.ID, d.PersonWords())
	}
	if c.Revoked != nil {
		return c, nil
	}
	if c.Vault != "" {
		vc, err := vault(h, c.Vault, d.Representative)
		if err != nil {
			return wallet.Consent{}, err
		}
		if err := vc.WithdrawConsent(ctx, c.Token, d.Token); err != nil {
			return wallet.Consent{}, fmt.Errorf("the vault refused the withdrawal: %w", err)
		}
	}
	return RevokeConsent(ctx, h, led, c.ID)
}

// ReadFor reads a record of the person a held delegation is for, at a
// vault, for purpose ("" = the delegation's first purpose). The vault checks
// the delegation and records the read in the person's trail, naming the
// representative and the authority.
func ReadFor(ctx context.Context, h Holder, vaultURL, delegationID, record, purpose string) ([]byte, error) {
	d, k, kid, err := actingAs(h, delegationID)
	if err != nil {
		return nil, err
	}
	if purpose == "" && len(d.Purposes) > 0 {
		purpose = d.Purposes[0]
	}
	return signedClient(h, vaultURL, nil, d.Representative, k, kid).GetFor(ctx, record, purpose, d.Token)
}

// AccessLogFor fetches, verifies and decrypts the copy of a person's trail
// a vault keeps for their representative (a held delegation with scope
// trail): every entry of the person's trail from the first time the
// representative used the delegation at that vault. opts.DID is ignored.
func AccessLogFor(ctx context.Context, h Holder, delegationID string, opts AccessLogOptions) ([]wallet.AccessEvent, error) {
	d, k, kid, err := actingAs(h, delegationID)
	if err != nil {
		return nil, err
	}
	priv, err := trail.DecryptionKey(k)
	if err != nil {
		return nil, err
	}
	resp, err := signedClient(h, opts.VaultURL, opts.HTTPClient, d.Representative, k, kid).AccessLogFor(ctx, d.Patient, d.Token)
	if err != nil {
		return nil, fmt.Errorf("access log of %s: %w", d.PersonWords(), err)
	}
	return accessEvents(ctx, resp, d.Patient, opts.Anchors, priv)
}
