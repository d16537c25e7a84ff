package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

// TestConsentLifecycle anchors a grant signed by a pairwise did:key of the
// patient on a real in-process node, reads its status with and without
// proofs, decides accesses with a consent.Checker over the proving client,
// and revokes it.
func TestConsentLifecycle(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{})
	plain, proving := newClients(t, s)
	ctx := context.Background()
	pat, prov, other := credtest.NewParty(t, key.Ed25519, "patient-pairwise"), credtest.NewParty(t, key.Ed25519, "hospital"), credtest.NewParty(t, key.Ed25519, "stranger")

	// Block times trail the wall clock a little: start the grant back.
	from := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	g := &consent.Grant{Patient: pat.DID, Provider: prov.DID,
		Actions: []consent.Action{consent.ActionAccess}, Purposes: []string{"TREAT"},
		Classes: []string{"AllergyIntolerance", "Immunization"}, ValidFrom: from, ValidUntil: from.AddDate(1, 0, 0), BreakGlass: true}
	tok, err := consent.Issue(g, pat.Key, pat.Kid)
	if err != nil {
		t.Fatal(err)
	}
	hash := consent.Hash(tok)

	parsed, err := consent.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tx.NewConsentAnchor(parsed)
	if err != nil {
		t.Fatal(err)
	}
	anchor, err := tx.Sign(p, pat.Key, pat.Kid)
	if err != nil {
		t.Fatal(err)
	}
	res, err := plain.Submit(ctx, anchor)
	if err != nil {
		t.Fatalf("anchor: %v", err)
	}
	unknown := consent.Hash("a grant nobody anchored")
	for name, c := range map[string]*client.Client{"plain": plain, "proving": proving} {
		if _, err := c.ConsentStatus(ctx, unknown); !errors.Is(err, consent.ErrNotAnchored) || !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("%s: unanchored hash: %v, want consent.ErrNotAnchored and ledger.ErrNotFound", name, err)
		}
	}

	for name, c := range map[string]*client.Client{"plain": plain, "proving": proving} {
		st, err := c.ConsentStatus(ctx, hash)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if st.Hash != hash || st.Patient != pat.DID || !st.ValidFrom.Equal(from) || st.ValidUntil == nil || !st.ValidUntil.Equal(g.ValidUntil) ||
			st.Revoked || st.AnchoredHeight != res.Height || !st.InForce {
			t.Errorf("%s: status = %+v (anchored at %d)", name, st, res.Height)
		}
		early, err := c.ConsentStatusAt(ctx, hash, from.Add(-time.Minute))
		if err != nil || early.InForce {
			t.Errorf("%s: status before validFrom = %+v, %v; want not in force", name, early, err)
		}
	}

	checker, err := consent.NewChecker(consent.CheckerConfig{Keys: consent.ResolverKeys(proving), Ledger: proving, StatusTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	req := consent.Request{Provider: prov.DID, Action: consent.ActionAccess, Purpose: "TREAT", Class: "Immunization"}
	if _, err := checker.CheckInForce(ctx, tok, req); err != nil {
		t.Fatalf("CheckInForce: %v", err)
	}
	if _, err := consent.CheckInForce(ctx, tok, req, proving, consent.ResolverKeys(proving)); err != nil {
		t.Fatalf("consent.CheckInForce: %v", err)
	}

	// Only the patient may revoke.
	rvOther, _ := tx.NewConsentRevoke(other.DID, hash)
	bad, _ := tx.Sign(rvOther, other.Key, other.Kid)
	if _, err := plain.Submit(ctx, bad); !errors.Is(err, ledger.ErrUnauthorized) {
		t.Errorf("revoke by another DID: %v, want ledger.ErrUnauthorized", err)
	}
	rvPat, _ := tx.NewConsentRevoke(pat.DID, hash)
	rv, _ := tx.Sign(rvPat, pat.Key, pat.Kid)
	if _, err := plain.Submit(ctx, rv); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	st, err := proving.ConsentStatus(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Revoked || st.RevokedAt == nil || st.InForce {
		t.Errorf("after revoke: %+v", st)
	}
	if _, err := checker.CheckInForce(ctx, tok, req); !errors.Is(err, consent.ErrRevoked) {
		t.Errorf("CheckInForce after revoke: %v, want consent.ErrRevoked", err)
	}
}

// TestConsentRegisteredPatient: a patient with a registered did:medid issues
// and anchors a grant; the checker resolves the patient's key through the
// proving client. After the patient's DID is deactivated, the grant can no
// longer be verified.
func TestConsentRegisteredPatient(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{})
	plain, proving := newClients(t, s)
	ctx := context.Background()
	pat := nodetest.NewIdentity(t, "patient-medid")
	if _, err := plain.Submit(ctx, pat.CreateTx(t)); err != nil {
		t.Fatal(err)
	}
	prov := credtest.NewParty(t, key.Ed25519, "clinic")
	from := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	g := &consent.Grant{Patient: pat.DID, Provider: prov.DID, Actions: []consent.Action{consent.ActionAccess, consent.ActionDisclose},
		Purposes: []string{"TREAT"}, Classes: []string{"MedicationStatement"}, ValidFrom: from}
	tok, err := consent.Issue(g, pat.Key, pat.KID())
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := consent.Parse(tok)
	p, err := tx.NewConsentAnchor(parsed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Submit(ctx, nodetest.Sign(t, p, pat.Key, pat.KID())); err != nil {
		t.Fatalf("anchor: %v", err)
	}
	keys := consent.ResolverKeys(proving)
	req := consent.Request{Provider: prov.DID, Action: consent.ActionDisclose, Purpose: "TREAT", Class: "MedicationStatement"}
	if _, err := consent.CheckInForce(ctx, tok, req, proving, keys); err != nil {
		t.Fatalf("CheckInForce: %v", err)
	}
	st, err := proving.ConsentStatus(ctx, consent.Hash(tok))
	if err != nil || st.ValidUntil != nil || !st.InForce {
		t.Fatalf("open-ended grant status = %+v, %v", st, err)
	}
	if _, err := plain.Submit(ctx, pat.DeactivateTx(t, "1")); err != nil {
		t.Fatal(err)
	}
	if _, err := consent.CheckInForce(ctx, tok, req, proving, keys); !errors.Is(err, did.ErrDeactivated) {
		t.Errorf("CheckInForce after the patient's DID was deactivated: %v, want did.ErrDeactivated", err)
	}
}
