package delegate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vault/vaulttest"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/delegate"
	"github.com/medid/medid/wallet/hospital"
	"github.com/medid/medid/wallet/wallettest/testwallet"
)

// The wallet is the holder the workflows run over.
var _ delegate.Holder = (*wallet.Wallet)(nil)

// The patient's own delegation, end to end through the wallets of the
// patient and the carer, a real registry and a vault: grant, the carer
// imports it, reads, grants a physiotherapist 30 days in the patient's
// name; the patient sees both acts in the trail (and the grant), takes the
// delegation back; the carer and the grant stop working.
func TestDelegationByThePatient(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry node")
	}
	ctx := context.Background()
	clk := credtest.NewClock(time.Now().UTC())
	vs := vaulttest.Start(t, vaulttest.Options{Now: clk.Now, BatchInterval: 50 * time.Millisecond})
	reg := vs.Client
	patient, _ := testwallet.New(t, testwallet.Config(t, clk))
	carer, _ := testwallet.New(t, testwallet.Config(t, clk))
	me, _ := patient.PrimaryDID()
	them, _ := carer.PrimaryDID()
	rec, err := vs.Hospital().Put(ctx, me.DID, "Immunization", []byte(`{"resourceType":"Immunization","vaccineCode":{"text":"tetanus"}}`))
	if err != nil {
		t.Fatal(err)
	}
	chk, err := delegation.NewChecker(delegation.CheckerConfig{Resolver: reg, Status: reg, Trust: reg, StatusTTL: -1, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}

	d, err := delegate.Grant(ctx, patient, reg, delegate.Request{To: them.DID, Name: "Carl Carer", PatientName: "Mia Example",
		Relationship: "MTH", Actions: []delegation.Action{delegation.ActionView, delegation.ActionConsent, delegation.ActionTrail},
		Classes: []string{"Immunization"}, Duration: 90 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// The list is published under a did:key made for it, never the
	// patient's DID.
	owner, ok := delegation.ListOwner(mustParse(t, d.Token).Status.StatusListCredential)
	if !ok || owner == me.DID || !strings.HasPrefix(owner, "did:key:") {
		t.Fatalf("status list owner %q (patient %s)", owner, me.DID)
	}
	held, err := delegate.Add(ctx, carer, chk, d.Token)
	if err != nil {
		t.Fatal(err)
	}
	if held.Role != wallet.DelegationHeld || held.PersonWords() != "Mia Example (your mother)" {
		t.Fatalf("held: %+v %q", held, held.PersonWords())
	}
	if _, err := delegate.Add(ctx, patient, chk, d.Token); err != nil {
		t.Fatalf("the patient's own copy: %v", err)
	}

	body, err := hospital.ReadFor(ctx, carer, vs.URL, "Mia", rec.ID, "")
	if err != nil || !strings.Contains(string(body), "tetanus") {
		t.Fatalf("carer reads: %q, %v", body, err)
	}
	physio := vs.As(credtest.NewParty(t, key.Ed25519, "physio"))
	physio.Now = clk.Now
	g, err := hospital.GrantConsentFor(ctx, carer, reg, vs.URL, d.ID, wallet.ConsentRequest{Provider: physio.DID, Classes: []string{"Immunization"},
		Purposes: []string{"TREAT"}, Duration: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := physio.Get(ctx, rec.ID, "TREAT", g.Token, ""); err != nil || !strings.Contains(string(got), "tetanus") {
		t.Fatalf("physio reads: %q, %v", got, err)
	}
	if cs, err := hospital.ConsentsFor(carer, d.ID); err != nil || len(cs) != 1 || cs[0].ID != g.ID {
		t.Fatalf("ConsentsFor = %v, %v", cs, err)
	}

	// The patient's trail names the carer, the authority and the grant.
	if err := vs.Vault.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := hospital.AccessLog(ctx, patient, hospital.AccessLogOptions{VaultURL: vs.URL, Anchors: reg})
	if err != nil {
		t.Fatal(err)
	}
	var sawRead, sawGrant bool
	for _, e := range evs {
		if e.Authority != nil && e.Provider == them.DID && e.Action == trail.ActionRead {
			sawRead = true
		}
		if e.Action == trail.ActionConsent && e.Grant == g.Token {
			sawGrant = true
		}
	}
	if !sawRead || !sawGrant {
		t.Fatalf("patient's trail: read by the carer %v, grant %v", sawRead, sawGrant)
	}
	if _, n, err := delegate.LearnFromTrail(patient, evs, vs.URL); err != nil || n != 1 {
		t.Fatalf("LearnFromTrail: %d grants, %v", n, err)
	}

	// The carer reads the patient's trail: their copy starts now.
	if _, err := hospital.AccessLogFor(ctx, carer, d.ID, hospital.AccessLogOptions{VaultURL: vs.URL, Anchors: reg}); err != nil {
		t.Fatal(err)
	}

	// The patient takes it back: the carer and the grant stop.
	if _, err := delegate.Revoke(ctx, patient, reg, d.Hash[:12]); err != nil {
		t.Fatal(err)
	}
	if _, err := hospital.ReadFor(ctx, carer, vs.URL, d.ID, rec.ID, ""); !errors.Is(err, vaultapi.ErrDenied) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("carer after revocation: %v", err)
	}
	if _, err := physio.Get(ctx, rec.ID, "TREAT", g.Token, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("grant made under a revoked delegation: %v", err)
	}
	list, _ := patient.Delegations()
	if len(list) != 1 || list[0].StatusAt(clk.Now()) != wallet.DelegationRevoked {
		t.Fatalf("patient's delegations: %+v", list)
	}
	if _, err := delegate.Revoke(ctx, carer, reg, d.ID); err == nil {
		t.Fatal("the carer revoked a delegation they did not issue")
	}
}

func mustParse(t *testing.T, tok string) *delegation.Delegation {
	t.Helper()
	d, err := delegation.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Coming of age, from the wallets: a birth registry's guardianship of a
// child; the parent grants a paediatrician access; the child comes of age
// (the clock moves); the parent's access stops without anyone acting, the
// grant holds; the young adult's wallet learns the grant from the trail,
// is told, and withdraws it on the ledger with the key sealed to her.
func TestComingOfAge(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry node")
	}
	ctx := context.Background()
	clk := credtest.NewClock(time.Now().UTC())
	vs := vaulttest.Start(t, vaulttest.Options{Now: clk.Now, BatchInterval: 50 * time.Millisecond})
	reg, st := vs.Client, vs.Registry
	child, _ := testwallet.New(t, testwallet.Config(t, clk))
	parent, _ := testwallet.New(t, testwallet.Config(t, clk))
	ana, _ := child.PrimaryDID()
	maria, _ := parent.PrimaryDID()
	rec, err := vs.Hospital().Put(ctx, ana.DID, "Immunization", []byte(`{"resourceType":"Immunization","vaccineCode":{"text":"MMR"}}`))
	if err != nil {
		t.Fatal(err)
	}

	// The birth registry: a did:medid accredited for GuardianshipCredential
	// with its own revocation list.
	births := nodetest.NewIdentity(t, "births")
	if _, err := reg.Submit(ctx, births.CreateTx(t)); err != nil {
		t.Fatal(err)
	}
	acc := nodetest.Must(t)(tx.NewIssuerAccredit(st.GovernanceDID, tx.Accreditation{Issuer: births.DID, Types: []string{delegation.TypeGuardianship}, From: clk.Now().Add(-time.Hour)}))
	if _, err := reg.Submit(ctx, nodetest.Sign(t, acc, st.Governance, st.GovernanceKID())); err != nil {
		t.Fatal(err)
	}
	listID := births.DID + ":guardianships"
	bits, _ := statuslist.New(statuslist.MinEntries)
	lc, _ := statuslist.NewCredential(reg.StatusListURL(listID), births.DID, statuslist.Revocation, bits, 0)
	ltok, err := statuslist.Sign(lc, births.Key, births.KID())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.PublishStatusList(ctx, births.Key, births.DID, births.KID(), listID, 1, ltok); err != nil {
		t.Fatal(err)
	}
	now := clk.Now().Truncate(time.Second)
	gd := &delegation.Delegation{ID: randid.URN(), Type: delegation.TypeGuardianship, Issuer: births.DID,
		Representative: maria.DID, RepresentativeName: "Maria Silva", Patient: ana.DID, PatientName: "Ana Silva", Relationship: "DAU",
		Minor: true, Basis: delegation.BasisParent, Actions: delegation.Actions, Classes: []string{delegation.AllClasses},
		Purposes: []string{"TREAT"}, ValidFrom: now.Add(-time.Hour), ValidUntil: now.Add(20 * 24 * time.Hour),
		Status: statuslist.Entry(reg.StatusListURL(listID), statuslist.Revocation, 7)}
	gtok, err := delegation.Issue(gd, births.Key, births.KID())
	if err != nil {
		t.Fatal(err)
	}
	chk, err := delegation.NewChecker(delegation.CheckerConfig{Resolver: reg, Status: reg, Trust: reg, StatusTTL: -1, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	held, err := delegate.Add(ctx, parent, chk, gtok)
	if err != nil {
		t.Fatal(err)
	}
	paed := vs.As(credtest.NewParty(t, key.Ed25519, "paed"))
	paed.Now = clk.Now
	g, err := hospital.GrantConsentFor(ctx, parent, reg, vs.URL, "Ana", wallet.ConsentRequest{Provider: paed.DID, Classes: []string{"Immunization"},
		Purposes: []string{"TREAT"}, Duration: 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	stranger := vs.As(credtest.NewParty(t, key.Ed25519, "stranger"))
	stranger.Now = clk.Now
	if _, err := stranger.Get(ctx, rec.ID, "TREAT", g.Token, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("stranger: %v", err)
	}

	clk.Advance(21 * 24 * time.Hour) // Ana comes of age
	for _, w := range []*wallet.Wallet{child, parent} {
		if err := w.Unlock(testwallet.Pass); err != nil { // idle wallets lock themselves
			t.Fatal(err)
		}
	}
	if _, err := hospital.ReadFor(ctx, parent, vs.URL, held.ID, rec.ID, ""); !errors.Is(err, vaultapi.ErrDenied) || !strings.Contains(err.Error(), "came of age") {
		t.Fatalf("parent after Ana came of age: %v", err)
	}
	if _, err := paed.Get(ctx, rec.ID, "TREAT", g.Token, ""); err != nil {
		t.Fatalf("paediatrician under the parent's grant, before Ana decides: %v", err)
	}

	// Ana's wallet: the whole history, the grant, the notice.
	if err := vs.Vault.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := hospital.AccessLog(ctx, child, hospital.AccessLogOptions{VaultURL: vs.URL, Anchors: reg})
	if err != nil {
		t.Fatal(err)
	}
	ds, gs, err := delegate.LearnFromTrail(child, evs, vs.URL)
	if err != nil || ds != 1 || gs != 1 {
		t.Fatalf("LearnFromTrail = %d delegations, %d grants, %v", ds, gs, err)
	}
	ns, err := delegate.Notices(child)
	if err != nil || len(ns) != 1 || len(ns[0].Awaiting) != 1 || !strings.Contains(ns[0].Text, "Maria Silva (as parent) no longer acts for you") {
		t.Fatalf("notices: %+v, %v", ns, err)
	}
	if _, err := hospital.WithdrawInherited(ctx, child, reg, ns[0].Awaiting[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := paed.Get(ctx, rec.ID, "TREAT", g.Token, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("paediatrician after Ana withdrew: %v", err)
	}
	if st, err := reg.ConsentStatus(ctx, g.Anchor, g.ID); err != nil || !st.Revoked {
		t.Fatalf("the grant on the ledger after Ana withdrew: %+v, %v", st, err)
	}
	if ns, _ := delegate.Notices(child); len(ns) != 1 || len(ns[0].Awaiting) != 0 {
		t.Fatalf("notices after withdrawing: %+v", ns)
	}
}

// TestDelegationListKeepsItsID: the patient's delegation status list keeps
// the credential id it was first published with (the registry refuses
// another, and the delegations' entries name it), so a wallet that reaches
// the registry by another address (localhost instead of 127.0.0.1, another
// node) can still grant and take back.
func TestDelegationListKeepsItsID(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry node")
	}
	ctx := context.Background()
	clk := credtest.NewClock(time.Now().UTC())
	vs := vaulttest.Start(t, vaulttest.Options{Now: clk.Now})
	first := vs.Client
	other, err := client.New(client.Config{URL: strings.Replace(vs.Registry.URL, "127.0.0.1", "localhost", 1)})
	if err != nil {
		t.Fatal(err)
	}
	if first.StatusListURL("x") == other.StatusListURL("x") {
		t.Fatal("the two clients name status lists alike: the test proves nothing")
	}
	patient, _ := testwallet.New(t, testwallet.Config(t, clk))
	req := delegate.Request{To: credtest.NewParty(t, key.Ed25519, "carer").DID, Name: "Carl Carer",
		Actions: []delegation.Action{delegation.ActionView}, Classes: []string{"Immunization"}, Duration: 24 * time.Hour}
	d1, err := delegate.Grant(ctx, patient, first, req)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := delegate.Grant(ctx, patient, other, req)
	if err != nil {
		t.Fatalf("a second grant through another address: %v", err)
	}
	if u1, u2 := mustParse(t, d1.Token).Status.StatusListCredential, mustParse(t, d2.Token).Status.StatusListCredential; u1 != u2 {
		t.Fatalf("two lists for one patient: %s and %s", u1, u2)
	}
	if _, err := delegate.Revoke(ctx, patient, other, d1.Hash); err != nil {
		t.Fatalf("taking it back through another address: %v", err)
	}
	chk, err := delegation.NewChecker(delegation.CheckerConfig{Resolver: first, Status: first, Trust: first, StatusTTL: -1, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chk.Verify(ctx, d1.Token); !errors.Is(err, delegation.ErrRevoked) {
		t.Fatalf("the first delegation after it was taken back: %v", err)
	}
	if _, err := chk.Verify(ctx, d2.Token); err != nil {
		t.Fatalf("the second one: %v", err)
	}
}
