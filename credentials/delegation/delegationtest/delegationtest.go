// Package delegationtest is the test kit for code that makes or honours
// delegations (credentials/delegation itself, an OpenID4VCI issuer, an
// OpenID4VP verifier, a vault): the cast (an accredited birth registry, a
// rogue authority, a patient and another, a parent, a carer, a stranger,
// the did:key the patient's wallet publishes delegation status under), the
// two delegations every story starts from ([World.Guardianship],
// [World.Own]), their revocation lists, a clock, and a real
// [delegation.Checker], so a test decides acts through the same code a
// hospital runs.
//
// [New] keeps the lists in memory with a settable clock; [NewWith] puts the
// same world on other infrastructure (a real registry's lists and
// did:medid authorities, a wall clock), as the vault's tests do.
package delegationtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
)

// World is everyone a delegation test needs. Its methods are safe for
// concurrent use.
type World struct {
	t testing.TB
	// Registry is accredited for GuardianshipCredential; Rogue is not.
	Registry, Rogue credtest.Party
	// Patient (Ana) and Other (Ben) are patients; StatusKey is the did:key
	// under which Ana's wallet publishes her own delegations' status.
	Patient, Other, StatusKey credtest.Party
	// Parent (Maria), Carer and Stranger are representatives.
	Parent, Carer, Stranger credtest.Party
	// Clock is the world's settable clock, starting at 2026-03-01 12:00
	// UTC; nil when Config.Now gave another.
	Clock *credtest.Clock

	cfg     Config
	mu      sync.Mutex // guards lists, owners and fetches
	lists   map[string]*statuslist.List
	owners  map[string]credtest.Party
	fetches int
	next    atomic.Int64
}

// Config puts a World on other infrastructure than memory ([NewWith]).
// The zero Config is [New]'s world.
type Config struct {
	// Now is the world's clock; nil: a settable [credtest.Clock] starting
	// at 2026-03-01 12:00 UTC (World.Clock).
	Now func() time.Time
	// Registry and Rogue, when set, replace the did:key authorities (for
	// example did:medid identities on a real ledger, Registry accredited
	// there for GuardianshipCredential).
	Registry, Rogue *credtest.Party
	// Lists keeps the revocation lists; nil: in memory, served by
	// [World.FetchStatusList].
	Lists Lists
	// ComingOfAge is how long after now the patient of [World.Guardianship]
	// comes of age; 0: 365 days.
	ComingOfAge time.Duration
}

// Lists keeps a World's revocation lists somewhere a checker reads them
// (a registry, say). Implementations are called from one goroutine at a
// time per World.
type Lists interface {
	// URL is where owner's delegation status list is, made empty (and
	// published) on first use.
	URL(owner credtest.Party) string
	// Revoke sets the bit of entry and makes the change visible.
	Revoke(entry vc.Status)
}

// New returns a World whose parties are made from fixed seeds, with its
// lists in memory and a settable clock.
func New(tb testing.TB) *World { return NewWith(tb, Config{}) }

// NewWith returns the World of [New] on cfg's infrastructure.
func NewWith(tb testing.TB, cfg Config) *World {
	p := func(n string) credtest.Party { return credtest.NewParty(tb, key.Ed25519, "delegationtest "+n) }
	w := &World{t: tb, Registry: p("registry"), Rogue: p("rogue"), Patient: p("ana"), Other: p("ben"), StatusKey: p("status"),
		Parent: p("maria"), Carer: p("carer"), Stranger: p("stranger"), cfg: cfg,
		lists: map[string]*statuslist.List{}, owners: map[string]credtest.Party{}}
	if cfg.Registry != nil {
		w.Registry = *cfg.Registry
	}
	if cfg.Rogue != nil {
		w.Rogue = *cfg.Rogue
	}
	if cfg.Now == nil {
		w.Clock = credtest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		w.cfg.Now = w.Clock.Now
	}
	if cfg.ComingOfAge == 0 {
		w.cfg.ComingOfAge = 365 * 24 * time.Hour
	}
	return w
}

// Now is the world's clock.
func (w *World) Now() time.Time { return w.cfg.Now() }

// Parties returns every party, for a key function or resolver.
func (w *World) Parties() []credtest.Party {
	return []credtest.Party{w.Registry, w.Rogue, w.Patient, w.Other, w.StatusKey, w.Parent, w.Carer, w.Stranger}
}

// ListURL is the URL of owner's delegation status list, namespaced by its
// DID as a wallet's is, created empty on first use.
func (w *World) ListURL(owner credtest.Party) string {
	if w.cfg.Lists != nil {
		return w.cfg.Lists.URL(owner)
	}
	u := "https://registry.example/1.0/status-lists/" + owner.DID + ":delegations"
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lists[u] == nil {
		l, err := statuslist.New(statuslist.MinEntries)
		if err != nil {
			w.t.Fatal(err)
		}
		w.lists[u], w.owners[u] = l, owner
	}
	return u
}

// Guardianship is the birth registry's delegation of Maria as Ana's parent
// (Ana a minor coming of age Config.ComingOfAge from now, a year by
// default), with actions for every class and purpose TREAT. Sign it with
// [World.Sign].
func (w *World) Guardianship(actions ...delegation.Action) *delegation.Delegation {
	t0 := w.Now()
	return &delegation.Delegation{ID: fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", w.next.Add(1)), Type: delegation.TypeGuardianship,
		Issuer: w.Registry.DID, Representative: w.Parent.DID, RepresentativeName: "Maria Silva", Patient: w.Patient.DID,
		PatientName: "Ana Silva", Relationship: "DAU", Minor: true, Basis: delegation.BasisParent,
		Actions: actions, Classes: []string{delegation.AllClasses}, Purposes: []string{"TREAT"},
		ValidFrom: t0.Add(-time.Hour), ValidUntil: t0.Add(w.cfg.ComingOfAge),
		Status: statuslist.Entry(w.ListURL(w.Registry), statuslist.Revocation, int(w.next.Load()))}
}

// Own is Ana's own delegation to the carer for 30 days, for actions on
// classes.
func (w *World) Own(actions []delegation.Action, classes ...string) *delegation.Delegation {
	t0 := w.Now()
	return &delegation.Delegation{ID: fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", w.next.Add(1)), Type: delegation.TypeDelegation,
		Issuer: w.Patient.DID, Representative: w.Carer.DID, RepresentativeName: "Carl Carer", Patient: w.Patient.DID,
		PatientName: "Ana Silva", Basis: delegation.BasisAuthorisation, Actions: actions, Classes: classes, Purposes: []string{"TREAT"},
		ValidFrom: t0.Add(-time.Hour), ValidUntil: t0.Add(30 * 24 * time.Hour),
		Status: statuslist.Entry(w.ListURL(w.StatusKey), statuslist.Revocation, int(w.next.Load()))}
}

// Sign issues d with p's key and returns the token (also set as d.Token).
func (w *World) Sign(d *delegation.Delegation, p credtest.Party) string {
	w.t.Helper()
	tok, err := delegation.Issue(d, p.Key, p.Kid)
	if err != nil {
		w.t.Fatal(err)
	}
	d.Token = tok
	return tok
}

// Revoke sets d's revocation bit.
func (w *World) Revoke(d *delegation.Delegation) {
	if w.cfg.Lists != nil {
		w.cfg.Lists.Revoke(d.Status)
		return
	}
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

// ServeAs serves at url signer's own list (see [World.ListURL]), signed by
// signer: a list whose URL may name someone else's namespace, as a forger
// would serve it.
func (w *World) ServeAs(url string, signer credtest.Party) {
	own := w.ListURL(signer)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lists[url], w.owners[url] = w.lists[own], signer
}

// Fetches is how many times a status list was fetched.
func (w *World) Fetches() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fetches
}

// FetchStatusList signs the current list at url (verify.StatusFetcher),
// of the in-memory lists.
func (w *World) FetchStatusList(_ context.Context, url string) (string, error) {
	w.mu.Lock()
	w.fetches++
	l, owner := w.lists[url], w.owners[url]
	var c *vc.Credential
	var err error
	if l != nil {
		c, err = statuslist.NewCredential(url, owner.DID, statuslist.Revocation, l, 0)
	}
	w.mu.Unlock()
	if l == nil {
		return "", fmt.Errorf("no status list %s", url)
	}
	if err != nil {
		return "", err
	}
	from := w.Now().Add(-time.Hour)
	c.ValidFrom = &from
	return vc.Issue(c, owner.Key, owner.Kid)
}

// Accredited says the birth registry is accredited for
// GuardianshipCredential, nobody else for anything
// (verify.Accreditations).
func (w *World) Accredited(_ context.Context, issuer, typ string, _ time.Time) (bool, error) {
	return typ == delegation.TypeGuardianship && issuer == w.Registry.DID, nil
}

// Checker returns a delegation.Checker over the world's in-memory lists
// and accreditations, fetching status on every decision so a
// [World.Revoke] is seen at once.
func (w *World) Checker() *delegation.Checker {
	w.t.Helper()
	c, err := delegation.NewChecker(delegation.CheckerConfig{Resolver: did.KeyResolver{}, Status: w, Trust: w, Now: w.cfg.Now, StatusTTL: -1})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}
