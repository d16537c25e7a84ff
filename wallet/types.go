package wallet

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// Status is what the wallet last learnt about a credential's standing.
type Status string

// Credential statuses. A revoked or suspended credential is marked, never
// silently dropped: the patient decides what to do with it.
const (
	StatusValid     Status = "valid"
	StatusRevoked   Status = "revoked"
	StatusSuspended Status = "suspended"
	StatusExpired   Status = "expired"
	// StatusInvalid: the credential no longer verifies (e.g. its issuer's
	// DID was deactivated); StatusDetail has the reason.
	StatusInvalid Status = "invalid"
)

// Credential is a stored verifiable credential with the metadata the wallet
// keeps about it. The token is the vc+jwt exactly as received.
type Credential struct {
	// ID is the wallet's id for the credential: the first 16 hex digits of
	// SHA-256 over the token (so receiving the same token twice is noticed).
	ID    string `json:"id"`
	Token string `json:"token,omitempty"`
	// VCID is the credential's own "id" property, if any.
	VCID    string   `json:"vcId,omitempty"`
	Issuer  string   `json:"issuer"`
	Types   []string `json:"types"`
	Name    string   `json:"name,omitempty"`
	Subject string   `json:"subject"` // credentialSubject.id: one of the wallet's DIDs
	// Attributes are the names of the credentialSubject claims (not values).
	Attributes      []string   `json:"attributes"`
	ValidFrom       *time.Time `json:"validFrom,omitempty"`
	ValidUntil      *time.Time `json:"validUntil,omitempty"`
	ReceivedAt      time.Time  `json:"receivedAt"`
	StatusCheckedAt time.Time  `json:"statusCheckedAt"`
	Status          Status     `json:"status"`
	// StatusDetail explains a non-valid status (a verify reason code and detail).
	StatusDetail string `json:"statusDetail,omitempty"`
	// HasStatusList reports whether the credential carries a credentialStatus.
	HasStatusList bool `json:"hasStatusList,omitempty"`
	// Format is FormatSDJWT for an SD-JWT VC; "" for a vc+jwt. An SD-JWT VC
	// is presented on its own with [Wallet.PresentSDJWT], disclosing only
	// chosen claims; its Attributes are its disclosable claim paths.
	Format string `json:"format,omitempty"`
}

// FormatSDJWT marks a stored SD-JWT VC (dc+sd-jwt).
const FormatSDJWT = "dc+sd-jwt"

// HasType reports whether t is one of the credential's types.
func (c *Credential) HasType(t string) bool { return slices.Contains(c.Types, t) }

// Filter selects credentials in [Wallet.Credentials]. Empty fields match all.
type Filter struct {
	Type   string // a type the credential has, e.g. "AllergyCredential"
	Issuer string // the issuer DID
	Status Status
}

func (f Filter) match(c *Credential) bool {
	return (f.Type == "" || c.HasType(f.Type)) &&
		(f.Issuer == "" || c.Issuer == f.Issuer) &&
		(f.Status == "" || c.Status == f.Status)
}

// History event kinds.
const (
	EventPresented = "presented"
	EventReceived  = "received"
	EventDeleted   = "deleted"
)

// HistoryEntry records something the wallet did with credentials: above
// all, each presentation (what was shared, with whom, when). It names
// attributes, never their values.
type HistoryEntry struct {
	ID string `json:"id"`
	// Seq orders entries (1, 2, ...); clocks can repeat or go backwards.
	Seq         uint64             `json:"seq"`
	At          time.Time          `json:"at"`
	Kind        string             `json:"kind"`
	Audience    string             `json:"audience,omitempty"`
	Holder      string             `json:"holder,omitempty"`
	Credentials []SharedCredential `json:"credentials"`
}

// SharedCredential describes one credential in a [HistoryEntry].
type SharedCredential struct {
	ID         string   `json:"id"`
	Issuer     string   `json:"issuer"`
	Types      []string `json:"types"`
	Attributes []string `json:"attributes"`
}

func sortHistory(h []HistoryEntry) {
	slices.SortStableFunc(h, func(a, b HistoryEntry) int {
		if a.Seq != b.Seq {
			return cmp.Compare(a.Seq, b.Seq)
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// Verdict is the outcome of verifying a credential, as the wallet needs it.
type Verdict struct {
	Valid bool
	// Reason is a credentials/verify reason code when not valid
	// (bad_signature, expired, revoked, suspended, status_unavailable, ...).
	Reason string
	Detail string
}

// Verifier checks a vc+jwt: signature against the issuer's DID, validity
// period, status list, and optionally accreditation. [VerifyWith] adapts a
// credentials/verify Verifier.
type Verifier interface {
	VerifyCredential(ctx context.Context, token string) Verdict
}
