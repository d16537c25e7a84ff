package ledger

import (
	"time"

	"github.com/medid/medid/credentials/consent"
)

// PrefixConsent keys consent anchors:
// cst/<controller DID>/<grant hash> -> ConsentRecord.
const PrefixConsent = "cst/"

// ConsentKey returns the state key of the anchor of a consent grant's hash
// by controller (the grant's anchor DID, a did:key; it never contains '/').
// The key holds the controller, so whoever anchors a hash first takes
// nothing from anyone: a squatter's anchor of the same hash sits under the
// squatter's DID, and checkers look only under the DID the patient's grant
// names. Read and prove it with a QueryKey query. Anchors made before
// controllers were part of the key (cst/<grant hash>, naming the patient)
// stay in the state but are no longer read.
func ConsentKey(controller, grantHash string) []byte {
	return []byte(PrefixConsent + controller + "/" + grantHash)
}

// ConsentRecord is a consent grant as the ledger knows it: the grant's hash,
// the controller that anchored it (the grant's anchor DID, made for that
// grant alone, so no identifier of the patient), its period, and whether
// and when the controller revoked it. It holds no health data: the grant
// itself (patient, provider, purposes, data classes) stays with the patient
// and the provider, who present it; the ledger only says whether that exact
// token is in force.
type ConsentRecord struct {
	Hash       string `json:"hash"`
	Controller string `json:"controller"`
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
// GET /1.0/consents/{controller}/{hash}) with InForce evaluated at time at
// by [consent.Status.InForceAt], the one definition of "in force".
func (r *ConsentRecord) Status(at time.Time) *consent.Status {
	st := &consent.Status{
		Hash:           r.Hash,
		Controller:     r.Controller,
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
