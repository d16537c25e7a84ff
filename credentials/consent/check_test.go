package consent

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/vc"
)

// memLedger is an in-memory Ledger: anchors keyed by controller and hash,
// as on the registry.
type memLedger struct {
	mu    sync.Mutex
	recs  map[string]*Status // by controller + " " + hash
	calls atomic.Int64
}

// anchor records tok's hash under g's anchor DID with g's period.
func (l *memLedger) anchor(g *Grant, tok string) { l.anchorAs(g.Anchor, g, tok) }

// anchorAs records tok's hash under controller with g's period.
func (l *memLedger) anchorAs(controller string, g *Grant, tok string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.recs == nil {
		l.recs = map[string]*Status{}
	}
	st := &Status{Hash: Hash(tok), Controller: controller, ValidFrom: g.ValidFrom, AnchoredHeight: 1}
	if !g.ValidUntil.IsZero() {
		u := g.ValidUntil
		st.ValidUntil = &u
	}
	l.recs[controller+" "+st.Hash] = st
}

func (l *memLedger) revoke(g *Grant, tok string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := g.Anchor + " " + Hash(tok)
	st := *l.recs[k]
	st.Revoked, st.RevokedAt = true, &at
	l.recs[k] = &st
}

func (l *memLedger) ConsentStatus(_ context.Context, controller, hash string) (*Status, error) {
	l.calls.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.recs[controller+" "+hash]
	if !ok {
		return nil, fmt.Errorf("%w: %s by %s", ErrNotAnchored, hash, controller)
	}
	cp := *st
	return &cp, nil
}

func TestCheckInForce(t *testing.T) {
	pat, prov, other := newParty(t, 1), newParty(t, 2), newParty(t, 3)
	at := tFrom.Add(48 * time.Hour)
	req := Request{Provider: prov.DID, Action: ActionAccess, Purpose: "TREAT", Class: "AllergyIntolerance", At: at}
	issue := func(g *Grant, p credtest.Party) string {
		tok, err := Issue(g, p.Key, p.Kid)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	keys := ResolverKeys(did.KeyResolver{})
	cases := []struct {
		name  string
		setup func(l *memLedger) string
		req   Request
		want  error
	}{
		{"in force", func(l *memLedger) string {
			tok := issue(testGrant(pat, prov), pat)
			l.anchor(testGrant(pat, prov), tok)
			return tok
		}, req, nil},
		{"not anchored", func(l *memLedger) string { return issue(testGrant(pat, prov), pat) }, req, ErrNotAnchored},
		{"revoked", func(l *memLedger) string {
			tok := issue(testGrant(pat, prov), pat)
			l.anchor(testGrant(pat, prov), tok)
			l.revoke(testGrant(pat, prov), tok, at.Add(-time.Hour))
			return tok
		}, req, ErrRevoked},
		{"revoked later than the access", func(l *memLedger) string {
			tok := issue(testGrant(pat, prov), pat)
			l.anchor(testGrant(pat, prov), tok)
			l.revoke(testGrant(pat, prov), tok, at.Add(time.Hour))
			return tok
		}, req, nil},
		{"anchored only by a squatter (another DID took the hash first)", func(l *memLedger) string {
			tok := issue(testGrant(pat, prov), pat)
			l.anchorAs(other.DID, testGrant(pat, prov), tok)
			return tok
		}, req, ErrNotAnchored},
		{"anchored by a squatter and by the grant's anchor DID", func(l *memLedger) string {
			tok := issue(testGrant(pat, prov), pat)
			g := testGrant(pat, prov)
			g.ValidUntil = g.ValidUntil.AddDate(5, 0, 0)
			l.anchorAs(other.DID, g, tok) // first, and with a longer period
			l.anchor(testGrant(pat, prov), tok)
			return tok
		}, req, nil},
		{"anchored by the patient's own DID, not the grant's anchor DID", func(l *memLedger) string {
			tok := issue(testGrant(pat, prov), pat)
			l.anchorAs(pat.DID, testGrant(pat, prov), tok)
			return tok
		}, req, ErrNotAnchored},
		{"anchored with another period", func(l *memLedger) string {
			tok := issue(testGrant(pat, prov), pat)
			g := testGrant(pat, prov)
			g.ValidUntil = g.ValidUntil.AddDate(5, 0, 0)
			l.anchor(g, tok)
			return tok
		}, req, ErrLedgerMismatch},
		{"wrong class", func(l *memLedger) string {
			tok := issue(testGrant(pat, prov), pat)
			l.anchor(testGrant(pat, prov), tok)
			return tok
		}, func() Request { r := req; r.Class = "Condition"; return r }(), ErrWrongClass},
		{"expired", func(l *memLedger) string {
			tok := issue(testGrant(pat, prov), pat)
			l.anchor(testGrant(pat, prov), tok)
			return tok
		}, func() Request { r := req; r.At = tUntil; return r }(), ErrConsentExpired},
		{"forged signature", func(l *memLedger) string {
			c, _ := testGrant(pat, prov).Credential()
			tok, err := vc.Issue(c, other.Key, pat.Kid)
			if err != nil {
				t.Fatal(err)
			}
			l.anchor(testGrant(pat, prov), tok)
			return tok
		}, req, vc.ErrBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := &memLedger{}
			tok := tc.setup(l)
			_, err := CheckInForce(context.Background(), tok, tc.req, l, keys)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("CheckInForce = %v, want %v", err, tc.want)
			}
			c, err := NewChecker(CheckerConfig{Keys: keys, Ledger: l})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 { // cold, then cached
				_, err := c.CheckInForce(context.Background(), tok, tc.req)
				if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
					t.Errorf("Checker.CheckInForce #%d = %v, want %v", i, err, tc.want)
				}
			}
		})
	}
}

func TestCheckerCaches(t *testing.T) {
	pat, prov := newParty(t, 1), newParty(t, 2)
	g := testGrant(pat, prov)
	tok, err := Issue(g, pat.Key, pat.Kid)
	if err != nil {
		t.Fatal(err)
	}
	l := &memLedger{}
	l.anchor(g, tok)
	now := tFrom.Add(time.Hour)
	var resolves atomic.Int64
	keys := ResolverKeys(did.ResolverFunc(func(ctx context.Context, d string) (*did.Resolution, error) {
		resolves.Add(1)
		return did.KeyResolver{}.Resolve(ctx, d)
	}))
	c, err := NewChecker(CheckerConfig{Keys: keys, Ledger: l, StatusTTL: time.Minute, MaxGrants: 2, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Provider: prov.DID, Action: ActionAccess, Purpose: "TREAT", Class: "Immunization"}
	for range 5 {
		if _, err := c.CheckInForce(context.Background(), tok, req); err != nil {
			t.Fatal(err)
		}
	}
	if resolves.Load() != 1 || l.calls.Load() != 1 {
		t.Errorf("5 decisions: %d key resolutions, %d ledger calls; want 1 and 1", resolves.Load(), l.calls.Load())
	}
	// A revocation is seen once the status is older than StatusTTL.
	l.revoke(g, tok, now)
	if _, err := c.CheckInForce(context.Background(), tok, req); err != nil {
		t.Errorf("within StatusTTL the cached answer is used, got %v", err)
	}
	now = now.Add(time.Minute)
	if _, err := c.CheckInForce(context.Background(), tok, req); !errors.Is(err, ErrRevoked) {
		t.Errorf("after StatusTTL: %v, want ErrRevoked", err)
	}
	// Forget drops the grant; LRU keeps at most MaxGrants.
	c.Forget(Hash(tok))
	if c.Len() != 0 {
		t.Errorf("Len after Forget = %d", c.Len())
	}
	for i := range 3 {
		g := testGrant(pat, prov)
		g.ID = fmt.Sprintf("urn:uuid:%d", i)
		tk, _ := Issue(g, pat.Key, pat.Kid)
		l.anchor(g, tk)
		if _, err := c.CheckInForce(context.Background(), tk, req); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d, want MaxGrants 2", c.Len())
	}
	if len(c.byHash) != len(c.entries) {
		t.Errorf("%d entries by hash, %d by token: the two indexes differ", len(c.byHash), len(c.entries))
	}
	for tk, el := range c.entries {
		if e := el.Value.(*entry); e.token != tk || c.byHash[Hash(tk)] != el || e.hash != Hash(tk) {
			t.Errorf("the entry of a token is not indexed under its hash")
		}
	}
}

// BenchmarkCheckInForce measures an access decision on a grant already
// verified and cached by its hash, with the ledger answer cached: the
// steady state of a vault deciding accesses. It reports decisions/s and
// the ratio to a bare ed25519.Verify measured in the same run (a decision
// that verified the grant every time would cost at least one).
func BenchmarkCheckInForce(b *testing.B) {
	pat, prov := newParty(b, 1), newParty(b, 2)
	g := testGrant(pat, prov)
	tok, err := Issue(g, pat.Key, pat.Kid)
	if err != nil {
		b.Fatal(err)
	}
	l := &memLedger{}
	l.anchor(g, tok)
	c, err := NewChecker(CheckerConfig{Keys: ResolverKeys(did.KeyResolver{}), Ledger: l, StatusTTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	req := Request{Provider: prov.DID, Action: ActionAccess, Purpose: "TREAT", Class: "MedicationStatement", At: tFrom.Add(time.Hour)}
	ctx := context.Background()
	if _, err := c.CheckInForce(ctx, tok, req); err != nil {
		b.Fatal(err)
	}

	// Baseline: one bare Ed25519 verification of a message of the grant's size.
	pub := ed25519.PublicKey(pat.Key.Public().Bytes())
	msg := []byte(tok)
	digest := sha256.Sum256(msg)
	sig, err := pat.Key.Sign(digest[:])
	if err != nil {
		b.Fatal(err)
	}
	const baseN = 2000
	start := time.Now()
	for range baseN {
		if !ed25519.Verify(pub, digest[:], sig) {
			b.Fatal("baseline verify failed")
		}
	}
	bare := time.Since(start) / baseN

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.CheckInForce(ctx, tok, req); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(time.Second)/float64(per), "decisions/s")
	b.ReportMetric(float64(time.Second)/float64(bare), "ed25519-verify/s")
	b.ReportMetric(float64(bare)/float64(per), "x-vs-ed25519")
}

// TestCheckerConcurrent runs decisions, revocations and Forget from many
// goroutines (for -race).
func TestCheckerConcurrent(t *testing.T) {
	pat, prov := newParty(t, 1), newParty(t, 2)
	l := &memLedger{}
	var toks []string
	for i := range 8 {
		g := testGrant(pat, prov)
		g.ID = fmt.Sprintf("urn:uuid:%d", i)
		tok, err := Issue(g, pat.Key, pat.Kid)
		if err != nil {
			t.Fatal(err)
		}
		l.anchor(g, tok)
		toks = append(toks, tok)
	}
	c, err := NewChecker(CheckerConfig{Keys: ResolverKeys(did.KeyResolver{}), Ledger: l, MaxGrants: 4, StatusTTL: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Provider: prov.DID, Action: ActionAccess, Purpose: "TREAT", Class: "Immunization", At: tFrom.Add(time.Hour)}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				tok := toks[(w+i)%len(toks)]
				_, err := c.CheckInForce(context.Background(), tok, req)
				if err != nil && !errors.Is(err, ErrRevoked) {
					t.Errorf("CheckInForce: %v", err)
					return
				}
				if i%50 == 0 {
					c.Forget(Hash(tok))
				}
			}
		}()
	}
	l.revoke(testGrant(pat, prov), toks[0], tFrom)
	wg.Wait()
	if c.Len() > 4 {
		t.Errorf("Len = %d > MaxGrants", c.Len())
	}
}

// BenchmarkCheckInForceParallel is BenchmarkCheckInForce from GOMAXPROCS
// goroutines sharing one Checker (its LRU lock is the shared point).
func BenchmarkCheckInForceParallel(b *testing.B) {
	pat, prov := newParty(b, 1), newParty(b, 2)
	g := testGrant(pat, prov)
	tok, err := Issue(g, pat.Key, pat.Kid)
	if err != nil {
		b.Fatal(err)
	}
	l := &memLedger{}
	l.anchor(g, tok)
	c, err := NewChecker(CheckerConfig{Keys: ResolverKeys(did.KeyResolver{}), Ledger: l, StatusTTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	req := Request{Provider: prov.DID, Action: ActionAccess, Purpose: "TREAT", Class: "MedicationStatement", At: tFrom.Add(time.Hour)}
	if _, err := c.CheckInForce(context.Background(), tok, req); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.CheckInForce(context.Background(), tok, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkCheckInForceCold is a decision with nothing cached: parse and
// verify the grant (one Ed25519 verification, did:key resolution) and ask the
// (in-memory) ledger. It shows what the caches save.
func BenchmarkCheckInForceCold(b *testing.B) {
	pat, prov := newParty(b, 1), newParty(b, 2)
	g := testGrant(pat, prov)
	tok, err := Issue(g, pat.Key, pat.Kid)
	if err != nil {
		b.Fatal(err)
	}
	l := &memLedger{}
	l.anchor(g, tok)
	c, err := NewChecker(CheckerConfig{Keys: ResolverKeys(did.KeyResolver{}), Ledger: l, StatusTTL: -1})
	if err != nil {
		b.Fatal(err)
	}
	req := Request{Provider: prov.DID, Action: ActionAccess, Purpose: "TREAT", Class: "MedicationStatement", At: tFrom.Add(time.Hour)}
	h := Hash(tok)
	ctx := context.Background()
	for b.Loop() {
		c.Forget(h)
		if _, err := c.CheckInForce(ctx, tok, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
