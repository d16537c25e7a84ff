package ledger

import (
	"time"

	"github.com/medid/medid/credentials/consent"
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

// Status returns the record as the registry answers for it (the body of
// GET /1.0/consents/{hash}) with InForce evaluated at time at by
// [consent.Status.InForceAt], the one definition of "in force".
func (r *ConsentRecord) Status(at time.Time) *consent.Status {
	st := &consent.Status{
		Hash:           r.Hash,
		Patient:        r.Patient,
		ValidFrom:      r.ValidFrom,
		ValidUntil:     r.ValidUntil,
		Revoked:        r.RevokedAt != nil,
		RevokedAt:      r.RevokedAt,
		AnchoredHeight: r.AnchoredHeight,
		At:             at.UTC(),
	}
	st.InForce = st.InForceAt(at)
	return st
}
