package did

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// CacheConfig configures a [Cache]. Zero values select the defaults.
type CacheConfig struct {
	// TTL is how long a resolution is kept when the resolver does not say
	// (Resolution.TTL == 0). Default 5 minutes.
	TTL time.Duration
	// NegativeTTL is how long an ErrNotFound answer is kept, so a flood of
	// lookups for an unknown DID does not reach the resolver each time, while
	// a DID registered a moment later becomes visible soon. Default 10
	// seconds; a negative value disables negative caching.
	NegativeTTL time.Duration
	// MaxEntries bounds the number of cached DIDs; the least recently used
	// entry is evicted first. Default 1024.
	MaxEntries int
	// Now is the clock; default time.Now. Tests inject a fake one.
	Now func() time.Time
}

// Default cache settings.
const (
	DefaultCacheTTL         = 5 * time.Minute
	DefaultCacheNegativeTTL = 10 * time.Second
	DefaultCacheMaxEntries  = 1024
)

// Cache is a [Resolver] that remembers the answers of another one. It is
// safe for concurrent use. Concurrent misses for the same DID are resolved
// once and the answer is shared (single flight). Successful resolutions are
// kept for their Resolution.TTL if positive, else CacheConfig.TTL;
// [ErrNotFound] is kept for CacheConfig.NegativeTTL; other errors are not
// kept. Cached resolutions are shared between callers, who MUST NOT modify
// them.
type Cache struct {
	next   Resolver
	ttl    time.Duration
	negTTL time.Duration
	max    int
	now    func() time.Time

	mu       sync.Mutex               // guards entries, lru and inflight
	entries  map[string]*list.Element // DID -> element of lru holding *cacheEntry
	lru      *list.List               // front = most recently used
	inflight map[string]*call         // DIDs being resolved now
}

type cacheEntry struct {
	did     string
	res     *Resolution
	err     error // nil, or an ErrNotFound error
	expires time.Time
}

// call is one resolution in flight; done is closed when res and err are set.
type call struct {
	done chan struct{}
	res  *Resolution
	err  error
	// ctxErr is true when the leader's own context ended the call: its
	// error says nothing about the DID, so waiters retry with their own.
	ctxErr bool
}

// NewCache returns a cache in front of r.
func NewCache(r Resolver, cfg CacheConfig) *Cache {
	c := &Cache{
		next:     r,
		ttl:      cfg.TTL,
		negTTL:   cfg.NegativeTTL,
		max:      cfg.MaxEntries,
		now:      cfg.Now,
		entries:  make(map[string]*list.Element),
		lru:      list.New(),
		inflight: make(map[string]*call),
	}
	if c.ttl <= 0 {
		c.ttl = DefaultCacheTTL
	}
	if c.negTTL == 0 {
		c.negTTL = DefaultCacheNegativeTTL
	}
	if c.max <= 0 {
		c.max = DefaultCacheMaxEntries
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Resolve returns the cached resolution of did, or resolves it with the
// underlying resolver. An invalid DID is [ErrInvalidDID] and never reaches
// the underlying resolver. If ctx ends while waiting for another caller's
// resolution of the same DID, Resolve returns ctx.Err().
func (c *Cache) Resolve(ctx context.Context, did string) (*Resolution, error) {
	if _, err := Parse(did); err != nil {
		return nil, err
	}
	for {
		c.mu.Lock()
		if el, ok := c.entries[did]; ok {
			e := el.Value.(*cacheEntry)
			if c.now().Before(e.expires) {
				c.lru.MoveToFront(el)
				c.mu.Unlock()
				return e.res, e.err
			}
			c.removeLocked(el)
		}
		if cl, ok := c.inflight[did]; ok {
			c.mu.Unlock()
			select {
			case <-cl.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if cl.ctxErr && ctx.Err() == nil {
				continue // the leader gave up; try again with our context
			}
			return cl.res, cl.err
		}
		cl := &call{done: make(chan struct{})}
		c.inflight[did] = cl
		c.mu.Unlock()
		c.lead(ctx, did, cl)
		return cl.res, cl.err
	}
}

// lead resolves did for everyone waiting on cl and records the answer.
func (c *Cache) lead(ctx context.Context, did string, cl *call) {
	finished := false
	defer func() {
		if !finished {
			// The resolver panicked: release the waiters before the panic
			// continues up this goroutine.
			cl.res, cl.err = nil, fmt.Errorf("did: resolver for %s panicked", clip(did))
		}
		c.mu.Lock()
		delete(c.inflight, did)
		if finished {
			c.storeLocked(did, cl)
		}
		c.mu.Unlock()
		close(cl.done)
	}()
	res, err := c.next.Resolve(ctx, did)
	if err == nil && res == nil {
		err = fmt.Errorf("did: resolver returned no resolution for %s", clip(did))
	}
	cl.res, cl.err = res, err
	cl.ctxErr = err != nil && ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
	finished = true
}

func (c *Cache) storeLocked(did string, cl *call) {
	var ttl time.Duration
	switch {
	case cl.err == nil:
		ttl = c.ttl
		if cl.res.TTL > 0 {
			ttl = cl.res.TTL
		}
	case errors.Is(cl.err, ErrNotFound) && c.negTTL > 0:
		ttl = c.negTTL
	default:
		return
	}
	e := &cacheEntry{did: did, res: cl.res, err: cl.err, expires: c.now().Add(ttl)}
	if el, ok := c.entries[did]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
	} else {
		c.entries[did] = c.lru.PushFront(e)
	}
	for c.lru.Len() > c.max {
		c.removeLocked(c.lru.Back())
	}
}

func (c *Cache) removeLocked(el *list.Element) {
	delete(c.entries, el.Value.(*cacheEntry).did)
	c.lru.Remove(el)
}

// Forget drops did from the cache, so the next Resolve asks the underlying
// resolver (for example after the caller updated the DID).
func (c *Cache) Forget(did string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[did]; ok {
		c.removeLocked(el)
	}
}

// Len returns the number of cached DIDs, including expired entries not yet
// evicted.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
