package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/registry/hospital/vault/vaulttest"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/delegate"
	"github.com/medid/medid/wallet/hospital"
)

// TestComingOfAgeConsent drives coming of age (docs/design/0020, the
// policy) through the app against a real registry and vault: a birth
// registry makes Maria Ana's guardian until Ana comes of age; Maria gives
// two doctors consent to Ana's immunizations in her name. Ana comes of
// age (the clocks move past the end date): Maria's authority stops by
// itself, the grants stay in force, and Ana's app, loading the Consent
// screen, learns from her trail that they were made in her name and
// shows each "given in your name by Maria Silva, as parent", awaiting her
// decision, with Keep it and Withdraw. She keeps one (it stays, marked as
// hers) and withdraws the other through the confirmation dialog: that
// doctor is refused from then on, the kept one still reads. The People
// tab tells her the guardianship ended.
func TestComingOfAgeConsent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry node")
	}
	ctx := context.Background()
	var off atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(off.Load())) }
	vs := vaulttest.Start(t, vaulttest.Options{Now: now, BatchInterval: 50 * time.Millisecond})
	reg := vs.Client
	h := unlocked(t, func(c *Config) { c.Connect, c.Now = DefaultConnect, now })
	set := h.a.main.settings
	test.Type(set.registry, vs.URL)
	test.Tap(set.saveReg)
	h.a.wait()
	test.Type(set.vault, vs.URL)
	test.Tap(set.saveVault)
	h.a.wait()
	ana := h.primary()

	// The birth registry: registered, accredited, its revocation list published.
	st := vs.Registry
	births := nodetest.NewIdentity(t, "birth registry "+t.Name())
	submit := func(raw []byte) {
		t.Helper()
		if _, err := reg.Submit(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	submit(births.CreateTx(t))
	submit(nodetest.Sign(t, nodetest.Must(t)(tx.NewIssuerAccredit(st.GovernanceDID, tx.Accreditation{Issuer: births.DID,
		Types: []string{delegation.TypeGuardianship}, From: time.Now().Add(-time.Hour)})), st.Governance, st.GovernanceKID()))
	listID := births.DID + ":guardianships"
	bits, err := statuslist.New(statuslist.MinEntries)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := statuslist.NewCredential(reg.StatusListURL(listID), births.DID, statuslist.Revocation, bits, 0)
	if err != nil {
		t.Fatal(err)
	}
	ltok, err := statuslist.Sign(lc, births.Key, births.KID())
	if err != nil {
		t.Fatal(err)
	}
	submit(nodetest.Sign(t, nodetest.Must(t)(tx.NewStatusListPublish(births.DID, listID, 1, ltok)), births.Key, births.KID()))

	// Maria's wallet; her guardianship for Ana ends in a minute (Ana's
	// eighteenth birthday).
	maria, _, err := wallet.Create(wallet.Config{Dir: filepath.Join(t.TempDir(), "maria"), KDF: fastKDF(), Now: now}, []byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	defer maria.Close()
	mp, err := maria.PrimaryDID()
	if err != nil {
		t.Fatal(err)
	}
	t0 := now().UTC().Truncate(time.Second)
	g := &delegation.Delegation{ID: randid.URN(), Type: delegation.TypeGuardianship, Issuer: births.DID,
		Representative: mp.DID, RepresentativeName: "Maria Silva", Patient: ana, PatientName: "Ana Silva", Relationship: "DAU",
		Minor: true, Basis: delegation.BasisParent, Actions: []delegation.Action{delegation.ActionView, delegation.ActionConsent},
		Classes: []string{delegation.AllClasses}, Purposes: []string{"TREAT"}, ValidFrom: t0.Add(-time.Hour), ValidUntil: t0.Add(time.Minute),
		Status: statuslist.Entry(reg.StatusListURL(listID), statuslist.Revocation, 7)}
	gtok, err := delegation.Issue(g, births.Key, births.KID())
	if err != nil {
		t.Fatal(err)
	}
	chk, err := delegation.NewChecker(delegation.CheckerConfig{Resolver: reg, Status: reg, Trust: reg, StatusTTL: -1, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	held, err := delegate.Add(ctx, maria, chk, gtok)
	if err != nil {
		t.Fatal(err)
	}
	hosp := vs.Hospital()
	rec, err := hosp.Put(ctx, ana, "Immunization", []byte(`{"resourceType":"Immunization","vaccineCode":{"text":"MMR"}}`))
	if err != nil {
		t.Fatal(err)
	}
	paed, gp := newDoctor(t, vs, now, "paediatrician"), newDoctor(t, vs, now, "gp")
	grants := map[string]wallet.Consent{}
	for _, d := range []*testDoctor{paed, gp} {
		c, err := hospital.GrantConsentFor(ctx, maria, reg, vs.URL, held.Hash, wallet.ConsentRequest{Provider: d.c.DID, Classes: []string{"Immunization"},
			Purposes: []string{"TREAT"}, Duration: 365 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		grants[d.c.DID] = c
		if _, err := d.c.Get(ctx, rec.ID, "TREAT", c.Token, ""); err != nil {
			t.Fatalf("%s before Ana came of age: %v", d.name, err)
		}
	}

	// Ana comes of age: two minutes pass.
	off.Store(int64(2 * time.Minute))
	if _, err := hospital.ReadFor(ctx, maria, vs.URL, held.Hash, rec.ID, ""); !errors.Is(err, vaultapi.ErrDenied) || !strings.Contains(err.Error(), "came of age") {
		t.Fatalf("Maria after Ana came of age: %v", err)
	}
	for _, d := range []*testDoctor{paed, gp} {
		if _, err := d.c.Get(ctx, rec.ID, "TREAT", grants[d.c.DID].Token, ""); err != nil {
			t.Fatalf("%s after Ana came of age, before her decision: %v", d.name, err)
		}
	}

	if err := vs.Vault.Flush(ctx); err != nil { // the trail's batch anchored
		t.Fatal(err)
	}
	h.a.main.selectScreen("consent")
	h.a.wait()
	u := h.a.main.consent
	u.reload()
	h.a.wait()
	if !u.awaiting.Visible() || !strings.Contains(u.awaiting.Text, "2 consents given in your name before you came of age") {
		t.Fatalf("awaiting notice %q (visible %v)", u.awaiting.Text, u.awaiting.Visible())
	}
	row := func(provider string) *consentRow {
		t.Helper()
		for _, r := range u.rows {
			if r.grant.Provider == provider {
				return r
			}
		}
		t.Fatalf("no row for %s", provider)
		return nil
	}
	for _, d := range []*testDoctor{paed, gp} {
		r := row(d.c.DID)
		if r.madeBy == nil || r.madeBy.Text != "Given in your name by Maria Silva, as parent." || r.keep == nil || r.revoke.Text != "Withdraw…" ||
			r.decision == nil || !strings.Contains(r.decision.Text, "stays in force only until you keep it or withdraw it") {
			t.Fatalf("row for %s: madeBy %v, keep %v, revoke %q, decision %v", d.name, r.madeBy, r.keep, r.revoke.Text, r.decision)
		}
	}
	// She keeps the paediatrician's.
	test.Tap(row(paed.c.DID).keep)
	h.a.wait()
	if r := row(paed.c.DID); r.keep != nil || r.decision == nil || r.decision.Text != "You kept it as your own." {
		t.Fatalf("after keeping: keep %v, decision %v", r.keep, r.decision)
	}
	if !strings.Contains(u.awaiting.Text, "One consent") {
		t.Errorf("awaiting notice after keeping one: %q", u.awaiting.Text)
	}
	// She withdraws the GP's, through the dialog.
	test.Tap(row(gp.c.DID).revoke)
	r := row(gp.c.DID)
	if r.yes == nil || r.yes.Text != "Withdraw consent" {
		t.Fatalf("withdraw dialog button: %v", r.yes)
	}
	test.Tap(r.yes)
	h.a.wait()
	if r := row(gp.c.DID); !r.grant.Revoked || r.keep != nil {
		t.Fatalf("after withdrawing: %+v", r.grant)
	}
	if u.awaiting.Visible() {
		t.Errorf("awaiting notice after both decisions: %q", u.awaiting.Text)
	}
	if _, err := gp.c.Get(ctx, rec.ID, "TREAT", grants[gp.c.DID].Token, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("the GP after Ana withdrew: %v", err)
	}
	if st, err := reg.ConsentStatus(ctx, grants[gp.c.DID].Anchor, consent.Hash(grants[gp.c.DID].Token)); err != nil || !st.Revoked {
		t.Fatalf("the GP's grant on the ledger: %+v, %v", st, err)
	}
	if _, err := paed.c.Get(ctx, rec.ID, "TREAT", grants[paed.c.DID].Token, ""); err != nil {
		t.Fatalf("the kept consent: %v", err)
	}
	// The People tab (it appears once the wallet knows a delegation)
	// tells her the guardianship ended.
	h.a.main.selectScreen("credentials")
	h.a.wait()
	h.a.main.selectScreen("people")
	h.a.wait()
	p := h.a.main.people
	if p == nil {
		t.Fatal("no People tab after the trail named a guardianship over Ana")
	}
	var said []string
	for _, o := range p.notices.Objects {
		if l, ok := o.(*widget.Label); ok {
			said = append(said, l.Text)
		}
	}
	if got := strings.Join(said, " "); !strings.Contains(got, "You came of age on") || !strings.Contains(got, "Maria Silva (as parent) no longer acts for you") {
		t.Errorf("People notices: %q", got)
	}
	assertPatientWords(t, "consent", h.win.Canvas())
}

// testDoctor is a provider reading from a vault on a test clock.
type testDoctor struct {
	name string
	c    *vaultclient.Client
}

func newDoctor(t *testing.T, vs *vaulttest.Stack, now func() time.Time, name string) *testDoctor {
	c := vs.As(credtest.NewParty(t, key.Ed25519, "coming of age "+name))
	c.Now = now
	return &testDoctor{name: name, c: c}
}
