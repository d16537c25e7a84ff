package vaultapi

import (
	"time"

	"github.com/medid/medid/registry/hospital/trail"
)

// AuthScheme is the Authorization scheme carrying a signed request.
const AuthScheme = "MedID-Request"

// Info is what GET /1.0/vault answers: the vault's DID (the audience of
// requests and the signer of trail anchors).
type Info struct {
	DID string `json:"did"`
}

// AccessLogResponse is the answer of GET /1.0/vault/access-log.
type AccessLogResponse struct {
	Vault   string         `json:"vault"`
	Entries []trail.Proved `json:"entries"`
}

// MaxRecordSize bounds a stored FHIR resource (1 MiB).
const MaxRecordSize = 1 << 20

// Meta is what the vault knows about a record without decrypting it. It
// holds no clinical content.
type Meta struct {
	ID string `json:"id"`
	// Owner is the patient's DID (or a pairwise DID): the only party whose
	// consent opens the record and who may erase it.
	Owner string `json:"owner"`
	// Class is the FHIR resource type (e.g. AllergyIntolerance).
	Class string `json:"class"`
	// Hash is the hex SHA-256 of the stored resource bytes.
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
	// Erased is set once the record's data key was destroyed.
	Erased *time.Time `json:"erased,omitempty"`
}

// LicenceQueryID is the DCQL credential query id of a vault's licence
// request: the wallet answers with the licence under this id.
const LicenceQueryID = "licence"

// LicenceRequest is what POST /1.0/vault/licence/requests answers: an
// OpenID4VP request for the practitioner's licence, signed by the vault's
// DID. URI (openid4vp://…, also as a QR code) goes to the practitioner's
// wallet, which answers the vault directly (direct_post).
type LicenceRequest struct {
	URI        string    `json:"uri"`
	RequestURI string    `json:"request_uri"`
	State      string    `json:"state"`
	ClientID   string    `json:"client_id"`
	ExpiresAt  time.Time `json:"expires_at"`
}
