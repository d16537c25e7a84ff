package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/client"
	rledger "github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/wallettest"
	"github.com/medid/medid/wallet/wallettest/testwallet"
)

// fixedPhrase is a valid BIP-39 phrase, so the test wallet's DIDs (and the
// golden renderings) are the same on every run.
const fixedPhrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon " +
	"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"

var testPass = "correct horse battery staple"

// fastKDF keeps Argon2id cheap in tests (the wallet's minimum).
func fastKDF() wallet.KDFParams {
	return wallet.KDFParams{Salt: []byte("0123456789abcdef"), Time: 1, MemoryKiB: 8 * 1024, Threads: 1}
}

// newClock is the app tests' settable clock.
func newClock() *credtest.Clock {
	return credtest.NewClock(time.Date(2026, 3, 14, 10, 30, 0, 0, time.UTC))
}

// fakeRegistry accepts every transaction (registration is tested against a
// real registry in package wallet; here the screen is under test).
type fakeRegistry struct {
	mu    sync.Mutex // guards count, fail and down
	count int
	fail  error
	gate  chan struct{} // when set, Submit waits for it (a slow network)
	// down makes the directory's reads fail as an unreachable registry
	// does (a *url.Error), so names come from the wallet's snapshot or
	// are "not verified (the directory could not be reached)".
	down bool
}

// setDown makes the registry unreachable (true) or reachable again.
func (r *fakeRegistry) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

// unreachable is the error of a registry that does not answer.
func (r *fakeRegistry) unreachable() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.down {
		return nil
	}
	return &url.Error{Op: "Get", URL: "http://127.0.0.1:8080/1.0/directory", Err: errors.New("dial tcp 127.0.0.1:8080: connect: connection refused")}
}

func (r *fakeRegistry) Submit(ctx context.Context, _ []byte) (*client.TxResult, error) {
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return nil, r.fail
	}
	r.count++
	return &client.TxResult{Height: int64(r.count)}, nil
}

func (r *fakeRegistry) Resolve(context.Context, string) (*did.Resolution, error) {
	return nil, did.ErrNotFound
}

// harness is an App in a test window with its fakes.
type harness struct {
	t        *testing.T
	a        *App
	win      fyne.Window
	clk      *credtest.Clock
	verifier testwallet.Verifier
	registry *fakeRegistry
	dir      string
}

type option func(*Config)

func withConsent(s ConsentService) option     { return func(c *Config) { c.Consent = s } }
func withAccessLog(s AccessLogService) option { return func(c *Config) { c.AccessLog = s } }

// newHarness starts the app on dir (a fresh folder when ""). The test
// theme and a fixed window size keep the golden renderings stable.
func newHarness(t *testing.T, dir string, opts ...option) *harness {
	t.Helper()
	fa := test.NewTempApp(t)
	h := &harness{t: t, clk: newClock(), dir: dir, registry: &fakeRegistry{}}
	if h.dir == "" {
		h.dir = filepath.Join(t.TempDir(), "wallet")
	}
	h.verifier = testwallet.Verifier{Verifier: wallettest.NewVerifier(h.clk.Now)}
	cfg := Config{
		WalletDir: h.dir, Now: h.clk.Now, KDF: fastKDF(), BackupWorkFactor: 10, IdleCheck: -1,
		Lockout: wallet.LockoutPolicy{FreeAttempts: 2, Base: time.Minute, Max: time.Hour},
		Connect: func(string, func() time.Time) (wallet.Verifier, wallet.Registry, error) {
			return h.verifier, h.registry, nil
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.a = a
	a.manualUI = true // UI updates run in h.a.wait(), on the test goroutine
	h.win = a.Window(fa)
	h.win.Resize(fyne.NewSize(960, 680))
	t.Cleanup(func() { a.Close() })
	return h
}

// prepared makes a wallet from fixedPhrase in a fresh folder and closes it.
func prepared(t *testing.T) string { return preparedFrom(t, fixedPhrase) }

// unlocked starts the app on a prepared wallet and unlocks it.
func unlocked(t *testing.T, opts ...option) *harness {
	t.Helper()
	h := newHarness(t, prepared(t), opts...)
	h.unlock(testPass)
	if h.a.main == nil {
		t.Fatalf("not on the main screen after unlocking; error: %q", h.a.unlock.err.Text)
	}
	return h
}

func (h *harness) unlock(pass string) {
	h.t.Helper()
	u := h.a.unlock
	if u == nil {
		h.t.Fatal("the unlock screen is not showing")
	}
	test.Type(u.pass, pass)
	test.Tap(u.btn)
	h.a.wait()
}

// newIssuer is the test hospital called name (wallettest.NewIssuer),
// listed under that name in the fake registry's directory.
func newIssuer(t testing.TB, name string) wallettest.Issuer {
	t.Helper()
	is := wallettest.NewIssuer(t, name)
	testDirectory.Store(is.DID, name)
	return is
}

// testDirectory is the registry's directory as the fake registry serves
// it: DID -> display name of a hospital (newIssuer adds its issuers), or
// a [2]string{name, kind} for another kind of organisation.
var testDirectory sync.Map

// testSuspended holds the DIDs of testDirectory's organisations that
// governance suspended (the fake registry serves them so).
var testSuspended sync.Map

// dirEntry reads a testDirectory value.
func dirEntry(v any) (name, kind string) {
	if nk, ok := v.([2]string); ok {
		return nk[0], nk[1]
	}
	return v.(string), tx.KindHospital
}

// Directory implements directory.Source from testDirectory.
func (r *fakeRegistry) Directory(_ context.Context, d string) (*rledger.DirectoryRecord, error) {
	if err := r.unreachable(); err != nil {
		return nil, err
	}
	v, ok := testDirectory.Load(d)
	if !ok {
		return nil, rledger.ErrNotFound
	}
	name, kind := dirEntry(v)
	var logo *tx.Logo
	if l, ok := testLogos.Load(d); ok {
		logo = l.(servedLogo).named
	}
	status := rledger.DirectoryActive
	if _, ok := testSuspended.Load(d); ok {
		status = rledger.DirectorySuspended
	}
	return &rledger.DirectoryRecord{DID: d, Versions: []rledger.DirectoryVersion{{Version: 1, Status: status,
		Entry: tx.DirectoryEntry{DisplayName: name, LegalName: name, Kind: kind, Country: "GB", Logo: logo}}}}, nil
}

// SearchDirectory searches testDirectory's names (case-insensitive
// substring), as the registry's index answers.
func (r *fakeRegistry) SearchDirectory(_ context.Context, q rledger.DirectorySearch) (*rledger.DirectoryPage, error) {
	if err := r.unreachable(); err != nil {
		return nil, err
	}
	page := &rledger.DirectoryPage{}
	testDirectory.Range(func(k, v any) bool {
		name, kind := dirEntry(v)
		if strings.Contains(strings.ToLower(name), strings.ToLower(q.Query)) {
			page.Results = append(page.Results, rledger.DirectorySummary{DID: k.(string), DisplayName: name,
				LegalName: name, Kind: kind, Country: "GB", Status: rledger.DirectoryActive, Version: 1})
		}
		return true
	})
	slices.SortFunc(page.Results, func(a, b rledger.DirectorySummary) int { return strings.Compare(a.DID, b.DID) })
	return page, nil
}

// DirectoryRole implements directory.Source: no role DIDs.
func (r *fakeRegistry) DirectoryRole(context.Context, string) (*rledger.DirectoryAlias, error) {
	return nil, rledger.ErrNotFound
}

// testLogos are the organisations' logos: the one the directory names and
// the bytes the fake registry serves for it (not checked here: the app
// must check them itself).
var testLogos sync.Map

type servedLogo struct {
	named  *tx.Logo
	served []byte
}

// Logo serves testLogos' bytes, unchecked.
func (r *fakeRegistry) Logo(_ context.Context, d string, _ *tx.Logo) ([]byte, error) {
	l, ok := testLogos.Load(d)
	if !ok {
		return nil, rledger.ErrNotFound
	}
	return l.(servedLogo).served, nil
}

// testAccredited are the accreditations the fake registry serves: DID ->
// the credential types it is accredited for, since accreditedSince.
var testAccredited sync.Map

var accreditedSince = time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)

// Accreditations implements directory.Source from testAccredited.
func (r *fakeRegistry) Accreditations(_ context.Context, d string) (*rledger.IssuerRecord, error) {
	if err := r.unreachable(); err != nil {
		return nil, err
	}
	v, ok := testAccredited.Load(d)
	if !ok {
		return nil, rledger.ErrNotFound
	}
	return &rledger.IssuerRecord{DID: d, Accreditations: []rledger.Accreditation{{ID: "a1", CredentialTypes: v.([]string),
		ValidFrom: accreditedSince, Granted: accreditedSince}}}, nil
}

func allergyClaimsFHIR() map[string]any {
	return map[string]any{
		"code":        map[string]any{"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"},
		"reaction":    "anaphylaxis",
		"criticality": "high",
	}
}

func immunizationClaims() map[string]any {
	return map[string]any{
		"vaccineCode":        map[string]any{"text": "Tetanus, diphtheria (Td)"},
		"occurrenceDateTime": "2025-10-02",
		"doseNumber":         "2",
	}
}

// primary is the wallet's primary DID.
func (h *harness) primary() string {
	h.t.Helper()
	d, err := h.a.wallet().PrimaryDID()
	if err != nil {
		h.t.Fatal(err)
	}
	return d.DID
}

// receive pastes token into the "Add a record" dialog and submits it.
func (h *harness) receive(token string) {
	h.t.Helper()
	u := h.a.main.creds
	test.Tap(u.addBtn)
	u.recvText.SetText(token) // a paste
	test.Tap(u.recvBtn)
	h.a.wait()
	if u.preview.Visible() { // what is offered, before anything is stored
		test.Tap(u.recvAccept)
		h.a.wait()
	}
}

// card returns the card whose title is title.
func (h *harness) card(title string) *credCard {
	h.t.Helper()
	for _, c := range h.a.main.creds.items {
		if c.title.Text == title {
			return c
		}
	}
	var got []string
	for _, c := range h.a.main.creds.items {
		got = append(got, c.title.Text)
	}
	h.t.Fatalf("no card %q; cards: %q", title, got)
	return nil
}

// fakeConsent is an in-memory ConsentService.
type fakeConsent struct {
	now    func() time.Time
	mu     sync.Mutex // guards grants
	grants []ConsentGrant
}

func (f *fakeConsent) Grant(_ context.Context, r ConsentRequest) (ConsentGrant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	g := ConsentGrant{ID: fmt.Sprintf("c%d", len(f.grants)+1), Provider: r.Provider, DataClasses: r.DataClasses,
		Purpose: r.Purpose, BreakGlass: r.BreakGlass, Granted: now, Expires: now.Add(r.Duration)}
	f.grants = append(f.grants, g)
	return g, nil
}

func (f *fakeConsent) List(context.Context) ([]ConsentGrant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.grants), nil
}

func (f *fakeConsent) Revoke(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.grants {
		if f.grants[i].ID == id {
			f.grants[i].Expires = f.now()
			return nil
		}
	}
	return wallet.ErrNotFound
}

// fakeAccessLog is a fixed AccessLogService.
type fakeAccessLog struct {
	mu     sync.Mutex // guards events
	events []AccessEvent
}

func (f *fakeAccessLog) Accesses(_ context.Context, since time.Time) ([]AccessEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []AccessEvent
	for _, e := range f.events {
		if !e.At.Before(since) {
			out = append(out, e)
		}
	}
	return out, nil
}

func sampleAccesses(now time.Time) []AccessEvent {
	return []AccessEvent{
		{At: now.Add(-50 * time.Hour), Accessor: "St Mary's Hospital", Data: []string{"allergies"}, Purpose: "TREAT", Outcome: OutcomePermitted},
		{At: now.Add(-26 * time.Hour), Accessor: "City ER", Data: []string{"allergies", "immunizations"}, Purpose: "ETREAT", Outcome: OutcomePermitted, BreakGlass: true},
		{At: now.Add(-3 * time.Hour), Accessor: "Acme Insurance", Data: []string{"conditions"}, Purpose: "HPAYMT", Outcome: OutcomeDenied},
		{At: now.Add(-2 * time.Hour), Accessor: "St Mary's Hospital", Data: []string{"immunizations"}, Purpose: "TREAT", Outcome: OutcomePermitted},
	}
}

// noAutoLock turns auto-lock off, for tests that move the clock by hours.
func (h *harness) noAutoLock() {
	h.t.Helper()
	if err := h.a.wallet().SetSettings(wallet.Settings{AutoLock: -1, PhraseConfirmed: true}); err != nil {
		h.t.Fatal(err)
	}
}
