package tx

// Typed builders: one function per transaction type that returns a payload
// ready for [Sign], so no caller (the medid CLI, the wallet, the load test,
// the hospital vault, the test harnesses) writes a [Payload] literal or a
// nonce of its own. Each builder fills the type, the acting DID and a fresh
// nonce ([NewNonce]), formats times the way the ledger reads them, and
// returns the payload only if it passes [Payload.Validate]; errors wrap
// [ErrMalformed] and name the field to fix. A caller that needs a
// deterministic nonce (a replayable load, a golden test) overwrites
// Payload.Nonce before signing.

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/randid"
)

// NewNonce returns a fresh transaction nonce: 128 bits from crypto/rand as
// 32 lowercase hex digits (internal/randid), so two intents never share a
// replay id.
func NewNonce() string { return randid.Hex(16) }

// ValidID reports whether s can name a ledger object (listId,
// accreditationId, batchId): 1 to [MaxIDLen] bytes of [A-Za-z0-9._:-].
func ValidID(s string) bool { return validID(s) }

// NewKeyDIDCreate returns the did.create that registers the single-key
// did:medid of pub (the document of [KeyTemplate], bound with
// [BindDocument]) and the kid to sign it with: "<DID>#key-1". The DID is
// the payload's DID; it is a pure function of pub, so registering the same
// key twice names the same DID (and the ledger refuses the second).
func NewKeyDIDCreate(pub key.PublicKey) (*Payload, string, error) {
	tmpl, err := KeyTemplate(pub)
	if err != nil {
		return nil, "", err
	}
	p, err := NewDIDCreate(tmpl)
	if err != nil {
		return nil, "", err
	}
	return p, p.DID + "#" + KeyFragment, nil
}

// NewDIDCreate returns the did.create of a document template that names the
// DID as [Placeholder] (see [DeriveDID]): the payload's DID is the derived
// identifier and its document the bound one. Sign it with a key listed in
// the document's authentication.
func NewDIDCreate(template []byte) (*Payload, error) {
	id, doc, err := BindDocument(template)
	if err != nil {
		return nil, fmt.Errorf("build the DID document: %w", err)
	}
	return valid(&Payload{Type: DIDCreate, DID: id, Nonce: NewNonce(), Document: doc})
}

// NewDIDUpdate returns the did.update that replaces the document of id with
// document (the full new document, whose id is id) against the current
// version prevVersionID, so a concurrent change makes it fail instead of
// being overwritten. Sign it with a key in the CURRENT document's
// authentication (see [ControllerKID]).
func NewDIDUpdate(id string, document []byte, prevVersionID string) (*Payload, error) {
	return valid(&Payload{Type: DIDUpdate, DID: id, Nonce: NewNonce(), Document: document, PrevVersionID: prevVersionID})
}

// NewKeyRotation returns the did.update that rotates the keys of the DID
// current resolves to: every verification method is replaced by one
// Multikey holding newKey, listed for authentication and assertionMethod,
// under a fresh fragment "key-N" (N one more than the largest key-N ever
// used in the document, so a new key never reuses an old key's id); the
// other relationships are dropped and services kept. It returns the payload
// and the new key's kid. Sign it with a current authentication key
// ([ControllerKID]). current must be a live resolution with a versionId.
func NewKeyRotation(current *did.Resolution, newKey key.PublicKey) (*Payload, string, error) {
	if current == nil || current.Document == nil {
		return nil, "", fmt.Errorf("%w: did.update: no current document to rotate", ErrMalformed)
	}
	if current.Metadata.Deactivated {
		return nil, "", fmt.Errorf("%w: did.update: %s is deactivated", ErrMalformed, current.Document.ID)
	}
	if newKey.IsZero() {
		return nil, "", fmt.Errorf("%w: did.update: no new key", ErrMalformed)
	}
	doc := current.Document.Clone()
	newKID := doc.ID + "#" + nextKeyFragment(doc)
	doc.VerificationMethod = []did.VerificationMethod{{ID: newKID, Type: did.TypeMultikey, Controller: doc.ID, PublicKey: newKey}}
	doc.Authentication = []string{newKID}
	doc.AssertionMethod = []string{newKID}
	doc.CapabilityInvocation, doc.CapabilityDelegation, doc.KeyAgreement = nil, nil, nil
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, "", fmt.Errorf("did.update: %w", err)
	}
	p, err := NewDIDUpdate(doc.ID, body, current.Metadata.VersionID)
	if err != nil {
		return nil, "", err
	}
	return p, newKID, nil
}

// nextKeyFragment returns "key-N" with N one more than the largest key-N
// fragment in doc.
func nextKeyFragment(doc *did.Document) string {
	n := 0
	for _, vm := range doc.VerificationMethod {
		_, frag, _ := strings.Cut(vm.ID, "#")
		if rest, ok := strings.CutPrefix(frag, "key-"); ok {
			if i, err := strconv.Atoi(rest); err == nil && i > n {
				n = i
			}
		}
	}
	return "key-" + strconv.Itoa(n+1)
}

// ControllerKID returns the id of the verification method of doc that holds
// pub and is listed under authentication: the kid with which pub may sign a
// did.update or did.deactivate of doc's DID (and the DID's other
// transactions). ok is false when pub does not control the DID.
func ControllerKID(doc *did.Document, pub key.PublicKey) (kid string, ok bool) {
	if doc == nil {
		return "", false
	}
	for _, vm := range doc.VerificationMethod {
		if !vm.PublicKey.Equal(pub) {
			continue
		}
		if _, err := doc.Key(vm.ID, did.Authentication); err == nil {
			return vm.ID, true
		}
	}
	return "", false
}

// NewDIDDeactivate returns the did.deactivate of id at its current version
// prevVersionID. Deactivation is final.
func NewDIDDeactivate(id, prevVersionID string) (*Payload, error) {
	return valid(&Payload{Type: DIDDeactivate, DID: id, Nonce: NewNonce(), PrevVersionID: prevVersionID})
}

// Accreditation is what an issuer.accredit grants.
type Accreditation struct {
	// Issuer is the accredited DID (a registered did:medid or a did:key).
	Issuer string
	// Types are the credential types it may issue (at least one, distinct).
	Types []string
	// From is when the accreditation starts; zero means now (whole seconds).
	From time.Time
	// Until is when it ends; zero means open-ended. It must be after From.
	Until time.Time
	// ID names the accreditation (needed to revoke it); "" means a random
	// "acc-<16 hex digits>". It must satisfy [ValidID].
	ID string
}

// NewIssuerAccredit returns the issuer.accredit by the governance did:key
// governance granting a. Sign it with that governance key (kid
// "<did:key>#<multikey>"). The accreditation id is the payload's
// AccreditationID.
func NewIssuerAccredit(governance string, a Accreditation) (*Payload, error) {
	if a.ID == "" {
		a.ID = "acc-" + randid.Hex(8)
	}
	if a.From.IsZero() {
		a.From = time.Now().UTC().Truncate(time.Second)
	}
	p := &Payload{Type: IssuerAccredit, DID: governance, Nonce: NewNonce(), Issuer: a.Issuer,
		CredentialTypes: a.Types, ValidFrom: formatTime(a.From), AccreditationID: a.ID}
	if !a.Until.IsZero() {
		p.ValidUntil = formatTime(a.Until)
	}
	return valid(p)
}

// NewIssuerRevoke returns the issuer.revoke by the governance did:key
// governance that ends accreditation accreditationID of issuer at at (zero:
// the block time of the transaction).
func NewIssuerRevoke(governance, issuer, accreditationID string, at time.Time) (*Payload, error) {
	p := &Payload{Type: IssuerRevoke, DID: governance, Nonce: NewNonce(), Issuer: issuer, AccreditationID: accreditationID}
	if !at.IsZero() {
		p.RevokedAt = formatTime(at)
	}
	return valid(p)
}

// NewStatusListPublish returns the statuslist.publish of version (1 for a
// new list, then each next version) of the ledger's status list listID,
// owned by owner, whose credential is the signed status list credential (a
// vc+jwt issued by owner with an assertionMethod key). Sign it with an
// authentication key of owner.
func NewStatusListPublish(owner, listID string, version int64, credential string) (*Payload, error) {
	if version < 1 {
		return nil, fmt.Errorf("%w: %s: version must be 1 or more, got %d", ErrMalformed, StatusListPublish, version)
	}
	return valid(&Payload{Type: StatusListPublish, DID: owner, Nonce: NewNonce(), ListID: listID, Version: version, Credential: credential})
}

// NewConsentAnchor returns the consent.anchor that puts g in force: acting
// DID the grant's anchor DID (g.Anchor, a did:key made for this grant,
// never the patient's DID), grantHash g.Hash(), and the grant's period
// (RFC 3339 with any fraction of a second the grant carries, so the
// anchored period equals the grant's exactly: consent.Checker compares
// them). g MUST have been read from its token (consent.Parse or
// consent.Verify), since the token's bytes are what is anchored. Sign it
// with the anchor DID's key (kid "<anchor>#<multikey>").
func NewConsentAnchor(g *consent.Grant) (*Payload, error) {
	if g == nil || g.Token == "" {
		return nil, errors.New("consent.anchor: the grant was not read from a token (use consent.Parse on the issued token)")
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return NewConsentAnchorHash(g.Anchor, g.Hash(), g.ValidFrom, g.ValidUntil)
}

// NewConsentAnchorHash returns the consent.anchor of the grant whose token
// hashes to grantHash (consent.Hash), by its anchor DID anchor, for the
// period from to until (zero: open-ended), written as [NewConsentAnchor]
// writes a grant's. Prefer NewConsentAnchor when the grant is at hand: the
// anchored period must equal the grant's, or consent.Checker refuses the
// grant.
func NewConsentAnchorHash(anchor, grantHash string, from, until time.Time) (*Payload, error) {
	if from.IsZero() {
		return nil, fmt.Errorf("%w: %s: validFrom is required", ErrMalformed, ConsentAnchor)
	}
	p := &Payload{Type: ConsentAnchor, DID: anchor, Nonce: NewNonce(), GrantHash: grantHash,
		ValidFrom: from.UTC().Format(time.RFC3339Nano)}
	if !until.IsZero() {
		p.ValidUntil = until.UTC().Format(time.RFC3339Nano)
	}
	return valid(p)
}

// NewConsentRevoke returns the consent.revoke that ends the grant with hash
// grantHash (consent.Hash of its token) for good. anchor MUST be the DID
// that anchored it (the grant's Anchor); sign with its key.
func NewConsentRevoke(anchor, grantHash string) (*Payload, error) {
	return valid(&Payload{Type: ConsentRevoke, DID: anchor, Nonce: NewNonce(), GrantHash: grantHash})
}

// NewAuditAnchor returns the audit.anchor by the vault DID vault of one
// trail batch: its id, the RFC 6962 Merkle root of its leaves and their
// count (1 to [MaxAuditCount]). Sign it with an authentication key of vault.
func NewAuditAnchor(vault, batchID string, root [32]byte, count int) (*Payload, error) {
	return valid(&Payload{Type: AuditAnchor, DID: vault, Nonce: NewNonce(), BatchID: batchID,
		Root: hex.EncodeToString(root[:]), Count: int64(count)})
}

// formatTime is how builders write a time the ledger reads with
// [ParseTime]: RFC 3339 in UTC, whole seconds.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func valid(p *Payload) (*Payload, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}
