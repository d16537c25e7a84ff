package wallet

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/hkdf"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/validity"
	"github.com/medid/medid/registry/client"
)

// ConsentLedger is what consent needs from the registry: submitting the
// anchor and revocation transactions and reading an anchor's status (by its
// controller, the grant's anchor DID, and the grant hash).
// *client.Client implements it.
type ConsentLedger interface {
	Submit(ctx context.Context, signedTx []byte) (*client.TxResult, error)
	ConsentStatus(ctx context.Context, controller, hash string) (*consent.Status, error)
}

// ConsentRequest is what the patient grants (see wallet/hospital.GrantConsent).
type ConsentRequest struct {
	// DID is which of the wallet's DIDs grants (the record owner the
	// hospital knows); "" means the primary DID.
	DID      string
	Provider string   // the provider's DID
	Classes  []string // FHIR resource types, e.g. AllergyIntolerance
	Purposes []string // HL7 v3 PurposeOfUse codes, e.g. TREAT
	// Duration is how long the grant lasts from now (> 0).
	Duration time.Duration
	// BreakGlass lets the provider open records in an emergency (purpose
	// ETREAT) beyond the listed classes and purposes.
	BreakGlass bool
}

// Consent is a grant the patient made, as the wallet keeps it (encrypted in
// its consent bucket).
type Consent struct {
	// ID is the grant's hash (hex SHA-256 of Token): the id the ledger
	// anchors and revokes.
	ID      string `json:"id"`
	Token   string `json:"token"`
	Patient string `json:"patient"`
	// Anchor is the grant's anchor did:key, which anchored it on the
	// ledger and alone can revoke it there. The wallet derives its key
	// from the seed and the grant's ID (see [anchorKey]), so it keeps no
	// key for it and a restored backup can still revoke. "" for a grant
	// made before per-grant anchors (see [Consent.Legacy]).
	Anchor string `json:"anchor,omitempty"`
	// GrantID is the grant's credential id (urn:uuid:…), from which the
	// anchor key is derived.
	GrantID    string    `json:"grantId,omitempty"`
	Provider   string    `json:"provider"`
	Classes    []string  `json:"classes"`
	Purposes   []string  `json:"purposes"`
	BreakGlass bool      `json:"breakGlass,omitempty"`
	ValidFrom  time.Time `json:"validFrom"`
	ValidUntil time.Time `json:"validUntil"`
	// Revoked is when the patient revoked it (nil while not revoked).
	Revoked *time.Time `json:"revoked,omitempty"`

	// Made in someone's name (docs/design/0020-delegation.md). OnBehalfOf
	// is the patient a representative made the grant for: either the
	// wallet's owner acted for them (Patient is the owner, MadeUnder the
	// delegation they held), or the grant was made for the owner and
	// learned from their trail (Inherited; Patient is the representative,
	// MadeByName their name, AnchorSeal the grant's anchor key sealed to
	// the owner). Vault is where it is registered.
	OnBehalfOf string     `json:"onBehalfOf,omitempty"`
	MadeUnder  string     `json:"madeUnder,omitempty"`
	Inherited  bool       `json:"inherited,omitempty"`
	MadeByName string     `json:"madeByName,omitempty"`
	Basis      string     `json:"basis,omitempty"`
	AnchorSeal string     `json:"anchorSeal,omitempty"`
	Vault      string     `json:"vault,omitempty"`
	Confirmed  *time.Time `json:"confirmed,omitempty"`
}

// Consent statuses, see [Consent.StatusAt].
const (
	ConsentActive  = "active"
	ConsentExpired = "expired"
	ConsentRevoked = "revoked"
	ConsentPending = "not yet valid"
	// ConsentLegacy: a grant made before per-grant anchors; vaults refuse
	// it (consent.ErrLegacyGrant), so the patient grants again.
	ConsentLegacy = "no longer accepted (grant again)"
)

// ConsentOf is grant g, issued as token, as the wallet keeps it: ID the
// token's hash, the grant's parties, scope and period. What the wallet
// adds (who made it under which delegation, where it is registered, its
// sealed anchor key) the caller sets.
func ConsentOf(token string, g *consent.Grant) Consent {
	return Consent{ID: consent.Hash(token), Token: token, Patient: g.Patient, Anchor: g.Anchor, GrantID: g.ID, Provider: g.Provider,
		Classes: g.Classes, Purposes: g.Purposes, BreakGlass: g.BreakGlass, ValidFrom: g.ValidFrom, ValidUntil: g.ValidUntil,
		OnBehalfOf: g.OnBehalfOf}
}

// Legacy reports whether c was made before grants had their own anchor DID
// (its anchor named the patient on the ledger). Vaults no longer accept such
// a grant; the patient grants again.
func (c *Consent) Legacy() bool { return c.Anchor == "" }

// Period is the grant's validity period as its token states it:
// [ValidFrom, ValidUntil), and a zero ValidUntil (an absent end) is
// open-ended, as consent.Grant reads it and as vaults and the ledger
// enforce it (docs/design/0012-architecture.md, "One period rule").
func (c *Consent) Period() validity.Period {
	return validity.Period{From: c.ValidFrom, Until: validity.End(c.ValidUntil)}
}

// StatusAt returns the grant's status at now as the wallet knows it: the
// period is [Consent.Period]'s, so an open-ended grant is active (the
// vault honours it; showing it expired would tell the patient nobody can
// read what a provider can), and a grant is expired from the instant of
// its end on.
func (c *Consent) StatusAt(now time.Time) string {
	p := c.Period()
	switch {
	case c.Revoked != nil:
		return ConsentRevoked
	case c.Legacy():
		return ConsentLegacy
	case now.Before(p.From):
		return ConsentPending
	case !p.Contains(now):
		return ConsentExpired
	}
	return ConsentActive
}

// anchorKey derives the anchor key of the grant with credential id grantID
// from the wallet's seed: HKDF-SHA256 with info "medid/consent-anchor/<id>",
// an Ed25519 key whose did:key is the grant's anchor. Anyone holding the
// recovery phrase and the grant (a restored backup) can re-derive it; no
// one else can link it to the patient or to their other grants. The caller
// destroys the key.
func (w *Wallet) anchorKey(grantID string) (k *key.PrivateKey, anchor, kid string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return nil, "", "", err
	}
	r := hkdf.New(sha256.New, w.seed, nil, []byte("medid/consent-anchor/"+grantID))
	var seed [32]byte
	defer clear(seed[:])
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, "", "", err
	}
	if k, err = key.NewEd25519FromSeed(seed[:]); err != nil {
		return nil, "", "", err
	}
	anchor = did.KeyDID(k.Public())
	return k, anchor, anchor + "#" + k.Public().Multikey(), nil
}

// AnchorKey derives the anchor key of the grant with credential id
// grantID (see anchorKey), for the consent workflows (wallet/hospital).
// The caller MUST destroy the key. Errors: [ErrLocked], [ErrClosed].
func (w *Wallet) AnchorKey(grantID string) (k *key.PrivateKey, anchor, kid string, err error) {
	return w.anchorKey(grantID)
}

// SaveConsent stores a grant the patient made (or replaces the stored one
// with its id). Its ID MUST be the hash of its token (consent.Hash), the
// id the ledger anchors and revokes; anything else is refused, as a
// restored backup would refuse it. Errors: [ErrLocked], [ErrClosed].
func (w *Wallet) SaveConsent(c *Consent) error {
	if c == nil || c.Token == "" || c.ID != consent.Hash(c.Token) {
		return errors.New("consent: a grant's id must be the hash of its token")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return err
	}
	op, err := sealRecord(w.sealer, consentBucket, c.ID, c)
	if err != nil {
		return err
	}
	return w.store.Batch([]Op{op})
}

// Consents returns the grants the patient made, newest first.
func (w *Wallet) Consents() ([]Consent, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return nil, err
	}
	var out []Consent
	if err := listSealed(w.store, w.sealer, consentBucket, func(c *Consent) { out = append(out, *c) }); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ValidFrom.After(out[j].ValidFrom) })
	return out, nil
}

// ClassesForLabels maps the everyday data-class words the wallet app
// offers ("allergies", "lab results", …) to FHIR resource types; unknown
// words are returned as they are (they may already be resource types).
func ClassesForLabels(labels []string) []string {
	out := make([]string, 0, len(labels))
	for _, l := range labels {
		if c, ok := classLabels[strings.ToLower(strings.TrimSpace(l))]; ok {
			out = append(out, c)
		} else {
			out = append(out, l)
		}
	}
	return out
}

// LabelForClass is the inverse of [ClassesForLabels] ("" when none).
func LabelForClass(class string) string {
	for l, c := range classLabels {
		if c == class {
			return l
		}
	}
	return ""
}

var classLabels = map[string]string{
	"allergies":     "AllergyIntolerance",
	"immunizations": "Immunization",
	"medications":   "MedicationStatement",
	"conditions":    "Condition",
	"lab results":   "Observation",
	"identity":      "Patient",
}
