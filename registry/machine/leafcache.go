package machine

import "github.com/VictoriaMetrics/fastcache"

// leafCache holds IAVL leaves that the latest-DID index's leaf pointers
// (ledger.LayoutRecordsOnce) led to, by node key, so a resolution of a DID
// read before costs the index lookup alone, as in LayoutEveryVersion.
//
// Why it exists: LevelDB caches whole 4 KiB blocks, and a leaf shares its
// block with the inner nodes IAVL saved around it (node keys are assigned
// in pre-order, so a version's leaves and inner nodes interleave). Under a
// uniform resolution load the blocks holding a million current records are
// about twice the records' bytes and do not fit the block cache, so most
// leaf reads went to the file and decompressed a block (BENCHMARKS.md,
// issue 18, "Seventh pass"). This cache keeps exactly the leaves, and leaf
// reads that fill it do not fill the block cache.
//
// What it holds cannot make an answer wrong: an entry is the raw bytes the
// node database held under that node key, which IAVL never rewrites while
// the key exists (a node key is a version and a nonce), and the index
// checks a cached leaf exactly as one read from LevelDB (its key and the
// checksum of its value), and drops an entry that fails the check. It is
// cleared when the state database is emptied (a state sync restore), the
// one case where node keys are reused.
//
// The store is github.com/VictoriaMetrics/fastcache (docs/design/0001):
// 512 buckets, each a ring of 64 KiB chunks allocated outside the Go heap
// as the ring first reaches them, and a pointer-free map from a key's
// 64-bit hash to its place in the ring, so a cache of a million leaves adds
// nothing to the garbage collector's marking or heap goal. Oldest entries
// go first (FIFO), which under a uniform load is as good as LRU. It keeps
// each entry's key beside its value and Get compares it, so two node keys
// with one hash never serve each other's leaf (the newer put replaces the
// older); it drops entries silently (ring turned, hash collision, entry of
// 64 KiB or more), which only costs a LevelDB read. Safe for concurrent
// use.
type leafCache struct {
	c *fastcache.Cache
}

// leafMaxEntry bounds what fastcache's Set stores: its 4-byte header, the
// key and the value must stay under one 64 KiB chunk, so key and value
// together below leafMaxEntry bytes. Larger ones would need SetBig/GetBig,
// which split the value over several entries and hash the whole value on
// every read. A DID record is a few hundred bytes; one near 64 KiB can only
// come from a transaction near tx.MaxSize (64 KiB), which the default quota
// allows a vouched signer alone (16 KiB for others): such a leaf is simply
// not cached, and its DID's resolutions read it from LevelDB each time (the
// hand-written cache of before took leaves up to 128 KiB).
const leafMaxEntry = 64<<10 - 4

// newLeafCache returns a cache of about bytes bytes (nil for bytes <= 0:
// no cache; a nil *leafCache is valid and holds nothing). fastcache's
// smallest cache is one chunk per bucket, 32 MiB, allocated as it fills.
func newLeafCache(bytes int) *leafCache {
	if bytes <= 0 {
		return nil
	}
	return &leafCache{c: fastcache.New(bytes)}
}

// get appends to dst the leaf cached under node key nk (12 bytes) and
// reports whether there was one.
func (c *leafCache) get(dst, nk []byte) ([]byte, bool) {
	if c == nil {
		return dst, false
	}
	return c.c.HasGet(dst, nk)
}

// put caches leaf under node key nk (12 bytes); a leaf too large for one
// fastcache chunk is not cached.
func (c *leafCache) put(nk, leaf []byte) {
	if c == nil || len(nk)+len(leaf) >= leafMaxEntry {
		return
	}
	c.c.Set(nk, leaf)
}

// drop removes the entry of node key nk (one that failed the index's
// check: it will not pass it later either).
func (c *leafCache) drop(nk []byte) {
	if c == nil {
		return
	}
	c.c.Del(nk)
}

// reset empties the cache (its chunks go back to fastcache's free list,
// not to the operating system).
func (c *leafCache) reset() {
	if c == nil {
		return
	}
	c.c.Reset()
}

// len returns the number of entries in fastcache's maps: the cached
// leaves, and until fastcache next cleans a bucket (every 16,384 puts to
// it) also entries whose bytes the ring has since overwritten, which get
// no longer serves. For tests.
func (c *leafCache) len() int {
	if c == nil {
		return 0
	}
	var s fastcache.Stats
	c.c.UpdateStats(&s)
	return int(s.EntriesCount)
}
