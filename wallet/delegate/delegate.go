// Package delegate runs the patient's delegations over a [Holder] (a
// *wallet.Wallet), docs/design/0020-delegation.md: granting someone the
// right to act for the patient ([Grant]) and taking it back ([Revoke]) on
// the patient's own delegation status list; taking in a delegation given to
// the wallet's owner ([Add]); learning from a verified trail what was done
// in the owner's name ([LearnFromTrail]); what the wallet must tell its
// owner about the people who act for them ([Notices],
// [RepresentativeNames]).
//
// Acting under a held delegation at a vault is wallet/hospital's
// (ReadFor, AccessLogFor, GrantConsentFor); receiving and presenting
// credentials for someone is wallet/openid's (ReceiveFor, PresentFor).
package delegate

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
	"github.com/medid/medid/wallet"
)

// Holder is what the workflows need of a wallet; *wallet.Wallet
// implements it. Implementations MUST be safe for concurrent use.
type Holder interface {
	// PrimaryDID and SignerFor give the patient's DIDs and their keys
	// (SignerFor fails for a DID the wallet does not hold).
	PrimaryDID() (wallet.DID, error)
	SignerFor(did string) (*key.PrivateKey, string, error)
	// DelegationListKey derives the key of the patient's delegation
	// status list; the caller destroys it.
	DelegationListKey() (*key.PrivateKey, error)
	// Delegations lists, FindDelegation finds and SaveDelegation stores
	// the wallet's delegations.
	Delegations() ([]wallet.Delegation, error)
	FindDelegation(id string) (wallet.Delegation, error)
	SaveDelegation(d *wallet.Delegation) error
	// Consents lists and SaveConsent stores consent grants.
	Consents() ([]wallet.Consent, error)
	SaveConsent(c *wallet.Consent) error
	// Now is the holder's clock.
	Now() time.Time
}

// Registry is what a patient's delegations need from the
// registry: publishing and reading their revocation list. *client.Client
// implements it.
type Registry interface {
	Submit(ctx context.Context, signedTx []byte) (*client.TxResult, error)
	StatusList(ctx context.Context, id string, version int64) (string, int64, error)
	StatusListURL(id string) string
}

var _ Registry = (*client.Client)(nil)

// Request is what the patient delegates ([Grant]).
type Request struct {
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

// Grant issues a delegation credential from the patient to a
// representative and stores it. Its revocation entry is in the patient's
// delegation status list, which the wallet publishes on the registry the
// first time under a did:key derived from the recovery phrase for that list
// alone, so the ledger never carries the patient's DID. It returns the
// delegation (Token is what the representative imports); nothing is stored
// if the list cannot be published.
func Grant(ctx context.Context, h Holder, reg Registry, req Request) (wallet.Delegation, error) {
	if req.Duration <= 0 {
		return wallet.Delegation{}, errors.New("delegation: say for how long (a positive duration)")
	}
	issuer := req.DID
	if issuer == "" {
		p, err := h.PrimaryDID()
		if err != nil {
			return wallet.Delegation{}, err
		}
		issuer = p.DID
	}
	k, kid, err := h.SignerFor(issuer)
	if err != nil {
		return wallet.Delegation{}, err
	}
	if req.Basis == "" {
		req.Basis = delegation.BasisAuthorisation
	}
	if len(req.Purposes) == 0 {
		req.Purposes = []string{"TREAT"}
	}
	list, err := delegationList(ctx, h, reg)
	if err != nil {
		return wallet.Delegation{}, err
	}
	defer list.k.Destroy()
	idx, err := freeStatusIndex(h)
	if err != nil {
		return wallet.Delegation{}, err
	}
	now := h.Now().UTC().Truncate(time.Second)
	x := &delegation.Delegation{ID: randid.URN(), Type: delegation.TypeDelegation, Issuer: issuer,
		Representative: req.To, RepresentativeName: req.Name, Patient: issuer, PatientName: req.PatientName,
		Relationship: req.Relationship, Basis: req.Basis, Actions: req.Actions, Classes: req.Classes, Purposes: req.Purposes,
		SubDelegation: req.SubDelegation, ValidFrom: now, ValidUntil: now.Add(req.Duration).Truncate(time.Second),
		Status: statuslist.Entry(list.url, statuslist.Revocation, idx)}
	tok, err := delegation.Issue(x, k, kid)
	if err != nil {
		return wallet.Delegation{}, err
	}
	x.Token = tok
	d := wallet.DelegationOf(x, wallet.DelegationGranted)
	d.StatusIndex = idx
	if err := h.SaveDelegation(d); err != nil {
		return wallet.Delegation{}, err
	}
	return *d, nil
}

// listName is the name of the patient's delegation status list, under the
// did:key of [wallet.Wallet.DelegationListKey].
const listName = "delegations"

// statusList is the patient's delegation status list: its signer and where
// it lives.
type statusList struct {
	k       *key.PrivateKey
	owner   string
	kid     string
	id, url string
	token   string
	version int64
}

// delegationList reads the patient's delegation status list from the
// registry, publishing an empty one first when there is none.
func delegationList(ctx context.Context, h Holder, reg Registry) (*statusList, error) {
	if reg == nil {
		return nil, wallet.ErrNoRegistry
	}
	k, err := h.DelegationListKey()
	if err != nil {
		return nil, err
	}
	owner := did.KeyDID(k.Public())
	l := &statusList{k: k, owner: owner, kid: owner + "#" + k.Public().Multikey(), id: owner + ":" + listName}
	l.url = reg.StatusListURL(l.id)
	l.token, l.version, err = reg.StatusList(ctx, l.id, 0)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		bits, err := statuslist.New(statuslist.MinEntries)
		if err != nil {
			return nil, err
		}
		if err := publishList(ctx, reg, l, bits); err != nil {
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
func publishList(ctx context.Context, reg Registry, l *statusList, bits *statuslist.List) error {
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
func freeStatusIndex(h Holder) (int, error) {
	ds, err := h.Delegations()
	if err != nil {
		return 0, err
	}
	used := map[int]bool{}
	for _, d := range ds {
		if d.Role == wallet.DelegationGranted {
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

// Revoke takes back a delegation the patient granted: its bit is
// set in the patient's delegation status list and the list's next version
// published on the registry (vaults honour it within their status cache
// time, 5 s for registryd's); then it is marked revoked in the wallet. A
// guardianship issued by an authority is revoked by that authority, not
// here.
func Revoke(ctx context.Context, h Holder, reg Registry, id string) (wallet.Delegation, error) {
	d, err := h.FindDelegation(id)
	if err != nil {
		return wallet.Delegation{}, err
	}
	if d.Role != wallet.DelegationGranted {
		return wallet.Delegation{}, fmt.Errorf("delegation %s was issued by %s: only its issuer can revoke it", d.ID, d.Issuer)
	}
	if d.Revoked != nil {
		return d, nil
	}
	l, err := delegationList(ctx, h, reg)
	if err != nil {
		return wallet.Delegation{}, err
	}
	defer l.k.Destroy()
	dec, err := statuslist.ParseToken(l.token)
	if err != nil {
		return wallet.Delegation{}, fmt.Errorf("delegation: your status list on the registry: %w", err)
	}
	if _, err := dec.Apply(statuslist.Revoke, d.StatusIndex); err != nil {
		return wallet.Delegation{}, err
	}
	if err := publishList(ctx, reg, l, dec.List); err != nil {
		return wallet.Delegation{}, err
	}
	now := h.Now().UTC()
	d.Revoked = &now
	if err := h.SaveDelegation(&d); err != nil {
		return wallet.Delegation{}, err
	}
	return d, nil
}

// Checker verifies a delegation credential (signatures, issuer
// authority, status); *delegation.Checker implements it.
type Checker interface {
	Verify(ctx context.Context, token string) (*delegation.Delegation, error)
}

// Add verifies a delegation credential given to one of the
// wallet's DIDs and stores it: the wallet's owner can then act for the
// patient it names. A delegation for the wallet's owner (a guardianship
// over them) is stored as such. Nothing is stored when it does not verify.
func Add(ctx context.Context, h Holder, chk Checker, token string) (wallet.Delegation, error) {
	x, err := chk.Verify(ctx, strings.TrimSpace(token))
	if err != nil {
		return wallet.Delegation{}, fmt.Errorf("delegation does not verify: %w", err)
	}
	if have, err := h.FindDelegation(x.Hash()); err == nil {
		return have, nil // granted by this wallet, or added before
	}
	role := wallet.DelegationHeld
	if _, _, err := h.SignerFor(x.Representative); err != nil {
		if _, _, perr := h.SignerFor(x.Patient); perr != nil {
			return wallet.Delegation{}, fmt.Errorf("delegation %s is given to %s for %s, neither of them a DID of this wallet", x.ID, x.Representative, x.Patient)
		}
		role = wallet.DelegationOverMe
	}
	if err := x.InForce(h.Now()); err != nil && !errors.Is(err, delegation.ErrExpired) {
		return wallet.Delegation{}, err
	}
	d := wallet.DelegationOf(x, role)
	if err := h.SaveDelegation(d); err != nil {
		return wallet.Delegation{}, err
	}
	return *d, nil
}

// LearnFromTrail takes in what a verified trail of the wallet's owner says
// was done in their name: every delegation someone acted under for them
// (stored as over them, so "People who can act for you" lists a
// guardianship the owner never held a copy of, and its end) and every
// consent grant a representative made for them (stored as an inherited
// grant, see [Consent.Inherited]), with vaultURL as where it is
// registered. It returns how many delegations and grants were new. Events
// of another patient are ignored.
func LearnFromTrail(h Holder, events []wallet.AccessEvent, vaultURL string) (delegations, grants int, err error) {
	known := map[string]bool{}
	ds, err := h.Delegations()
	if err != nil {
		return 0, 0, err
	}
	for _, d := range ds {
		known[d.Hash] = true
	}
	for _, e := range events {
		if _, _, err := h.SignerFor(e.Patient); err != nil {
			continue
		}
		a := e.Authority
		if a == nil || a.Delegation == "" || known[a.Delegation] || a.Representative == e.Patient || e.Outcome != trail.OutcomeGranted {
			continue
		}
		d := &wallet.Delegation{ID: a.ID, Hash: a.Delegation, Role: wallet.DelegationOverMe, Type: a.Type, Issuer: a.Issuer,
			Representative: a.Representative, RepresentativeName: a.Name, Patient: e.Patient, Basis: a.Basis, By: a.By,
			Minor: a.Minor, ValidUntil: a.ValidUntil, ValidFrom: e.Time}
		if err := h.SaveDelegation(d); err != nil {
			return delegations, grants, err
		}
		known[a.Delegation] = true
		delegations++
	}
	n, err := learnGrants(h, events, vaultURL)
	return delegations, grants + n, err
}

// Notice is something the wallet must tell its owner about the people who
// act, or acted, for them.
type Notice struct {
	Delegation wallet.Delegation
	// Text is the notice in a sentence or two.
	Text string
	// Awaiting are the consent grants made in the owner's name under the
	// delegation that await their decision (confirm or withdraw).
	Awaiting []wallet.Consent
}

// Notices returns what the wallet must tell its owner now: a guardianship
// over them that ended because they came of age (they act for themselves
// now, and the consents their representative made stay in force until they
// confirm or withdraw each), oldest first.
func Notices(h Holder) ([]Notice, error) {
	ds, err := h.Delegations()
	if err != nil {
		return nil, err
	}
	cs, err := h.Consents()
	if err != nil {
		return nil, err
	}
	now := h.Now()
	var out []Notice
	for _, d := range ds {
		if d.Role != wallet.DelegationOverMe || d.StatusAt(now) != wallet.DelegationCameOfAge {
			continue
		}
		n := Notice{Delegation: d}
		for _, c := range cs {
			if c.Inherited && c.MadeUnder == d.Hash && c.Revoked == nil && c.Confirmed == nil && c.StatusAt(now) == wallet.ConsentActive {
				n.Awaiting = append(n.Awaiting, c)
			}
		}
		who := d.RepresentativeName
		if who == "" {
			who = d.Representative
		}
		n.Text = fmt.Sprintf("You came of age on %s: %s (%s) no longer acts for you.", d.ValidUntil.UTC().Format(time.DateOnly), who,
			(&delegation.Delegation{Basis: delegation.Basis(d.Basis)}).BasisWords())
		switch len(n.Awaiting) {
		case 0:
		case 1:
			n.Text += " One consent they made in your name stays in force until you confirm or withdraw it."
		default:
			n.Text += fmt.Sprintf(" %d consents they made in your name stay in force until you confirm or withdraw them.", len(n.Awaiting))
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Delegation.ValidUntil.Before(out[j].Delegation.ValidUntil) })
	return out, nil
}

// RepresentativeNames maps the DID of everyone the owner let act for them
// (a delegation they granted) to the name the owner gave them, so the
// owner's screens can name them in trail entries the vault wrote without a
// verified authority (an attempt under a delegation since revoked). The
// name is the owner's own, never one the vault or the representative
// supplied.
func RepresentativeNames(h Holder) (map[string]string, error) {
	ds, err := h.Delegations()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, d := range ds {
		if d.Role == wallet.DelegationGranted && d.RepresentativeName != "" {
			out[d.Representative] = d.RepresentativeName
		}
	}
	return out, nil
}

// learnGrants stores the consent grants the events say a representative
// registered in the owner's name (inherited), and marks the ones withdrawn.
func learnGrants(h Holder, events []wallet.AccessEvent, vaultURL string) (int, error) {
	cs, err := h.Consents()
	if err != nil {
		return 0, err
	}
	have := map[string]*wallet.Consent{}
	for i := range cs {
		have[cs[i].ID] = &cs[i]
	}
	n := 0
	for _, e := range events {
		if e.Outcome != trail.OutcomeGranted {
			continue
		}
		switch e.Action {
		case trail.ActionConsent:
			if e.Grant == "" || have[consent.Hash(e.Grant)] != nil {
				continue
			}
			g, err := consent.Parse(e.Grant)
			if err != nil || g.OnBehalfOf != e.Patient || g.Patient != e.Provider {
				continue // the vault checked it; an entry that disagrees with itself is not taken in
			}
			gc := wallet.ConsentOf(e.Grant, g)
			c := &gc
			c.Inherited, c.AnchorSeal, c.Vault = true, e.AnchorSeal, vaultURL
			if a := e.Authority; a != nil {
				c.MadeUnder, c.MadeByName, c.Basis = a.Delegation, a.Name, a.Basis
			}
			if err := h.SaveConsent(c); err != nil {
				return n, err
			}
			have[c.ID] = c
			n++
		case trail.ActionWithdraw:
			if c := have[e.Consent]; c != nil && c.Inherited && c.Revoked == nil {
				at := e.Time
				c.Revoked = &at
				if err := h.SaveConsent(c); err != nil {
					return n, err
				}
			}
		}
	}
	return n, nil
}
