package wallet

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/tx"
)

// Consent in someone's name (docs/design/0020-delegation.md).

// RepresentativeLedger is what granting consent in someone's name needs from
// the registry: the consent transactions, and resolving the patient's DID
// to seal the grant's anchor key to them. *client.Client implements it.
type RepresentativeLedger interface {
	ConsentLedger
	Resolve(ctx context.Context, id string) (*did.Resolution, error)
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
func (w *Wallet) GrantConsentFor(ctx context.Context, led RepresentativeLedger, vaultURL, delegationID string, req ConsentRequest) (Consent, error) {
	if req.Duration <= 0 {
		return Consent{}, errors.New("consent: say for how long (a positive duration)")
	}
	d, k, kid, err := w.actingAs(delegationID)
	if err != nil {
		return Consent{}, err
	}
	rk, err := recipientOf(ctx, led, d.Patient)
	if err != nil {
		return Consent{}, err
	}
	now := w.cfg.now().UTC().Truncate(time.Second)
	id := randid.URN()
	ak, anchor, akid, err := w.anchorKey(id)
	if err != nil {
		return Consent{}, err
	}
	defer ak.Destroy()
	seed := ak.Signer().(ed25519.PrivateKey).Seed()
	seal, err := trail.SealSecret(seed, rk)
	clear(seed)
	if err != nil {
		return Consent{}, err
	}
	g := &consent.Grant{ID: id, Patient: d.Representative, OnBehalfOf: d.Patient, Delegation: d.Hash, Anchor: anchor,
		Provider: req.Provider, Actions: []consent.Action{consent.ActionAccess}, Purposes: req.Purposes, Classes: req.Classes,
		ValidFrom: now, ValidUntil: now.Add(req.Duration).Truncate(time.Second), BreakGlass: req.BreakGlass, Issued: now}
	tok, err := consent.Issue(g, k, kid)
	if err != nil {
		return Consent{}, err
	}
	vc := w.vaultClient(vaultURL, nil, d.Representative, k, kid)
	if err := vc.RegisterConsent(ctx, tok, d.Token, seal); err != nil {
		return Consent{}, fmt.Errorf("the vault refused the consent in %s's name: %w", d.PersonWords(), err)
	}
	c := Consent{ID: consent.Hash(tok), Token: tok, Patient: d.Representative, Anchor: anchor, GrantID: id, Provider: req.Provider,
		Classes: g.Classes, Purposes: g.Purposes, BreakGlass: g.BreakGlass, ValidFrom: g.ValidFrom, ValidUntil: g.ValidUntil,
		OnBehalfOf: d.Patient, MadeUnder: d.Hash, Basis: d.Basis, Vault: vaultURL}
	p, err := tx.NewConsentAnchorHash(anchor, c.ID, c.ValidFrom, c.ValidUntil)
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
			w.cfg.log().Warn("consent: withdraw an unanchored registration", "err", werr)
		}
		return Consent{}, fmt.Errorf("consent: anchor the grant on the registry: %w", err)
	}
	if err := w.putConsent(&c); err != nil {
		return Consent{}, fmt.Errorf("consent: the grant %s is anchored but could not be stored: %w", c.ID, err)
	}
	return c, nil
}

// recipientOf is the key-agreement key of patient's DID (the first
// authentication key of their document): what trail entries and sealed
// anchor keys are encrypted to.
func recipientOf(ctx context.Context, r interface {
	Resolve(ctx context.Context, id string) (*did.Resolution, error)
}, patient string) (any, error) {
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
func (w *Wallet) ConsentsFor(delegationID string) ([]Consent, error) {
	d, err := w.FindDelegation(delegationID)
	if err != nil {
		return nil, err
	}
	cs, err := w.Consents()
	if err != nil {
		return nil, err
	}
	var out []Consent
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
func (w *Wallet) WithdrawConsentFor(ctx context.Context, led ConsentLedger, delegationID, consentID string) (Consent, error) {
	d, err := w.FindDelegation(delegationID)
	if err != nil {
		return Consent{}, err
	}
	c, err := w.FindConsent(consentID)
	if err != nil {
		return Consent{}, err
	}
	if c.Inherited || c.OnBehalfOf != d.Patient {
		return Consent{}, fmt.Errorf("consent %s was not made in %s's name under this delegation", c.ID, d.PersonWords())
	}
	if c.Revoked != nil {
		return c, nil
	}
	if c.Vault != "" {
		vc, err := w.vaultClientFor(c.Vault, nil, d)
		if err != nil {
			return Consent{}, err
		}
		if err := vc.WithdrawConsent(ctx, c.Token, d.Token); err != nil {
			return Consent{}, fmt.Errorf("the vault refused the withdrawal: %w", err)
		}
	}
	return w.RevokeConsent(ctx, led, c.ID)
}

// inheritedAnchorKey opens the anchor key of a grant a representative made
// for the wallet's owner, sealed to the owner's DID key in their trail, and
// checks it is the grant's anchor.
func (w *Wallet) inheritedAnchorKey(c *Consent) (*key.PrivateKey, string, string, error) {
	if c.AnchorSeal == "" {
		return nil, "", "", fmt.Errorf("consent %s came without its anchor key: ask the vault to withdraw it (medid wallet consent withdraw)", c.ID)
	}
	own, _, err := w.SignerFor(c.OnBehalfOf)
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
func (w *Wallet) ConfirmConsent(id string) (Consent, error) {
	c, err := w.FindConsent(id)
	if err != nil {
		return Consent{}, err
	}
	if !c.Inherited {
		return Consent{}, fmt.Errorf("consent %s is your own: there is nothing to confirm", c.ID)
	}
	if c.Revoked != nil {
		return Consent{}, fmt.Errorf("consent %s was withdrawn", c.ID)
	}
	if c.Confirmed == nil {
		now := w.cfg.now().UTC()
		c.Confirmed = &now
		if err := w.putConsent(&c); err != nil {
			return Consent{}, err
		}
	}
	return c, nil
}

// WithdrawInherited withdraws a consent grant a representative made in the
// wallet owner's name: at the vault where it was registered (signed by the
// owner, as the patient), then on the ledger with the anchor key sealed to
// them, so it ends everywhere. The vault step is best effort: the ledger's
// revocation alone ends the grant at every vault within a block.
func (w *Wallet) WithdrawInherited(ctx context.Context, led ConsentLedger, id string) (Consent, error) {
	c, err := w.FindConsent(id)
	if err != nil {
		return Consent{}, err
	}
	if !c.Inherited {
		return Consent{}, fmt.Errorf("consent %s is your own: revoke it", c.ID)
	}
	if c.Revoked == nil && c.Vault != "" {
		k, kid, err := w.SignerFor(c.OnBehalfOf)
		if err != nil {
			return Consent{}, err
		}
		if err := w.vaultClient(c.Vault, nil, c.OnBehalfOf, k, kid).WithdrawConsent(ctx, c.Token, ""); err != nil {
			w.cfg.log().Warn("consent: withdraw at the vault", "err", err)
		}
	}
	return w.RevokeConsent(ctx, led, c.ID)
}

// learnGrants stores the consent grants the events say a representative
// registered in the owner's name (inherited), and marks the ones withdrawn.
func (w *Wallet) learnGrants(events []AccessEvent, vaultURL string) (int, error) {
	cs, err := w.Consents()
	if err != nil {
		return 0, err
	}
	have := map[string]*Consent{}
	for i := range cs {
		have[cs[i].ID] = &cs[i]
	}
	n := 0
	for _, e := range events {
		if e.Outcome != trail.OutcomeGranted {
			continue
		}
		switch e.Action {
		case trail.ActionConsent:
			if e.Grant == "" || have[consent.Hash(e.Grant)] != nil {
				continue
			}
			g, err := consent.Parse(e.Grant)
			if err != nil || g.OnBehalfOf != e.Patient || g.Patient != e.Provider {
				continue // the vault checked it; an entry that disagrees with itself is not taken in
			}
			c := &Consent{ID: g.Hash(), Token: e.Grant, Patient: g.Patient, Anchor: g.Anchor, GrantID: g.ID, Provider: g.Provider,
				Classes: g.Classes, Purposes: g.Purposes, BreakGlass: g.BreakGlass, ValidFrom: g.ValidFrom, ValidUntil: g.ValidUntil,
				OnBehalfOf: g.OnBehalfOf, Inherited: true, AnchorSeal: e.AnchorSeal, Vault: vaultURL}
			if a := e.Authority; a != nil {
				c.MadeUnder, c.MadeByName, c.Basis = a.Delegation, a.Name, a.Basis
			}
			if err := w.putConsent(c); err != nil {
				return n, err
			}
			have[c.ID] = c
			n++
		case trail.ActionWithdraw:
			if c := have[e.Consent]; c != nil && c.Inherited && c.Revoked == nil {
				at := e.Time
				c.Revoked = &at
				if err := w.putConsent(c); err != nil {
					return n, err
				}
			}
		}
	}
	return n, nil
}
