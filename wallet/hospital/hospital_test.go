package hospital_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vault/vaulttest"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/hospital"
	"github.com/medid/medid/wallet/wallettest"
	"github.com/medid/medid/wallet/wallettest/testwallet"
)

// The wallet is the holder the workflows run over.
var _ hospital.Holder = (*wallet.Wallet)(nil)

// TestConsentAndAccessLog runs the patient's side of the story against a
// real in-process registry with a vault: grant, list, the provider reads, a
// second provider is denied, break-glass through a standing grant, the
// verified access log shows all three, revoke, the provider is denied,
// erase.
func TestConsentAndAccessLog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry node")
	}
	ctx := context.Background()
	vs := vaulttest.Start(t, vaulttest.Options{})
	reg, v, hdid, srv := vs.Client, vs.Vault, vs.DID, vs

	clk := credtest.NewClock(time.Now().UTC())
	w, _ := testwallet.New(t, testwallet.Config(t, clk))
	me, err := w.PrimaryDID()
	if err != nil {
		t.Fatal(err)
	}
	hosp := vs.Hospital()
	rec, err := hosp.Put(ctx, me.DID, "AllergyIntolerance", []byte(`{"resourceType":"AllergyIntolerance","code":{"text":"latex"}}`))
	if err != nil {
		t.Fatal(err)
	}
	prov, second, er := vs.As(credtest.NewParty(t, key.Ed25519, "provider")), vs.As(credtest.NewParty(t, key.Ed25519, "second provider")),
		vs.As(credtest.NewParty(t, key.Ed25519, "ER doctor"))
	v.SetStaff([]string{er.DID}) // the ER doctor is on the hospital's break-glass roster

	g, err := hospital.GrantConsent(ctx, w, reg, wallet.ConsentRequest{Provider: prov.DID, Classes: wallet.ClassesForLabels([]string{"allergies"}),
		Purposes: []string{"TREAT"}, Duration: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// The ledger knows the grant's own anchor DID, not the patient's.
	if st, err := reg.ConsentStatus(ctx, g.Anchor, g.ID); err != nil || st.Controller != g.Anchor || st.Revoked {
		t.Fatalf("ledger status of the grant: %+v, %v", st, err)
	}
	if g.Anchor == me.DID || !strings.HasPrefix(g.Anchor, "did:key:") {
		t.Fatalf("grant anchored by %s, want a did:key made for it (not the patient's %s)", g.Anchor, me.DID)
	}
	if _, err := prov.Get(ctx, rec.ID, "TREAT", g.Token, ""); err != nil {
		t.Fatalf("provider read: %v", err)
	}
	if _, err := second.Get(ctx, rec.ID, "TREAT", g.Token, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("second provider: %v", err)
	}
	vd, err := hospital.VaultDID(ctx, srv.URL, nil)
	if err != nil || vd != hdid {
		t.Fatalf("VaultDID = %q, %v", vd, err)
	}
	bg, err := hospital.GrantConsent(ctx, w, reg, wallet.ConsentRequest{Provider: vd, Classes: []string{"AllergyIntolerance"}, Purposes: []string{"ETREAT"},
		Duration: 365 * 24 * time.Hour, BreakGlass: true})
	if err != nil {
		t.Fatal(err)
	}
	if bg.Anchor == g.Anchor {
		t.Fatalf("two grants share the anchor %s: their anchors would link them", g.Anchor)
	}
	if err := hospital.AllowBreakGlass(ctx, w, srv.URL, bg); err != nil {
		t.Fatal(err)
	}
	if _, err := er.Get(ctx, rec.ID, "ETREAT", "", "unconscious"); err != nil {
		t.Fatalf("break-glass: %v", err)
	}
	if err := v.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := hospital.AccessLog(ctx, w, hospital.AccessLogOptions{VaultURL: srv.URL, Anchors: reg})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range evs {
		if e.Action == trail.ActionRead {
			s := e.Outcome
			if e.BreakGlass {
				s += " break-glass"
			}
			got[e.Provider] = s
		}
	}
	if got[prov.DID] != "granted" || got[second.DID] != "denied" || got[er.DID] != "granted break-glass" {
		t.Errorf("access log = %v", got)
	}

	cs, err := w.Consents()
	if err != nil || len(cs) != 2 {
		t.Fatalf("Consents = %d, %v", len(cs), err)
	}
	if _, err := hospital.RevokeConsent(ctx, w, reg, g.ID[:12]); err != nil {
		t.Fatal(err)
	}
	c, err := hospital.FindConsent(w, g.ID)
	if err != nil || c.StatusAt(clk.Now()) != wallet.ConsentRevoked {
		t.Fatalf("after revoke: %+v, %v", c, err)
	}
	if _, err := prov.Get(ctx, rec.ID, "TREAT", g.Token, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("provider after revoke: %v", err)
	}
	if err := hospital.EraseRecord(ctx, w, srv.URL, "", rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := er.Get(ctx, rec.ID, "ETREAT", "", "again"); !errors.Is(err, vaultapi.ErrErased) {
		t.Fatalf("after erasure: %v", err)
	}
	later := clk.Now().Add(31 * 24 * time.Hour)
	if s := bg.StatusAt(later); s != wallet.ConsentActive {
		t.Errorf("break-glass grant status in 31 days = %s, want active", s)
	}
	if s := g.StatusAt(later); s != wallet.ConsentExpired {
		t.Errorf("30-day grant status in 31 days = %s, want expired", s)
	}
}

// countingLedger counts the transactions submitted to it.
type countingLedger struct{ n int }

func (l *countingLedger) Submit(context.Context, []byte) (*client.TxResult, error) {
	l.n++
	return &client.TxResult{}, nil
}

func (l *countingLedger) ConsentStatus(context.Context, string, string) (*consent.Status, error) {
	return nil, consent.ErrNotAnchored
}

// TestGrantConsentRefusesInvalidDID: a grant to something that is not a
// valid DID ("did:key:foo" parses but names no key) is refused before
// anything is signed, anchored or stored.
func TestGrantConsentRefusesInvalidDID(t *testing.T) {
	clk := credtest.NewClock(time.Now().UTC())
	w, _ := testwallet.New(t, testwallet.Config(t, clk))
	for _, provider := range []string{"did:key:foo", "did:medid:hospital", "St Mary's", ""} {
		led := &countingLedger{}
		_, err := hospital.GrantConsent(context.Background(), w, led, wallet.ConsentRequest{Provider: provider, Classes: []string{"AllergyIntolerance"},
			Purposes: []string{"TREAT"}, Duration: time.Hour})
		if !errors.Is(err, consent.ErrInvalidGrant) {
			t.Errorf("grant to %q: %v, want ErrInvalidGrant", provider, err)
		}
		if led.n != 0 {
			t.Errorf("grant to %q submitted %d transactions", provider, led.n)
		}
	}
	if cs, _ := w.Consents(); len(cs) != 0 {
		t.Errorf("%d consents stored", len(cs))
	}
}

// TestConsentAnchorKeys: each grant is anchored by its own did:key, derived
// from the recovery phrase and the grant's ID (so a wallet recovered from
// the phrase derives it again, and nobody without the phrase can link it to
// the patient); the ledger transactions name that key, never the patient.
func TestConsentAnchorKeys(t *testing.T) {
	ctx := context.Background()
	clk := credtest.NewClock(time.Now().UTC())
	w, phrase := testwallet.New(t, testwallet.Config(t, clk))
	me, _ := w.PrimaryDID()
	led := wallettest.NewLedger()
	var gs []wallet.Consent
	for range 2 {
		g, err := hospital.GrantConsent(ctx, w, led, wallet.ConsentRequest{Provider: "did:web:gp.example", Classes: []string{"AllergyIntolerance"},
			Purposes: []string{"TREAT"}, Duration: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		gs = append(gs, g)
	}
	for _, g := range gs {
		parsed, err := consent.Parse(g.Token)
		if err != nil {
			t.Fatal(err)
		}
		if parsed.Anchor != g.Anchor || g.Anchor == me.DID || parsed.Patient != me.DID || parsed.ID != g.GrantID {
			t.Errorf("grant %s: anchor %s (token says %s), patient %s, want a per-grant anchor for patient %s", g.ID, g.Anchor, parsed.Anchor, parsed.Patient, me.DID)
		}
		if !led.Anchored(g.Anchor, g.ID) {
			t.Errorf("grant %s is not anchored under its anchor DID", g.ID)
		}
	}
	if gs[0].Anchor == gs[1].Anchor {
		t.Error("two grants share an anchor DID")
	}
	r, err := wallet.Recover(testwallet.Config(t, clk), testwallet.Pass, phrase, wallet.RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	k, anchor, _, err := r.AnchorKey(gs[0].GrantID)
	if err != nil {
		t.Fatal(err)
	}
	k.Destroy()
	if anchor != gs[0].Anchor {
		t.Errorf("the recovered wallet derives %s for grant %s, want %s", anchor, gs[0].GrantID, gs[0].Anchor)
	}
	other, _ := testwallet.New(t, testwallet.Config(t, clk))
	if k, a, _, _ := other.AnchorKey(gs[0].GrantID); a == gs[0].Anchor {
		t.Error("another wallet derives the same anchor for the same grant ID")
	} else {
		k.Destroy()
	}
}

// TestReadConsentRequest: a provider's signed consent request is read
// from its link (or the bare request), checked against the provider's
// DID, and refused when forged, expired or not a consent request.
func TestReadConsentRequest(t *testing.T) {
	clk := credtest.NewClock(time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC))
	w, _ := testwallet.New(t, testwallet.Config(t, clk))
	ctx := context.Background()
	doc := credtest.NewParty(t, key.Ed25519, "Dr Jones")
	asked := &consent.Proposal{Provider: doc.DID, Purposes: []string{consent.PurposeTreatment},
		Classes: []string{"AllergyIntolerance"}, Duration: 30 * 24 * time.Hour, Note: "Before your operation"}
	tok, err := consent.IssueProposal(asked, doc.Key, doc.Kid, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{consent.ProposalURI(tok), "  " + tok + "\n"} {
		p, err := hospital.ReadConsentRequest(ctx, w, in, did.KeyResolver{})
		if err != nil {
			t.Fatalf("ReadConsentRequest: %v", err)
		}
		if p.Provider != doc.DID || p.Duration != asked.Duration || p.Note != asked.Note || len(p.Classes) != 1 {
			t.Errorf("read %+v", p)
		}
	}

	mallory := credtest.NewParty(t, key.Ed25519, "Mallory")
	forged, err := consent.IssueProposal(&consent.Proposal{Provider: mallory.DID, Purposes: asked.Purposes, Classes: asked.Classes,
		Duration: asked.Duration}, mallory.Key, mallory.Kid, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Mallory's request with the doctor's DID put in as issuer: the
	// signature does not match the DID it names.
	tampered := tok[:len(tok)-8] + forged[len(forged)-8:]
	for _, c := range []struct {
		name string
		in   string
		want error
	}{
		{"not a request", "openid4vp://?request_uri=x", vc.ErrMalformed},
		{"a link without a request", "medid-consent://?other=1", consent.ErrInvalidProposal},
		{"tampered", tampered, vc.ErrBadSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := hospital.ReadConsentRequest(ctx, w, c.in, did.KeyResolver{}); !errors.Is(err, c.want) {
				t.Errorf("ReadConsentRequest = %v, want %v", err, c.want)
			}
		})
	}
	clk.Advance(consent.ProposalLifetime)
	if _, err := hospital.ReadConsentRequest(ctx, w, tok, did.KeyResolver{}); !errors.Is(err, consent.ErrProposalExpired) {
		t.Errorf("after its lifetime: %v, want ErrProposalExpired", err)
	}
}

// TestLegacyConsent: a grant stored before per-grant anchors (no anchor)
// shows as no longer accepted, and revoking it marks it revoked without a
// ledger transaction (its old anchor named the patient; no vault reads it).
func TestLegacyConsent(t *testing.T) {
	ctx := context.Background()
	clk := credtest.NewClock(time.Now().UTC())
	w, _ := testwallet.New(t, testwallet.Config(t, clk))
	me, _ := w.PrimaryDID()
	old := wallet.Consent{ID: consent.Hash("x.y.z"), Token: "x.y.z", Patient: me.DID, Provider: "did:web:gp.example",
		Classes: []string{"AllergyIntolerance"}, Purposes: []string{"TREAT"}, ValidFrom: clk.Now(), ValidUntil: clk.Now().Add(time.Hour)}
	if err := w.SaveConsent(&old); err != nil {
		t.Fatal(err)
	}
	c, err := hospital.FindConsent(w, old.ID)
	if err != nil || !c.Legacy() || c.StatusAt(clk.Now()) != wallet.ConsentLegacy {
		t.Fatalf("legacy grant: %+v (%s), %v; want status %q", c, c.StatusAt(clk.Now()), err, wallet.ConsentLegacy)
	}
	led := wallettest.NewLedger()
	c, err = hospital.RevokeConsent(ctx, w, led, old.ID)
	if err != nil || c.StatusAt(clk.Now()) != wallet.ConsentRevoked || led.Anchors() != 0 {
		t.Fatalf("revoking a legacy grant: %+v, %v", c, err)
	}
}
