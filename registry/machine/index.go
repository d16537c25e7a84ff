package machine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sync/atomic"

	"github.com/cosmos/iavl"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/medid/medid/registry/ledger"
)

// latestIndex is a flat index of the current DID records (did/<did>) next
// to the IAVL tree in the same LevelDB, so the hot reads cost one index
// lookup instead of a walk of ~20 tree nodes. It is node-local: not part of
// the app hash, it proves nothing, and reads with proofs, history and every
// other key still go through the tree. Whatever it holds, a reader that
// cannot use an entry reads the tree, so a wrong or missing entry can cost
// time but never change an answer.
//
// What an entry holds depends on the chain's state layout (docs/design/0021,
// "State layout"):
//
//   - ledger.LayoutEveryVersion (values set): x/<key> -> 8-byte big-endian
//     height the value was written at, then a copy of the value. Commit
//     writes a block's entries (one LevelDB batch) before the tree saves the
//     version, so the index is never behind the tree; after a stop between
//     the two, it is one block ahead and CometBFT replays that block.
//   - ledger.LayoutRecordsOnce, whose point is to store each record once:
//     x/<key> -> the IAVL node key of the record's leaf (8-byte version, which
//     is the height it was written at, and 4-byte nonce) and the CRC-32C of
//     the value (16 bytes). A read fetches the leaf by its node key (from
//     the leaf cache, see leafCache, else a second point lookup; no tree
//     walk), decodes it, and uses it only if
//     its key is the one asked for and its value has that checksum. An
//     8-byte entry (the height only) says the key exists and sends the
//     reader to the tree. IAVL assigns node keys inside SaveVersion, so
//     Commit writes the block's entries after the tree saved the version,
//     from the nodes of that version (see leafScan): the index may be one
//     block behind the tree after a stop between the two, and Open repairs
//     that from the tree's nodes of the saved version before anything is
//     read.
//
// x!height holds the height of the last block indexed. A reader at
// committed height h may use an entry written at a height <= h: no later
// write to that key happened up to h (the committed view is published only
// after its block is indexed), so it is the value at h. A newer entry (a
// block committed since the reader took its view) sends the reader to the
// tree. Keys are never deleted, so a missing entry means the key did not
// exist up to the last indexed height.
//
// If the index was not written by this software up to the saved version
// (a state from before the index or before leaf pointers, x!height ahead of
// the tree where that cannot happen, or further behind than one block),
// Open rebuilds it from the tree.
type latestIndex struct {
	db *leveldb.DB
	// values is set when entries copy the record (LayoutEveryVersion);
	// otherwise entries point at the record's tree leaf. The app sets it
	// before the first block and after a restore, when the index is
	// rebuilt anyway.
	values atomic.Bool
	// note records a storage failure for App.CheckStore (nil: none).
	note func(error)
	// leafHits counts reads answered through a leaf pointer, leafMisses
	// pointer entries that could not be used (leaf gone, or not the record
	// the entry describes) and sent the reader to the tree; for tests and
	// benchmarks.
	leafHits, leafMisses atomic.Int64
	// leaves caches the leaves pointers led to (nil: no cache), and
	// leafRead are the options of a leaf read from LevelDB (not filling
	// the block cache when leaves is set). See leafCache.
	leaves   *leafCache
	leafRead *opt.ReadOptions
	// copiesLeft is set while a LayoutRecordsOnce index (values false)
	// still holds copy entries of LayoutEveryVersion, after a move of the
	// layout began: each Commit converts the next ones in key order (see
	// convertCopies), and the format record is written once none is left.
	// Written under the app's wmu; readers take an entry of neither
	// pointer nor height size for a copy only while it is set (a complete
	// LayoutRecordsOnce index holds no copies, so such an entry is wrong
	// there and sends the reader to the tree).
	copiesLeft atomic.Bool
}

// newLatestIndex returns the index of db with a leaf cache of about
// leafCacheBytes bytes (none if <= 0).
func newLatestIndex(db *leveldb.DB, leafCacheBytes int, note func(error)) *latestIndex {
	ix := &latestIndex{db: db, note: note, leaves: newLeafCache(leafCacheBytes)}
	if ix.leaves != nil {
		ix.leafRead = &opt.ReadOptions{DontFillCache: true}
	}
	return ix
}

var (
	indexPrefix    = []byte("x/")
	indexHeightKey = []byte("x!height")
	// indexFormatKey says which entry format a LayoutRecordsOnce index
	// holds; indexLeafFormat is the leaf pointers. An index without it
	// (written by the software of before, which kept only heights) is
	// rebuilt at open.
	indexFormatKey  = []byte("x!format")
	indexLeafFormat = []byte("leaf1")
	// indexSwitchKey holds, while the copies of a moved chain's index are
	// converted to leaf pointers, the last DID key converted: every copy
	// entry up to it in key order is converted (see convertCopies).
	indexSwitchKey = []byte("x!switch")
)

// Sizes of a LayoutRecordsOnce entry: the height alone, or the leaf
// pointer (height = the leaf's node key version, nonce, CRC-32C of the
// value). An entry of any other size is a copy entry of LayoutEveryVersion
// (8-byte height and a DID record, which is JSON of far more than 8
// bytes), which a LayoutRecordsOnce index holds only while a move of the
// layout's copies are converted.
const (
	entryHeightOnly = 8
	entryLeaf       = 16
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// indexed reports whether k is a key the index holds.
func indexed(k []byte) bool { return bytes.HasPrefix(k, []byte(ledger.PrefixDID)) }

func indexKey(k []byte) []byte {
	return append(append(make([]byte, 0, len(indexPrefix)+len(k)), indexPrefix...), k...)
}

// get returns the value of k at height h: found reports whether the index
// could answer (v nil then means k does not exist at h); when it cannot,
// the caller reads the tree.
func (ix *latestIndex) get(k []byte, h int64) (v []byte, found bool, err error) {
	e, err := ix.db.Get(indexKey(k), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, true, nil
	}
	if err != nil {
		if ix.note != nil {
			ix.note(err)
		}
		return nil, false, err
	}
	if len(e) < 8 {
		return nil, false, fmt.Errorf("%w: index entry of %s is %d bytes", ledger.ErrInternal, k, len(e))
	}
	if int64(binary.BigEndian.Uint64(e)) > h {
		// Written after h: the tree answers.
		return nil, false, nil
	}
	if ix.values.Load() {
		return e[8:], true, nil
	}
	switch len(e) {
	case entryHeightOnly:
		// The height only: the key exists, the tree answers.
		return nil, false, nil
	case entryLeaf:
	default:
		if !ix.copiesLeft.Load() {
			return nil, false, nil
		}
		// A copy of the record written while the chain was in
		// LayoutEveryVersion, not converted yet after a move of the
		// layout (see convertCopies): the value at its height, and no
		// write to the key came since (it would have replaced the entry).
		return e[8:], true, nil
	}
	nk := e[:12]
	raw, cached := ix.leaves.get(nil, nk)
	if !cached {
		// A leaf read for the leaf cache does not fill LevelDB's block
		// cache: the block around it is mostly other nodes.
		raw, err = ix.db.Get(leafNodeKey(nk), ix.leafRead)
		if errors.Is(err, leveldb.ErrNotFound) {
			// The leaf is gone (pruned after a later write this reader's
			// view does not see yet): the tree answers.
			ix.leafMisses.Add(1)
			return nil, false, nil
		}
		if err != nil {
			if ix.note != nil {
				ix.note(err)
			}
			return nil, false, err
		}
	}
	lk, lv, ok := decodeLeaf(raw)
	if !ok || !bytes.Equal(lk, k) || crc32.Checksum(lv, castagnoli) != binary.BigEndian.Uint32(e[12:]) {
		if cached {
			// Not the leaf the entry describes (which a node key that
			// exists never stops being): the cache entry cannot be used,
			// now or later.
			ix.leaves.drop(nk)
		}
		ix.leafMisses.Add(1)
		return nil, false, nil
	}
	if !cached {
		ix.leaves.put(nk, raw)
	}
	ix.leafHits.Add(1)
	return lv, true, nil
}

// leafNodeKey is the state database key of the IAVL node whose node key
// (8-byte version, 4-byte nonce) is nk: IAVL v1 stores node (v, n) under
// 's' v n.
func leafNodeKey(nk []byte) []byte {
	return append([]byte{'s'}, nk...)
}

// nodeKeyLen is the length of an IAVL v1 node's database key.
const nodeKeyLen = 1 + 8 + 4

// decodeLeaf decodes an IAVL v1 leaf node as the node database stores it
// (iavl's Node.writeBytes: zigzag varint height 0, zigzag varint size 1,
// uvarint-prefixed key, uvarint-prefixed value, nothing after). ok is
// false for anything else, inner nodes included. key and value alias raw.
func decodeLeaf(raw []byte) (key, value []byte, ok bool) {
	// Height 0 and size 1 as zigzag varints: 0x00, 0x02.
	if len(raw) < 2 || raw[0] != 0 || raw[1] != 2 {
		return nil, nil, false
	}
	rest := raw[2:]
	key, rest, ok = decodeBytes(rest)
	if !ok {
		return nil, nil, false
	}
	value, rest, ok = decodeBytes(rest)
	if !ok || len(rest) != 0 {
		return nil, nil, false
	}
	return key, value, true
}

// decodeBytes reads one uvarint-length-prefixed byte string.
func decodeBytes(b []byte) (v, rest []byte, ok bool) {
	n, m := binary.Uvarint(b)
	if m <= 0 || n > uint64(len(b)-m) {
		return nil, nil, false
	}
	return b[m : m+int(n)], b[m+int(n):], true
}

// write records a block's writes to indexed keys at height h, and h as the
// last indexed height. In LayoutEveryVersion it runs before the tree saves
// version h, with copies of the values; in LayoutRecordsOnce after it, and
// writes pointers to the leaves version h created (writeLeaves).
func (ix *latestIndex) write(h int64, writes []write) error {
	if !ix.values.Load() {
		return ix.writeLeaves(h, writes, false)
	}
	return ix.put(h, writes, true)
}

// put writes LayoutEveryVersion entries at height h in one batch, and h as
// the last indexed height if mark is set.
func (ix *latestIndex) put(h int64, writes []write, mark bool) error {
	var b leveldb.Batch
	for _, w := range writes {
		b.Put(indexKey(w.key), copyEntry(nil, h, w.value))
	}
	if mark {
		markHeight(&b, h)
	}
	return ix.db.Write(&b, nil)
}

// copyEntry appends to buf the LayoutEveryVersion entry of value written
// at height h.
func copyEntry(buf []byte, h int64, value []byte) []byte {
	buf = binary.BigEndian.AppendUint64(buf, uint64(h))
	return append(buf, value...)
}

// indexFeed writes LayoutEveryVersion entries at one height from leaves
// as a state sync import reads them (see App.OfferSnapshot), in batches,
// one batch written in the background while the next fills, as IAVL's
// importer writes its nodes. It does not record the height: until
// markRestored does, the index is not complete, and a start in between
// rebuilds it (latestIndex.open). Not safe for concurrent use.
type indexFeed struct {
	ix     *latestIndex
	height int64
	b      *leveldb.Batch
	buf    []byte
	// inflight is the result of the batch being written (nil: none).
	inflight chan error
}

// indexFeedBatch is how many entries an indexFeed writes at once (~7 MB
// of 700-byte records). A variable so tests can stop a restore after a
// few batches.
var indexFeedBatch = 10_000

func newIndexFeed(ix *latestIndex, h int64) *indexFeed {
	return &indexFeed{ix: ix, height: h, b: new(leveldb.Batch)}
}

// add writes the entry of one leaf if its key is indexed.
func (f *indexFeed) add(k, v []byte) error {
	if !indexed(k) {
		return nil
	}
	// Batch.Put copies key and value.
	f.buf = copyEntry(f.buf[:0], f.height, v)
	f.b.Put(indexKey(k), f.buf)
	if f.b.Len() >= indexFeedBatch {
		return f.flush()
	}
	return nil
}

// flush hands the filled batch to a background write after the previous
// one ended.
func (f *indexFeed) flush() error {
	if err := f.wait(); err != nil {
		return err
	}
	if f.b.Len() == 0 {
		return nil
	}
	b, done := f.b, make(chan error, 1)
	f.b, f.inflight = new(leveldb.Batch), done
	go func() { done <- f.ix.db.Write(b, nil) }()
	return nil
}

// wait waits for the batch being written.
func (f *indexFeed) wait() error {
	if f.inflight == nil {
		return nil
	}
	err := <-f.inflight
	f.inflight = nil
	return err
}

// close writes what is left (if ok) and waits until nothing is being
// written: after it the feed writes nothing more.
func (f *indexFeed) close(ok bool) error {
	if ok {
		if err := f.flush(); err != nil {
			return err
		}
	}
	return f.wait()
}

// markRestored completes a LayoutEveryVersion index an indexFeed wrote for
// restored version h by recording h as the last indexed height.
func (ix *latestIndex) markRestored(h int64) error {
	var b leveldb.Batch
	markHeight(&b, h)
	return ix.db.Write(&b, nil)
}

func markHeight(b *leveldb.Batch, h int64) {
	var m [8]byte
	binary.BigEndian.PutUint64(m[:], uint64(h))
	b.Put(indexHeightKey, m[:])
}

// leafEntry is the LayoutRecordsOnce entry pointing at the leaf with node
// key nk (12 bytes) that holds value.
func leafEntry(nk, value []byte) []byte {
	e := make([]byte, entryLeaf)
	copy(e, nk)
	binary.BigEndian.PutUint32(e[12:], crc32.Checksum(value, castagnoli))
	return e
}

// heightEntry is the LayoutRecordsOnce entry that says only that the key
// exists since height h (the tree answers).
func heightEntry(h int64) []byte {
	e := make([]byte, entryHeightOnly)
	binary.BigEndian.PutUint64(e, uint64(h))
	return e
}

// leafScan calls fn with the node key, key and value of every leaf of an
// indexed key that IAVL saved with node version h (h 0: every version),
// in node key order (newestFirst: from the last node key back).
func (ix *latestIndex) leafScan(h int64, newestFirst bool, fn func(nk, key, value []byte) error) error {
	r := util.BytesPrefix([]byte{'s'})
	if h > 0 {
		start := make([]byte, 9)
		start[0] = 's'
		binary.BigEndian.PutUint64(start[1:], uint64(h))
		limit := make([]byte, 9)
		limit[0] = 's'
		binary.BigEndian.PutUint64(limit[1:], uint64(h+1))
		r = &util.Range{Start: start, Limit: limit}
	}
	it := ix.db.NewIterator(r, nil)
	defer it.Release()
	next, ok := it.Next, it.First()
	if newestFirst {
		next, ok = it.Prev, it.Last()
	}
	for ; ok; ok = next() {
		k, v := it.Key(), it.Value()
		if len(k) != nodeKeyLen || len(v) < 2 || v[0] != 0 {
			continue // not a node key, or an inner node
		}
		key, value, leaf := decodeLeaf(v)
		if !leaf || !indexed(key) {
			continue
		}
		if err := fn(k[1:], key, value); err != nil {
			return err
		}
	}
	return it.Error()
}

// indexBatch collects index writes of a rebuild and writes them once it
// holds at least min of them (flush); step (nil: none) is called after
// each batch written.
type indexBatch struct {
	db   *leveldb.DB
	b    leveldb.Batch
	step func() error
}

func (w *indexBatch) flush(min int) error {
	if w.b.Len() < min {
		return nil
	}
	err := w.db.Write(&w.b, nil)
	w.b.Reset()
	if err == nil && w.step != nil {
		err = w.step()
	}
	return err
}

// writeLeaves writes the LayoutRecordsOnce entries of the block saved as
// version h: each key the block wrote points at the leaf version h holds
// for it. The leaves come from the node database (the nodes version h
// added, still in LevelDB's memtable) and each must hold the value the
// block wrote; a written key whose leaf is not found so (which would mean
// IAVL stores its nodes differently than this code reads them) gets a
// height-only entry, so its readers go to the tree instead of to the leaf
// of an older version. repair (after a stop between the two) takes every leaf of
// version h, which are exactly the keys the block wrote.
func (ix *latestIndex) writeLeaves(h int64, writes []write, repair bool) error {
	var b leveldb.Batch
	if err := ix.leafEntries(&b, h, writes, repair); err != nil {
		return err
	}
	return ix.db.Write(&b, nil)
}

// leafEntries adds to b what writeLeaves writes: the entries of the block
// saved as version h, h as the last indexed height, and the format record
// unless copy entries are left to convert.
func (ix *latestIndex) leafEntries(b *leveldb.Batch, h int64, writes []write, repair bool) error {
	markHeight(b, h)
	if !ix.copiesLeft.Load() {
		b.Put(indexFormatKey, indexLeafFormat)
	}
	if len(writes) == 0 && !repair {
		return nil
	}
	want := make(map[string][]byte, len(writes))
	for _, w := range writes {
		want[string(w.key)] = w.value // the last write of a key wins
	}
	err := ix.leafScan(h, false, func(nk, key, value []byte) error {
		if !repair {
			v, ok := want[string(key)]
			if !ok || !bytes.Equal(v, value) {
				return nil
			}
			delete(want, string(key))
		}
		b.Put(indexKey(key), leafEntry(nk, value))
		return nil
	})
	if err != nil {
		return err
	}
	for k := range want {
		b.Put(indexKey([]byte(k)), heightEntry(h))
	}
	return nil
}

// height returns the last indexed height, 0 if none.
func (ix *latestIndex) height() (int64, error) {
	m, err := ix.db.Get(indexHeightKey, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(m) != 8 {
		return 0, fmt.Errorf("index height record is %d bytes", len(m))
	}
	return int64(binary.BigEndian.Uint64(m)), nil
}

// open checks the index against the saved version, repairs a
// LayoutRecordsOnce index one block behind, and rebuilds it from that
// version of the tree when it cannot be trusted (see latestIndex). moving
// says the state is in the middle of a move of its layout. It reports what
// it did ("" when the index was trusted as it was).
func (ix *latestIndex) open(version int64, view *iavl.ImmutableTree, moving bool) (did string, err error) {
	h, err := ix.height()
	if err != nil {
		return "", fmt.Errorf("read the DID index: %w", err)
	}
	if version == 0 && h == 0 {
		return "", nil
	}
	if ix.values.Load() {
		// Trusted: written up to the saved version, or one block beyond it
		// (Commit indexed the block, then the process stopped before the
		// tree saved it; CometBFT replays that same block).
		if h == version || h == version+1 {
			return "", nil
		}
		return "rebuilt", ix.rebuild(version, view)
	}
	format, err := ix.db.Get(indexFormatKey, nil)
	if err != nil && !errors.Is(err, leveldb.ErrNotFound) {
		return "", fmt.Errorf("read the DID index: %w", err)
	}
	ix.copiesLeft.Store(false)
	if !bytes.Equal(format, indexLeafFormat) {
		// Without the format record: an index whose copies a move of the
		// layout is converting (the state is in the middle of the move,
		// or the conversion has begun: x!switch), which every Commit
		// wrote exactly (copies, leaf pointers to current leaves); or an
		// index of the software of before, rebuilt.
		switching, err := ix.db.Has(indexSwitchKey, nil)
		if err != nil {
			return "", fmt.Errorf("read the DID index: %w", err)
		}
		if !moving && !switching {
			return "rebuilt", ix.rebuild(version, view)
		}
		ix.copiesLeft.Store(true)
	}
	switch h {
	case version:
		return "", nil
	case version - 1:
		// The tree saved version h+1, then the process stopped before
		// indexing it: index the leaves that version added.
		if err := ix.writeLeaves(version, nil, true); err != nil {
			return "", fmt.Errorf("repair the DID index: %w", err)
		}
		return "repaired", nil
	}
	return "rebuilt", ix.rebuild(version, view)
}

// rebuild replaces the index with the indexed keys of view (the saved
// version). In LayoutEveryVersion every entry is recorded at that height.
// In LayoutRecordsOnce each key points at its leaf (see rebuildLeaves).
func (ix *latestIndex) rebuild(version int64, view *iavl.ImmutableTree) error {
	ix.copiesLeft.Store(false)
	if err := ix.clear(); err != nil {
		return fmt.Errorf("clear the DID index: %w", err)
	}
	if version == 0 {
		return nil
	}
	if !ix.values.Load() {
		if err := ix.rebuildLeaves(version, view, true); err != nil {
			return fmt.Errorf("rebuild the DID index: %w", err)
		}
		return nil
	}
	var batch []write
	var werr error
	view.IterateRange(didStart, didEnd, true, func(k, v []byte) bool {
		batch = append(batch, write{append([]byte(nil), k...), append([]byte(nil), v...)})
		if len(batch) >= 10_000 {
			if werr = ix.put(version, batch, false); werr != nil {
				return true
			}
			batch = batch[:0]
		}
		return false
	})
	if werr != nil {
		return fmt.Errorf("rebuild the DID index: %w", werr)
	}
	// The last write records the height, so an interrupted rebuild is
	// redone at the next start.
	if err := ix.put(version, batch, true); err != nil {
		return fmt.Errorf("rebuild the DID index: %w", err)
	}
	return nil
}

// indexRebuildBatch is how many entries a rebuild of the index writes at
// once. A variable so tests can stop a rebuild between small batches.
var indexRebuildBatch = 10_000

// The range of indexed keys in the tree.
var (
	didStart = []byte(ledger.PrefixDID)
	didEnd   = append([]byte(ledger.PrefixDID[:len(ledger.PrefixDID)-1]), ledger.PrefixDID[len(ledger.PrefixDID)-1]+1)
)

// clear deletes every entry and the height, format and switch records,
// and empties the leaf cache.
func (ix *latestIndex) clear() error {
	ix.leaves.reset()
	it := ix.db.NewIterator(util.BytesPrefix(indexPrefix), nil)
	var del leveldb.Batch
	for it.Next() {
		del.Delete(append([]byte(nil), it.Key()...))
		if del.Len() >= 10_000 {
			if err := ix.db.Write(&del, nil); err != nil {
				it.Release()
				return err
			}
			del.Reset()
		}
	}
	it.Release()
	if err := it.Error(); err != nil {
		return err
	}
	del.Delete(indexHeightKey)
	del.Delete(indexFormatKey)
	del.Delete(indexSwitchKey)
	return ix.db.Write(&del, nil)
}

// rebuildRestored is rebuild after a state sync restore into an empty
// database (App.OfferSnapshot removes what was there): the node database
// then holds the imported version alone, so in LayoutRecordsOnce the scan
// of its leaves is exact and the walk of the tree beside it is skipped.
func (ix *latestIndex) rebuildRestored(version int64, view *iavl.ImmutableTree) error {
	if ix.values.Load() {
		return ix.rebuild(version, view)
	}
	ix.copiesLeft.Store(false)
	if err := ix.clear(); err != nil {
		return fmt.Errorf("clear the DID index: %w", err)
	}
	if err := ix.rebuildLeaves(version, view, false); err != nil {
		return fmt.Errorf("rebuild the DID index: %w", err)
	}
	return nil
}

// rebuildLeaves fills a cleared LayoutRecordsOnce index for saved version
// version in two passes. First every leaf of an indexed key in the node
// database, in node key order (so by version), with a version up to the
// saved one: a later leaf of a key overwrites an earlier one, so each key
// ends at the newest leaf the database holds for it. Then the tree of the
// saved version is walked beside the index: a key whose entry is not its
// current leaf (version and checksum) gets a height-only entry, and an
// entry of a key the version does not hold is deleted. After a state sync
// restore the database holds the one imported version, so the first pass
// alone is exact (walk false skips the second); the second makes the
// result exact whatever older versions the database still holds.
func (ix *latestIndex) rebuildLeaves(version int64, view *iavl.ImmutableTree, walk bool) error {
	w := &indexBatch{db: ix.db}
	err := ix.leafScan(0, false, func(nk, key, value []byte) error {
		if int64(binary.BigEndian.Uint64(nk)) > version {
			return nil // a version not saved completely, or after the view
		}
		w.b.Put(indexKey(key), leafEntry(nk, value))
		return w.flush(indexRebuildBatch)
	})
	if err == nil {
		err = w.flush(1)
	}
	if err != nil {
		return err
	}
	if !walk {
		markHeight(&w.b, version)
		w.b.Put(indexFormatKey, indexLeafFormat)
		return ix.db.Write(&w.b, nil)
	}
	return ix.walkLeaves(version, view, nil)
}

// walkLeaves is the second pass of rebuildLeaves: it walks the saved
// version beside the index, gives a height-only entry to every key whose
// entry is not its current leaf, deletes entries of keys the version does
// not hold, and writes the height and format records last. Every write it
// makes sends readers to the tree, so it is safe beside live readers.
// step (nil: none) is called after each batch it writes.
func (ix *latestIndex) walkLeaves(version int64, view *iavl.ImmutableTree, step func() error) error {
	w := &indexBatch{db: ix.db, step: step}
	b := &w.b
	it := ix.db.NewIterator(util.BytesPrefix(indexKey(didStart)), nil)
	defer it.Release()
	more := it.Next()
	var werr error
	view.IterateRangeInclusive(didStart, didEnd, true, func(k, v []byte, leafVersion int64) bool {
		if !indexed(k) {
			return false // didEnd itself, were it a key
		}
		for more && bytes.Compare(it.Key()[len(indexPrefix):], k) < 0 {
			b.Delete(append([]byte(nil), it.Key()...))
			more = it.Next()
		}
		exact := false
		if more && bytes.Equal(it.Key()[len(indexPrefix):], k) {
			// it.Value is valid only until it.Next.
			e := it.Value()
			exact = len(e) == entryLeaf && int64(binary.BigEndian.Uint64(e)) == leafVersion &&
				binary.BigEndian.Uint32(e[12:]) == crc32.Checksum(v, castagnoli)
			more = it.Next()
		}
		if !exact {
			b.Put(indexKey(k), heightEntry(leafVersion))
		}
		if werr = w.flush(indexRebuildBatch); werr != nil {
			return true
		}
		return false
	})
	if werr != nil {
		return werr
	}
	for ; more; more = it.Next() {
		b.Delete(append([]byte(nil), it.Key()...))
	}
	if err := it.Error(); err != nil {
		return err
	}
	// The last write records the height and format, so an interrupted
	// rebuild is redone at the next start.
	markHeight(b, version)
	b.Put(indexFormatKey, indexLeafFormat)
	return ix.db.Write(b, nil)
}

// committedReader reads one committed version: indexed keys through the
// index when it can answer, everything else from the tree.
type committedReader struct {
	tree   *iavl.ImmutableTree
	height int64
	ix     *latestIndex
}

// IterateRange walks keys of the committed tree (the index holds no ranges).
func (r committedReader) IterateRange(start, end []byte, ascending bool, fn func(k, v []byte) bool) bool {
	return r.tree.IterateRange(start, end, ascending, fn)
}

func (r committedReader) Get(k []byte) ([]byte, error) {
	if r.ix != nil && indexed(k) {
		v, found, err := r.ix.get(k, r.height)
		if err != nil {
			return nil, err
		}
		if found {
			return v, nil
		}
	}
	return r.tree.Get(k)
}
