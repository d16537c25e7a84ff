package delegation

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
)

// Defaults of [CheckerConfig].
const (
	// DefaultStatusTTL is how long a fetched status list is used: a
	// revocation takes effect at a checker at most this long after it is
	// published.
	DefaultStatusTTL = 5 * time.Second
	// DefaultVerifiedTTL is how long a verified delegation is kept before
	// its signatures and its issuer's accreditation are checked again.
	DefaultVerifiedTTL = 10 * time.Minute
	// DefaultMaxEntries bounds the cache of verified delegations.
	DefaultMaxEntries = 10000
)

// CheckerConfig configures a [Checker].
type CheckerConfig struct {
	// Resolver resolves the DIDs of delegation issuers and status list
	// signers (assertionMethod keys). Required.
	Resolver did.Resolver
	// Status fetches status list credentials (registry/client.Client
	// implements it). Required: a delegation without a checkable status is
	// not honoured.
	Status verify.StatusFetcher
	// Trust says whether an issuer was accredited for
	// GuardianshipCredential when it issued one (registry/client.Client
	// implements it). Required.
	Trust verify.Accreditations
	// StatusTTL: 0 means [DefaultStatusTTL], negative fetches the list on
	// every decision.
	StatusTTL time.Duration
	// VerifiedTTL: 0 means [DefaultVerifiedTTL].
	VerifiedTTL time.Duration
	// MaxEntries: 0 means [DefaultMaxEntries].
	MaxEntries int
	// Now is the clock (nil = time.Now).
	Now func() time.Time
}

// Checker verifies delegations and decides acts under them, caching what is
// costly: a delegation whose signatures and issuer authority were verified
// is kept by its token hash (LRU, re-verified after VerifiedTTL) and each
// status list for StatusTTL. A decision on a cached delegation is a SHA-256
// of the token, two map lookups, a bit test per link of the chain and
// [Delegation.Allows]. Safe for concurrent use.
type Checker struct {
	cfg  CheckerConfig
	keys vc.KeyFunc

	mu      sync.Mutex // guards entries, lru and lists
	entries map[string]*list.Element
	lru     *list.List // of *verified, most recently used at the front
	lists   map[string]*cachedList
}

type verified struct {
	hash string
	d    *Delegation
	at   time.Time
}

type cachedList struct {
	dec *statuslist.Decoded
	at  time.Time
}

// NewChecker returns a Checker. It fails when Resolver, Status or Trust is
// missing.
func NewChecker(cfg CheckerConfig) (*Checker, error) {
	if cfg.Resolver == nil || cfg.Status == nil || cfg.Trust == nil {
		return nil, errors.New("delegation.CheckerConfig needs Resolver, Status and Trust")
	}
	if cfg.StatusTTL == 0 {
		cfg.StatusTTL = DefaultStatusTTL
	}
	if cfg.VerifiedTTL <= 0 {
		cfg.VerifiedTTL = DefaultVerifiedTTL
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Checker{cfg: cfg, keys: consent.ResolverKeys(cfg.Resolver), entries: map[string]*list.Element{},
		lru: list.New(), lists: map[string]*cachedList{}}, nil
}

// Verify returns the delegation in token once it is trusted now: every
// link of its chain well formed, signed by its issuer's assertionMethod
// key, issued by someone with the authority to (the patient; an
// organisation accredited for GuardianshipCredential at its validFrom
// ([ErrNotAccredited]); for a sub-delegation the parent's representative,
// within the parent's scope), and not revoked ([ErrRevoked];
// [ErrStatusUnavailable] when that cannot be told). It does not check the
// period or the scope: [Checker.Authorize] does. The returned delegation
// is shared: do not modify it.
func (c *Checker) Verify(ctx context.Context, token string) (*Delegation, error) {
	now := c.cfg.Now()
	d, err := c.verified(ctx, token, now)
	if err != nil {
		return nil, err
	}
	if err := c.status(ctx, d, now); err != nil {
		return nil, err
	}
	return d, nil
}

// Authorize decides act under the delegation in token: [Checker.Verify],
// then [Delegation.Allows]. act.At zero means the Checker's clock. It
// returns the delegation when the act is allowed, otherwise an error
// wrapping the reason (this package's sentinels, vc's for a bad token or
// signature).
func (c *Checker) Authorize(ctx context.Context, token string, act Act) (*Delegation, error) {
	if act.At.IsZero() {
		act.At = c.cfg.Now()
	}
	d, err := c.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := d.Allows(act); err != nil {
		return d, err
	}
	return d, nil
}

// Forget drops a verified delegation from the cache, and with it the status
// lists its chain names, so the next decision checks everything again (e.g.
// after its issuer announced a revocation).
func (c *Checker) Forget(token string) {
	h := Hash(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[h]; ok {
		for x := el.Value.(*verified).d; x != nil; x = x.Parent {
			delete(c.lists, x.Status.StatusListCredential)
		}
		c.lru.Remove(el)
		delete(c.entries, h)
	}
}

// verified returns token's delegation, from the cache or verified now.
func (c *Checker) verified(ctx context.Context, token string, now time.Time) (*Delegation, error) {
	h := Hash(token)
	c.mu.Lock()
	if el, ok := c.entries[h]; ok {
		v := el.Value.(*verified)
		if now.Sub(v.at) < c.cfg.VerifiedTTL {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return v.d, nil
		}
		c.lru.Remove(el)
		delete(c.entries, h)
	}
	c.mu.Unlock()
	d, err := Parse(token)
	if err != nil {
		return nil, err
	}
	for x := d; x != nil; x = x.Parent {
		if err := c.verifyOne(ctx, x); err != nil {
			if x != d {
				return nil, fmt.Errorf("the delegation it is made under: %w", err)
			}
			return nil, err
		}
	}
	c.mu.Lock()
	c.entries[h] = c.lru.PushFront(&verified{hash: h, d: d, at: now})
	for c.lru.Len() > c.cfg.MaxEntries {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.entries, last.Value.(*verified).hash)
	}
	c.mu.Unlock()
	return d, nil
}

// verifyOne checks one link's signature and its issuer's authority (the
// rules between links were checked by Parse).
func (c *Checker) verifyOne(ctx context.Context, d *Delegation) error {
	// The signature is checked at a time inside the delegation's own
	// window, so that an expired delegation still verifies here and the
	// caller gets this package's period errors (ErrCameOfAge) instead of
	// a generic vc one.
	if _, err := vc.Verify(ctx, d.Token, c.keys, vc.VerifyOptions{Now: d.ValidFrom}); err != nil {
		return err
	}
	if d.Type != TypeGuardianship {
		return nil // the patient's own, or a sub-delegation checked against its parent
	}
	ok, err := c.cfg.Trust.Accredited(ctx, d.Issuer, TypeGuardianship, d.ValidFrom)
	if err != nil {
		return fmt.Errorf("%w: %s's accreditation for %s cannot be checked: %v", ErrNotAccredited, d.Issuer, TypeGuardianship, err)
	}
	if !ok {
		return fmt.Errorf("%w: %s was not accredited for %s on %s", ErrNotAccredited, d.Issuer, TypeGuardianship, d.ValidFrom.UTC().Format(time.RFC3339))
	}
	return nil
}

// status checks the revocation bit of every link of d's chain.
func (c *Checker) status(ctx context.Context, d *Delegation, now time.Time) error {
	for x := d; x != nil; x = x.Parent {
		dec, err := c.list(ctx, x.Status.StatusListCredential, now)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrStatusUnavailable, err)
		}
		if err := listIssuerAllowed(x, dec); err != nil {
			return fmt.Errorf("%w: %v", ErrStatusUnavailable, err)
		}
		set, err := dec.Check(x.Status)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrStatusUnavailable, err)
		}
		if set {
			who := "its issuer"
			if x.Issuer == x.Patient {
				who = "the patient"
			}
			if x != d {
				return fmt.Errorf("%w: the delegation it is made under (%s) was revoked by %s", ErrRevoked, x.ID, who)
			}
			return fmt.Errorf("%w: %s was revoked by %s", ErrRevoked, x.ID, who)
		}
	}
	return nil
}

// listIssuerAllowed says whether the signer of status list dec may speak
// for delegation d's status. An authority's list is its own. A person's
// wallet publishes its delegations' list under a did:key made for that
// list alone, so that the ledger never carries the patient's DID: the list
// id (the last segment of the URL d's issuer signed) is then namespaced by
// that did:key ("did:key:z6Mk…:delegations"), which only its owner can
// publish under, and the list must be signed by that owner.
func listIssuerAllowed(d *Delegation, dec *statuslist.Decoded) error {
	if dec.Issuer == d.Issuer {
		return nil
	}
	if d.Type == TypeDelegation {
		if owner, ok := ListOwner(d.Status.StatusListCredential); ok && owner == dec.Issuer {
			return nil
		}
	}
	return fmt.Errorf("status list %s is signed by %s, neither the delegation's issuer nor the DID the list's id names", d.Status.StatusListCredential, dec.Issuer)
}

// ListOwner returns the DID a namespaced status list id names as its
// owner: for a URL or id whose last path segment is "did:<method>:<id>:<name>",
// everything before the last ':' of that segment. ok is false otherwise.
func ListOwner(ref string) (owner string, ok bool) {
	seg := ref
	if i := strings.IndexAny(seg, "?#"); i >= 0 {
		seg = seg[:i]
	}
	if i := strings.LastIndexByte(seg, '/'); i >= 0 {
		seg = seg[i+1:]
	}
	i := strings.LastIndexByte(seg, ':')
	if i < 0 || i == len(seg)-1 || !strings.HasPrefix(seg, "did:") || strings.Count(seg[:i], ":") < 2 {
		return "", false
	}
	if _, err := did.Parse(seg[:i]); err != nil {
		return "", false
	}
	return seg[:i], true
}

// list returns the verified, decoded status list at url, from the cache
// while it is younger than StatusTTL.
func (c *Checker) list(ctx context.Context, url string, now time.Time) (*statuslist.Decoded, error) {
	if c.cfg.StatusTTL > 0 {
		c.mu.Lock()
		cl, ok := c.lists[url]
		c.mu.Unlock()
		if ok && now.Sub(cl.at) < c.cfg.StatusTTL && now.Sub(cl.at) >= 0 {
			return cl.dec, nil
		}
	}
	tok, err := c.cfg.Status.FetchStatusList(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("fetch status list %.200s: %w", url, err)
	}
	cred, err := vc.Verify(ctx, tok, c.keys, vc.VerifyOptions{Now: now, ClockSkew: statuslist.ClockSkew})
	if err != nil {
		return nil, fmt.Errorf("status list %.200s: %w", url, err)
	}
	dec, err := statuslist.FromCredential(cred)
	if err != nil {
		return nil, fmt.Errorf("status list %.200s: %w", url, err)
	}
	if dec.Purpose != statuslist.Revocation {
		return nil, fmt.Errorf("status list %.200s is a %s list, not a revocation list", url, dec.Purpose)
	}
	if c.cfg.StatusTTL > 0 {
		c.mu.Lock()
		if len(c.lists) >= c.cfg.MaxEntries {
			clear(c.lists) // a cache: refilled on demand
		}
		c.lists[url] = &cachedList{dec: dec, at: now}
		c.mu.Unlock()
	}
	return dec, nil
}
