package machine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/cosmos/iavl"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/medid/medid/registry/ledger"
)

// latestIndex is a flat index of the current DID records (did/<did>) next
// to the IAVL tree in the same LevelDB, so the hot reads cost one LevelDB
// lookup instead of a walk of ~20 tree nodes. It is not part of the app
// hash and proves nothing: reads with proofs, history and every other key
// still go through the tree.
//
// What it holds depends on the chain's state layout (docs/design/0021,
// "State layout"). In ledger.LayoutEveryVersion (values set) it is a second
// copy of each record, so DID resolution and the "is this DID taken" check
// of every did.create read it alone. In ledger.LayoutRecordsOnce, whose
// point is to store each record once, an entry holds no value: it says the
// DID exists (and since which height), so the check of a new DID (a miss,
// which LevelDB's bloom filter answers without reading a table) stays one
// lookup, and a DID that exists is read from the tree.
//
// Each entry is x/<key> -> 8-byte big-endian height the value was written
// at, then (values set) the value; x!height holds the height of the last
// block indexed.
// Commit writes a block's entries (one LevelDB batch) before the tree saves
// the version, so the index is never behind the tree. A reader at committed
// height h may use an entry written at a height <= h: no later write to
// that key happened up to h, so it is the value at h. A newer entry (the
// block being committed right now) sends the reader to the tree. Keys are
// never deleted, so a missing entry means the key did not exist up to the
// last indexed height.
//
// If the index was not written by this software up to the saved version
// (a state from before the index, or x!height further ahead than the one
// block CometBFT replays after a crash), Open rebuilds it from the tree.
type latestIndex struct {
	db *leveldb.DB
	// values is set when entries copy the record (LayoutEveryVersion). The
	// app sets it before the first block and after a restore, when the
	// index is rebuilt anyway.
	values atomic.Bool
	// note records a storage failure for App.CheckStore (nil: none).
	note func(error)
}

var (
	indexPrefix    = []byte("x/")
	indexHeightKey = []byte("x!height")
)

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
	if int64(binary.BigEndian.Uint64(e)) > h || !ix.values.Load() {
		// Written after h, or the index says only that the key exists:
		// the tree answers.
		return nil, false, nil
	}
	return e[8:], true, nil
}

// write records a block's writes to indexed keys at height h, and h as the
// last indexed height.
func (ix *latestIndex) write(h int64, writes []write) error {
	return ix.put(h, writes, true)
}

// put writes entries at height h in one batch, and h as the last indexed
// height if mark is set.
func (ix *latestIndex) put(h int64, writes []write, mark bool) error {
	var b leveldb.Batch
	values := ix.values.Load()
	for _, w := range writes {
		n := 8
		if values {
			n += len(w.value)
		}
		e := make([]byte, n)
		binary.BigEndian.PutUint64(e, uint64(h))
		if values {
			copy(e[8:], w.value)
		}
		b.Put(indexKey(w.key), e)
	}
	if mark {
		var m [8]byte
		binary.BigEndian.PutUint64(m[:], uint64(h))
		b.Put(indexHeightKey, m[:])
	}
	return ix.db.Write(&b, nil)
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

// open checks the index against the saved version and rebuilds it from
// that version of the tree when it cannot be trusted (see latestIndex).
func (ix *latestIndex) open(version int64, view *iavl.ImmutableTree) (rebuilt bool, err error) {
	h, err := ix.height()
	if err != nil {
		return false, fmt.Errorf("read the DID index: %w", err)
	}
	// Trusted: written up to the saved version, or one block beyond it
	// (Commit indexed the block, then the process stopped before the tree
	// saved it; CometBFT replays that same block).
	if (version == 0 && h == 0) || h == version || h == version+1 {
		return false, nil
	}
	return true, ix.rebuild(version, view)
}

// rebuild replaces the index with the indexed keys of view (the saved
// version), all recorded at that height.
func (ix *latestIndex) rebuild(version int64, view *iavl.ImmutableTree) error {
	it := ix.db.NewIterator(util.BytesPrefix(indexPrefix), nil)
	var del leveldb.Batch
	for it.Next() {
		del.Delete(append([]byte(nil), it.Key()...))
		if del.Len() >= 10_000 {
			if err := ix.db.Write(&del, nil); err != nil {
				it.Release()
				return fmt.Errorf("clear the DID index: %w", err)
			}
			del.Reset()
		}
	}
	it.Release()
	if err := it.Error(); err != nil {
		return fmt.Errorf("clear the DID index: %w", err)
	}
	del.Delete(indexHeightKey)
	if err := ix.db.Write(&del, nil); err != nil {
		return fmt.Errorf("clear the DID index: %w", err)
	}
	if version == 0 {
		return nil
	}
	var batch []write
	var werr error
	start := []byte(ledger.PrefixDID)
	end := append([]byte(ledger.PrefixDID[:len(ledger.PrefixDID)-1]), ledger.PrefixDID[len(ledger.PrefixDID)-1]+1)
	view.IterateRange(start, end, true, func(k, v []byte) bool {
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
	if err := ix.write(version, batch); err != nil {
		return fmt.Errorf("rebuild the DID index: %w", err)
	}
	return nil
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
