package wallet

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/hkdf"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/validity"
)

// Acting for someone else (docs/design/0020-delegation.md). A wallet holds
// three kinds of delegation:
//
//   - granted: its owner let someone act for them (wallet/delegate.Grant);
//     the owner takes it back with delegate.Revoke;
//   - held: its owner acts for someone (delegate.Add), reading their
//     records and trail (wallet/hospital.ReadFor, AccessLogFor), managing
//     consent in their name, receiving and presenting credentials for them
//     (wallet/openid.ReceiveFor, PresentFor, over [Wallet.KeepHeld] and
//     [Wallet.RecordPresentedFor]);
//   - over me: someone acts for the owner under an authority's
//     guardianship, learned from the owner's trail (delegate.LearnFromTrail).

// delegationsBucket holds the wallet's delegations, sealed, by token hash.
const delegationsBucket = "delegations"

// Roles of a [Delegation] in the wallet.
const (
	DelegationGranted = "granted"
	DelegationHeld    = "held"
	DelegationOverMe  = "over-me"
)

// Delegation statuses, see [Delegation.StatusAt].
const (
	DelegationActive     = "active"
	DelegationRevoked    = "revoked"
	DelegationExpired    = "expired"
	DelegationCameOfAge  = "ended (came of age)"
	DelegationNotYet     = "not yet valid"
	delegationStatusInfo = "medid/delegation-status"
)

// Delegation is a delegation as the wallet keeps it.
type Delegation struct {
	// ID is the credential id; Hash the hex SHA-256 of its token (how trail
	// entries and consent grants name it).
	ID   string `json:"id"`
	Hash string `json:"hash"`
	Role string `json:"role"`
	// Token is the delegation credential ("" for one learned from a trail).
	Token              string    `json:"token,omitempty"`
	Type               string    `json:"type"`
	Issuer             string    `json:"issuer"`
	Representative     string    `json:"representative"`
	RepresentativeName string    `json:"representativeName"`
	Patient            string    `json:"patient"`
	PatientName        string    `json:"patientName,omitempty"`
	Relationship       string    `json:"relationship,omitempty"`
	Basis              string    `json:"basis"`
	By                 string    `json:"by,omitempty"`
	Minor              bool      `json:"minor,omitempty"`
	Actions            []string  `json:"actions,omitempty"`
	Classes            []string  `json:"classes,omitempty"`
	Purposes           []string  `json:"purposes,omitempty"`
	SubDelegation      bool      `json:"subDelegation,omitempty"`
	ValidFrom          time.Time `json:"validFrom"`
	ValidUntil         time.Time `json:"validUntil"`
	// StatusIndex is the delegation's entry in the owner's delegation
	// status list (granted only).
	StatusIndex int `json:"statusIndex,omitempty"`
	// Revoked is when the owner took it back (granted), or when the wallet
	// found it revoked.
	Revoked *time.Time `json:"revoked,omitempty"`
	// Held are the credentials the owner received for the patient under
	// this delegation (held only; see [Wallet.KeepHeld]), with their
	// tokens. They are the patient's (credentialSubject.id is the
	// patient's DID), kept apart from the owner's own.
	Held []Credential `json:"held,omitempty"`
}

// Period is the delegation's validity period as its credential states it:
// [ValidFrom, ValidUntil), and a zero ValidUntil ends it too, as
// delegation.Delegation.InForce reads it and vaults enforce it
// (delegation.Period; docs/design/0012-architecture.md, "One period
// rule").
func (d *Delegation) Period() validity.Period { return delegation.Period(d.ValidFrom, d.ValidUntil) }

// StatusAt returns the delegation's status at now as the wallet knows it,
// reading [Delegation.Period]: revoked outranks time; after its end a
// minor's guardianship has ended because they came of age.
func (d *Delegation) StatusAt(now time.Time) string {
	p := d.Period()
	switch {
	case d.Revoked != nil:
		return DelegationRevoked
	case now.Before(p.From):
		return DelegationNotYet
	case !p.Contains(now) && d.Minor:
		return DelegationCameOfAge
	case !p.Contains(now):
		return DelegationExpired
	}
	return DelegationActive
}

// Covers reports whether the delegation allows action a.
func (d *Delegation) Covers(a delegation.Action) bool { return slices.Contains(d.Actions, string(a)) }

// PersonWords is how the representative's screens name the person they act
// for: "Ana Silva (your daughter)", or the DID when the delegation names no
// one.
func (d *Delegation) PersonWords() string {
	n := d.PatientName
	if n == "" {
		n = d.Patient
	}
	if w := delegation.RelationshipWord(d.Relationship); w != "" {
		return n + " (your " + w + ")"
	}
	return n
}

// BasisWords is how the patient's screens introduce the representative:
// "as parent", "holding power of attorney", "with your authorisation".
func (d *Delegation) BasisWords() string {
	if d.By != "" {
		return "authorised by " + d.By
	}
	return BasisText(d.Basis)
}

// ActingWords is how the representative's screens say on what basis they
// act: "as parent", "holding power of attorney", "with their
// authorisation", "authorised by Maria Silva".
func (d *Delegation) ActingWords() string {
	if d.Basis == string(delegation.BasisAuthorisation) && d.By == "" {
		return "with their authorisation"
	}
	return d.BasisWords()
}

// DelegationOf is the delegation credential x as the wallet keeps it in
// role (DelegationGranted, DelegationHeld or DelegationOverMe).
func DelegationOf(x *delegation.Delegation, role string) *Delegation {
	d := &Delegation{ID: x.ID, Hash: x.Hash(), Role: role, Token: x.Token, Type: x.Type, Issuer: x.Issuer,
		Representative: x.Representative, RepresentativeName: x.RepresentativeName, Patient: x.Patient,
		PatientName: x.PatientName, Relationship: x.Relationship, Basis: string(x.Basis), Minor: x.Minor,
		Classes: x.Classes, Purposes: x.Purposes, SubDelegation: x.SubDelegation, ValidFrom: x.ValidFrom, ValidUntil: x.ValidUntil}
	for _, a := range x.Actions {
		d.Actions = append(d.Actions, string(a))
	}
	if x.Parent != nil {
		d.By = x.Parent.RepresentativeName
	}
	return d
}

// DelegationListKey derives the key of the patient's delegation status
// list from the seed (HKDF-SHA256, info "medid/delegation-status"): a
// did:key used for nothing else, so the list links to no other identifier
// of the patient, and a wallet recovered from the phrase can still revoke.
// The caller MUST destroy the key. Errors: [ErrLocked], [ErrClosed].
func (w *Wallet) DelegationListKey() (*key.PrivateKey, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return nil, err
	}
	r := hkdf.New(sha256.New, w.seed, nil, []byte(delegationStatusInfo))
	var seed [32]byte
	defer clear(seed[:])
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, err
	}
	return key.NewEd25519FromSeed(seed[:])
}

// SaveDelegation stores d under its Hash (the hex SHA-256 of its token,
// how trail entries and grants name it), replacing the stored one with
// that hash. A d with a token whose hash is not d.Hash, or with no hash,
// is refused. Errors: [ErrLocked], [ErrClosed].
func (w *Wallet) SaveDelegation(d *Delegation) error {
	if d == nil || d.Hash == "" || (d.Token != "" && delegation.Hash(d.Token) != d.Hash) {
		return errors.New("delegation: a delegation is stored under the hash of its token")
	}
	return w.putDelegation(d)
}

func (w *Wallet) putDelegation(d *Delegation) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return err
	}
	op, err := sealRecord(w.sealer, delegationsBucket, d.Hash, d)
	if err != nil {
		return err
	}
	return w.store.Batch([]Op{op})
}

// Delegations returns every delegation the wallet holds: those its owner
// granted, those they hold and those over them, newest first.
func (w *Wallet) Delegations() ([]Delegation, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return nil, err
	}
	var out []Delegation
	if err := listSealed(w.store, w.sealer, delegationsBucket, func(d *Delegation) { out = append(out, *d) }); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ValidFrom.After(out[j].ValidFrom) })
	return out, nil
}

// FindDelegation returns the delegation whose credential id or hash is id,
// or whose hash starts with id (at least 8 hex digits), or (for a held
// delegation) whose patient's name or DID is id or starts with it, as long
// as exactly one matches. Errors wrap [ErrNotFound].
func (w *Wallet) FindDelegation(id string) (Delegation, error) {
	ds, err := w.Delegations()
	if err != nil {
		return Delegation{}, err
	}
	var found []Delegation
	for _, d := range ds {
		if d.ID == id || d.Hash == id || len(id) >= 8 && strings.HasPrefix(d.Hash, id) {
			return d, nil
		}
		if d.Role == DelegationHeld && id != "" && (d.Patient == id || strings.HasPrefix(strings.ToLower(d.PatientName), strings.ToLower(id))) {
			found = append(found, d)
		}
	}
	// Several delegations for one person (an old one and a new one): the
	// active one that lasts longest.
	now := w.cfg.now()
	var best *Delegation
	for i := range found {
		d := &found[i]
		if d.StatusAt(now) == DelegationActive && (best == nil || d.ValidUntil.After(best.ValidUntil)) {
			best = d
		}
	}
	switch {
	case best != nil && (len(found) == 1 || samePatient(found)):
		return *best, nil
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return Delegation{}, fmt.Errorf("%q names delegations for more than one person: give its id", id)
	}
	return Delegation{}, fmt.Errorf("%w: delegation %.64s", ErrNotFound, id)
}

func samePatient(ds []Delegation) bool {
	for _, d := range ds[1:] {
		if d.Patient != ds[0].Patient {
			return false
		}
	}
	return true
}

// HeldDelegation returns the delegation id names (as [Wallet.FindDelegation]
// finds it) when it is one the wallet's owner acts under (role
// DelegationHeld), whatever its status: the vault or verifier it is shown
// to decides with its current status. Errors wrap [ErrNotFound].
func (w *Wallet) HeldDelegation(id string) (Delegation, error) {
	d, err := w.FindDelegation(id)
	if err != nil {
		return Delegation{}, err
	}
	if d.Role != DelegationHeld {
		rep := d.RepresentativeName
		if rep == "" {
			rep = d.Representative
		}
		return Delegation{}, fmt.Errorf("delegation %.16s is not one you act under: it lets %s act for you", d.Hash, rep)
	}
	return d, nil
}

// actingAs is [Wallet.HeldDelegation] with the representative's key.
func (w *Wallet) actingAs(id string) (Delegation, *key.PrivateKey, string, error) {
	d, err := w.HeldDelegation(id)
	if err != nil {
		return Delegation{}, nil, "", err
	}
	k, kid, err := w.SignerFor(d.Representative)
	if err != nil {
		return Delegation{}, nil, "", err
	}
	return d, k, kid, nil
}
