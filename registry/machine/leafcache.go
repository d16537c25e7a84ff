package machine

import (
	"encoding/binary"
	"sync"
)

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
// checksum of its value). It is cleared when the state database is emptied
// (a state sync restore), the one case where node keys are reused.
//
// It is sharded; each shard is a ring buffer of entries (12-byte node key,
// 4-byte length, the leaf) and a map from node key to the entry's offset,
// both free of pointers, so a cache of a million leaves adds nothing to
// the garbage collector's marking. The oldest entries are evicted first
// (FIFO), which under a uniform load is as good as LRU. Safe for
// concurrent use.
type leafCache struct {
	shards [leafShards]leafShard
}

const (
	leafShards = 16
	// leafHeader is an entry's header: node key and length.
	leafHeader = 12 + 4
	// leafPad, as an entry's length, marks the unused end of a ring turn.
	leafPad = ^uint32(0)
)

type leafShard struct {
	mu sync.Mutex // guards everything below
	// size is the ring's capacity in bytes, a multiple of leafSegment;
	// the ring's segments are allocated as the ring first reaches them,
	// so a cache holds memory for what it caches. An entry never crosses
	// a segment's end (the rest of a segment is left unused then).
	size uint64
	segs [][]byte
	// at maps a node key to the absolute offset of its entry (its place
	// in the ring is the offset modulo size). Entries live at offsets
	// [head, tail); every key of at is an entry there.
	at         map[[12]byte]uint64
	head, tail uint64
}

// leafSegment is the unit the rings are allocated in.
const leafSegment = 1 << 20

// newLeafCache returns a cache of about bytes bytes (nil for bytes <= 0:
// no cache; a nil *leafCache is valid and holds nothing).
func newLeafCache(bytes int) *leafCache {
	if bytes <= 0 {
		return nil
	}
	c := &leafCache{}
	segs := max(bytes/leafShards/leafSegment, 1)
	for i := range c.shards {
		c.shards[i].size = uint64(segs) * leafSegment
		c.shards[i].segs = make([][]byte, segs)
		c.shards[i].at = make(map[[12]byte]uint64)
	}
	return c
}

func (c *leafCache) shard(nk []byte) *leafShard {
	h := binary.BigEndian.Uint32(nk[8:]) ^ binary.BigEndian.Uint32(nk[4:])*0x9E3779B1
	return &c.shards[(h*0x85EBCA6B)>>28%leafShards]
}

// bytes returns the ring from absolute offset p to the end of its
// segment, allocating the segment if needed.
func (s *leafShard) bytes(p uint64) []byte {
	o := p % s.size
	i := o / leafSegment
	if s.segs[i] == nil {
		s.segs[i] = make([]byte, leafSegment)
	}
	return s.segs[i][o%leafSegment:]
}

// get appends to dst the leaf cached under node key nk (12 bytes) and
// reports whether there was one.
func (c *leafCache) get(dst, nk []byte) ([]byte, bool) {
	if c == nil {
		return dst, false
	}
	s := c.shard(nk)
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.at[[12]byte(nk)]
	if !ok {
		return dst, false
	}
	b := s.bytes(p)
	n := int(binary.BigEndian.Uint32(b[12:]))
	return append(dst, b[leafHeader:leafHeader+n]...), true
}

// put caches leaf under node key nk (12 bytes). A leaf larger than an
// eighth of a segment is not cached.
func (c *leafCache) put(nk, leaf []byte) {
	if c == nil {
		return
	}
	n := uint64(leafHeader + len(leaf))
	if n > leafSegment/8 {
		return
	}
	s := c.shard(nk)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [12]byte(nk)
	if _, ok := s.at[k]; ok {
		return
	}
	start := s.tail
	if o := start % leafSegment; o+n > leafSegment {
		start += leafSegment - o // to the next segment
	}
	// Free [start, start+n) of the ring: evict every entry that began
	// before start+n-size.
	for s.head+s.size < start+n {
		if s.head >= s.tail {
			s.head = start // nothing left but the unused end of a segment
			break
		}
		s.evict()
	}
	if start != s.tail {
		// Mark the rest of the segment unused if a header fits there.
		if o := s.tail % leafSegment; o+leafHeader <= leafSegment {
			binary.BigEndian.PutUint32(s.bytes(s.tail)[12:], leafPad)
		}
	}
	b := s.bytes(start)
	copy(b, nk)
	binary.BigEndian.PutUint32(b[12:], uint32(len(leaf)))
	copy(b[leafHeader:], leaf)
	s.at[k] = start
	s.tail = start + n
}

// evict removes the oldest entry (or the unused end of a segment).
func (s *leafShard) evict() {
	o := s.head % leafSegment
	if o+leafHeader > leafSegment {
		s.head += leafSegment - o
		return
	}
	b := s.bytes(s.head)
	n := binary.BigEndian.Uint32(b[12:])
	if n == leafPad {
		s.head += leafSegment - o
		return
	}
	k := [12]byte(b[:12])
	if s.at[k] == s.head {
		delete(s.at, k)
	}
	s.head += leafHeader + uint64(n)
}

// reset empties the cache (its memory stays allocated).
func (c *leafCache) reset() {
	if c == nil {
		return
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.at)
		s.head, s.tail = 0, 0
		s.mu.Unlock()
	}
}

// len returns the number of cached leaves.
func (c *leafCache) len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.at)
		s.mu.Unlock()
	}
	return n
}
