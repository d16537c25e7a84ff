package delegation

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
)

// newParty is the did:key party made from a fixed seed.
func newParty(tb testing.TB, b byte) credtest.Party {
	return credtest.NewParty(tb, key.Ed25519, fmt.Sprintf("delegation party %d", b))
}

// world is everyone a delegation test needs: an accredited birth registry,
// an unaccredited organisation, a patient (with the did:key their wallet
// publishes delegation status under), a parent, a carer and a stranger;
// status lists served from memory; accreditations in a map.
type world struct {
	t                                 testing.TB
	registry, rogue                   credtest.Party
	patient, statusKey, parent, carer credtest.Party
	stranger                          credtest.Party
	t0                                time.Time
	mu                                sync.Mutex
	lists                             map[string]*statuslist.List // by URL
	owners                            map[string]credtest.Party
	fetches                           int
	accredited                        map[string]bool // DID -> accredited for GuardianshipCredential
	now                               time.Time
}

func newWorld(tb testing.TB) *world {
	w := &world{t: tb, registry: newParty(tb, 1), rogue: newParty(tb, 2), patient: newParty(tb, 3), statusKey: newParty(tb, 4),
		parent: newParty(tb, 5), carer: newParty(tb, 6), stranger: newParty(tb, 7),
		t0: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), lists: map[string]*statuslist.List{}, owners: map[string]credtest.Party{}}
	w.now = w.t0
	w.accredited = map[string]bool{w.registry.DID: true}
	return w
}

func (w *world) clock() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }

func (w *world) advance(d time.Duration) { w.mu.Lock(); w.now = w.now.Add(d); w.mu.Unlock() }

// listURL is the URL of owner's status list, namespaced by its DID as a
// wallet's is.
func (w *world) listURL(owner credtest.Party) string {
	u := "https://registry.example/1.0/status-lists/" + owner.DID + ":delegations"
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lists[u] == nil {
		l, err := statuslist.New(statuslist.MinEntries)
		if err != nil {
			w.t.Fatal(err)
		}
		w.lists[u] = l
		w.owners[u] = owner
	}
	return u
}

func (w *world) revoke(d *Delegation) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i, err := statuslist.Index(d.Status)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.lists[d.Status.StatusListCredential].Set(i, true); err != nil {
		w.t.Fatal(err)
	}
}

// FetchStatusList signs the current list (verify.StatusFetcher).
func (w *world) FetchStatusList(_ context.Context, url string) (string, error) {
	w.mu.Lock()
	l, owner := w.lists[url], w.owners[url]
	w.fetches++
	w.mu.Unlock()
	if l == nil {
		return "", fmt.Errorf("no status list %s", url)
	}
	c, err := statuslist.NewCredential(url, owner.DID, statuslist.Revocation, l, 0)
	if err != nil {
		return "", err
	}
	from := w.clock().Add(-time.Hour)
	c.ValidFrom = &from
	return vc.Issue(c, owner.Key, owner.Kid)
}

// Accredited is the trust source (verify.Accreditations).
func (w *world) Accredited(_ context.Context, issuer, typ string, _ time.Time) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return typ == TypeGuardianship && w.accredited[issuer], nil
}

func (w *world) checker() *Checker {
	w.t.Helper()
	c, err := NewChecker(CheckerConfig{Resolver: did.KeyResolver{}, Status: w, Trust: w, Now: w.clock, StatusTTL: -1})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

var nextIndex = 0

// guardianship is the birth registry's delegation of a parent for the
// patient as a minor, ending 18 years after t0 minus a year.
func (w *world) guardianship() *Delegation {
	nextIndex++
	return &Delegation{ID: fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", nextIndex), Type: TypeGuardianship,
		Issuer: w.registry.DID, Representative: w.parent.DID, RepresentativeName: "Maria Silva", Patient: w.patient.DID,
		PatientName: "Ana Silva", Relationship: "DAU", Minor: true, Basis: BasisParent,
		Actions: []Action{ActionView, ActionConsent, ActionTrail}, Classes: []string{AllClasses}, Purposes: []string{"TREAT"},
		ValidFrom: w.t0.Add(-time.Hour), ValidUntil: w.t0.Add(365 * 24 * time.Hour),
		Status: statuslist.Entry(w.listURL(w.registry), statuslist.Revocation, nextIndex)}
}

// own is the patient's own delegation to a carer: view immunizations for
// 30 days, no sub-delegation.
func (w *world) own() *Delegation {
	nextIndex++
	return &Delegation{ID: fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", nextIndex), Type: TypeDelegation,
		Issuer: w.patient.DID, Representative: w.carer.DID, RepresentativeName: "Carl Carer", Patient: w.patient.DID,
		Basis: BasisAuthorisation, Actions: []Action{ActionView, ActionConsent}, Classes: []string{"Immunization"},
		Purposes: []string{"TREAT"}, ValidFrom: w.t0.Add(-time.Hour), ValidUntil: w.t0.Add(30 * 24 * time.Hour),
		Status: statuslist.Entry(w.listURL(w.statusKey), statuslist.Revocation, nextIndex)}
}

// sign issues d with p's key, setting d.Token.
func (w *world) sign(d *Delegation, p credtest.Party) string {
	w.t.Helper()
	tok, err := Issue(d, p.Key, p.Kid)
	if err != nil {
		w.t.Fatal(err)
	}
	d.Token = tok
	return tok
}

// signRaw signs c as it is, bypassing Validate: for delegations this
// package would refuse to issue.
func (w *world) signRaw(c *vc.Credential, p credtest.Party) string {
	w.t.Helper()
	tok, err := vc.Issue(c, p.Key, p.Kid)
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}
