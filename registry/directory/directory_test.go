package directory_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// fakeRegistry is an in-memory Source, accreditation source and status
// list server.
type fakeRegistry struct {
	mu      sync.Mutex
	orgs    map[string]*ledger.DirectoryRecord
	aliases map[string]string
	accs    map[string]*ledger.IssuerRecord
	lists   map[string]string
	calls   int
	down    bool // status lists do not answer (a network outage)
}

func (f *fakeRegistry) Directory(_ context.Context, d string) (*ledger.DirectoryRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if r, ok := f.orgs[d]; ok {
		return r, nil
	}
	return nil, ledger.ErrNotFound
}

func (f *fakeRegistry) DirectoryRole(_ context.Context, d string) (*ledger.DirectoryAlias, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o, ok := f.aliases[d]; ok {
		return &ledger.DirectoryAlias{DID: d, Org: o}, nil
	}
	return nil, ledger.ErrNotFound
}

func (f *fakeRegistry) Accreditations(_ context.Context, d string) (*ledger.IssuerRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.accs[d]; ok {
		return r, nil
	}
	return nil, ledger.ErrNotFound
}

func (f *fakeRegistry) Accredited(ctx context.Context, issuer, typ string, at time.Time) (bool, error) {
	r, err := f.Accreditations(ctx, issuer)
	if err != nil {
		return false, nil
	}
	return r.AccreditedAt(typ, at), nil
}

func (f *fakeRegistry) FetchStatusList(_ context.Context, u string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return "", errors.New("connection refused")
	}
	if t, ok := f.lists[u]; ok {
		return t, nil
	}
	return "", verify.ErrStatusListNotFound
}

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func (f *fakeRegistry) add(d, name, kind, status string, roles ...tx.Role) {
	f.orgs[d] = &ledger.DirectoryRecord{DID: d, Versions: []ledger.DirectoryVersion{{Version: 1, Status: status, Recorded: t0,
		Entry: tx.DirectoryEntry{DisplayName: name, LegalName: name, Kind: kind, Country: "GB", Roles: roles}}}}
	for _, r := range roles {
		if r.DID != "" {
			f.aliases[r.DID] = d
		}
	}
}

type world struct {
	reg                  *fakeRegistry
	dir                  *directory.Directory
	body, hospital       *key.PrivateKey
	bodyDID, hospitalDID string
	doctor, vault        string
	doctorKey            *key.PrivateKey
	listID               string
	list                 *statuslist.List
}

func newWorld(t testing.TB) *world {
	w := &world{reg: &fakeRegistry{orgs: map[string]*ledger.DirectoryRecord{}, aliases: map[string]string{}, accs: map[string]*ledger.IssuerRecord{}, lists: map[string]string{}}}
	w.body, _ = key.Generate(key.Ed25519)
	w.hospital, _ = key.Generate(key.Ed25519)
	doc, _ := key.Generate(key.Ed25519)
	v, _ := key.Generate(key.Ed25519)
	w.bodyDID, w.hospitalDID = did.KeyDID(w.body.Public()), did.KeyDID(w.hospital.Public())
	w.doctor, w.vault, w.doctorKey = did.KeyDID(doc.Public()), did.KeyDID(v.Public()), doc
	w.reg.add(w.bodyDID, "General Medical Council", tx.KindLicensingBody, ledger.DirectoryActive)
	w.reg.add(w.hospitalDID, "St Mary's Hospital", tx.KindHospital, ledger.DirectoryActive, tx.Role{Role: tx.RoleIssuer}, tx.Role{Role: tx.RoleVaultOperator, DID: w.vault})
	w.reg.accs[w.bodyDID] = &ledger.IssuerRecord{DID: w.bodyDID, Accreditations: []ledger.Accreditation{{ID: "a", CredentialTypes: []string{licence.Type}, ValidFrom: t0.Add(-time.Hour)}}}
	w.listID = "https://registry.example/1.0/status-lists/gmc"
	w.list, _ = statuslist.New(statuslist.MinEntries)
	w.publish(t)
	ver, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Status: w.reg, Trust: w.reg, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	w.dir = directory.New(directory.Config{Source: w.reg, Licences: ver, Now: func() time.Time { return t0 }})
	return w
}

func (w *world) publish(t testing.TB) {
	c, err := statuslist.NewCredential(w.listID, w.bodyDID, statuslist.Revocation, w.list, 0)
	if err != nil {
		t.Fatal(err)
	}
	from := t0.Add(-time.Hour)
	c.ValidFrom = &from
	tok, err := vc.Issue(c, w.body, did.KeyDID(w.body.Public())+"#"+w.body.Public().Multikey())
	if err != nil {
		t.Fatal(err)
	}
	w.reg.lists[w.listID] = tok
}

func (w *world) licence(t testing.TB, subject, employer string, until time.Time) string {
	cl := licence.Claims{Name: "Dr. Jane Doe", Profession: licence.Professions["doctor"], LicenceNumber: "GMC-7654321", Jurisdiction: "GB", Employer: employer}
	from := t0.Add(-time.Minute)
	c := &vc.Credential{Context: []string{vc.ContextV2}, ID: "urn:uuid:lic-1", Type: []string{vc.TypeCredential, licence.Type},
		Issuer: w.bodyDID, ValidFrom: &from, ValidUntil: &until, Subject: cl.Subject(subject),
		Status: []vc.Status{{Type: "BitstringStatusListEntry", StatusPurpose: "revocation", StatusListIndex: "3", StatusListCredential: w.listID}}}
	tok, err := vc.Issue(c, w.body, did.KeyDID(w.body.Public())+"#"+w.body.Public().Multikey())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestLookup(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, tc := range []struct {
		did, label string
		kind       directory.Kind
	}{
		{w.hospitalDID, "St Mary's Hospital", directory.KindOrganisation},
		{w.vault, "St Mary's Hospital (record vault)", directory.KindOrganisation},
		{w.doctor, "someone not in the directory (ref. " + directory.Ref(w.doctor) + ")", directory.KindUnknown},
	} {
		id, err := w.dir.Lookup(ctx, tc.did)
		if err != nil {
			t.Fatal(err)
		}
		if id.Kind != tc.kind || id.Label() != tc.label {
			t.Errorf("Lookup(%s) = %s %q, want %s %q", tc.did, id.Kind, id.Label(), tc.kind, tc.label)
		}
	}
	// A licence from the licensing body names the doctor and her employer.
	id, err := w.dir.AddLicence(ctx, w.licence(t, w.doctor, w.hospitalDID, t0.Add(365*24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if got := id.Label(); got != "Dr. Jane Doe (St Mary's Hospital)" {
		t.Errorf("practitioner label %q", got)
	}
	if id, _ := w.dir.Lookup(ctx, w.doctor); id.Kind != directory.KindPractitioner || id.Name() != "Dr. Jane Doe" {
		t.Errorf("Lookup(doctor) after the licence: %+v", id)
	}
}

func TestLicenceRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		setup   func(w *world) string // returns the licence
		problem string
	}{
		{"revoked", func(w *world) string {
			tok := w.licence(t, w.doctor, w.hospitalDID, t0.Add(time.Hour))
			w.list.Set(3, true)
			w.publish(t)
			return tok
		}, "licence revoked"},
		{"expired", func(w *world) string { return w.licence(t, w.doctor, w.hospitalDID, t0.Add(-time.Second)) }, "licence expired"},
		{"body not accredited for licences", func(w *world) string {
			delete(w.reg.accs, w.bodyDID)
			return w.licence(t, w.doctor, w.hospitalDID, t0.Add(time.Hour))
		}, "licence issuer not accredited"},
		{"issuer is a hospital, not a licensing body", func(w *world) string {
			w.reg.orgs[w.bodyDID].Versions[0].Entry.Kind = tx.KindHospital
			return w.licence(t, w.doctor, w.hospitalDID, t0.Add(time.Hour))
		}, "not a licensing body"},
		{"body suspended", func(w *world) string {
			w.reg.orgs[w.bodyDID].Versions[0].Status = ledger.DirectorySuspended
			return w.licence(t, w.doctor, w.hospitalDID, t0.Add(time.Hour))
		}, "is suspended"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			id, err := w.dir.AddLicence(ctx, tc.setup(w))
			if !errors.Is(err, directory.ErrLicence) {
				t.Fatalf("AddLicence: %v, want ErrLicence", err)
			}
			if id.Verified() || id.Name() != "" || !contains(id.Label(), tc.problem) {
				t.Errorf("identity %q (verified %v), want a label saying %q", id.Label(), id.Verified(), tc.problem)
			}
		})
	}
	// An employer that is not in the directory is not named.
	w := newWorld(t)
	id, err := w.dir.AddLicence(ctx, w.licence(t, w.doctor, "did:key:z6MkNotAHospital", t0.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if got := id.Label(); got != "Dr. Jane Doe (licensed by General Medical Council)" {
		t.Errorf("label %q", got)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestSuspendedAndSnapshot(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.reg.orgs[w.hospitalDID].Versions[0].Status = ledger.DirectorySuspended
	id, _ := w.dir.Lookup(ctx, w.hospitalDID)
	if id.Verified() || id.Label() != "St Mary's Hospital (suspended in the directory)" {
		t.Errorf("suspended: %q", id.Label())
	}
	w.reg.orgs[w.hospitalDID].Versions[0].Status = ledger.DirectoryActive
	w2 := newWorld(t)
	w2.reg = w.reg
	if _, err := w.dir.AddLicence(ctx, w.licence(t, w.doctor, w.hospitalDID, t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	fresh := directory.New(directory.Config{Source: w.reg, Now: func() time.Time { return t0 }})
	if id, _ := fresh.Lookup(ctx, w.vault); id.Label() != "St Mary's Hospital (record vault)" {
		t.Fatalf("vault: %q", id.Label())
	}
	snap, err := fresh.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	offline := directory.New(directory.Config{Now: func() time.Time { return t0 }})
	if err := offline.LoadSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	id, _ = offline.Lookup(ctx, w.vault)
	if id.Label() != "St Mary's Hospital (record vault; directory as saved on 1 Dec 2026)" || id.Source != "snapshot of 1 Dec 2026" {
		t.Errorf("offline from the snapshot: %q from %q", id.Label(), id.Source)
	}
	if id, err := offline.Lookup(ctx, w.doctor); err != nil || id.Verified() || id.Label() != "someone not verified (the directory could not be reached; ref. "+directory.Ref(w.doctor)+")" {
		t.Errorf("offline, unknown DID: %q, %v", id.Label(), err)
	}
	for _, bad := range [][]byte{[]byte("{"), []byte(`{"format":2}`), make([]byte, directory.MaxSnapshot+1)} {
		if err := offline.LoadSnapshot(bad); err == nil {
			t.Errorf("LoadSnapshot(%.20q) accepted", bad)
		}
	}
}

// BenchmarkLookupCached is a Lookup answered from the cache, with a bare
// map read under a read lock (the least a concurrent cache can do) as the
// baseline in the same run.
func BenchmarkLookupCached(b *testing.B) {
	w := newWorld(b)
	ctx := context.Background()
	if _, err := w.dir.Lookup(ctx, w.hospitalDID); err != nil {
		b.Fatal(err)
	}
	var mu sync.RWMutex
	m := map[string]*directory.Identity{w.hospitalDID: {}}
	start := time.Now()
	const n = 1_000_000
	for range n {
		mu.RLock()
		_ = m[w.hospitalDID]
		mu.RUnlock()
	}
	base := float64(time.Since(start).Nanoseconds()) / n
	b.ResetTimer()
	for range b.N {
		if id, _ := w.dir.Lookup(ctx, w.hospitalDID); id.Kind != directory.KindOrganisation {
			b.Fatal(id.Kind)
		}
	}
	b.StopTimer()
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(base, "baseline-ns/op")
	b.ReportMetric(per/base, "x-baseline")
}

// unreachable is a registry that does not answer.
type unreachable struct{}

func (unreachable) Directory(context.Context, string) (*ledger.DirectoryRecord, error) {
	return nil, errors.New("connection refused")
}
func (unreachable) DirectoryRole(context.Context, string) (*ledger.DirectoryAlias, error) {
	return nil, errors.New("connection refused")
}
func (unreachable) Accreditations(context.Context, string) (*ledger.IssuerRecord, error) {
	return nil, errors.New("connection refused")
}

// TestSavedCopyDate: a name from the wallet's saved copy of the directory
// says so, with the date the registry last gave it, whether the wallet is
// offline or the registry does not answer; an answer kept in a later
// snapshot without being read again keeps its older date.
func TestSavedCopyDate(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.reg.add("did:medid:stjude", "St Jude's Hospital", tx.KindHospital, ledger.DirectorySuspended)
	if _, err := w.dir.AddLicence(ctx, w.licence(t, w.doctor, w.hospitalDID, t0.Add(30*24*time.Hour))); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{w.hospitalDID, w.vault, "did:medid:stjude"} {
		if id, _ := w.dir.Lookup(ctx, d); !id.Saved.IsZero() || strings.Contains(id.Label(), "saved") {
			t.Errorf("from the registry, %q says it is from a saved copy", id.Label())
		}
	}
	snap, err := w.dir.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	later := t0.Add(48 * time.Hour)
	clock := func() time.Time { return later }
	want := map[string]string{
		w.hospitalDID:      "St Mary's Hospital (directory as saved on 1 Dec 2026)",
		w.vault:            "St Mary's Hospital (record vault; directory as saved on 1 Dec 2026)",
		w.doctor:           "Dr. Jane Doe (St Mary's Hospital; directory as saved on 1 Dec 2026)",
		"did:medid:stjude": "St Jude's Hospital (suspended in the directory as saved on 1 Dec 2026)",
	}
	offline := directory.New(directory.Config{Now: clock})
	down := directory.New(directory.Config{Source: unreachable{}, Now: clock})
	for name, d := range map[string]*directory.Directory{"offline": offline, "registry down": down} {
		if err := d.LoadSnapshot(snap); err != nil {
			t.Fatal(err)
		}
		for did, label := range want {
			id, _ := d.Lookup(ctx, did)
			if got := id.Label(); got != label {
				t.Errorf("%s: %q, want %q", name, got, label)
			}
			if id.Source != "snapshot of 1 Dec 2026" {
				t.Errorf("%s: source %q", name, id.Source)
			}
		}
	}
	// Saved again two days later with nothing read since: still 1 Dec.
	again, err := offline.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	third := directory.New(directory.Config{Now: func() time.Time { return later.Add(24 * time.Hour) }})
	if err := third.LoadSnapshot(again); err != nil {
		t.Fatal(err)
	}
	if id, _ := third.Lookup(ctx, w.hospitalDID); id.Label() != want[w.hospitalDID] {
		t.Errorf("re-saved copy: %q, want %q", id.Label(), want[w.hospitalDID])
	}
}
