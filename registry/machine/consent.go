package machine

import (
	"errors"
	"fmt"
	"time"

	"github.com/medid/medid/registry/tx"
)

// PrefixConsent keys consent anchors: cst/<grant hash> -> ConsentRecord.
const PrefixConsent = "cst/"

// QueryConsent is the ABCI query path of a consent anchor: Data = grant hash
// (64 lowercase hex digits) -> ConsentRecord at [ConsentKey].
const QueryConsent = "/consent"

// ConsentKey returns the state key of a consent anchor. A /consent query
// proves this key.
func ConsentKey(grantHash string) []byte { return []byte(PrefixConsent + grantHash) }

// ConsentRecord is a consent grant as the ledger knows it: the grant's hash,
// the patient who anchored it (who must be the grant's issuer), its period,
// and whether and when the patient revoked it. It holds no health data: the
// grant itself (provider, purposes, data classes) stays with the patient and
// the provider, who present it; the ledger only says whether that exact
// token is in force.
type ConsentRecord struct {
	Hash    string `json:"hash"`
	Patient string `json:"patient"`
	// ValidFrom and ValidUntil (nil = open-ended) are the grant's period,
	// as the anchoring transaction stated it.
	ValidFrom  time.Time  `json:"validFrom"`
	ValidUntil *time.Time `json:"validUntil,omitempty"`
	// Anchored is the block time of the anchoring transaction.
	Anchored       time.Time `json:"anchored"`
	AnchoredHeight int64     `json:"anchoredHeight"`
	// RevokedAt is the block time of the revoking transaction (nil if not
	// revoked); a revocation is final.
	RevokedAt     *time.Time `json:"revokedAt,omitempty"`
	RevokedHeight int64      `json:"revokedHeight,omitempty"`
}

// InForceAt reports whether the anchored grant is in force at time at:
// ValidFrom <= at, at < ValidUntil (if set), and at < RevokedAt (if revoked).
func (r *ConsentRecord) InForceAt(at time.Time) bool {
	if at.Before(r.ValidFrom) {
		return false
	}
	if r.ValidUntil != nil && !at.Before(*r.ValidUntil) {
		return false
	}
	if r.RevokedAt != nil && !at.Before(*r.RevokedAt) {
		return false
	}
	return true
}

// consentAnchor applies consent.anchor: the acting DID (whose
// authentication key signed, see signingKey) becomes the grant's patient.
func (a *App) consentAnchor(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	p := &t.Payload
	k := ConsentKey(p.GrantHash)
	if v, err := r.Get(k); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInternal, err)
	} else if v != nil {
		return nil, nil, fmt.Errorf("%w: consent grant %s is anchored (a grant is anchored once; issue a new grant to change it)", ErrExists, p.GrantHash)
	}
	rec := ConsentRecord{Hash: p.GrantHash, Patient: p.DID, Anchored: env.time, AnchoredHeight: env.height}
	var err error
	// Payload.Validate (run by tx.Decode) already parsed these times.
	if rec.ValidFrom, err = tx.ParseTime(p.ValidFrom); err != nil {
		return nil, nil, fmt.Errorf("%w: validFrom: %v", ErrMalformed, err)
	}
	if p.ValidUntil != "" {
		u, err := tx.ParseTime(p.ValidUntil)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: validUntil: %v", ErrMalformed, err)
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
	rec, err := getJSON[ConsentRecord](r, ConsentKey(p.GrantHash))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: consent grant %s is not anchored", err, p.GrantHash)
	}
	if rec.Patient != p.DID {
		return nil, nil, fmt.Errorf("%w: consent grant %s was anchored by another DID: only its patient may revoke it", ErrUnauthorized, p.GrantHash)
	}
	if rec.RevokedAt != nil {
		return nil, nil, fmt.Errorf("%w: consent grant %s was revoked at height %d (revocation is final)", ErrExists, p.GrantHash, rec.RevokedHeight)
	}
	at := env.time
	rec.RevokedAt, rec.RevokedHeight = &at, env.height
	v, err := marshal(rec)
	if err != nil {
		return nil, nil, err
	}
	return []write{{ConsentKey(p.GrantHash), v}}, &receipt{Type: p.Type, DID: p.DID, GrantHash: p.GrantHash}, nil
}

// ConsentStatus returns the ledger record of a consent grant by its hash
// (hex SHA-256 of the grant token, see credentials/consent.Hash) from the
// latest committed state. It returns an error wrapping [ErrNotFound] when
// the hash was never anchored (or is not a well-formed hash). Safe for
// concurrent use.
func (a *App) ConsentStatus(hash string) (*ConsentRecord, error) {
	if !tx.ValidGrantHash(hash) {
		return nil, fmt.Errorf("%w: %.80q is not a grant hash (64 lowercase hex digits)", ErrNotFound, hash)
	}
	view, _ := a.view()
	rec, err := getJSON[ConsentRecord](view, ConsentKey(hash))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%w: consent grant %s is not anchored", err, hash)
		}
		return nil, err
	}
	return rec, nil
}
