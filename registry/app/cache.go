package app

import (
	"container/list"
	"sync"
)

// verdictKey identifies one signature check: the transaction (by hash) and
// the public key it was checked against. A verdict is a pure function of
// both, so it stays true whatever the state does; what the state decides is
// WHICH key a transaction must verify under, and that is looked up afresh
// each time.
type verdictKey struct {
	tx  [32]byte
	key string // multikey of the public key
}

// verdictCache is a bounded LRU of signature verdicts, so a transaction's
// signature is verified once: in CheckTx (or the parallel pre-pass of
// FinalizeBlock) and reused when the block applies it. Safe for concurrent
// use.
type verdictCache struct {
	max int

	mu    sync.Mutex // guards ll and items
	ll    *list.List // front = most recently used; values are *verdictEntry
	items map[verdictKey]*list.Element
}

type verdictEntry struct {
	k  verdictKey
	ok bool
}

func newVerdictCache(max int) *verdictCache {
	return &verdictCache{max: max, ll: list.New(), items: make(map[verdictKey]*list.Element)}
}

// get returns the cached verdict for k and whether there was one.
func (c *verdictCache) get(k verdictKey) (ok, found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.items[k]
	if !found {
		return false, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*verdictEntry).ok, true
}

// put records the verdict for k, evicting the least recently used entry
// beyond the bound.
func (c *verdictCache) put(k verdictKey, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, found := c.items[k]; found {
		e.Value.(*verdictEntry).ok = ok
		c.ll.MoveToFront(e)
		return
	}
	c.items[k] = c.ll.PushFront(&verdictEntry{k: k, ok: ok})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*verdictEntry).k)
	}
}

// len returns the number of cached verdicts.
func (c *verdictCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
