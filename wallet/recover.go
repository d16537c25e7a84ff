package wallet

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/registry/tx"
)

// DefaultRecoveryGap is how many consecutive unused key indices
// [Wallet.RestoreIdentities] looks at past the last used one before it
// stops, as HD wallets do (BIP-44 uses 20).
const DefaultRecoveryGap = 20

// RecoverySources are where [Wallet.RestoreIdentities] looks for traces of
// the identities a recovery phrase made. Every key a phrase makes has an
// index (per key type) handed out in order, whatever it was used for, so
// the highest index with a trace bounds them all.
type RecoverySources struct {
	// Registry finds the registered did:medid identities (and their keys
	// after rotations). Nil: none are searched.
	Registry Registry
	// Vaults are hospital vault URLs where the patient's records may be: a
	// did:key that has an access trail at one of them was used. The probe
	// is the patient's own signed access-log request, which leaves no
	// trail entry.
	Vaults []string
	// HTTP is the client for the vaults; nil means one with a 30 s timeout.
	HTTP *http.Client
	// Gap is how many consecutive unused indices end the search;
	// 0 means DefaultRecoveryGap.
	Gap int
}

// RecoveryReport says what [Wallet.RestoreIdentities] brought back, how far
// it looked, and what does not come back from a phrase.
type RecoveryReport struct {
	// Added are the identities added to the wallet (did:medid ones first).
	Added []DID
	// Used is, per key type, one more than the highest index with a trace
	// (0: none): every index below it was handed out.
	Used map[key.Alg]uint32
	// Searched is, per key type, the first index not looked at.
	Searched map[key.Alg]uint32
	// NotRestored lists, for people, what the phrase does not bring back.
	NotRestored []string
}

// notFromPhrase is what no recovery phrase carries.
var notFromPhrase = []string{
	"credentials, consent grants and their tokens, the sharing history: they are only in the wallet and its backups (medid wallet restore)",
	"names given to identities, and which relationship a pairwise DID was made for: recovered identities are labelled \"recovered\"",
	"settings: the registry and vault addresses, the auto-lock time",
}

// RestoreIdentities brings back every identity of this wallet's recovery
// phrase that left a trace: for each key type it derives keys at index 0,
// 1, 2, ... and counts an index as used when its did:medid is registered
// (src.Registry) or its did:key has an access trail at one of src.Vaults;
// it stops after src.Gap consecutive unused indices. Then the registered
// did:medid identities are stored (as [Wallet.FindRegistered] does, rotated
// keys included), and a did:key for every index up to the last used one
// that is not a did:medid key: indices are handed out in order, so each of
// those was an identity of the wallet. The primary identity (Ed25519 index
// 0) is always there. Any source error other than "not found" stops the
// search with an error, so a flaky network is not mistaken for an unused
// identity; what was added before the error stays.
func (w *Wallet) RestoreIdentities(ctx context.Context, src RecoverySources) (*RecoveryReport, error) {
	gap := src.Gap
	if gap <= 0 {
		gap = DefaultRecoveryGap
	}
	rep := &RecoveryReport{Used: map[key.Alg]uint32{}, Searched: map[key.Alg]uint32{}}
	medidAt := map[key.Alg]map[uint32]bool{}
	w.mu.Lock()
	if err := w.use(); err != nil {
		w.mu.Unlock()
		return nil, err
	}
	seed := append([]byte(nil), w.seed...)
	w.mu.Unlock()
	defer clear(seed)

	// Probe without holding the wallet: it is network I/O.
	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		medidAt[alg] = map[uint32]bool{}
		misses := 0
		var i uint32
		if alg == key.Ed25519 {
			// The primary identity (Ed25519 index 0) always exists.
			rep.Used[alg], i = 1, 1
		}
		for ; misses < gap; i++ {
			medid, keyUsed, err := probeIndex(ctx, src, seed, alg, i)
			if err != nil {
				rep.Searched[alg] = i
				return rep, err
			}
			if medid {
				medidAt[alg][i] = true
			}
			if medid || keyUsed {
				misses = 0
				rep.Used[alg] = i + 1
				continue
			}
			misses++
		}
		rep.Searched[alg] = i
	}

	if src.Registry != nil {
		// Look at least as far as the probe did: a run of did:keys may
		// separate two did:medid identities.
		found, err := w.FindRegistered(ctx, src.Registry, gap+int(max(rep.Used[key.Ed25519], rep.Used[key.P256])))
		rep.Added = append(rep.Added, found...)
		if err != nil {
			return rep, err
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return rep, err
	}
	medidKey := map[key.Alg]map[uint32]bool{key.Ed25519: {}, key.P256: {}}
	for _, d := range w.dids {
		if d.Method == MethodMedid {
			medidKey[d.Alg][d.Index] = true
		}
	}
	now := w.cfg.now()
	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		for i := range rep.Used[alg] {
			if medidAt[alg][i] || medidKey[alg][i] {
				continue // a did:medid's key, not an identity of its own
			}
			d, k, err := newKeyDID(seed, alg, i, now)
			if err != nil {
				return rep, err
			}
			if _, have := w.dids[d.DID]; have {
				k.Destroy()
				continue
			}
			d.Label = "recovered"
			if err := w.putDIDLocked(d); err != nil {
				k.Destroy()
				return rep, err
			}
			w.keys[d.DID] = k
			rep.Added = append(rep.Added, *d)
		}
	}
	rep.NotRestored = append(rep.NotRestored, notFromPhrase...)
	var where string
	switch {
	case src.Registry != nil && len(src.Vaults) > 0:
		where = "at the registry or the vaults searched"
	case src.Registry != nil:
		where = "at the registry (name the hospitals' vaults too to find did:keys with records there)"
	case len(src.Vaults) > 0:
		where = "at the vaults searched (give a registry too to find did:medid identities)"
	default:
		where = "anywhere: no registry or vault was searched, so only the primary identity came back"
	}
	last := func(alg key.Alg) string {
		if rep.Used[alg] == 0 {
			return "none"
		}
		return fmt.Sprintf("index %d", rep.Used[alg]-1)
	}
	rep.NotRestored = append(rep.NotRestored, fmt.Sprintf(
		"identities made after the last one that left a trace %s (Ed25519: %s, P-256: %s) and followed by %d or more unused ones: if you had more, make them again by count (medid wallet recover --ed25519 N --p256 N)",
		where, last(key.Ed25519), last(key.P256), gap))
	return rep, nil
}

// probeIndex reports whether the did:medid of the key at (alg, i) is
// registered (even if deactivated or rotated away) and whether its did:key
// has an access trail at one of the vaults.
func probeIndex(ctx context.Context, src RecoverySources, seed []byte, alg key.Alg, i uint32) (medid, keyUsed bool, err error) {
	k, err := deriveKey(seed, alg, i)
	if err != nil {
		return false, false, err
	}
	defer k.Destroy()
	if src.Registry != nil {
		tmpl, err := tx.KeyTemplate(k.Public())
		if err != nil {
			return false, false, err
		}
		id, err := tx.DeriveDID(tmpl)
		if err != nil {
			return false, false, err
		}
		_, err = src.Registry.Resolve(ctx, id)
		switch {
		case err == nil, errors.Is(err, did.ErrDeactivated):
			return true, false, nil
		case !errors.Is(err, did.ErrNotFound):
			return false, false, fmt.Errorf("look up %s: %w", id, err)
		}
	}
	for _, u := range src.Vaults {
		c, err := vaultclient.New(ctx, vaultclient.Config{URL: u, Key: k, HTTP: src.HTTP})
		if err != nil {
			return false, false, err
		}
		resp, err := c.AccessLog(ctx)
		if err != nil {
			return false, false, fmt.Errorf("ask the vault %s about %s: %w", u, c.DID, err)
		}
		if len(resp.Entries) > 0 {
			return false, true, nil
		}
	}
	return false, false, nil
}
