package machine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// consentAnchor applies consent.anchor: the acting did:key (whose key
// signed, see signingKey) becomes the anchor's controller. The key holds
// the controller, so a hash anchored by someone else first blocks nobody.
func (a *App) consentAnchor(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	p := &t.Payload
	k := ledger.ConsentKey(p.DID, p.GrantHash)
	if v, err := r.Get(k); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ledger.ErrInternal, err)
	} else if v != nil {
		return nil, nil, fmt.Errorf("%w: %s anchored consent grant %s before (a grant is anchored once; issue a new grant to change it)", ledger.ErrExists, p.DID, p.GrantHash)
	}
	rec := ledger.ConsentRecord{Hash: p.GrantHash, Controller: p.DID, Anchored: env.time, AnchoredHeight: env.height}
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

// consentRevoke applies consent.revoke: a controller revokes its own anchor
// of a hash, once (it finds no other: the key holds the controller).
func (a *App) consentRevoke(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	p := &t.Payload
	rec, err := getJSON[ledger.ConsentRecord](r, ledger.ConsentKey(p.DID, p.GrantHash))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s has not anchored consent grant %s", err, p.DID, p.GrantHash)
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
	return []write{{ledger.ConsentKey(p.DID, p.GrantHash), v}}, &receipt{Type: p.Type, DID: p.DID, GrantHash: p.GrantHash}, nil
}

// ConsentStatus returns the ledger record of the anchor of a consent grant's
// hash (hex SHA-256 of the grant token, see credentials/consent.Hash) by
// controller (the grant's anchor DID) from the latest committed state. It
// returns an error wrapping [ledger.ErrNotFound] when controller never
// anchored hash (or either is malformed), whoever else did. Safe for
// concurrent use.
func (a *App) ConsentStatus(controller, hash string) (*ledger.ConsentRecord, error) {
	if !tx.ValidGrantHash(hash) {
		return nil, fmt.Errorf("%w: %.80q is not a grant hash (64 lowercase hex digits)", ledger.ErrNotFound, hash)
	}
	if !strings.HasPrefix(controller, "did:key:") || !ledger.ValidKeyPart(controller) {
		return nil, fmt.Errorf("%w: %.128q is not a consent anchor's controller (a did:key)", ledger.ErrNotFound, controller)
	}
	view, _ := a.view()
	rec, err := getJSON[ledger.ConsentRecord](view, ledger.ConsentKey(controller, hash))
	if err != nil {
		if errors.Is(err, ledger.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s has not anchored consent grant %s", err, controller, hash)
		}
		return nil, err
	}
	return rec, nil
}
