package wallet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/vc"
)

// Credentials received and presented for someone else
// (docs/design/0020-delegation.md, "Receiving and presenting for someone").
// An issuer gives a representative with "receive" the patient's credential,
// issued to the patient's DID; the representative's wallet keeps it with
// the delegation it was received under, apart from the owner's own
// credentials (it is not theirs to present as theirs), and presents it,
// with "present", in a presentation signed by the representative that
// carries the delegation. The workflows (wallet/openid's ReceiveFor and
// PresentFor) run over the store's primitives here: [Wallet.DelegationFor],
// [Wallet.KeepHeld], [Wallet.HeldFor], [Wallet.HeldCredential] and
// [Wallet.RecordPresentedFor].

// heldMu serialises the read-modify-write of a delegation's Held list
// (ReceiveFor). One lock for every wallet: receptions are rare and short.
var heldMu sync.Mutex

// ErrNotDelegated is returned when a held delegation does not allow what
// the owner asks to do for the patient (or no longer does: revoked,
// expired, the patient came of age). The wrapped message says why.
var ErrNotDelegated = errors.New("the delegation does not allow this")

// usableFor returns the held delegation id names when, as far as the
// wallet knows, it allows action now; the issuer or verifier decides with
// the delegation's current status.
func (w *Wallet) usableFor(id string, action delegation.Action) (Delegation, error) {
	d, _, _, err := w.actingAs(id)
	if err != nil {
		return Delegation{}, err
	}
	now := w.cfg.now()
	if byPerson := id != d.ID && id != d.Hash && !(len(id) >= 8 && strings.HasPrefix(d.Hash, id)); byPerson &&
		(d.StatusAt(now) != DelegationActive || !d.Covers(action)) {
		// The person is named, not a delegation: of the delegations held
		// for them, the one in force that allows action (lasting longest).
		ds, err := w.Delegations()
		if err != nil {
			return Delegation{}, err
		}
		for _, x := range ds {
			if x.Role == DelegationHeld && x.Patient == d.Patient && x.StatusAt(now) == DelegationActive && x.Covers(action) &&
				(!d.Covers(action) || d.StatusAt(now) != DelegationActive || x.ValidUntil.After(d.ValidUntil)) {
				d = x
			}
		}
	}
	if st := d.StatusAt(now); st != DelegationActive {
		return Delegation{}, fmt.Errorf("%w: your delegation for %s is %s", ErrNotDelegated, d.PersonWords(), st)
	}
	if !d.Covers(action) {
		return Delegation{}, fmt.Errorf("%w: your delegation for %s allows %s, not %s", ErrNotDelegated, d.PersonWords(), strings.Join(d.Actions, ","), action)
	}
	return d, nil
}

// DelegationFor returns the held delegation id names (as
// [Wallet.FindDelegation] finds it) once the wallet knows of nothing that
// stops it allowing action now: what a workflow acting for someone
// starts from. Errors wrap [ErrNotFound] or [ErrNotDelegated].
func (w *Wallet) DelegationFor(id string, action delegation.Action) (Delegation, error) {
	return w.usableFor(id, action)
}

// KeepHeld verifies token (signature, issuer, accreditation, status, with
// the wallet's verifier, as [Wallet.Receive] does) and keeps it with the
// held delegation delegationID names, apart from the owner's own
// credentials. What the delegation allows (that token is about the person
// it is for, of a class it covers) is the caller's to check first
// (wallet/openid.ReceiveFor does). A token already held under it is
// returned as it is. Errors: [ErrNotFound], [ErrRejected] (a token that
// does not parse), [*RejectedError], [*CouldNotCheckError],
// [ErrNoVerifier].
func (w *Wallet) KeepHeld(ctx context.Context, delegationID, token string) (Credential, error) {
	d, err := w.HeldDelegation(delegationID)
	if err != nil {
		return Credential{}, err
	}
	t, err := vc.Parse(token)
	if err != nil {
		return Credential{}, &RejectedError{Reason: "malformed", Detail: err.Error()}
	}
	c := t.Credential
	if err := w.verifyToKeep(ctx, token); err != nil {
		return Credential{}, err
	}
	now := w.cfg.now().UTC()
	cr := Credential{ID: credentialID(token), Token: token, VCID: c.ID, Issuer: c.Issuer, Types: c.Type, Name: c.Name,
		Subject: c.SubjectID(), Attributes: attributeNames(c.Subject), ValidFrom: c.ValidFrom, ValidUntil: c.ValidUntil,
		HasStatusList: len(c.Status) > 0, ReceivedAt: now, StatusCheckedAt: now, Status: StatusValid}
	// Re-read the delegation under heldMu: two receptions at once must not
	// each write back a list without the other's credential.
	heldMu.Lock()
	defer heldMu.Unlock()
	d, err = w.FindDelegation(d.Hash)
	if err != nil {
		return Credential{}, err
	}
	for _, h := range d.Held {
		if h.ID == cr.ID {
			return h, nil
		}
	}
	d.Held = append(d.Held, cr)
	if err := w.putDelegation(&d); err != nil {
		return Credential{}, err
	}
	w.cfg.log().Info("credential received for someone you act for", "id", cr.ID)
	return cr, nil
}

// HeldFor returns the credentials the owner holds for the person a held
// delegation is for, with their tokens, oldest first.
func (w *Wallet) HeldFor(delegationID string) ([]Credential, error) {
	d, _, _, err := w.actingAs(delegationID)
	if err != nil {
		return nil, err
	}
	return d.Held, nil
}

// HeldCredential returns the credential held for the person a held
// delegation is for whose id is id or starts with it (one only). Errors
// wrap [ErrNotFound].
func (w *Wallet) HeldCredential(delegationID, id string) (Credential, error) {
	d, _, _, err := w.actingAs(delegationID)
	if err != nil {
		return Credential{}, err
	}
	return heldOne(d, id)
}

// RecordPresentedFor writes the history entry of a presentation signed
// outside the store (wallet/openid.PresentFor) of credentials held for the
// person a held delegation (delegationID) is for, by its representative:
// ids are those credentials (ids or unique prefixes). Errors wrap
// [ErrNotFound] (no such delegation, or no such credential held under it).
func (w *Wallet) RecordPresentedFor(at time.Time, audience, delegationID string, ids []string) error {
	d, err := w.HeldDelegation(delegationID)
	if err != nil {
		return err
	}
	var creds []SharedCredential
	for _, id := range ids {
		c, err := heldOne(d, id)
		if err != nil {
			return err
		}
		creds = append(creds, SharedCredential{ID: c.ID, Types: c.Types, Issuer: c.Issuer})
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return err
	}
	return w.appendEventLocked(w.newEventLocked(HistoryEntry{At: at, Kind: EventPresented, Audience: audience, Holder: d.Representative, Credentials: creds}))
}

// heldOne finds a credential held under d by id or unique prefix.
func heldOne(d Delegation, id string) (Credential, error) {
	var found []Credential
	for _, c := range d.Held {
		if c.ID == id {
			return c, nil
		}
		if id != "" && strings.HasPrefix(c.ID, id) {
			found = append(found, c)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	if len(found) > 1 {
		return Credential{}, fmt.Errorf("%q names more than one credential held for %s: give more of its id", id, d.PersonWords())
	}
	return Credential{}, fmt.Errorf("%w: no credential %.32s held for %s", ErrNotFound, id, d.PersonWords())
}
