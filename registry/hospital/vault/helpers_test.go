package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// newParty is the did:key actor numbered b.
func newParty(tb testing.TB, b byte) credtest.Party {
	return credtest.NewParty(tb, key.Ed25519, "vault test party "+strconv.Itoa(int(b)))
}

// fakeLedger holds consent anchors and audit anchors in memory: the ledger
// state the vault reads, without a node (the end-to-end test uses a real
// one).
type fakeLedger struct {
	mu       sync.Mutex
	consents map[string]*consent.Status
	audits   map[string]*ledger.AuditRecord
}

func newFakeLedger() *fakeLedger {
	return &fakeLedger{consents: map[string]*consent.Status{}, audits: map[string]*ledger.AuditRecord{}}
}

func (l *fakeLedger) ConsentStatus(_ context.Context, controller, hash string) (*consent.Status, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.consents[hash]
	if !ok || st.Controller != controller {
		return nil, fmt.Errorf("%w: %s by %s", consent.ErrNotAnchored, hash, controller)
	}
	c := *st
	return &c, nil
}

func (l *fakeLedger) anchorGrant(token string) {
	g, err := consent.Parse(token)
	if err != nil {
		panic(err)
	}
	st := &consent.Status{Hash: consent.Hash(token), Controller: g.Anchor, ValidFrom: g.ValidFrom}
	if !g.ValidUntil.IsZero() {
		u := g.ValidUntil
		st.ValidUntil = &u
	}
	l.mu.Lock()
	l.consents[st.Hash] = st
	l.mu.Unlock()
}

func (l *fakeLedger) revoke(token string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.consents[consent.Hash(token)]
	st.Revoked, st.RevokedAt = true, &at
}

// submit accepts audit.anchor transactions after checking their signature.
func (l *fakeLedger) submit(_ context.Context, raw []byte) error {
	t, err := tx.Decode(raw)
	if err != nil {
		return err
	}
	pub, err := did.ParseKeyDID(t.Payload.DID)
	if err != nil {
		return err
	}
	if err := t.Verify(pub); err != nil {
		return err
	}
	p := t.Payload
	l.mu.Lock()
	defer l.mu.Unlock()
	k := p.DID + "/" + p.BatchID
	if _, ok := l.audits[k]; ok {
		return fmt.Errorf("%w: batch anchored twice", ledger.ErrExists)
	}
	l.audits[k] = &ledger.AuditRecord{Vault: p.DID, BatchID: p.BatchID, Root: p.Root, Count: p.Count}
	return nil
}

func (l *fakeLedger) AuditAnchor(_ context.Context, vault, batch string) (*ledger.AuditRecord, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.audits[vault+"/"+batch]
	if !ok {
		return nil, ledger.ErrNotFound
	}
	c := *r
	return &c, nil
}

type harness struct {
	t       testing.TB
	v       *Vault
	ledger  *fakeLedger
	clock   *credtest.Clock
	hosp    credtest.Party // the vault's DID
	patient credtest.Party
}

func newHarness(tb testing.TB) *harness {
	tb.Helper()
	h := &harness{t: tb, ledger: newFakeLedger(), clock: credtest.NewClock(time.Now().UTC().Truncate(time.Second)),
		hosp: newParty(tb, 1), patient: newParty(tb, 2)}
	checker, err := consent.NewChecker(consent.CheckerConfig{Keys: consent.ResolverKeys(did.KeyResolver{}), Ledger: h.ledger,
		StatusTTL: -1, Now: h.clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	h.v, err = New(Config{Dir: tb.TempDir(), DID: h.hosp.DID, Key: h.hosp.Key, KeyID: h.hosp.Kid, Resolver: did.KeyResolver{},
		Consent: checker, Submit: h.ledger.submit, Anchors: h.ledger, Now: h.clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

const allergy = `{"resourceType":"AllergyIntolerance","code":{"text":"Penicillin"},"patient":{"display":"Alice Example"}}`

func (h *harness) put(owner credtest.Party, class, body string) *vaultapi.Meta {
	h.t.Helper()
	sum := sha256.Sum256([]byte(body))
	tok := h.sign(h.hosp, &vaultapi.Request{Op: vaultapi.OpPut, Owner: owner.DID, Class: class, BodyHash: hex.EncodeToString(sum[:])})
	m, err := h.v.Put(context.Background(), tok, []byte(body))
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

func (h *harness) sign(p credtest.Party, r *vaultapi.Request) string {
	h.t.Helper()
	r.Issuer, r.Audience = p.DID, h.hosp.DID
	if r.IssuedAt == 0 {
		r.IssuedAt = h.clock.Now().Unix()
	}
	tok, err := vaultapi.SignRequest(r, p.Key, p.Kid)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// anchorDID is a fresh did:key standing for a grant's anchor (a wallet
// derives one per grant).
func anchorDID(t testing.TB) string {
	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	return did.KeyDID(k.Public())
}

// grant issues (and, when anchor is set, anchors) a grant by patient.
func (h *harness) grant(patient credtest.Party, provider string, classes []string, purpose string, days int, breakGlass, anchor bool) string {
	h.t.Helper()
	from := h.clock.Now().Add(-time.Minute)
	g := &consent.Grant{Patient: patient.DID, Anchor: anchorDID(h.t), Provider: provider, Actions: []consent.Action{consent.ActionAccess},
		Purposes: []string{purpose}, Classes: classes, ValidFrom: from, ValidUntil: from.Add(time.Duration(days) * 24 * time.Hour),
		BreakGlass: breakGlass, ID: fmt.Sprintf("urn:uuid:%x", sha256.Sum256([]byte(fmt.Sprint(time.Now().UnixNano(), provider, purpose))))[:45]}
	tok, err := consent.Issue(g, patient.Key, patient.Kid)
	if err != nil {
		h.t.Fatal(err)
	}
	if anchor {
		h.ledger.anchorGrant(tok)
	}
	return tok
}

func (h *harness) read(p credtest.Party, rec, purpose, grant, reason string) ([]byte, error) {
	h.t.Helper()
	body, _, err := h.v.Read(context.Background(), h.sign(p, &vaultapi.Request{Op: vaultapi.OpRead, Record: rec, Purpose: purpose, Consent: grant, BreakGlass: reason}))
	return body, err
}

// trail flushes and returns the patient's verified, decrypted trail.
func (h *harness) trail(p credtest.Party) []vaultclient.VerifiedEntry {
	h.t.Helper()
	if err := h.v.Flush(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	es, err := h.v.AccessLog(context.Background(), h.sign(p, &vaultapi.Request{Op: vaultapi.OpAccessLog, Patient: p.DID}))
	if err != nil {
		h.t.Fatal(err)
	}
	priv, err := trail.DecryptionKey(p.Key)
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := vaultclient.VerifyTrail(context.Background(), &vaultapi.AccessLogResponse{Vault: h.hosp.DID, Entries: es}, p.DID, h.ledger, priv)
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
