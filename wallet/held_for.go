package wallet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
)

// Credentials received and presented for someone else
// (docs/design/0020-delegation.md, "Receiving and presenting for someone").
// An issuer gives a representative with "receive" the patient's credential,
// issued to the patient's DID; the representative's wallet keeps it with
// the delegation it was received under, apart from the owner's own
// credentials (it is not theirs to present as theirs), and presents it,
// with "present", in a presentation signed by the representative that
// carries the delegation.

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

// ReceiveFor verifies a credential an issuer gave the owner for the person
// a held delegation (delegationID) is for and keeps it with that
// delegation: it must be about that person (credentialSubject.id their
// DID) and verify (signature, issuer, accreditation, status), and the
// delegation must allow "receive" for its data class. A token already
// held is returned as it is. Errors: [ErrNotDelegated],
// [ErrNotForThisWallet] (about someone else), [*RejectedError],
// [*CouldNotCheckError], [ErrNoVerifier].
func (w *Wallet) ReceiveFor(ctx context.Context, delegationID, token string) (Credential, error) {
	d, err := w.usableFor(delegationID, delegation.ActionReceive)
	if err != nil {
		return Credential{}, err
	}
	token = strings.TrimSpace(token)
	if verify.DetectFormat(token) == verify.FormatSDJWT {
		return Credential{}, &RejectedError{Reason: "malformed", Detail: "an SD-JWT VC is bound to its holder's key: a credential for someone else is a vc+jwt issued to them"}
	}
	t, err := vc.Parse(token)
	if err != nil {
		return Credential{}, &RejectedError{Reason: "malformed", Detail: err.Error()}
	}
	c := t.Credential
	if sub := c.SubjectID(); sub != d.Patient {
		return Credential{}, fmt.Errorf("%w: it is about %s, and your delegation is for %s (%s)", ErrNotForThisWallet, sub, d.PersonWords(), d.Patient)
	}
	class := delegation.ActClasses(c.Type)
	if !slicesCover(d.Classes, class) {
		return Credential{}, fmt.Errorf("%w: your delegation for %s covers %s, not %s", ErrNotDelegated, d.PersonWords(), strings.Join(d.Classes, ","), class[0])
	}
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

func slicesCover(classes, want []string) bool {
	for _, c := range classes {
		if c == delegation.AllClasses || c == want[0] {
			return true
		}
	}
	return false
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

// PresentForRequest is what [Wallet.PresentFor] signs.
type PresentForRequest struct {
	// Delegation names the held delegation (id, hash, person).
	Delegation string
	// CredentialIDs are credentials held for that person (ids or unique
	// prefixes), at least one.
	CredentialIDs []string
	// Audience and Nonce are the verifier's; both required.
	Audience, Nonce string
}

// PresentFor signs, as the representative, a presentation of credentials
// held for the person a delegation is for, carrying the delegation
// (openid4vp.DelegationClaim): the verifier checks that it lets the
// representative present each credential now, and says who presented for
// whom. The presentation is recorded in the wallet's history (holder: the
// representative) before it is returned. Errors: [ErrNotDelegated] (no
// "present", or it ended), [ErrNotFound] (no such credential held for
// them), [*NotPresentableError] (a credential the wallet knows is revoked
// or expired).
func (w *Wallet) PresentFor(ctx context.Context, req PresentForRequest) (string, error) {
	if len(req.CredentialIDs) == 0 {
		return "", errors.New("present: choose at least one credential")
	}
	if req.Audience == "" || req.Nonce == "" {
		return "", errors.New("present: the verifier's audience and nonce are both required")
	}
	d, err := w.usableFor(req.Delegation, delegation.ActionPresent)
	if err != nil {
		return "", err
	}
	k, kid, err := w.SignerFor(d.Representative)
	if err != nil {
		return "", err
	}
	now := w.cfg.now()
	p := &vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation}, Holder: d.Representative,
		Extra: map[string]any{openid4vp.DelegationClaim: d.Token}}
	var shared []SharedCredential
	for _, id := range req.CredentialIDs {
		c, err := heldOne(d, id)
		if err != nil {
			return "", err
		}
		if why := notCurrent(&c, now); why != "" {
			return "", &NotPresentableError{ID: c.ID, Why: why, CheckedAt: c.StatusCheckedAt}
		}
		p.Credentials = append(p.Credentials, c.Token)
		shared = append(shared, SharedCredential{ID: c.ID, Types: c.Types, Issuer: c.Issuer})
	}
	tok, err := vc.SignPresentation(p, k, kid, req.Audience, req.Nonce, vc.WithIssuedAt(now))
	if err != nil {
		return "", fmt.Errorf("sign presentation: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return "", err
	}
	ev := w.newEventLocked(HistoryEntry{At: now.UTC(), Kind: EventPresented, Audience: req.Audience, Holder: d.Representative, Credentials: shared})
	if err := w.commitLocked([]record{{historyBucket, ev.ID, ev}}); err != nil {
		return "", err
	}
	w.history = append(w.history, ev)
	return tok, nil
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
