package wallet

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/hkdf"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Acting for someone else (docs/design/0020-delegation.md). A wallet holds
// three kinds of delegation:
//
//   - granted: its owner let someone act for them ([Wallet.GrantDelegation]);
//     the owner takes it back with [Wallet.RevokeDelegation];
//   - held: its owner acts for someone ([Wallet.AddDelegation]), reading
//     their records ([Wallet.ReadFor]) and trail ([Wallet.AccessLogFor]) and
//     managing consent in their name;
//   - over me: someone acts for the owner under an authority's
//     guardianship, learned from the owner's trail ([Wallet.LearnFromTrail]).

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
	delegationListName   = "delegations"
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
	// this delegation (held only; see [Wallet.ReceiveFor]), with their
	// tokens. They are the patient's (credentialSubject.id is the
	// patient's DID), kept apart from the owner's own.
	Held []Credential `json:"held,omitempty"`
}

// StatusAt returns the delegation's status at now as the wallet knows it.
func (d *Delegation) StatusAt(now time.Time) string {
	switch {
	case d.Revoked != nil:
		return DelegationRevoked
	case now.Before(d.ValidFrom):
		return DelegationNotYet
	case !now.Before(d.ValidUntil) && d.Minor:
		return DelegationCameOfAge
	case !now.Before(d.ValidUntil):
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

func fromDelegation(x *delegation.Delegation, role string) *Delegation {
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

// DelegationRegistry is what a patient's delegations need from the
// registry: publishing and reading their revocation list. *client.Client
// implements it.
type DelegationRegistry interface {
	Submit(ctx context.Context, signedTx []byte) (*client.TxResult, error)
	StatusList(ctx context.Context, id string, version int64) (string, int64, error)
	StatusListURL(id string) string
}

var _ DelegationRegistry = (*client.Client)(nil)

// DelegationRequest is what the patient delegates ([Wallet.GrantDelegation]).
type DelegationRequest struct {
	// DID is which of the wallet's DIDs delegates (the record owner the
	// hospitals know); "" means the primary DID.
	DID string
	// To is the representative's DID and Name their name, as the patient's
	// trail will show it. Both required.
	To, Name string
	// PatientName is the patient's own name as the representative's
	// screens show it (optional); Relationship an HL7 v3 RoleCode of the
	// patient to the representative ("MTH": the patient is their mother).
	PatientName, Relationship string
	// Basis is delegation.BasisAuthorisation (default) or
	// BasisPowerOfAttorney.
	Basis delegation.Basis
	// Actions, Classes (FHIR resource types, or "*") and Purposes (default
	// TREAT) are the scope.
	Actions  []delegation.Action
	Classes  []string
	Purposes []string
	// Duration is how long it lasts from now (> 0).
	Duration time.Duration
	// SubDelegation lets the representative pass it on.
	SubDelegation bool
}

// GrantDelegation issues a delegation credential from the patient to a
// representative and stores it. Its revocation entry is in the patient's
// delegation status list, which the wallet publishes on the registry the
// first time under a did:key derived from the recovery phrase for that list
// alone, so the ledger never carries the patient's DID. It returns the
// delegation (Token is what the representative imports); nothing is stored
// if the list cannot be published.
func (w *Wallet) GrantDelegation(ctx context.Context, reg DelegationRegistry, req DelegationRequest) (Delegation, error) {
	if req.Duration <= 0 {
		return Delegation{}, errors.New("delegation: say for how long (a positive duration)")
	}
	issuer := req.DID
	if issuer == "" {
		p, err := w.PrimaryDID()
		if err != nil {
			return Delegation{}, err
		}
		issuer = p.DID
	}
	k, kid, err := w.SignerFor(issuer)
	if err != nil {
		return Delegation{}, err
	}
	if req.Basis == "" {
		req.Basis = delegation.BasisAuthorisation
	}
	if len(req.Purposes) == 0 {
		req.Purposes = []string{"TREAT"}
	}
	list, err := w.delegationList(ctx, reg)
	if err != nil {
		return Delegation{}, err
	}
	idx, err := w.freeStatusIndex()
	if err != nil {
		return Delegation{}, err
	}
	now := w.cfg.now().UTC().Truncate(time.Second)
	x := &delegation.Delegation{ID: randid.URN(), Type: delegation.TypeDelegation, Issuer: issuer,
		Representative: req.To, RepresentativeName: req.Name, Patient: issuer, PatientName: req.PatientName,
		Relationship: req.Relationship, Basis: req.Basis, Actions: req.Actions, Classes: req.Classes, Purposes: req.Purposes,
		SubDelegation: req.SubDelegation, ValidFrom: now, ValidUntil: now.Add(req.Duration).Truncate(time.Second),
		Status: statuslist.Entry(list.url, statuslist.Revocation, idx)}
	tok, err := delegation.Issue(x, k, kid)
	if err != nil {
		return Delegation{}, err
	}
	x.Token = tok
	d := fromDelegation(x, DelegationGranted)
	d.StatusIndex = idx
	if err := w.putDelegation(d); err != nil {
		return Delegation{}, err
	}
	return *d, nil
}

// statusList is the patient's delegation status list: its signer and where
// it lives.
type statusList struct {
	k        *key.PrivateKey
	owner    string
	kid      string
	id, url  string
	token    string
	version  int64
	notFound bool
}

// statusKey derives the key of the patient's delegation status list from
// the seed (HKDF-SHA256, info "medid/delegation-status"): a did:key used for
// nothing else, so the list links to no other identifier of the patient,
// and a wallet recovered from the phrase can still revoke.
func (w *Wallet) statusKey() (*key.PrivateKey, error) {
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

// delegationList reads the patient's delegation status list from the
// registry, publishing an empty one first when there is none.
func (w *Wallet) delegationList(ctx context.Context, reg DelegationRegistry) (*statusList, error) {
	if reg == nil {
		return nil, ErrNoRegistry
	}
	k, err := w.statusKey()
	if err != nil {
		return nil, err
	}
	owner := did.KeyDID(k.Public())
	l := &statusList{k: k, owner: owner, kid: owner + "#" + k.Public().Multikey(), id: owner + ":" + delegationListName}
	l.url = reg.StatusListURL(l.id)
	l.token, l.version, err = reg.StatusList(ctx, l.id, 0)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		bits, err := statuslist.New(statuslist.MinEntries)
		if err != nil {
			return nil, err
		}
		if err := w.publishList(ctx, reg, l, bits); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("delegation: read your delegation status list from the registry: %w", err)
	default:
		// The list keeps the id it was first published with (the
		// registry refuses another), whatever address this client uses
		// for the registry (localhost or 127.0.0.1, another node of the
		// network): the delegations' entries name that id.
		dec, err := statuslist.ParseToken(l.token)
		if err != nil {
			return nil, fmt.Errorf("delegation: your delegation status list on the registry: %w", err)
		}
		if dec.ID != "" {
			l.url = dec.ID
		}
	}
	return l, nil
}

// publishList signs bits as the next version of l and publishes it.
func (w *Wallet) publishList(ctx context.Context, reg DelegationRegistry, l *statusList, bits *statuslist.List) error {
	c, err := statuslist.NewCredential(l.url, l.owner, statuslist.Revocation, bits, 0)
	if err != nil {
		return err
	}
	tok, err := statuslist.Sign(c, l.k, l.kid)
	if err != nil {
		return err
	}
	p, err := tx.NewStatusListPublish(l.owner, l.id, l.version+1, tok)
	if err != nil {
		return err
	}
	raw, err := tx.Sign(p, l.k, l.kid)
	if err != nil {
		return err
	}
	if _, err := reg.Submit(ctx, raw); err != nil {
		return fmt.Errorf("delegation: publish your delegation status list on the registry: %w", err)
	}
	l.token, l.version = tok, l.version+1
	return nil
}

// freeStatusIndex picks a random index of the status list that none of the
// wallet's delegations uses: random, so the list does not tell how many
// delegations the patient made.
func (w *Wallet) freeStatusIndex() (int, error) {
	ds, err := w.Delegations()
	if err != nil {
		return 0, err
	}
	used := map[int]bool{}
	for _, d := range ds {
		if d.Role == DelegationGranted {
			used[d.StatusIndex] = true
		}
	}
	for {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return 0, err
		}
		if i := int(binary.BigEndian.Uint32(b[:]) % statuslist.MinEntries); !used[i] {
			return i, nil
		}
	}
}

// RevokeDelegation takes back a delegation the patient granted: its bit is
// set in the patient's delegation status list and the list's next version
// published on the registry (vaults honour it within their status cache
// time, 5 s for registryd's); then it is marked revoked in the wallet. A
// guardianship issued by an authority is revoked by that authority, not
// here.
func (w *Wallet) RevokeDelegation(ctx context.Context, reg DelegationRegistry, id string) (Delegation, error) {
	d, err := w.FindDelegation(id)
	if err != nil {
		return Delegation{}, err
	}
	if d.Role != DelegationGranted {
		return Delegation{}, fmt.Errorf("delegation %s was issued by %s: only its issuer can revoke it", d.ID, d.Issuer)
	}
	if d.Revoked != nil {
		return d, nil
	}
	l, err := w.delegationList(ctx, reg)
	if err != nil {
		return Delegation{}, err
	}
	dec, err := statuslist.ParseToken(l.token)
	if err != nil {
		return Delegation{}, fmt.Errorf("delegation: your status list on the registry: %w", err)
	}
	if _, err := dec.Apply(statuslist.Revoke, d.StatusIndex); err != nil {
		return Delegation{}, err
	}
	if err := w.publishList(ctx, reg, l, dec.List); err != nil {
		return Delegation{}, err
	}
	now := w.cfg.now().UTC()
	d.Revoked = &now
	if err := w.putDelegation(&d); err != nil {
		return Delegation{}, err
	}
	return d, nil
}

// DelegationChecker verifies a delegation credential (signatures, issuer
// authority, status); *delegation.Checker implements it.
type DelegationChecker interface {
	Verify(ctx context.Context, token string) (*delegation.Delegation, error)
}

// AddDelegation verifies a delegation credential given to one of the
// wallet's DIDs and stores it: the wallet's owner can then act for the
// patient it names. A delegation for the wallet's owner (a guardianship
// over them) is stored as such. Nothing is stored when it does not verify.
func (w *Wallet) AddDelegation(ctx context.Context, chk DelegationChecker, token string) (Delegation, error) {
	x, err := chk.Verify(ctx, strings.TrimSpace(token))
	if err != nil {
		return Delegation{}, fmt.Errorf("delegation does not verify: %w", err)
	}
	if have, err := w.FindDelegation(x.Hash()); err == nil {
		return have, nil // granted by this wallet, or added before
	}
	role := DelegationHeld
	if _, _, err := w.SignerFor(x.Representative); err != nil {
		if _, _, perr := w.SignerFor(x.Patient); perr != nil {
			return Delegation{}, fmt.Errorf("delegation %s is given to %s for %s, neither of them a DID of this wallet", x.ID, x.Representative, x.Patient)
		}
		role = DelegationOverMe
	}
	if err := x.InForce(w.cfg.now()); err != nil && !errors.Is(err, delegation.ErrExpired) {
		return Delegation{}, err
	}
	d := fromDelegation(x, role)
	if err := w.putDelegation(d); err != nil {
		return Delegation{}, err
	}
	return *d, nil
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

// ActingAs returns the held delegation id names that can be acted under
// now, with the representative's key: the person it names, and the error
// that says why not (revoked, expired, the patient came of age).
func (w *Wallet) actingAs(id string) (Delegation, *key.PrivateKey, string, error) {
	d, err := w.FindDelegation(id)
	if err != nil {
		return Delegation{}, nil, "", err
	}
	if d.Role != DelegationHeld {
		return Delegation{}, nil, "", fmt.Errorf("delegation %s is not one you act under (it lets %s act for %s)", d.ID, d.Representative, d.Patient)
	}
	k, kid, err := w.SignerFor(d.Representative)
	if err != nil {
		return Delegation{}, nil, "", err
	}
	return d, k, kid, nil
}

// ReadFor reads a record of the person a held delegation is for, at a
// vault, for purpose ("" = the delegation's first purpose). The vault checks
// the delegation and records the read in the person's trail, naming the
// representative and the authority.
func (w *Wallet) ReadFor(ctx context.Context, vaultURL, delegationID, record, purpose string) ([]byte, error) {
	d, k, kid, err := w.actingAs(delegationID)
	if err != nil {
		return nil, err
	}
	if purpose == "" && len(d.Purposes) > 0 {
		purpose = d.Purposes[0]
	}
	return w.vaultClient(vaultURL, nil, d.Representative, k, kid).GetFor(ctx, record, purpose, d.Token)
}

// AccessLogFor fetches, verifies and decrypts the copy of a person's trail
// a vault keeps for their representative (a held delegation with scope
// trail): every entry of the person's trail from the first time the
// representative used the delegation at that vault. opts.DID is ignored.
func (w *Wallet) AccessLogFor(ctx context.Context, delegationID string, opts AccessLogOptions) ([]AccessEvent, error) {
	d, k, kid, err := w.actingAs(delegationID)
	if err != nil {
		return nil, err
	}
	priv, err := trail.DecryptionKey(k)
	if err != nil {
		return nil, err
	}
	resp, err := w.vaultClient(opts.VaultURL, opts.HTTPClient, d.Representative, k, kid).AccessLogFor(ctx, d.Patient, d.Token)
	if err != nil {
		return nil, fmt.Errorf("access log of %s: %w", d.PersonWords(), err)
	}
	return accessEvents(ctx, resp, d.Patient, opts.Anchors, priv)
}

// vaultClientFor is a vault client signing as the representative of d.
func (w *Wallet) vaultClientFor(vaultURL string, hc *http.Client, d Delegation) (*vaultclient.Client, error) {
	k, kid, err := w.SignerFor(d.Representative)
	if err != nil {
		return nil, err
	}
	return w.vaultClient(vaultURL, hc, d.Representative, k, kid), nil
}
