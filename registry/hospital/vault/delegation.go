package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// Acting for someone else (docs/design/0020-delegation.md).
//
// A representative acts with their own signed request carrying the
// delegation they act under (vaultapi.Request.Delegation): the signature
// proves they are its subject, and Config.Delegations decides whether the
// delegation is trusted and covers the act. Three things a representative
// does go through the vault:
//
//   - view: read a record of the patient (a read with a delegation and no
//     consent grant);
//   - trail: read the patient's trail (an access-log request for the
//     patient): from the first time a trail-scope delegation is used here,
//     every entry of the patient's trail is also sealed to the
//     representative, and that copy is what they read;
//   - consent: register a consent grant made in the patient's name
//     ([Vault.RegisterConsent]) or withdraw one ([Vault.WithdrawConsent]).
//
// A consent grant a representative made (consent.Grant.OnBehalfOf) opens
// a record only once it is registered here: the registration puts the grant
// itself, and its anchor key sealed to the patient, in the patient's trail,
// so nothing done in a patient's name is invisible to them, and a patient
// who comes of age holds every grant made for them and can withdraw it on
// the ledger. Every such access is checked against the delegation at the
// time of the access: a revoked or expired delegation ends the grants made
// under it, except that a minor's delegation which simply reached its end
// date leaves the grants registered before that date in force until the
// patient (now of age) confirms or withdraws them.

// DelegationChecker decides acts under delegations: the delegation's
// signatures, its issuer's authority and its status, then the act against
// its scope and period. When the delegation verified but does not allow the
// act, it returns the delegation with the error. *delegation.Checker
// implements it.
type DelegationChecker interface {
	Authorize(ctx context.Context, token string, act delegation.Act) (*delegation.Delegation, error)
}

// maxDelegatedGrant bounds a consent grant a representative registers: the
// grant rides whole in the patient's trail entry, which must stay within
// trail.MaxEntrySize once sealed, with the anchor seal and, when the
// representative presented one, their practitioner licence
// (vaultapi.MaxLicence) beside it. A grant is about 1.5 KiB.
const maxDelegatedGrant = 4 << 10

// registration is a consent grant a representative registered.
type registration struct {
	Grant          string    `json:"grant"`
	Delegation     string    `json:"delegation"`
	Patient        string    `json:"patient"`
	Representative string    `json:"representative"`
	Registered     time.Time `json:"registered"`
}

// knownDelegation is a trail-scope delegation used at this vault: the
// patient's trail entries are copied to its representative.
type knownDelegation struct {
	Patient        string `json:"patient"`
	Representative string `json:"representative"`
	Token          string `json:"token"`
}

// delegated holds the registrations and known trail delegations, each in a
// file of its own (written atomically, fsynced) under Dir/delegated.
type delegated struct {
	dir string

	mu     sync.Mutex                            // guards grants and copies
	grants map[string]*registration              // by grant hash
	copies map[string]map[string]knownDelegation // patient -> delegation hash -> delegation
}

func openDelegated(dir string) (*delegated, error) {
	d := &delegated{dir: dir, grants: map[string]*registration{}, copies: map[string]map[string]knownDelegation{}}
	for _, sub := range []string{"grants", "trail"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	if err := loadDir(filepath.Join(dir, "grants"), func(name string, b []byte) error {
		var r registration
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		d.grants[name] = &r
		return nil
	}); err != nil {
		return nil, err
	}
	err := loadDir(filepath.Join(dir, "trail"), func(name string, b []byte) error {
		var k knownDelegation
		if err := json.Unmarshal(b, &k); err != nil {
			return err
		}
		d.addCopyLocked(name, k)
		return nil
	})
	return d, err
}

func loadDir(dir string, fn func(name string, b []byte) error) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue // a temporary file an interrupted write left
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if err := fn(name, b); err != nil {
			return fmt.Errorf("vault: %s: %w", filepath.Join(dir, e.Name()), err)
		}
	}
	return nil
}

func (d *delegated) addCopyLocked(hash string, k knownDelegation) {
	m := d.copies[k.Patient]
	if m == nil {
		m = map[string]knownDelegation{}
		d.copies[k.Patient] = m
	}
	m[hash] = k
}

func (d *delegated) registration(grantHash string) *registration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.grants[grantHash]
}

// rememberCopy records (durably) that dl's representative reads the
// patient's trail here, so entries from now on are copied to them.
func (d *delegated) rememberCopy(dl *delegation.Delegation) error {
	h := dl.Hash()
	d.mu.Lock()
	_, ok := d.copies[dl.Patient][h]
	d.mu.Unlock()
	if ok {
		return nil
	}
	k := knownDelegation{Patient: dl.Patient, Representative: dl.Representative, Token: dl.Token}
	b, err := json.Marshal(k)
	if err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(d.dir, "trail", h+".json"), b); err != nil {
		return err
	}
	d.mu.Lock()
	d.addCopyLocked(h, k)
	d.mu.Unlock()
	return nil
}

func (d *delegated) copiesOf(patient string) []knownDelegation {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.copies[patient]
	if len(m) == 0 {
		return nil
	}
	out := make([]knownDelegation, 0, len(m))
	for _, k := range m {
		out = append(out, k)
	}
	return out
}

// RepresentativeSubject is the trail subject under which a patient's
// entries copied to a representative are indexed.
func RepresentativeSubject(representative, patient string) string {
	return "for:" + representative + "|" + patient
}

// authority is what the patient's trail says about d.
func authority(d *delegation.Delegation) *trail.Authority {
	if d == nil {
		return nil
	}
	a := &trail.Authority{Delegation: d.Hash(), ID: d.ID, Type: d.Type, Issuer: d.Issuer, Representative: d.Representative,
		Name: d.RepresentativeName, Basis: string(d.Basis), Minor: d.Minor, ValidUntil: d.ValidUntil}
	if d.Parent != nil {
		a.By = d.Parent.RepresentativeName
		if a.By == "" {
			a.By = d.Parent.Representative
		}
	}
	return a
}

func (v *Vault) delegations() (DelegationChecker, error) {
	if v.cfg.Delegations == nil {
		return nil, fmt.Errorf("%w: %w", vaultapi.ErrDenied, vaultapi.ErrDelegationsOff)
	}
	return v.cfg.Delegations, nil
}

// asRepresentative decides a read of m by a representative under the
// delegation r carries (scope view, the record's class, the request's
// purpose).
func (v *Vault) asRepresentative(ctx context.Context, r *vaultapi.Request, m *vaultapi.Meta, now time.Time) (*trail.Authority, error) {
	chk, err := v.delegations()
	if err != nil {
		return nil, err
	}
	d, err := chk.Authorize(ctx, r.Delegation, delegation.Act{Representative: r.Issuer, Patient: m.Owner,
		Action: delegation.ActionView, Classes: []string{m.Class}, Purposes: []string{r.Purpose}, At: now})
	if err != nil {
		return authority(d), fmt.Errorf("%w: %w", vaultapi.ErrDenied, err)
	}
	v.noteDelegation(d)
	return authority(d), nil
}

// delegatedGrant decides a read of m under a consent grant g a
// representative made (CheckInForce has verified it and its ledger
// anchor): it must be for m's owner, registered here, made under the
// delegation it names, and that delegation must allow it now, or, if it
// was a minor's and ended because the patient came of age, must have
// allowed it when it was registered.
func (v *Vault) delegatedGrant(ctx context.Context, g *consent.Grant, m *vaultapi.Meta, now time.Time) (*trail.Authority, error) {
	if g.OnBehalfOf != m.Owner {
		return nil, fmt.Errorf("%w: %w: the grant is for %s", vaultapi.ErrDenied, vaultapi.ErrNotOwner, g.OnBehalfOf)
	}
	chk, err := v.delegations()
	if err != nil {
		return nil, err
	}
	reg := v.del.registration(g.Hash())
	if reg == nil {
		return nil, fmt.Errorf("%w: %w: its representative registers it here first (medid wallet act-for … consent grant --vault)", vaultapi.ErrDenied, vaultapi.ErrNotRegistered)
	}
	act := delegation.Act{Representative: g.Patient, Patient: g.OnBehalfOf, Action: delegation.ActionConsent,
		Classes: g.Classes, Purposes: g.Purposes, At: now}
	d, err := chk.Authorize(ctx, reg.Delegation, act)
	if err == nil {
		return authority(d), nil
	}
	if d != nil && errors.Is(err, delegation.ErrCameOfAge) && reg.Registered.Before(d.ValidUntil) {
		act.At = reg.Registered
		if aerr := d.Allows(act); aerr == nil {
			a := authority(d)
			a.Ended = true
			return a, nil
		}
	}
	return authority(d), fmt.Errorf("%w: the consent was made by a representative: %w", vaultapi.ErrDenied, err)
}

// noteDelegation remembers a delegation with trail scope used here, so
// the patient's entries are copied to its representative from now on. A
// failure is logged: the patient's own trail does not depend on it.
func (v *Vault) noteDelegation(d *delegation.Delegation) {
	if d == nil || !d.Covers(delegation.ActionTrail) {
		return
	}
	if err := v.del.rememberCopy(d); err != nil {
		v.cfg.Logger.Error("vault: cannot remember a representative's trail delegation", "err", err)
	}
}

// copyToRepresentatives seals e (already durable in the patient's trail)
// to each representative who reads the patient's trail here and whose
// delegation still allows it. The patient's trail is the record that
// matters and is complete whatever happens here; a copy that cannot be
// made is logged.
func (v *Vault) copyToRepresentatives(ctx context.Context, e *trail.Entry) {
	ks := v.del.copiesOf(e.Patient)
	if len(ks) == 0 || v.cfg.Delegations == nil {
		return
	}
	for _, k := range ks {
		if _, err := v.cfg.Delegations.Authorize(ctx, k.Token, delegation.Act{Representative: k.Representative, Patient: k.Patient,
			Action: delegation.ActionTrail, At: e.Time}); err != nil {
			continue
		}
		rk, err := v.recipient(ctx, k.Representative)
		if err == nil {
			var sealed []byte
			if sealed, err = v.sealer.Seal(e, rk); err == nil {
				err = v.log.Append(RepresentativeSubject(k.Representative, k.Patient), sealed)
			}
		}
		if err != nil {
			v.cfg.Logger.Error("vault: cannot copy a trail entry to a representative", "err", err)
		}
	}
}

// RegisterConsent registers a consent grant a representative made for a
// patient (a signed OpConsent request by the representative carrying the
// grant, the delegation and the grant's anchor key sealed to the patient).
// The grant must be signed by the requester, name the patient
// (OnBehalfOf) and the delegation it was made under, and the delegation
// must allow consent for every class and purpose of the grant now. The
// registration, with the grant and the sealed key, is in the patient's
// trail (durably) before it takes effect; a refusal is in the trail too,
// with its reason, and changes nothing.
func (v *Vault) RegisterConsent(ctx context.Context, token string) error {
	now := v.cfg.Now()
	r, err := v.auth.authenticate(ctx, token, now)
	if err != nil {
		return err
	}
	if r.Op != vaultapi.OpConsent || r.Consent == "" || r.Delegation == "" {
		return fmt.Errorf("%w: op %q with a consent grant and a delegation, want %q", vaultapi.ErrBadRequest, r.Op, vaultapi.OpConsent)
	}
	if len(r.Consent) > maxDelegatedGrant {
		return fmt.Errorf("%w: a grant made for a patient is at most %d bytes", vaultapi.ErrBadRequest, maxDelegatedGrant)
	}
	g, err := consent.Parse(r.Consent)
	if err != nil {
		return fmt.Errorf("%w: %v", vaultapi.ErrBadRequest, err)
	}
	if g.OnBehalfOf == "" {
		return fmt.Errorf("%w: the grant does not say for whom it is made (onBehalfOf): a patient's own grant is not registered", vaultapi.ErrBadRequest)
	}
	h := consent.Hash(r.Consent)
	e := &trail.Entry{Time: now, Patient: g.OnBehalfOf, Provider: r.Issuer, Action: trail.ActionConsent, Type: trail.DCMPatientRecord,
		Class: strings.Join(g.Classes, ","), Purpose: strings.Join(g.Purposes, ","), Consent: h, Grant: r.Consent, AnchorSeal: r.AnchorSeal}
	a, err := v.checkRegistration(ctx, r, g, now)
	e.Authority = a
	if err != nil {
		return v.refuse(ctx, e, err)
	}
	reg := &registration{Grant: r.Consent, Delegation: r.Delegation, Patient: g.OnBehalfOf, Representative: r.Issuer, Registered: now}
	b, err := json.Marshal(reg)
	if err != nil {
		return err
	}
	path := filepath.Join(v.del.dir, "grants", h+".json")
	if err := writeFileSync(path, b); err != nil {
		return err
	}
	e.Outcome = trail.OutcomeGranted
	if err := v.trail(ctx, e); err != nil {
		// Not in the patient's trail, so not in force.
		if rerr := os.Remove(path); rerr != nil {
			v.cfg.Logger.Error("vault: remove an unrecorded consent registration", "err", rerr)
		}
		return fmt.Errorf("%w: %v", vaultapi.ErrTrailUnavailable, err)
	}
	v.del.mu.Lock()
	v.del.grants[h] = reg
	v.del.mu.Unlock()
	return nil
}

// checkRegistration decides a consent registration.
func (v *Vault) checkRegistration(ctx context.Context, r *vaultapi.Request, g *consent.Grant, now time.Time) (*trail.Authority, error) {
	chk, err := v.delegations()
	if err != nil {
		return nil, err
	}
	if _, err := consent.Verify(ctx, r.Consent, consent.ResolverKeys(v.cfg.Resolver)); err != nil {
		return nil, fmt.Errorf("%w: the grant: %w", vaultapi.ErrDenied, err)
	}
	if g.Patient != r.Issuer {
		return nil, fmt.Errorf("%w: the grant is signed by %s, the request by %s", vaultapi.ErrDenied, g.Patient, r.Issuer)
	}
	if g.Delegation != delegation.Hash(r.Delegation) {
		return nil, fmt.Errorf("%w: the grant names another delegation than the one presented", vaultapi.ErrDenied)
	}
	if strings.Count(r.AnchorSeal, ".") != 4 {
		return nil, fmt.Errorf("%w: the grant's anchor key sealed to the patient (anchorSeal, a compact JWE) is required: the patient can always withdraw what was granted in their name", vaultapi.ErrBadRequest)
	}
	d, err := chk.Authorize(ctx, r.Delegation, delegation.Act{Representative: r.Issuer, Patient: g.OnBehalfOf,
		Action: delegation.ActionConsent, Classes: g.Classes, Purposes: g.Purposes, At: now})
	if err != nil {
		return authority(d), fmt.Errorf("%w: %w", vaultapi.ErrDenied, err)
	}
	v.noteDelegation(d)
	return authority(d), nil
}

// refuse records a refused act in the patient's trail and returns its
// reason (or, when even that cannot be recorded, says so too).
func (v *Vault) refuse(ctx context.Context, e *trail.Entry, reason error) error {
	e.Outcome, e.Reason = trail.OutcomeDenied, reason.Error()
	if err := v.trail(ctx, e); err != nil {
		return fmt.Errorf("%w (%v); the refusal itself: %w", vaultapi.ErrTrailUnavailable, err, reason)
	}
	return reason
}

// WithdrawConsent withdraws at this vault a consent grant a representative
// registered, on a signed OpWithdraw request carrying the grant: by the
// patient it was made for, or by a representative whose delegation allows
// consent for its classes and purposes now. From then on the grant opens
// nothing here; the withdrawal is in the patient's trail. (Withdrawing it
// everywhere is consent.revoke on the ledger, signed with its anchor key:
// the wallet does both.)
func (v *Vault) WithdrawConsent(ctx context.Context, token string) error {
	now := v.cfg.Now()
	r, err := v.auth.authenticate(ctx, token, now)
	if err != nil {
		return err
	}
	if r.Op != vaultapi.OpWithdraw || r.Consent == "" {
		return fmt.Errorf("%w: op %q with the consent grant, want %q", vaultapi.ErrBadRequest, r.Op, vaultapi.OpWithdraw)
	}
	h := consent.Hash(r.Consent)
	reg := v.del.registration(h)
	if reg == nil {
		return fmt.Errorf("%w: no consent grant %s made for a patient is registered here", vaultapi.ErrNotFound, h)
	}
	g, err := consent.Parse(reg.Grant)
	if err != nil {
		return err
	}
	e := &trail.Entry{Time: now, Patient: reg.Patient, Provider: r.Issuer, Action: trail.ActionWithdraw, Type: trail.DCMPatientRecord,
		Class: strings.Join(g.Classes, ","), Purpose: strings.Join(g.Purposes, ","), Consent: h}
	if r.Issuer != reg.Patient {
		var d *delegation.Delegation
		chk, err := v.delegations()
		if err == nil && r.Delegation == "" {
			err = fmt.Errorf("%w: only the patient, or a representative presenting their delegation, withdraws it", vaultapi.ErrDenied)
		}
		if err == nil {
			d, err = chk.Authorize(ctx, r.Delegation, delegation.Act{Representative: r.Issuer, Patient: reg.Patient,
				Action: delegation.ActionConsent, Classes: g.Classes, Purposes: g.Purposes, At: now})
			if err != nil {
				err = fmt.Errorf("%w: %w", vaultapi.ErrDenied, err)
			}
		}
		e.Authority = authority(d)
		if err != nil {
			return v.refuse(ctx, e, err)
		}
	}
	e.Outcome = trail.OutcomeGranted
	if err := v.trail(ctx, e); err != nil {
		return fmt.Errorf("%w: %v", vaultapi.ErrTrailUnavailable, err)
	}
	v.del.mu.Lock()
	delete(v.del.grants, h)
	v.del.mu.Unlock()
	if err := os.Remove(filepath.Join(v.del.dir, "grants", h+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// representativeLog answers a representative's access-log request for the
// patient r names: the copies of the patient's trail sealed to them since
// their delegation was first used here. The request, granted or refused,
// is in the patient's trail.
func (v *Vault) representativeLog(ctx context.Context, r *vaultapi.Request, now time.Time) ([]trail.Proved, error) {
	if r.Patient == "" {
		return nil, fmt.Errorf("%w: say whose trail (patient)", vaultapi.ErrBadRequest)
	}
	e := &trail.Entry{Time: now, Patient: r.Patient, Provider: r.Issuer, Action: trail.ActionAccessLog, Type: trail.DCMPatientRecord}
	if r.Delegation == "" {
		return nil, fmt.Errorf("%w: a patient reads only their own trail; a representative presents their delegation", vaultapi.ErrDenied)
	}
	chk, err := v.delegations()
	if err != nil {
		return nil, err
	}
	d, err := chk.Authorize(ctx, r.Delegation, delegation.Act{Representative: r.Issuer, Patient: r.Patient, Action: delegation.ActionTrail, At: now})
	e.Authority = authority(d)
	if err != nil {
		return nil, v.refuse(ctx, e, fmt.Errorf("%w: %w", vaultapi.ErrDenied, err))
	}
	if err := v.del.rememberCopy(d); err != nil {
		return nil, err
	}
	e.Outcome = trail.OutcomeGranted
	if err := v.trail(ctx, e); err != nil {
		return nil, fmt.Errorf("%w: %v", vaultapi.ErrTrailUnavailable, err)
	}
	return v.log.Entries(RepresentativeSubject(r.Issuer, r.Patient)), nil
}
