package ledger

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medid/medid/credentials/validity"
)

// Key prefixes of the state tree. Every key is a prefix followed by an
// identifier; versioned keys end in "/" and a 20-digit zero-padded decimal
// version so lexical order is numeric order. DIDs and list ids never contain
// "/", so a prefix scan of one DID's versions cannot reach another DID.
const (
	PrefixGovernance    = "gov/"  // gov/<did:key> -> GovernanceRecord
	PrefixDID           = "did/"  // did/<did> -> DIDRecord (current version)
	PrefixDIDVersion    = "didv/" // didv/<did>/<version> -> DIDRecord (every version, or superseded ones: see StateLayout)
	PrefixIssuer        = "iss/"  // iss/<did> -> IssuerRecord (full history)
	PrefixStatusList    = "sl/"   // sl/<id> -> StatusListRecord (latest version)
	PrefixStatusListVer = "slv/"  // slv/<id>/<version> -> StatusListRecord (every version)
	PrefixTx            = "tx/"   // tx/<hex replay id> -> TxRecord
)

// GovernanceKey returns the state key of a governance DID.
func GovernanceKey(did string) []byte { return []byte(PrefixGovernance + did) }

// DIDKey returns the state key of a DID's current record. A /did query
// proves this key.
func DIDKey(did string) []byte { return []byte(PrefixDID + did) }

// DIDVersionKey returns the state key of one version of a DID's record
// (in [LayoutRecordsOnce], of a superseded version only: the current one is
// at [DIDKey]).
func DIDVersionKey(did string, version int64) []byte {
	return []byte(fmt.Sprintf("%s%s/%020d", PrefixDIDVersion, did, version))
}

// IssuerKey returns the state key of an issuer's accreditation record. An
// /issuer query proves this key.
func IssuerKey(did string) []byte { return []byte(PrefixIssuer + did) }

// StatusListKey returns the state key of the latest version of a status
// list. A /statuslist query proves this key.
func StatusListKey(id string) []byte { return []byte(PrefixStatusList + id) }

// StatusListVersionKey returns the state key of one version of a status list.
func StatusListVersionKey(id string, version int64) []byte {
	return []byte(fmt.Sprintf("%s%s/%020d", PrefixStatusListVer, id, version))
}

// TxKey returns the state key recording a committed transaction, by its
// replay id (tx.Tx.ReplayID).
func TxKey(replayID [32]byte) []byte { return []byte(fmt.Sprintf("%s%x", PrefixTx, replayID)) }

// DocumentMetadata is DID document metadata as the DID Resolution
// specification names it. It has the same fields in the same order as
// credentials/did.DocumentMetadata, so callers convert with
// did.DocumentMetadata(m). Times are block times (UTC).
type DocumentMetadata struct {
	Created       *time.Time `json:"created,omitempty"`
	Updated       *time.Time `json:"updated,omitempty"`
	VersionID     string     `json:"versionId,omitempty"`
	NextVersionID string     `json:"nextVersionId,omitempty"`
	Deactivated   bool       `json:"deactivated,omitempty"`
}

// DIDRecord is one version of a DID as stored: the document JSON exactly as
// registered (for did.create, the document whose canonical form derives the
// DID) and its metadata. VersionIDs are decimal counters "1", "2", …; a
// deactivation is a version too, carrying the last document.
type DIDRecord struct {
	DID      string           `json:"did"`
	Document json.RawMessage  `json:"document"`
	Metadata DocumentMetadata `json:"metadata"`
	// Height is the block height that wrote this version.
	Height int64 `json:"height"`
}

// GovernanceRecord marks a governance DID (from genesis).
type GovernanceRecord struct {
	DID string `json:"did"`
}

// IssuerRecord is an issuer's accreditation history, oldest first. Records
// are never deleted: a revocation is added to the accreditation it ends.
type IssuerRecord struct {
	DID            string          `json:"did"`
	Accreditations []Accreditation `json:"accreditations"`
}

// Accreditation grants an issuer the right to issue some credential types
// during [ValidFrom, ValidUntil) (ValidUntil nil = open-ended), unless
// revoked from Revocation.EffectiveAt on.
type Accreditation struct {
	ID              string     `json:"id"`
	CredentialTypes []string   `json:"credentialTypes"`
	ValidFrom       time.Time  `json:"validFrom"`
	ValidUntil      *time.Time `json:"validUntil,omitempty"`
	// GrantedBy is the governance DID that signed the accreditation.
	GrantedBy string `json:"grantedBy"`
	// Granted is the block time of the accrediting transaction.
	Granted    time.Time   `json:"granted"`
	Height     int64       `json:"height"`
	Revocation *Revocation `json:"revocation,omitempty"`
	// Proposal is the governance proposal whose quorum granted it ("" when
	// one governance signature did).
	Proposal string `json:"proposal,omitempty"`
}

// Revocation ends an accreditation.
type Revocation struct {
	// EffectiveAt is when the accreditation stops: revokedAt from the
	// transaction, or its block time.
	EffectiveAt time.Time `json:"effectiveAt"`
	RevokedBy   string    `json:"revokedBy"`
	// Recorded is the block time of the revoking transaction.
	Recorded time.Time `json:"recorded"`
	Height   int64     `json:"height"`
	// Proposal is the governance proposal whose quorum revoked it ("" when
	// one governance signature did).
	Proposal string `json:"proposal,omitempty"`
}

// ActiveAt reports whether a covers credType at time at: credType is listed,
// ValidFrom <= at, at < ValidUntil (if set), at < Revocation.EffectiveAt (if
// revoked).
func (a *Accreditation) ActiveAt(credType string, at time.Time) bool {
	if !slices.Contains(a.CredentialTypes, credType) {
		return false
	}
	st, _ := a.StateAt(at)
	return st == AccreditationInForce
}

// States of an accreditation at a time ([Accreditation.StateAt]).
const (
	AccreditationInForce = "in force"
	AccreditationNotYet  = "not yet in force"
	AccreditationEnded   = "ended"
	AccreditationRevoked = "revoked"
)

// StateAt says what a is at time at, for the credential types it lists,
// and since when: [AccreditationRevoked] from Revocation.EffectiveAt on
// (a revocation outranks the period), else [AccreditationEnded] from a set
// ValidUntil on, [AccreditationNotYet] before ValidFrom (since is then
// when it starts), [AccreditationInForce] since ValidFrom otherwise. It is
// the rule [Accreditation.ActiveAt] applies.
func (a *Accreditation) StateAt(at time.Time) (state string, since time.Time) {
	p := validity.Period{From: a.ValidFrom, Until: a.ValidUntil}
	switch {
	case a.Revocation != nil && validity.RevokedAt(true, &a.Revocation.EffectiveAt, at):
		return AccreditationRevoked, a.Revocation.EffectiveAt
	case p.Contains(at):
		return AccreditationInForce, a.ValidFrom
	case at.Before(a.ValidFrom):
		return AccreditationNotYet, a.ValidFrom
	}
	return AccreditationEnded, *a.ValidUntil
}

// AccreditedAt reports whether any of r's accreditations covers credType at
// time at (see [Accreditation.ActiveAt]).
func (r *IssuerRecord) AccreditedAt(credType string, at time.Time) bool {
	for i := range r.Accreditations {
		if r.Accreditations[i].ActiveAt(credType, at) {
			return true
		}
	}
	return false
}

// InForceAt reports whether any of r's accreditations, for any credential
// type, is in force at time at: the signer is an issuer the network's
// governance vouches for (its writes count as [OriginVouched]).
func (r *IssuerRecord) InForceAt(at time.Time) bool {
	for i := range r.Accreditations {
		a := &r.Accreditations[i]
		if len(a.CredentialTypes) > 0 && a.ActiveAt(a.CredentialTypes[0], at) {
			return true
		}
	}
	return false
}

// StatusListRecord is one version of a status list: the status list
// credential (vc+jwt) exactly as the owner signed it.
// PurposeTokenStatusList is the Purpose of a StatusListRecord holding an
// IETF Token Status List (statuslist+jwt) rather than a Bitstring Status
// List credential; its CredentialID is the list's URI (the token's sub).
const PurposeTokenStatusList = "token-status-list"

type StatusListRecord struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
	// Owner is the DID that published version 1; only it may publish more.
	Owner string `json:"owner"`
	// CredentialID is the credential's id (the URL status entries name) and
	// Purpose its statusPurpose; both are fixed by version 1.
	CredentialID string `json:"credentialId"`
	Purpose      string `json:"purpose"`
	Credential   string `json:"credential"`
	// Published is the block time of the publishing transaction.
	Published time.Time `json:"published"`
	Height    int64     `json:"height"`
}

// TxRecord records a committed transaction under its replay id.
type TxRecord struct {
	Height int64  `json:"height"`
	Index  int    `json:"index"`
	Hash   string `json:"hash"` // hex SHA-256 of the raw transaction
}

// ValidKeyPart reports whether s can be embedded in a key: non-empty, no "/".
func ValidKeyPart(s string) bool { return s != "" && !strings.Contains(s, "/") }

// ResolveOptions selects a version of a DID document. At most one field may
// be set; the zero value selects the current version.
type ResolveOptions struct {
	// VersionID selects the version with this versionId ("1", "2", …).
	VersionID string
	// VersionTime selects the version that was current at this time: the
	// last version whose update (or creation) block time is not after it.
	VersionTime *time.Time
}

// VersionTime is when a DID version became current.
func (r *DIDRecord) VersionTime() time.Time {
	if r.Metadata.Updated != nil {
		return *r.Metadata.Updated
	}
	if r.Metadata.Created != nil {
		return *r.Metadata.Created
	}
	return time.Time{}
}
