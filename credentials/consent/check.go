package consent

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/validity"
	"github.com/medid/medid/credentials/vc"
)

// Status is what the ledger says about a grant hash anchored by a
// controller: the body of the registry's GET
// /1.0/consents/{controller}/{hash}. It carries no health data and no
// identifier of the patient: the controller is the grant's own anchor DID.
type Status struct {
	Hash string `json:"hash"`
	// Controller is the DID that anchored the hash (the grant's Anchor).
	Controller string `json:"controller"`
	// ValidFrom and ValidUntil (nil = open-ended) are the period the
	// patient anchored.
	ValidFrom  time.Time  `json:"validFrom"`
	ValidUntil *time.Time `json:"validUntil,omitempty"`
	Revoked    bool       `json:"revoked"`
	// RevokedAt is the block time of the revocation, when Revoked.
	RevokedAt      *time.Time `json:"revokedAt,omitempty"`
	AnchoredHeight int64      `json:"anchoredHeight"`
	// At is the time InForce was evaluated at: the time asked for, or
	// the latest block time.
	At      time.Time `json:"at"`
	InForce bool      `json:"inForce"`
}

// InForceAt reports whether the anchor is in force at time at: within
// [ValidFrom, ValidUntil) and before any revocation.
func (s *Status) InForceAt(at time.Time) bool {
	return validity.Period{From: s.ValidFrom, Until: s.ValidUntil}.Contains(at) && !validity.RevokedAt(s.Revoked, s.RevokedAt, at)
}

// Ledger answers what the registry knows about a grant hash anchored by a
// controller DID. The registry client (registry/client.Client) implements
// it. ConsentStatus MUST return an error wrapping [ErrNotAnchored] when
// controller never anchored hash (whoever else may have anchored the same
// hash: an anchor is keyed by both), and MUST be safe for concurrent use.
type Ledger interface {
	ConsentStatus(ctx context.Context, controller, hash string) (*Status, error)
}

// checkLedger checks that st, the ledger's record of g's hash h, was
// anchored by the anchor DID g names for g's period and is not revoked at
// at.
func checkLedger(g *Grant, h string, st *Status, at time.Time) error {
	if st.Controller != g.Anchor || st.Hash != h {
		return fmt.Errorf("%w: the ledger answered for %.80s anchored by %.128s, the grant is %s anchored by %s", ErrLedgerMismatch, st.Hash, st.Controller, h, g.Anchor)
	}
	until := time.Time{}
	if st.ValidUntil != nil {
		until = *st.ValidUntil
	}
	if !st.ValidFrom.Equal(g.ValidFrom) || !until.Equal(g.ValidUntil) {
		return fmt.Errorf("%w: the anchored period differs from the grant's", ErrLedgerMismatch)
	}
	if validity.RevokedAt(st.Revoked, st.RevokedAt, at) {
		when := "earlier"
		if st.RevokedAt != nil {
			when = st.RevokedAt.UTC().Format(time.RFC3339)
		}
		return fmt.Errorf("%w: grant %s revoked by the patient at %s", ErrRevoked, st.Hash, when)
	}
	return nil
}

// ResolverKeys returns a vc.KeyFunc that resolves a kid's DID with r and
// returns the key if the DID document lists it under assertionMethod (a
// grant is a credential the patient asserts).
func ResolverKeys(r did.Resolver) vc.KeyFunc {
	return func(ctx context.Context, kid string) (key.PublicKey, error) {
		d, _, ok := strings.Cut(kid, "#")
		if !ok {
			return key.PublicKey{}, fmt.Errorf("kid %.128q is not a DID URL with a fragment", kid)
		}
		res, err := r.Resolve(ctx, d)
		if err != nil {
			return key.PublicKey{}, err
		}
		return res.Document.Key(kid, did.AssertionMethod)
	}
}

// CheckInForce decides one access without caching: it verifies the grant
// token's signature with keys (so the anchor DID the grant names is the
// patient's word), checks [Grant.Permits] for req, and asks ledger that the
// token's hash is anchored by that anchor DID for the grant's period and not
// revoked at req.At. An anchor of the same hash by any other DID (a
// squatter's) is never consulted. It returns the grant when the
// access is allowed; otherwise an error wrapping the reason: vc's errors for
// a bad token or signature, [ErrInvalidGrant], the Permits sentinels,
// [ErrNotAnchored], [ErrLedgerMismatch] or [ErrRevoked] (or the ledger's own
// error, e.g. when it is unreachable). A service deciding many accesses
// should use a [Checker].
func CheckInForce(ctx context.Context, token string, req Request, ledger Ledger, keys vc.KeyFunc) (*Grant, error) {
	g, err := Verify(ctx, token, keys)
	if err != nil {
		return nil, err
	}
	return g, decide(ctx, g, g.Hash(), req, ledger, nil)
}

// decide checks req against g (whose token hashes to h) and the ledger.
func decide(ctx context.Context, g *Grant, h string, req Request, ledger Ledger, cached func(context.Context) (*Status, error)) error {
	if req.At.IsZero() {
		req.At = time.Now()
	}
	if err := g.Permits(req); err != nil {
		return err
	}
	var st *Status
	var err error
	if cached != nil {
		st, err = cached(ctx)
	} else {
		st, err = ledger.ConsentStatus(ctx, g.Anchor, h)
	}
	if err != nil {
		return err
	}
	return checkLedger(g, h, st, req.At)
}

// CheckerConfig configures a [Checker].
type CheckerConfig struct {
	// Keys resolves a grant's kid to the patient's key (see
	// [ResolverKeys]). Required.
	Keys vc.KeyFunc
	// Ledger answers the status of grant hashes. Required.
	Ledger Ledger
	// MaxGrants bounds the cache of verified grants (LRU); 0 means 10,000.
	MaxGrants int
	// StatusTTL is how long a ledger answer is reused: a revocation takes
	// effect at this checker at most StatusTTL after it is committed.
	// 0 means [DefaultStatusTTL]; negative means ask the ledger every time.
	StatusTTL time.Duration
	// GrantTTL is how long a verified grant is kept before its signature
	// is checked again (so a deactivated patient DID is noticed); 0 means
	// [DefaultGrantTTL].
	GrantTTL time.Duration
	// Now is the clock (nil = time.Now); for tests.
	Now func() time.Time
}

// Defaults of [CheckerConfig].
const (
	DefaultStatusTTL = 5 * time.Second
	DefaultGrantTTL  = 10 * time.Minute
)

// Checker decides accesses under consent grants, caching what is costly: a
// grant token whose signature verified is kept, with its hash, in an LRU,
// and the ledger's answer for that hash is reused for StatusTTL. A decision
// on a cached grant costs a map lookup by the token itself and Permits: the
// token's hash is computed once, when the grant is verified, not on every
// decision (a hash handed in by the caller would make the cache trust its
// caller; the token is what was signed). Safe for concurrent use.
type Checker struct {
	cfg CheckerConfig

	mu sync.Mutex // guards entries, byHash and lru
	// entries and byHash index the same entries by token and by the
	// token's Hash.
	entries map[string]*list.Element
	byHash  map[string]*list.Element
	lru     *list.List // of *entry, most recently used at the front
}

type entry struct {
	token, hash string
	grant       *Grant
	verified    time.Time
	status      *Status // nil until the ledger answered
	statusAt    time.Time
}

// NewChecker returns a Checker. It fails when Keys or Ledger is missing.
func NewChecker(cfg CheckerConfig) (*Checker, error) {
	if cfg.Keys == nil || cfg.Ledger == nil {
		return nil, errors.New("consent.CheckerConfig needs Keys and Ledger")
	}
	if cfg.MaxGrants <= 0 {
		cfg.MaxGrants = 10000
	}
	if cfg.StatusTTL == 0 {
		cfg.StatusTTL = DefaultStatusTTL
	}
	if cfg.GrantTTL <= 0 {
		cfg.GrantTTL = DefaultGrantTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Checker{cfg: cfg, entries: make(map[string]*list.Element), byHash: make(map[string]*list.Element), lru: list.New()}, nil
}

// CheckInForce decides one access like the package-level [CheckInForce],
// with the Checker's caches; req.At zero means the Checker's clock. It
// returns the grant (shared with other callers: do not modify it).
func (c *Checker) CheckInForce(ctx context.Context, token string, req Request) (*Grant, error) {
	now := c.cfg.Now()
	if req.At.IsZero() {
		req.At = now
	}
	g, h := c.grant(token, now)
	if g == nil {
		var err error
		if g, err = Verify(ctx, token, c.cfg.Keys); err != nil {
			return nil, err
		}
		h = Hash(token)
		c.putGrant(token, h, g, now)
	}
	err := decide(ctx, g, h, req, c.cfg.Ledger, func(ctx context.Context) (*Status, error) {
		return c.status(ctx, token, h, g.Anchor, now)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Forget drops what the Checker knows about a grant hash, so the next
// decision verifies the token and asks the ledger again (e.g. after the
// patient announced a revocation).
func (c *Checker) Forget(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byHash[hash]; ok {
		c.remove(el)
	}
}

// Len returns the number of cached grants.
func (c *Checker) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// remove drops a cached entry. The caller holds mu.
func (c *Checker) remove(el *list.Element) {
	e := el.Value.(*entry)
	c.lru.Remove(el)
	delete(c.entries, e.token)
	delete(c.byHash, e.hash)
}

// grant returns the cached grant of token and its hash, or nil when it is
// not cached or was verified GrantTTL ago or more.
func (c *Checker) grant(token string, now time.Time) (*Grant, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[token]
	if !ok {
		return nil, ""
	}
	e := el.Value.(*entry)
	if now.Sub(e.verified) >= c.cfg.GrantTTL {
		c.remove(el)
		return nil, ""
	}
	c.lru.MoveToFront(el)
	return e.grant, e.hash
}

func (c *Checker) putGrant(token, h string, g *Grant, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[token]; ok {
		e := el.Value.(*entry)
		e.grant, e.verified = g, now
		c.lru.MoveToFront(el)
		return
	}
	el := c.lru.PushFront(&entry{token: token, hash: h, grant: g, verified: now})
	c.entries[token], c.byHash[h] = el, el
	for c.lru.Len() > c.cfg.MaxGrants {
		c.remove(c.lru.Back())
	}
}

// status returns the ledger's answer for h (token's hash), from the cache
// when it is younger than StatusTTL. Errors (not anchored, ledger
// unreachable) are not cached: a grant anchored a moment ago is in force
// at the next decision.
func (c *Checker) status(ctx context.Context, token, h, anchor string, now time.Time) (*Status, error) {
	if c.cfg.StatusTTL > 0 {
		c.mu.Lock()
		if el, ok := c.entries[token]; ok {
			e := el.Value.(*entry)
			if e.status != nil && now.Sub(e.statusAt) < c.cfg.StatusTTL {
				st := e.status
				c.mu.Unlock()
				return st, nil
			}
		}
		c.mu.Unlock()
	}
	st, err := c.cfg.Ledger.ConsentStatus(ctx, anchor, h)
	if err != nil {
		return nil, err
	}
	if st.Hash != h {
		return nil, fmt.Errorf("%w: the ledger answered for %.80s, asked for %s", ErrLedgerMismatch, st.Hash, h)
	}
	c.mu.Lock()
	if el, ok := c.entries[token]; ok {
		e := el.Value.(*entry)
		e.status, e.statusAt = st, now
	}
	c.mu.Unlock()
	return st, nil
}
