package machine

import (
	"bytes"
	"hash/maphash"
	"sync"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/tx"
)

// verdictKey identifies one signature check: the transaction (by hash) and
// the public key it was checked against. A verdict is a pure function of
// both, so it stays true whatever the state does; what the state decides is
// WHICH key a transaction must verify under, and that is looked up afresh
// each time.
type verdictKey struct {
	tx [32]byte
	// alg and key are the public key: its algorithm and its canonical
	// bytes (key.PublicKey.Bytes: 32 for Ed25519, 33 for P-256), zero
	// padded, which name one key as its multikey does, without the base58
	// encoding (~2 µs) and without an allocation (newVerdictKey).
	alg key.Alg
	key [33]byte
}

// newVerdictKey is the cache key of t's check under pub; ok is false for a
// key whose canonical bytes do not fit (none of the ledger's algorithms),
// which is then checked without the cache.
func newVerdictKey(t *tx.Tx, pub key.PublicKey) (k verdictKey, ok bool) {
	k.tx, k.alg = t.Hash, pub.Alg()
	b := pub.AppendBytes(k.key[:0])
	return k, len(b) <= len(k.key) && (len(b) == 0 || &b[0] == &k.key[0])
}

// parsedDoc is a cached result of did.ParseDocument, a pure function of the
// document bytes src. The document MUST NOT be modified. The cache is keyed
// by a maphash of src (docKey) and an entry counts only for the same bytes,
// so a key collision costs a parse, never an answer. src is kept, not
// copied: it MUST NOT be modified either, and every caller passes bytes
// nothing writes to afterwards (a decoded transaction's payload document,
// a stored record's document as json.Unmarshal copied it).
type parsedDoc struct {
	doc *did.Document
	err error
	src []byte
}

// createCheck is the part of checking a did.create that is a pure function
// of its payload (cached by replay id, so CheckTx does it and FinalizeBlock
// reuses it): that the document derives the DID, and the document's
// canonical form, which the DID record stores. The bytes MUST NOT be
// modified.
type createCheck struct {
	doc []byte
	err error
}

// lru is a bounded least-recently-used map, safe for concurrent use. It
// holds the signature verdicts (so a transaction's signature is verified
// once: in CheckTx or FinalizeBlock's parallel pre-pass, and reused when the
// block applies it) and parsed DID documents (keyed by a maphash of their
// bytes and confirmed by comparing them, so validating a document is also
// done once).
//
// The recency list runs through the entries themselves (one allocation per
// new key, not an entry and a container/list element), and a full cache
// reuses the entry it evicts for the key it adds (none).
type lru[K comparable, V any] struct {
	max int

	mu    sync.Mutex  // guards root, n and items
	root  entry[K, V] // sentinel of the recency ring: root.next is the most recently used
	n     int         // entries in the ring
	items map[K]*entry[K, V]
}

type entry[K comparable, V any] struct {
	prev, next *entry[K, V]
	k          K
	v          V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	c := &lru[K, V]{max: max, items: make(map[K]*entry[K, V])}
	c.root.prev, c.root.next = &c.root, &c.root
	return c
}

// unlink takes e out of the ring.
func (c *lru[K, V]) unlink(e *entry[K, V]) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

// pushFront puts e, not in the ring, at its front.
func (c *lru[K, V]) pushFront(e *entry[K, V]) {
	e.prev, e.next = &c.root, c.root.next
	c.root.next.prev = e
	c.root.next = e
}

// get returns the cached value for k and whether there was one.
func (c *lru[K, V]) get(k K) (v V, found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.items[k]
	if !found {
		return v, false
	}
	c.unlink(e)
	c.pushFront(e)
	return e.v, true
}

// put records v for k, evicting the least recently used entry beyond the
// bound.
func (c *lru[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, found := c.items[k]; found {
		e.v = v
		c.unlink(e)
		c.pushFront(e)
		return
	}
	var e *entry[K, V]
	if c.n > 0 && c.n >= c.max {
		// Full: the least recently used entry goes, and its memory
		// holds the new one (nothing outside the cache points to it).
		e = c.root.prev
		c.unlink(e)
		delete(c.items, e.k)
		c.n--
		*e = entry[K, V]{k: k, v: v}
	} else {
		e = &entry[K, V]{k: k, v: v}
	}
	c.pushFront(e)
	c.items[k] = e
	c.n++
	for c.n > c.max {
		last := c.root.prev
		c.unlink(last)
		delete(c.items, last.k)
		c.n--
	}
}

// len returns the number of cached entries.
func (c *lru[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// parseDocument is did.ParseDocument through the document cache.
func (a *App) parseDocument(data []byte) (*did.Document, error) {
	return a.parseDocumentKeyed(a.docKey(data), data)
}

// docKey is the document cache's key for data: a maphash under the App's
// seed, not a collision-resistant hash (cachedDoc compares the bytes).
func (a *App) docKey(data []byte) uint64 { return maphash.Bytes(a.seed, data) }

// cachedDoc returns the cached parse of data, filed under k = docKey(data),
// if the entry is data's.
func (a *App) cachedDoc(k uint64, data []byte) (parsedDoc, bool) {
	p, ok := a.docs.get(k)
	if !ok || !bytes.Equal(p.src, data) {
		return parsedDoc{}, false
	}
	return p, true
}

// parseDocumentKeyed is parseDocument for a caller that already has the
// cache key of data (docKey).
func (a *App) parseDocumentKeyed(k uint64, data []byte) (*did.Document, error) {
	if p, ok := a.cachedDoc(k, data); ok {
		return p.doc, p.err
	}
	a.docParses.Add(1)
	d, err := did.ParseDocument(data)
	a.docs.put(k, parsedDoc{d, err, data})
	return d, err
}
