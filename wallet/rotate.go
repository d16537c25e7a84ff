package wallet

import (
	"context"
	"errors"
	"fmt"

	"github.com/medid/medid/registry/tx"
)

// ErrNotRotatable: the identity's key cannot be rotated because it is a
// did:key (the identifier is the key); make a new identity instead.
var ErrNotRotatable = errors.New("a did:key cannot change its key: make a new identity")

// RotateKey replaces the key of one of the wallet's registered did:medid
// identities, for example after the device that held it was exposed. It
// derives a fresh key (the next free index of the identity's key type, so
// it shares nothing with any other identity and comes back from the
// recovery phrase: see [Wallet.FindRegistered]), and submits the did.update
// that makes it the DID's only key (tx.NewKeyRotation: authentication and
// assertionMethod, a new "#key-N"), signed by the current key against the
// current version, so a concurrent change makes it fail. From then on the
// wallet signs with the new key; credentials issued to the DID stay valid,
// and presentations signed before the rotation no longer verify.
//
// The wallet is held for the duration (one block commit). If the registry
// refuses, nothing changes; if the update committed but the answer was lost,
// the new key is adopted all the same. Errors: [ErrNoRegistry],
// [ErrNotFound] (not a DID of this wallet), [ErrNotRotatable] (a did:key),
// an error saying the registry's document no longer lists the wallet's key
// (it was rotated elsewhere), or the registry's.
func (w *Wallet) RotateKey(ctx context.Context, reg Registry, id string) (DID, error) {
	if reg == nil {
		return DID{}, ErrNoRegistry
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return DID{}, err
	}
	k, d, err := w.keyLocked(id)
	if err != nil {
		return DID{}, err
	}
	if d.Method != MethodMedid {
		return DID{}, fmt.Errorf("%w (%s)", ErrNotRotatable, id)
	}
	res, err := reg.Resolve(ctx, id)
	if err != nil {
		return DID{}, fmt.Errorf("resolve %s: %w", id, err)
	}
	kid, ok := tx.ControllerKID(res.Document, k.Public())
	if !ok {
		return DID{}, fmt.Errorf("the registry's document of %s does not list this wallet's key %s for authentication: it was changed elsewhere", id, d.KeyID)
	}
	next := w.nextIndexLocked(d.Alg)
	nk, err := deriveKey(w.seed, d.Alg, next)
	if err != nil {
		return DID{}, err
	}
	p, newKID, err := tx.NewKeyRotation(res, nk.Public())
	if err != nil {
		nk.Destroy()
		return DID{}, err
	}
	signed, err := tx.Sign(p, k, kid)
	if err != nil {
		nk.Destroy()
		return DID{}, fmt.Errorf("sign did.update: %w", err)
	}
	if _, err := reg.Submit(ctx, signed); err != nil {
		if !registeredWith(ctx, reg, id, newKID, nk.Public()) {
			nk.Destroy()
			return DID{}, fmt.Errorf("rotate the key of %s: %w", id, err)
		}
	}
	rotated := *d
	rotated.Index, rotated.KeyID = next, newKID
	err = w.putDIDLocked(&rotated)
	// The ledger names the new key now: sign with it from here on, even if
	// the store could not record the change.
	w.dids[id] = &rotated
	w.keys[id] = nk
	k.Destroy()
	if err != nil {
		return DID{}, fmt.Errorf("the key of %s was rotated on the registry, but the wallet could not save the change: %w", id, err)
	}
	w.cfg.log().Info("did:medid key rotated", "index", next)
	return rotated, nil
}
