package machine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/medid/medid/registry/ledger"
)

// Switching the latest-DID index of a chain that moves from
// LayoutEveryVersion to LayoutRecordsOnce (docs/design/0021, "Moving a
// chain to layout 2"), block by block beside the move.
//
// From the first block of the move on, Commit indexes each block's writes
// as leaf pointers (after the tree saved the version, as in layout 2),
// and converts the copy entries of the DIDs the move has passed, in key
// order, to pointers at their current leaves: at most twice the move's
// batch per block, so the conversion keeps pace with the move (which
// takes one batch per block) and no block does it all. Until an entry is
// converted it stays a copy, which is still exact: it holds the record at
// its height and no write to the key came since (a write replaces the
// entry in the Commit of its block, before readers see that block). So
// readers at any height read through any mix of copies and pointers (see
// latestIndex.get), and the conversion is node-local work that never
// decides an answer. Each block's entries, the conversion's entries, the
// last key converted (x!switch) and the height go in one LevelDB batch;
// the format record is written with the batch that converts the last
// copy, once the move has ended. A stop anywhere leaves either the batch
// of the block before (open repairs the saved block's entries, and the
// conversion goes on from x!switch) or this one.
//
// A pointer needs the IAVL node key of the DID's current leaf, which the
// tree's API does not give: convertCopies walks the saved version's nodes
// in the state database from its root, over the key range it converts
// (each node read and decoded as IAVL v1 writes it, as decodeLeaf reads
// leaves), so its cost is the nodes of that range, not a scan of every
// node the database holds.

// rootNodeKey returns the node key of the root of saved version v (nil:
// an empty tree). IAVL v1 stores the root at (v, 1); a version that
// changed nothing stores there a reference to the root it shares (the
// 13-byte database key of that node), which pruning may have moved to
// nonce 0.
func (ix *latestIndex) rootNodeKey(v int64) ([]byte, error) {
	nk := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, uint64(v)), 1)
	raw, err := ix.db.Get(leafNodeKey(nk), nil)
	if err != nil {
		return nil, fmt.Errorf("root of version %d: %w", v, err)
	}
	if len(raw) == 0 {
		return nil, nil
	}
	// A node starts with its height as a zigzag varint (even for a
	// height >= 0): 's', odd, is a reference.
	if raw[0] != 's' {
		return nk, nil
	}
	if len(raw) != nodeKeyLen {
		return nil, fmt.Errorf("root of version %d: a reference of %d bytes", v, len(raw))
	}
	ref := append([]byte(nil), raw[1:]...)
	if ok, err := ix.db.Has(leafNodeKey(ref), nil); err != nil || ok {
		return ref, err
	}
	binary.BigEndian.PutUint32(ref[8:], 0)
	if ok, err := ix.db.Has(leafNodeKey(ref), nil); err != nil || ok {
		return ref, err
	}
	return nil, fmt.Errorf("root of version %d: the node it refers to is not in the database", v)
}

// decodeInner decodes an IAVL v1 inner node as the node database stores
// it (iavl's Node.writeBytes: zigzag varint height > 0, zigzag varint
// size, uvarint-prefixed key, the 32-byte hash with its length byte,
// zigzag varint mode 0, then the left and right children's node keys as
// zigzag varint version and nonce). ok is false for anything else (a
// leaf, or children in IAVL's legacy format, which a chain written by
// this software does not have). key aliases raw.
func decodeInner(raw []byte) (key, left, right []byte, ok bool) {
	var vals [2]int64
	rest := raw
	for i := range vals {
		n, m := binary.Varint(rest)
		if m <= 0 {
			return nil, nil, nil, false
		}
		vals[i], rest = n, rest[m:]
	}
	if vals[0] <= 0 || vals[1] < 2 {
		return nil, nil, nil, false
	}
	key, rest, ok = decodeBytes(rest)
	if !ok || len(rest) < 1+32 || rest[0] != 32 {
		return nil, nil, nil, false
	}
	rest = rest[33:]
	var kids [5]int64 // mode, left version, left nonce, right version, right nonce
	for i := range kids {
		n, m := binary.Varint(rest)
		if m <= 0 {
			return nil, nil, nil, false
		}
		kids[i], rest = n, rest[m:]
	}
	if kids[0] != 0 || len(rest) != 0 || kids[1] <= 0 || kids[3] <= 0 || kids[2] < 0 || kids[4] < 0 ||
		kids[2] > int64(^uint32(0)) || kids[4] > int64(^uint32(0)) {
		return nil, nil, nil, false
	}
	nodeKey := func(v, n int64) []byte {
		return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(make([]byte, 0, 12), uint64(v)), uint32(n))
	}
	return key, nodeKey(kids[1], kids[2]), nodeKey(kids[3], kids[4]), true
}

// errEnough ends a leafRange walk that has called fn max times.
var errEnough = errors.New("enough leaves")

// leafRange calls fn, in key order, with the node key, key and value of
// each leaf of saved version v whose key is a DID key after after (nil:
// from the first) and up to through (nil: to the last), at most max
// times; more reports that leaves in the range were left. It walks the
// nodes from v's root, only into subtrees that can hold keys of the range
// (an inner node's key is the smallest key of its right subtree).
func (ix *latestIndex) leafRange(v int64, after, through []byte, max int, fn func(nk, key, value []byte)) (more bool, err error) {
	root, err := ix.rootNodeKey(v)
	if err != nil || root == nil {
		return false, err
	}
	lowerOK := func(k []byte) bool { // k is at or after the range's start
		if after == nil {
			return bytes.Compare(k, didStart) >= 0
		}
		return bytes.Compare(k, after) > 0
	}
	upperOK := func(k []byte) bool { // k is at or before the range's end
		if through == nil {
			return bytes.Compare(k, didEnd) < 0
		}
		return bytes.Compare(k, through) <= 0
	}
	n := 0
	var visit func(nk []byte) error
	visit = func(nk []byte) error {
		raw, err := ix.db.Get(leafNodeKey(nk), ix.leafRead)
		if err != nil {
			return fmt.Errorf("node %x of version %d: %w", nk, v, err)
		}
		if key, value, leaf := decodeLeaf(raw); leaf {
			if !lowerOK(key) || !upperOK(key) {
				return nil
			}
			if n == max {
				return errEnough
			}
			n++
			fn(nk, key, value)
			return nil
		}
		key, left, right, ok := decodeInner(raw)
		if !ok {
			return fmt.Errorf("%w: node %x of version %d is not a node this software reads", ledger.ErrInternal, nk, v)
		}
		// The left subtree holds the keys below key, the right one key
		// and those above.
		if after == nil && bytes.Compare(didStart, key) < 0 || after != nil && bytes.Compare(after, key) < 0 {
			if err := visit(left); err != nil {
				return err
			}
		}
		if upperOK(key) {
			return visit(right)
		}
		return nil
	}
	err = visit(root)
	if errors.Is(err, errEnough) {
		return true, nil
	}
	return false, err
}

// convertCopies adds to b the conversion of up to max copy entries after
// x!switch (the next DIDs in key order) up to through (the last DID key
// the move has passed; nil once it has ended: to the last DID) to
// pointers at their leaves in saved version v, and x!switch, or, when
// through is nil and nothing is left, the format record. Every DID key of
// the range gets the pointer to its current leaf, whatever its entry
// held (a key written since the move began already has that pointer).
// last reports that the batch converts the last copy (the caller clears
// copiesLeft once b is written). n is how many entries it wrote.
func (ix *latestIndex) convertCopies(b *leveldb.Batch, v int64, through []byte, max int) (n int, last bool, err error) {
	after, err := ix.db.Get(indexSwitchKey, nil)
	switch {
	case errors.Is(err, leveldb.ErrNotFound):
		after = nil
	case err != nil:
		return 0, false, err
	}
	if after != nil && through != nil && bytes.Compare(after, through) >= 0 {
		return 0, false, nil // the move's cursor is converted already
	}
	var lastKey []byte
	more, err := ix.leafRange(v, after, through, max, func(nk, key, value []byte) {
		b.Put(indexKey(key), leafEntry(nk, value))
		lastKey = key
		n++
	})
	if err != nil {
		return 0, false, err
	}
	switch {
	case more:
		b.Put(indexSwitchKey, lastKey)
	case through != nil:
		b.Put(indexSwitchKey, through)
	default:
		b.Delete(indexSwitchKey)
		b.Put(indexFormatKey, indexLeafFormat)
		last = true
	}
	return n, last, nil
}

// writeMoving indexes the block saved as version v while copies are left
// (see convertCopies): its writes as leaf pointers, the next copies
// converted, and the height, in one batch. through is the DID key the
// move has passed (nil: the move has ended).
func (ix *latestIndex) writeMoving(v int64, writes []write, through []byte, max int) (n int, err error) {
	var b leveldb.Batch
	n, last, err := ix.convertCopies(&b, v, through, max)
	if err != nil {
		return 0, fmt.Errorf("convert the copies of the DID index: %w", err)
	}
	// The block's own entries after the conversion's: for a key in both,
	// the same pointer (the leaf version v holds), or, for a written key
	// whose leaf was not found, the height entry that sends readers to
	// the tree.
	if err := ix.leafEntries(&b, v, writes, false); err != nil {
		return 0, err
	}
	if err := ix.db.Write(&b, nil); err != nil {
		return 0, err
	}
	if last {
		ix.copiesLeft.Store(false)
	}
	return n, nil
}
