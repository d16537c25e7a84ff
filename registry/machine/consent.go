package machine

import (
	"errors"
	"fmt"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// consentAnchor applies consent.anchor: the acting DID (whose
// authentication key signed, see signingKey) becomes the grant's patient.
func (a *App) consentAnchor(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	p := &t.Payload
	k := ledger.ConsentKey(p.GrantHash)
	if v, err := r.Get(k); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ledger.ErrInternal, err)
	} else if v != nil {
		return nil, nil, fmt.Errorf("%w: consent grant %s is anchored (a grant is anchored once; issue a new grant to change it)", ledger.ErrExists, p.GrantHash)
	}
	rec := ledger.ConsentRecord{Hash: p.GrantHash, Patient: p.DID, Anchored: env.time, AnchoredHeight: env.height}
	var err error
	// Payload.Validate (run by tx.Decode) already parsed these times.
	if rec.ValidFrom, err = tx.ParseTime(p.ValidFrom); err != nil {
		return nil, nil, fmt.Errorf("%w: validFrom: %v", ledger.ErrMalformed, err)
	}
	if p.ValidUntil != "" {
		u, err := tx.ParseTime(p.ValidUntil)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: validUntil: %v", ledger.ErrMalformed, err)
		}
		rec.ValidUntil = &u
	}
	v, err := marshal(rec)
	if err != nil {
		return nil, nil, err
	}
	return []write{{k, v}}, &receipt{Type: p.Type, DID: p.DID, GrantHash: p.GrantHash}, nil
}

// consentRevoke applies consent.revoke: only the patient who anchored the
// grant may revoke it, once.
func (a *App) consentRevoke(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	p := &t.Payload
	rec, err := getJSON[ledger.ConsentRecord](r, ledger.ConsentKey(p.GrantHash))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: consent grant %s is not anchored", err, p.GrantHash)
	}
	if rec.Patient != p.DID {
		return nil, nil, fmt.Errorf("%w: consent grant %s was anchored by another DID: only its patient may revoke it", ledger.ErrUnauthorized, p.GrantHash)
	}
	if rec.RevokedAt != nil {
		return nil, nil, fmt.Errorf("%w: consent grant %s was revoked at height %d (revocation is final)", ledger.ErrExists, p.GrantHash, rec.RevokedHeight)
	}
	at := env.time
	rec.RevokedAt, rec.RevokedHeight = &at, env.height
	v, err := marshal(rec)
	if err != nil {
		return nil, nil, err
	}
	return []write{{ledger.ConsentKey(p.GrantHash), v}}, &receipt{Type: p.Type, DID: p.DID, GrantHash: p.GrantHash}, nil
}

// ConsentStatus returns the ledger record of a consent grant by its hash
// (hex SHA-256 of the grant token, see credentials/consent.Hash) from the
// latest committed state. It returns an error wrapping [ErrNotFound] when
// the hash was never anchored (or is not a well-formed hash). Safe for
// concurrent use.
func (a *App) ConsentStatus(hash string) (*ledger.ConsentRecord, error) {
	if !tx.ValidGrantHash(hash) {
		return nil, fmt.Errorf("%w: %.80q is not a grant hash (64 lowercase hex digits)", ledger.ErrNotFound, hash)
	}
	view, _ := a.view()
	rec, err := getJSON[ledger.ConsentRecord](view, ledger.ConsentKey(hash))
	if err != nil {
		if errors.Is(err, ledger.ErrNotFound) {
			return nil, fmt.Errorf("%w: consent grant %s is not anchored", err, hash)
		}
		return nil, err
	}
	return rec, nil
}
