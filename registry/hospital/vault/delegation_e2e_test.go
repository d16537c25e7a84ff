package vault_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/delegation/delegationtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vault/vaulttest"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

// offsetClock is the wall clock moved forward by a settable offset: the
// vault, its checkers and the parties' requests all read it, so a test can
// let years pass.
type offsetClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *offsetClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *offsetClock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// delegationWorld is delegationtest's world on a real registry with a
// vault: its birth registry a did:medid the governance accredited for
// GuardianshipCredential, its rogue authority one it did not, every
// revocation list published on the registry; a child (Ana, the World's
// Patient) and another patient (Ben, Other) with records, Ana's mother
// (Maria, Parent), a carer, a stranger, and a paediatrician.
type delegationWorld struct {
	*delegationtest.World
	t      *testing.T
	ctx    context.Context
	clk    *offsetClock
	vs     *vaulttest.Stack
	reg    *client.Client
	births *nodetest.Identity // accredited
	rogue  *nodetest.Identity // not accredited
	paed   credtest.Party

	lists     map[string]*publishedList // by URL
	immunAna  *vaultapi.Meta
	condAna   *vaultapi.Meta
	immunBen  *vaultapi.Meta
	nextIndex int
}

// publishedList is a status list on the registry and its owner's signer.
type publishedList struct {
	id, url string
	owner   string
	k       *key.PrivateKey
	kid     string
	list    *statuslist.List
	version int64
}

func newDelegationWorld(t *testing.T) *delegationWorld {
	if testing.Short() {
		t.Skip("runs a registry node")
	}
	w := &delegationWorld{t: t, ctx: context.Background(), clk: &offsetClock{}, lists: map[string]*publishedList{}}
	w.vs = vaulttest.Start(t, vaulttest.Options{BatchInterval: 50 * time.Millisecond, Now: w.clk.now})
	w.reg = w.vs.Client
	w.paed = credtest.NewParty(t, key.Ed25519, "paediatrician")
	st := w.vs.Registry
	w.births, w.rogue = nodetest.NewIdentity(t, "birth registry "+t.Name()), nodetest.NewIdentity(t, "rogue "+t.Name())
	for _, id := range []*nodetest.Identity{w.births, w.rogue} {
		w.submit(id.CreateTx(t))
	}
	acc := nodetest.Must(t)(tx.NewIssuerAccredit(st.GovernanceDID, tx.Accreditation{Issuer: w.births.DID,
		Types: []string{delegation.TypeGuardianship}, From: time.Now().Add(-time.Hour)}))
	w.submit(nodetest.Sign(t, acc, st.Governance, st.GovernanceKID()))
	births, rogue := partyOf(w.births), partyOf(w.rogue)
	// Ana comes of age in 30 days.
	w.World = delegationtest.NewWith(t, delegationtest.Config{Now: w.clk.now, Registry: &births, Rogue: &rogue,
		Lists: registryLists{w}, ComingOfAge: 30 * 24 * time.Hour})

	hosp := w.vs.Hospital()
	var err error
	if w.immunAna, err = hosp.Put(w.ctx, w.Patient.DID, "Immunization", []byte(immunization)); err != nil {
		t.Fatal(err)
	}
	if w.condAna, err = hosp.Put(w.ctx, w.Patient.DID, "Condition", []byte(condition)); err != nil {
		t.Fatal(err)
	}
	if w.immunBen, err = hosp.Put(w.ctx, w.Other.DID, "Immunization", []byte(immunization)); err != nil {
		t.Fatal(err)
	}
	return w
}

// partyOf is a registered identity as a party that signs with its key.
func partyOf(id *nodetest.Identity) credtest.Party {
	return credtest.Party{Key: id.Key, DID: id.DID, Kid: id.KID()}
}

// registryLists keeps the world's revocation lists on the registry, each
// under its owner's DID as a wallet or an authority publishes it.
type registryLists struct{ w *delegationWorld }

func (l registryLists) URL(owner credtest.Party) string {
	return l.w.list(owner.DID, owner.Key, owner.Kid, "delegations").url
}

// Revoke sets the entry's bit and publishes the next version of its list.
func (l registryLists) Revoke(e vc.Status) {
	w := l.w
	w.t.Helper()
	pl := w.lists[e.StatusListCredential]
	i, err := statuslist.Index(e)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := pl.list.Set(i, true); err != nil {
		w.t.Fatal(err)
	}
	w.publish(pl)
}

const (
	immunization = `{"resourceType":"Immunization","status":"completed","vaccineCode":{"text":"MMR"}}`
	condition    = `{"resourceType":"Condition","code":{"text":"Asthma"}}`
)

func (w *delegationWorld) submit(raw []byte) {
	w.t.Helper()
	if _, err := w.reg.Submit(w.ctx, raw); err != nil {
		w.t.Fatal(err)
	}
}

// client is a's vault client on the world's clock.
func (w *delegationWorld) client(a credtest.Party) *vaultclient.Client {
	c := w.vs.As(a)
	c.Now = w.clk.now
	return c
}

// list returns (publishing it the first time) the revocation list named
// name of the owner that signs with k, in its owner's namespace.
func (w *delegationWorld) list(owner string, k *key.PrivateKey, kid, name string) *publishedList {
	w.t.Helper()
	id := owner + ":" + name
	url := w.reg.StatusListURL(id)
	if l, ok := w.lists[url]; ok {
		return l
	}
	bits, err := statuslist.New(statuslist.MinEntries)
	if err != nil {
		w.t.Fatal(err)
	}
	l := &publishedList{id: id, url: url, owner: owner, k: k, kid: kid, list: bits}
	w.lists[url] = l
	w.publish(l)
	return l
}

func (w *delegationWorld) publish(l *publishedList) {
	w.t.Helper()
	c, err := statuslist.NewCredential(l.url, l.owner, statuslist.Revocation, l.list, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	tok, err := statuslist.Sign(c, l.k, l.kid)
	if err != nil {
		w.t.Fatal(err)
	}
	l.version++
	w.submit(nodetest.Sign(w.t, nodetest.Must(w.t)(tx.NewStatusListPublish(l.owner, l.id, l.version, tok)), l.k, l.kid))
}

// entry is a fresh revocation entry in owner's list.
func (w *delegationWorld) entry(owner credtest.Party) vc.Status {
	w.nextIndex++
	return statuslist.Entry(w.ListURL(owner), statuslist.Revocation, 1000+w.nextIndex)
}

// guardianship is the birth registry's: Maria, as parent, for Ana until
// she comes of age in 30 days; every action, every class, TREAT.
func (w *delegationWorld) guardianship() *delegation.Delegation {
	return w.Guardianship(delegation.Actions...)
}

// carerDelegation is Ana's own: the carer may view immunizations.
func (w *delegationWorld) carerDelegation() *delegation.Delegation {
	return w.Own([]delegation.Action{delegation.ActionView}, "Immunization")
}

// issueRaw signs d's credential with a, as it is but for the issuer: for
// delegations the library refuses to make.
func (w *delegationWorld) issueRaw(d *delegation.Delegation, issuer credtest.Party) string {
	w.t.Helper()
	c, err := d.Credential()
	if err != nil {
		w.t.Fatal(err)
	}
	c.Issuer = issuer.DID
	tok, err := vc.Issue(c, issuer.Key, issuer.Kid)
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

// grantFor is a consent grant rep makes for d's patient under d: provider
// may read classes for TREAT for 90 days. Its anchor DID is a key made for
// it alone (a wallet derives it from the representative's phrase), which
// anchors it on the ledger and is sealed to the patient.
func (w *delegationWorld) grantFor(rep credtest.Party, d *delegation.Delegation, provider string, classes ...string) (grant, seal string) {
	w.t.Helper()
	return w.grantForPurpose(rep, d, provider, "TREAT", classes...)
}

// grantForPurpose is grantFor for purpose instead of TREAT.
func (w *delegationWorld) grantForPurpose(rep credtest.Party, d *delegation.Delegation, provider, purpose string, classes ...string) (grant, seal string) {
	w.t.Helper()
	var secret [32]byte
	_, _ = rand.Read(secret[:])
	ak, err := key.NewEd25519FromSeed(secret[:])
	if err != nil {
		w.t.Fatal(err)
	}
	anchor := did.KeyDID(ak.Public())
	now := w.clk.now().UTC().Truncate(time.Second)
	g := &consent.Grant{ID: randid.URN(), Patient: rep.DID, OnBehalfOf: d.Patient, Delegation: d.Hash(),
		Anchor: anchor, Provider: provider, Actions: []consent.Action{consent.ActionAccess}, Purposes: []string{purpose},
		Classes: classes, ValidFrom: now.Add(-time.Minute), ValidUntil: now.AddDate(0, 0, 90), Issued: now}
	tok, err := consent.Issue(g, rep.Key, rep.Kid)
	if err != nil {
		w.t.Fatal(err)
	}
	parsed, err := consent.Parse(tok)
	if err != nil {
		w.t.Fatal(err)
	}
	w.submit(nodetest.Sign(w.t, nodetest.Must(w.t)(tx.NewConsentAnchor(parsed)), ak, anchor+"#"+ak.Public().Multikey()))
	pub, err := did.ParseKeyDID(d.Patient)
	if err != nil {
		w.t.Fatal(err)
	}
	rk, err := trail.RecipientKey(pub)
	if err != nil {
		w.t.Fatal(err)
	}
	if seal, err = trail.SealSecret(secret[:], rk); err != nil {
		w.t.Fatal(err)
	}
	return tok, seal
}

// trailOf returns the patient's verified trail, newest last.
func (w *delegationWorld) trailOf(p credtest.Party) []vaultclient.VerifiedEntry {
	w.t.Helper()
	if err := w.vs.Vault.Flush(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	resp, err := w.client(p).AccessLog(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	priv, err := trail.DecryptionKey(p.Key)
	if err != nil {
		w.t.Fatal(err)
	}
	es, err := vaultclient.VerifyTrail(w.ctx, resp, p.DID, w.reg, priv)
	if err != nil {
		w.t.Fatal(err)
	}
	return es
}

// lastEntry is the patient's newest trail entry.
func (w *delegationWorld) lastEntry(p credtest.Party) trail.Entry {
	es := w.trailOf(p)
	if len(es) == 0 {
		w.t.Fatal("empty trail")
	}
	return es[len(es)-1].Entry
}

// TestDelegationMatrix runs one case per rule of issue 17 through the real
// vault and registry: who may act for whom, and every refusal of the
// issue's "bad input" with its reason, a denied entry in the patient's
// trail, and nothing changed.
func TestDelegationMatrix(t *testing.T) {
	w := newDelegationWorld(t)
	ctx := w.ctx
	guard := w.guardianship()
	guardTok := w.Sign(guard, w.Registry)

	// Allowed: Maria reads Ana's immunization record as her parent.
	body, err := w.client(w.Parent).GetFor(ctx, w.immunAna.ID, "TREAT", guardTok)
	if err != nil || string(body) != immunization {
		t.Fatalf("parent read: %q, %v", body, err)
	}
	e := w.lastEntry(w.Patient)
	if e.Outcome != trail.OutcomeGranted || e.Provider != w.Parent.DID || e.Authority == nil || e.Authority.Name != "Maria Silva" ||
		e.Authority.Basis != "parent" || e.Authority.Issuer != w.births.DID || !e.Authority.Minor {
		t.Fatalf("Ana's trail does not say Maria read as parent: %+v %+v", e, e.Authority)
	}

	// Allowed: Maria grants the paediatrician access to immunizations;
	// the grant and its sealed anchor key reach Ana's trail; he reads.
	grant, seal := w.grantFor(w.Parent, guard, w.paed.DID, "Immunization")
	if _, err := w.client(w.paed).Get(ctx, w.immunAna.ID, "TREAT", grant, ""); !errors.Is(err, vaultapi.ErrDenied) ||
		!strings.Contains(err.Error(), "not registered") {
		t.Fatalf("a representative's grant before registration: %v", err)
	}
	if err := w.client(w.Parent).RegisterConsent(ctx, grant, guardTok, seal); err != nil {
		t.Fatal(err)
	}
	e = w.lastEntry(w.Patient)
	if e.Action != trail.ActionConsent || e.Outcome != trail.OutcomeGranted || e.Grant != grant || e.AnchorSeal != seal || e.Authority.Name != "Maria Silva" {
		t.Fatalf("registration entry: %+v", e)
	}
	if body, err := w.client(w.paed).Get(ctx, w.immunAna.ID, "TREAT", grant, ""); err != nil || string(body) != immunization {
		t.Fatalf("paediatrician read: %q, %v", body, err)
	}
	if e = w.lastEntry(w.Patient); e.Provider != w.paed.DID || e.Authority == nil || e.Authority.Representative != w.Parent.DID {
		t.Fatalf("the paediatrician's read does not name the authority the grant was made on: %+v", e)
	}
	// The grant covers immunizations only, and only the paediatrician.
	if _, err := w.client(w.paed).Get(ctx, w.condAna.ID, "TREAT", grant, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("paediatrician reads another class: %v", err)
	}
	if _, err := w.client(w.Stranger).Get(ctx, w.immunAna.ID, "TREAT", grant, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("stranger with the grant: %v", err)
	}

	// Maria reads Ana's trail: her copy starts when she first asks.
	if _, err := w.client(w.Parent).AccessLogFor(ctx, w.Patient.DID, guardTok); err != nil {
		t.Fatal(err)
	}
	if _, err := w.client(w.Parent).GetFor(ctx, w.immunAna.ID, "TREAT", guardTok); err != nil {
		t.Fatal(err)
	}
	if err := w.vs.Vault.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err := w.client(w.Parent).AccessLogFor(ctx, w.Patient.DID, guardTok)
	if err != nil {
		t.Fatal(err)
	}
	mpriv, _ := trail.DecryptionKey(w.Parent.Key)
	copies, err := vaultclient.VerifyTrail(ctx, resp, w.Patient.DID, w.reg, mpriv)
	if err != nil || len(copies) < 2 {
		t.Fatalf("Maria's copy of Ana's trail: %d entries, %v", len(copies), err)
	}

	// The refusals. Each: the act is refused with its reason, Ana's (or
	// Ben's) trail gets a denied entry saying so, and nothing changes.
	carer := w.carerDelegation()
	carerTok := w.Sign(carer, w.Patient)

	rogue := w.guardianship()
	rogue.Issuer, rogue.Status = w.Rogue.DID, w.entry(w.Rogue)
	rogueTok := w.Sign(rogue, w.Rogue)

	self := w.carerDelegation()
	selfTok := w.issueRaw(self, w.Carer) // the carer signs it for themselves

	sub := w.carerDelegation()
	sub.Issuer, sub.Representative, sub.RepresentativeName, sub.Parent = w.Carer.DID, w.Stranger.DID, "Sam Stranger", carer
	sub.ValidFrom, sub.ValidUntil = carer.ValidFrom, carer.ValidUntil
	sub.Status = w.entry(w.Carer)
	subC, err := func() (*vc.Credential, error) { // the library refuses to make it: build it by hand
		ok := *sub
		ok.Parent = &delegation.Delegation{}
		*ok.Parent = *carer
		ok.Parent.SubDelegation = true
		return ok.Credential()
	}()
	if err != nil {
		t.Fatal(err)
	}
	subC.Extra["parentDelegation"] = carerTok
	subTok, err := vc.Issue(subC, w.Carer.Key, w.Carer.Kid)
	if err != nil {
		t.Fatal(err)
	}

	expired := w.carerDelegation()
	expired.ValidFrom, expired.ValidUntil = w.clk.now().Add(-10*24*time.Hour), w.clk.now().Add(-24*time.Hour)
	expiredTok := w.Sign(expired, w.Patient)

	notYet := w.carerDelegation()
	notYet.ValidFrom, notYet.ValidUntil = w.clk.now().Add(24*time.Hour), w.clk.now().Add(10*24*time.Hour)
	notYetTok := w.Sign(notYet, w.Patient)

	revoked := w.carerDelegation()
	revokedTok := w.Sign(revoked, w.Patient)
	w.Revoke(revoked)

	viewOnlyGrant, viewOnlySeal := w.grantFor(w.Carer, carer, w.paed.DID, "Immunization")

	cases := []struct {
		name    string
		patient credtest.Party
		act     func() error
		want    string // in the error and in the trail entry's reason
	}{
		{"issuer not accredited for guardianship", w.Patient, func() error {
			_, err := w.client(w.Parent).GetFor(ctx, w.immunAna.ID, "TREAT", rogueTok)
			return err
		}, delegation.ErrNotAccredited.Error()},
		{"signed by the representative for themselves", w.Patient, func() error {
			_, err := w.client(w.Carer).GetFor(ctx, w.immunAna.ID, "TREAT", selfTok)
			return err
		}, delegation.ErrSelfIssued.Error()},
		{"scope escalation: a view-only delegate grants consent", w.Patient, func() error {
			return w.client(w.Carer).RegisterConsent(ctx, viewOnlyGrant, carerTok, viewOnlySeal)
		}, delegation.ErrOutOfScope.Error()},
		{"scope escalation: a class not delegated", w.Patient, func() error {
			_, err := w.client(w.Carer).GetFor(ctx, w.condAna.ID, "TREAT", carerTok)
			return err
		}, delegation.ErrOutOfScope.Error()},
		{"sub-delegation without permission", w.Patient, func() error {
			_, err := w.client(w.Stranger).GetFor(ctx, w.immunAna.ID, "TREAT", subTok)
			return err
		}, delegation.ErrSubDelegation.Error()},
		{"expired", w.Patient, func() error {
			_, err := w.client(w.Carer).GetFor(ctx, w.immunAna.ID, "TREAT", expiredTok)
			return err
		}, delegation.ErrExpired.Error()},
		{"revoked by the patient", w.Patient, func() error {
			_, err := w.client(w.Carer).GetFor(ctx, w.immunAna.ID, "TREAT", revokedTok)
			return err
		}, delegation.ErrRevoked.Error()},
		{"not yet valid", w.Patient, func() error {
			_, err := w.client(w.Carer).GetFor(ctx, w.immunAna.ID, "TREAT", notYetTok)
			return err
		}, delegation.ErrNotYetValid.Error()},
		{"a delegation for another patient", w.Other, func() error {
			_, err := w.client(w.Parent).GetFor(ctx, w.immunBen.ID, "TREAT", guardTok)
			return err
		}, delegation.ErrWrongPatient.Error()},
		{"someone else's delegation", w.Patient, func() error {
			_, err := w.client(w.Stranger).GetFor(ctx, w.immunAna.ID, "TREAT", guardTok)
			return err
		}, delegation.ErrWrongRepresentative.Error()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { w.expectRefused(t, tc.patient, tc.want, tc.act) })
	}
	// Nothing changed: the refused grant opens nothing.
	if _, err := w.client(w.paed).Get(ctx, w.immunAna.ID, "TREAT", viewOnlyGrant, ""); !errors.Is(err, vaultapi.ErrDenied) ||
		!strings.Contains(err.Error(), "not registered") {
		t.Fatalf("a refused registration took effect: %v", err)
	}

	// A minor's delegation after the end date: Ana comes of age.
	w.clk.advance(31 * 24 * time.Hour)
	t.Run("a minor's after the end date", func(t *testing.T) {
		_, err := w.client(w.Parent).GetFor(ctx, w.immunAna.ID, "TREAT", guardTok)
		if !errors.Is(err, vaultapi.ErrDenied) || !strings.Contains(err.Error(), "came of age") {
			t.Fatalf("parent after the end date: %v", err)
		}
		if e := w.lastEntry(w.Patient); e.Outcome != trail.OutcomeDenied || !strings.Contains(e.Reason, "came of age") {
			t.Fatalf("trail entry: %+v", e)
		}
		// A new grant by the parent is refused too.
		late, lateSeal := w.grantFor(w.Parent, guard, w.Stranger.DID, "Immunization")
		if err := w.client(w.Parent).RegisterConsent(ctx, late, guardTok, lateSeal); !errors.Is(err, vaultapi.ErrDenied) {
			t.Fatalf("parent registers a grant after the end date: %v", err)
		}
	})
	// The grant Maria made while Ana was a minor stays in force until Ana
	// withdraws it; the trail says the authority has ended.
	if body, err := w.client(w.paed).Get(ctx, w.immunAna.ID, "TREAT", grant, ""); err != nil || string(body) != immunization {
		t.Fatalf("paediatrician after Ana came of age: %q, %v", body, err)
	}
	if e := w.lastEntry(w.Patient); e.Authority == nil || !e.Authority.Ended {
		t.Fatalf("the read under the inherited grant is not marked: %+v", e.Authority)
	}
	// Ana withdraws it at the vault; the paediatrician is refused.
	if err := w.client(w.Patient).WithdrawConsent(ctx, grant, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.client(w.paed).Get(ctx, w.immunAna.ID, "TREAT", grant, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("paediatrician after Ana withdrew: %v", err)
	}
	// And she holds the key to withdraw it on the ledger, everywhere: the
	// anchor key sealed to her opens to the grant's anchor DID.
	priv, _ := trail.DecryptionKey(w.Patient.Key)
	secret, err := trail.OpenSecret(seal, priv)
	if err != nil {
		t.Fatalf("Ana cannot open the grant's anchor key: %v", err)
	}
	ak, err := key.NewEd25519FromSeed(secret)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := consent.Parse(grant)
	if anchor := did.KeyDID(ak.Public()); anchor != g.Anchor {
		t.Fatalf("the sealed key is %s, the grant's anchor %s", anchor, g.Anchor)
	}
	w.submit(nodetest.Sign(t, nodetest.Must(t)(tx.NewConsentRevoke(g.Anchor, g.Hash())), ak, g.Anchor+"#"+ak.Public().Multikey()))
	if st, err := w.reg.ConsentStatus(ctx, g.Anchor, g.Hash()); err != nil || !st.Revoked {
		t.Fatalf("after Ana's withdrawal on the ledger: %+v, %v", st, err)
	}
}
