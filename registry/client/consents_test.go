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

// newKeyParty is the did:key party derived from seed.
func newKeyParty(t *testing.T, seed string) credtest.Party {
	return credtest.NewParty(t, key.Ed25519, seed)
}

// TestConsentLifecycle anchors a grant signed by the patient's did:key on a
// real in-process node with the grant's own anchor key, after a squatter
// anchored the same hash first, reads its status with and without proofs,
// decides accesses with a consent.Checker over the proving client, and
// revokes it.
func TestConsentLifecycle(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{})
	plain, proving := newClients(t, s)
	ctx := context.Background()
	pat, prov, other := newKeyParty(t, "patient"), newKeyParty(t, "hospital"), newKeyParty(t, "stranger")
	anc := newKeyParty(t, "the grant's anchor")

	// Block times trail the wall clock a little: start the grant back.
	from := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	g := &consent.Grant{Patient: pat.DID, Anchor: anc.DID, Provider: prov.DID,
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
	// A stranger who saw the grant anchors its hash first, under its own
	// DID and with a period of its choosing: that blocks nothing.
	squat := *p
	squat.DID, squat.ValidUntil = other.DID, ""
	if _, err := plain.Submit(ctx, nodetest.Sign(t, &squat, other.Key, other.Kid)); err != nil {
		t.Fatalf("squatter's anchor: %v", err)
	}
	anchor, err := tx.Sign(p, anc.Key, anc.Kid)
	if err != nil {
		t.Fatal(err)
	}
	res, err := plain.Submit(ctx, anchor)
	if err != nil {
		t.Fatalf("anchor after a squatter's: %v", err)
	}
	unknown := consent.Hash("a grant nobody anchored")
	for name, c := range map[string]*client.Client{"plain": plain, "proving": proving} {
		if _, err := c.ConsentStatus(ctx, anc.DID, unknown); !errors.Is(err, consent.ErrNotAnchored) || !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("%s: unanchored hash: %v, want consent.ErrNotAnchored and ledger.ErrNotFound", name, err)
		}
		if _, err := c.ConsentStatus(ctx, pat.DID, hash); !errors.Is(err, consent.ErrNotAnchored) {
			t.Errorf("%s: the hash under the patient's own DID: %v, want consent.ErrNotAnchored", name, err)
		}
	}

	for name, c := range map[string]*client.Client{"plain": plain, "proving": proving} {
		st, err := c.ConsentStatus(ctx, anc.DID, hash)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if st.Hash != hash || st.Controller != anc.DID || !st.ValidFrom.Equal(from) || st.ValidUntil == nil || !st.ValidUntil.Equal(g.ValidUntil) ||
			st.Revoked || st.AnchoredHeight != res.Height || !st.InForce {
			t.Errorf("%s: status = %+v (anchored at %d)", name, st, res.Height)
		}
		early, err := c.ConsentStatusAt(ctx, anc.DID, hash, from.Add(-time.Minute))
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

	// Only the anchor key revokes the grant's anchor: the squatter's
	// revocation ends its own anchor, not this one.
	rvOther, _ := tx.NewConsentRevoke(other.DID, hash)
	bad, _ := tx.Sign(rvOther, other.Key, other.Kid)
	if _, err := plain.Submit(ctx, bad); err != nil {
		t.Errorf("the squatter revokes its own anchor: %v", err)
	}
	if _, err := checker.CheckInForce(ctx, tok, req); err != nil {
		t.Fatalf("CheckInForce after the squatter's revocation: %v", err)
	}
	rvAnc, _ := tx.NewConsentRevoke(anc.DID, hash)
	rv, _ := tx.Sign(rvAnc, anc.Key, anc.Kid)
	if _, err := plain.Submit(ctx, rv); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	st, err := proving.ConsentStatus(ctx, anc.DID, hash)
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
	prov, anc := newKeyParty(t, "clinic"), newKeyParty(t, "anchor of the clinic's grant")
	from := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	g := &consent.Grant{Patient: pat.DID, Anchor: anc.DID, Provider: prov.DID, Actions: []consent.Action{consent.ActionAccess, consent.ActionDisclose},
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
	if _, err := plain.Submit(ctx, nodetest.Sign(t, p, anc.Key, anc.Kid)); err != nil {
		t.Fatalf("anchor: %v", err)
	}
	keys := consent.ResolverKeys(proving)
	req := consent.Request{Provider: prov.DID, Action: consent.ActionDisclose, Purpose: "TREAT", Class: "MedicationStatement"}
	if _, err := consent.CheckInForce(ctx, tok, req, proving, keys); err != nil {
		t.Fatalf("CheckInForce: %v", err)
	}
	st, err := proving.ConsentStatus(ctx, anc.DID, consent.Hash(tok))
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
