package wallet

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vault/vaulttest"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

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
	w, _ := newTestWallet(t, clk)
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

	g, err := w.GrantConsent(ctx, reg, ConsentRequest{Provider: prov.DID, Classes: ClassesForLabels([]string{"allergies"}),
		Purposes: []string{"TREAT"}, Duration: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := reg.ConsentStatus(ctx, g.ID); err != nil || st.Patient != me.DID || st.Revoked {
		t.Fatalf("ledger status of the grant: %+v, %v", st, err)
	}
	if _, err := prov.Get(ctx, rec.ID, "TREAT", g.Token, ""); err != nil {
		t.Fatalf("provider read: %v", err)
	}
	if _, err := second.Get(ctx, rec.ID, "TREAT", g.Token, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("second provider: %v", err)
	}
	vd, err := VaultDID(ctx, srv.URL, nil)
	if err != nil || vd != hdid {
		t.Fatalf("VaultDID = %q, %v", vd, err)
	}
	bg, err := w.GrantConsent(ctx, reg, ConsentRequest{Provider: vd, Classes: []string{"AllergyIntolerance"}, Purposes: []string{"ETREAT"},
		Duration: 365 * 24 * time.Hour, BreakGlass: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AllowBreakGlass(ctx, srv.URL, bg); err != nil {
		t.Fatal(err)
	}
	if _, err := er.Get(ctx, rec.ID, "ETREAT", "", "unconscious"); err != nil {
		t.Fatalf("break-glass: %v", err)
	}
	if err := v.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := w.AccessLog(ctx, AccessLogOptions{VaultURL: srv.URL, Anchors: reg})
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
	if _, err := w.RevokeConsent(ctx, reg, g.ID[:12]); err != nil {
		t.Fatal(err)
	}
	c, err := w.FindConsent(g.ID)
	if err != nil || c.StatusAt(clk.Now()) != ConsentRevoked {
		t.Fatalf("after revoke: %+v, %v", c, err)
	}
	if _, err := prov.Get(ctx, rec.ID, "TREAT", g.Token, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("provider after revoke: %v", err)
	}
	if err := w.EraseRecord(ctx, srv.URL, "", rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := er.Get(ctx, rec.ID, "ETREAT", "", "again"); !errors.Is(err, vaultapi.ErrErased) {
		t.Fatalf("after erasure: %v", err)
	}
	later := clk.Now().Add(31 * 24 * time.Hour)
	if s := bg.StatusAt(later); s != ConsentActive {
		t.Errorf("break-glass grant status in 31 days = %s, want active", s)
	}
	if s := g.StatusAt(later); s != ConsentExpired {
		t.Errorf("30-day grant status in 31 days = %s, want expired", s)
	}
}
