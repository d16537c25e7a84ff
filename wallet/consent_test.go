package wallet

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vault/vaulttest"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
)

type vaultActor struct {
	c *vaultclient.Client
}

func newVaultActor(t *testing.T, url string) vaultActor {
	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	d := did.KeyDID(k.Public())
	return vaultActor{&vaultclient.Client{URL: url, DID: d, Key: k, KeyID: d + "#" + k.Public().Multikey()}}
}

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
	reg, v, hk, hdid, srv := vs.Client, vs.Vault, vs.Key, vs.DID, vs

	clk := &fakeClock{t: time.Now().UTC()}
	w, _ := newTestWallet(t, clk)
	me, err := w.PrimaryDID()
	if err != nil {
		t.Fatal(err)
	}
	hosp := &vaultclient.Client{URL: srv.URL, DID: hdid, Key: hk, KeyID: hdid + "#" + hk.Public().Multikey()}
	rec, err := hosp.Put(ctx, me.DID, "AllergyIntolerance", []byte(`{"resourceType":"AllergyIntolerance","code":{"text":"latex"}}`))
	if err != nil {
		t.Fatal(err)
	}
	prov, second, er := newVaultActor(t, srv.URL), newVaultActor(t, srv.URL), newVaultActor(t, srv.URL)
	v.SetStaff([]string{er.c.DID}) // the ER doctor is on the hospital's break-glass roster

	g, err := w.GrantConsent(ctx, reg, ConsentRequest{Provider: prov.c.DID, Classes: ClassesForLabels([]string{"allergies"}),
		Purposes: []string{"TREAT"}, Duration: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := reg.ConsentStatus(ctx, g.ID); err != nil || st.Patient != me.DID || st.Revoked {
		t.Fatalf("ledger status of the grant: %+v, %v", st, err)
	}
	if _, err := prov.c.Get(ctx, rec.ID, "TREAT", g.Token, ""); err != nil {
		t.Fatalf("provider read: %v", err)
	}
	if _, err := second.c.Get(ctx, rec.ID, "TREAT", g.Token, ""); !errors.Is(err, vaultapi.ErrDenied) {
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
	if _, err := er.c.Get(ctx, rec.ID, "ETREAT", "", "unconscious"); err != nil {
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
	if got[prov.c.DID] != "granted" || got[second.c.DID] != "denied" || got[er.c.DID] != "granted break-glass" {
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
	if _, err := prov.c.Get(ctx, rec.ID, "TREAT", g.Token, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("provider after revoke: %v", err)
	}
	if err := w.EraseRecord(ctx, srv.URL, "", rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := er.c.Get(ctx, rec.ID, "ETREAT", "", "again"); !errors.Is(err, vaultapi.ErrErased) {
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
