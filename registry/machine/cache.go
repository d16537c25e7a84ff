package machine

import (
	"bytes"
	"container/list"
	"hash/maphash"
	"sync"

	"github.com/medid/medid/credentials/did"
)

// verdictKey identifies one signature check: the transaction (by hash) and
// the public key it was checked against. A verdict is a pure function of
// both, so it stays true whatever the state does; what the state decides is
// WHICH key a transaction must verify under, and that is looked up afresh
// each time.
type verdictKey struct {
	tx [32]byte
	// key is the public key: its algorithm, ':' and its canonical bytes
	// (key.PublicKey.Bytes), which name one key as its multikey does
	// without the base58 encoding (~2 µs, twice per transaction).
	key string
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
type lru[K comparable, V any] struct {
	max int

	mu    sync.Mutex // guards ll and items
	ll    *list.List // front = most recently used; values are *entry[K, V]
	items map[K]*list.Element
}

type entry[K comparable, V any] struct {
	k K
	v V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	return &lru[K, V]{max: max, ll: list.New(), items: make(map[K]*list.Element)}
}

// get returns the cached value for k and whether there was one.
func (c *lru[K, V]) get(k K) (v V, found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.items[k]
	if !found {
		return v, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*entry[K, V]).v, true
}

// put records v for k, evicting the least recently used entry beyond the
// bound.
func (c *lru[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, found := c.items[k]; found {
		e.Value.(*entry[K, V]).v = v
		c.ll.MoveToFront(e)
		return
	}
	c.items[k] = c.ll.PushFront(&entry[K, V]{k: k, v: v})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*entry[K, V]).k)
	}
}

// len returns the number of cached entries.
func (c *lru[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
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
