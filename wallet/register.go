package wallet

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/tx"
)

// Registry is what registering a did:medid needs from the registry;
// *client.Client implements it.
type Registry interface {
	// Submit posts a signed transaction and waits for its commit.
	Submit(ctx context.Context, signedTx []byte) (*client.TxResult, error)
	// Resolve resolves a DID.
	Resolve(ctx context.Context, id string) (*did.Resolution, error)
}

var _ Registry = (*client.Client)(nil)

// RegisterDID derives a new key (the next index of opts.Alg, so the new
// identity shares no key with any other), registers a did:medid for it
// with a did.create transaction, and stores it once the registry has
// committed it. Nothing is stored if the registry refuses. The wallet is
// held for the duration (one block commit), so indices cannot collide.
//
// If the DID turns out to be registered already with this key (a previous
// attempt committed but the wallet never heard back), it is adopted.
func (w *Wallet) RegisterDID(ctx context.Context, reg Registry, opts NewDIDOptions) (DID, error) {
	if reg == nil {
		return DID{}, ErrNoRegistry
	}
	if opts.Alg == "" {
		opts.Alg = key.Ed25519
	}
	if opts.Pairwise && strings.TrimSpace(opts.Label) == "" {
		return DID{}, errors.New("a pairwise DID needs a label naming the relationship")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return DID{}, err
	}
	next := w.nextIndexLocked(opts.Alg)
	k, err := deriveKey(w.seed, opts.Alg, next)
	if err != nil {
		return DID{}, err
	}
	p, kid, err := tx.NewKeyDIDCreate(k.Public())
	if err != nil {
		return DID{}, fmt.Errorf("build did:medid document: %w", err)
	}
	id := p.DID
	signed, err := tx.Sign(p, k, kid)
	if err != nil {
		return DID{}, fmt.Errorf("sign did.create: %w", err)
	}
	if _, err := reg.Submit(ctx, signed); err != nil {
		if !registeredWith(ctx, reg, id, kid, k.Public()) {
			return DID{}, fmt.Errorf("register %s: %w", id, err)
		}
	}
	now := w.cfg.now().UTC()
	d := &DID{DID: id, Method: MethodMedid, Alg: opts.Alg, Index: next, KeyID: kid,
		Label: strings.TrimSpace(opts.Label), Pairwise: opts.Pairwise, Created: now, Registered: &now}
	if err := w.putDIDLocked(d); err != nil {
		return DID{}, fmt.Errorf("registered %s but could not store it (run register again to adopt it): %w", id, err)
	}
	w.keys[id] = k
	w.cfg.log().Info("did:medid registered", "index", next)
	return *d, nil
}

// nextIndexLocked returns the next free key index of alg: one more than the
// largest index any identity's key of alg uses, so a new key shares nothing
// with an existing one.
func (w *Wallet) nextIndexLocked(alg key.Alg) uint32 {
	var next uint32
	for _, d := range w.dids {
		if d.Alg == alg && d.Index >= next {
			next = d.Index + 1
		}
	}
	return next
}

// registeredWith reports whether id resolves to a document in which kid is
// pub, authorised for authentication.
func registeredWith(ctx context.Context, reg Registry, id, kid string, pub key.PublicKey) bool {
	res, err := reg.Resolve(ctx, id)
	return err == nil && names(res, kid, pub)
}

// names reports whether res is a live document in which kid is pub,
// authorised for authentication.
func names(res *did.Resolution, kid string, pub key.PublicKey) bool {
	if res == nil || res.Document == nil || res.Metadata.Deactivated {
		return false
	}
	got, err := res.Document.Key(kid, did.Authentication)
	return err == nil && got.Equal(pub)
}

// DefaultGapLimit is how many consecutive unregistered indices
// [Wallet.FindRegistered] tries before it stops looking.
const DefaultGapLimit = 5

// MaxRotationSearch bounds how many further indices
// [Wallet.FindRegistered] derives while looking for the current key of a
// did:medid whose key was rotated ([Wallet.RotateKey]).
const MaxRotationSearch = 1000

// FindRegistered brings back the did:medid identities of this wallet's
// phrase from the registry, for a wallet recovered from the phrase alone.
// For each key type it derives the did:medid of index 0, 1, 2, ... and asks
// the registry; it stops after gap consecutive indices that are not
// registered (gap <= 0 means DefaultGapLimit). A DID found is stored (as
// "recovered") unless the wallet has it already; deactivated ones are
// skipped. A DID whose key was rotated (its document no longer lists the
// key it was derived from) is stored with its current key once a later
// index derives it; while such a key is missing, keys (not registry
// lookups) are derived for up to [MaxRotationSearch] further indices. A DID controlled by no key of this phrase
// is left alone. It returns the DIDs it added. Any registry error other
// than "not found" stops the search with an error, so a flaky network is
// not mistaken for an empty history.
func (w *Wallet) FindRegistered(ctx context.Context, reg Registry, gap int) ([]DID, error) {
	if reg == nil {
		return nil, ErrNoRegistry
	}
	if gap <= 0 {
		gap = DefaultGapLimit
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return nil, err
	}
	var added []DID
	// adopt stores id, controlled by k (at index i) under kid.
	adopt := func(id, kid string, alg key.Alg, i uint32, k *key.PrivateKey, res *did.Resolution) error {
		now := w.cfg.now().UTC()
		d := &DID{DID: id, Method: MethodMedid, Alg: alg, Index: i, KeyID: kid, Label: "recovered", Created: now, Registered: res.Metadata.Created}
		if err := w.putDIDLocked(d); err != nil {
			return err
		}
		w.keys[id] = k
		added = append(added, *d)
		return nil
	}
	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		// rotated maps the multikey of a current authentication key to the
		// found DID it controls, for DIDs whose original key was rotated.
		rotated := map[string]*did.Resolution{}
		misses, sinceRotated := 0, 0
		for i := uint32(0); ; i++ {
			// Past the gap, only keys are derived (no registry lookups),
			// to match the current keys of rotated DIDs.
			lookup := misses < gap
			if !lookup && (len(rotated) == 0 || sinceRotated >= MaxRotationSearch) {
				break
			}
			k, err := deriveKey(w.seed, alg, i)
			if err != nil {
				return added, err
			}
			if res, ok := rotated[k.Public().Multikey()]; ok {
				delete(rotated, k.Public().Multikey())
				if kid, ok := tx.ControllerKID(res.Document, k.Public()); ok {
					if _, have := w.dids[res.Document.ID]; !have {
						if err := adopt(res.Document.ID, kid, alg, i, k, res); err != nil {
							k.Destroy()
							return added, err
						}
						misses, sinceRotated = 0, 0
						continue // k is now the DID's key; its own did:medid was never registered
					}
				}
			}
			sinceRotated++
			if !lookup {
				k.Destroy()
				continue
			}
			tmpl, err := tx.KeyTemplate(k.Public())
			if err != nil {
				k.Destroy()
				return added, err
			}
			id, err := tx.DeriveDID(tmpl)
			if err != nil {
				k.Destroy()
				return added, err
			}
			res, err := reg.Resolve(ctx, id)
			switch {
			case errors.Is(err, did.ErrNotFound):
				misses++
				k.Destroy()
				continue
			case errors.Is(err, did.ErrDeactivated):
				misses = 0
				k.Destroy()
				continue
			case err != nil:
				k.Destroy()
				return added, fmt.Errorf("look up %s: %w", id, err)
			}
			misses = 0
			if _, have := w.dids[id]; have || res == nil || res.Document == nil || res.Metadata.Deactivated {
				k.Destroy()
				continue
			}
			kid, ok := tx.ControllerKID(res.Document, k.Public())
			if !ok {
				// Rotated: a later index may hold its current key.
				for _, ref := range res.Document.Refs(did.Authentication) {
					if pub, err := res.Document.Key(ref, did.Authentication); err == nil {
						rotated[pub.Multikey()] = res
					}
				}
				sinceRotated = 0
				k.Destroy()
				continue
			}
			if err := adopt(id, kid, alg, i, k, res); err != nil {
				k.Destroy()
				return added, err
			}
		}
	}
	return added, nil
}
