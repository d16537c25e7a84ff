package machine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// indexAgrees checks that reading every DID of ids through the latest
// index gives what the committed tree holds, and that an unknown DID is
// absent through both.
func indexAgrees(t *testing.T, h *harness, ids []*identity) {
	t.Helper()
	r, _ := h.app.committedState()
	view, _ := h.app.view()
	hits, misses := h.app.idx.leafHits.Load(), h.app.idx.leafMisses.Load()
	for _, id := range ids {
		got, err := r.Get(ledger.DIDKey(id.did))
		if err != nil {
			t.Fatal(err)
		}
		want, err := view.Get(ledger.DIDKey(id.did))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) || want == nil {
			t.Errorf("%s through the index:\n%s\ntree:\n%s", id.did, got, want)
		}
		// Layout 1's entries copy the record; layout 2's point at the
		// record's leaf in the tree (the record is stored once), and the
		// read went through the pointer, not the tree.
		e, err := h.app.idx.db.Get(indexKey(ledger.DIDKey(id.did)), nil)
		if err != nil {
			t.Fatalf("index entry of %s: %v", id.did, err)
		}
		wantLen := entryLeaf
		if h.app.layout == ledger.LayoutEveryVersion {
			wantLen = 8 + len(want)
		}
		if len(e) != wantLen {
			t.Errorf("layout %d: index entry of %s is %d bytes, want %d", h.app.layout, id.did, len(e), wantLen)
		}
	}
	if h.app.layout != ledger.LayoutEveryVersion {
		if m := h.app.idx.leafMisses.Load() - misses; m != 0 {
			t.Errorf("%d reads could not use their leaf pointer", m)
		}
		if n := h.app.idx.leafHits.Load() - hits; n != int64(len(ids)) {
			t.Errorf("%d of %d reads went through a leaf pointer", n, len(ids))
		}
	}
	if v, err := r.Get(ledger.DIDKey("did:medid:unknown")); err != nil || v != nil {
		t.Errorf("unknown DID through the index = %q, %v; want nothing", v, err)
	}
}

// TestIndexFollowsWrites: creates, updates and a deactivation in several
// blocks, with a rejected transaction in between; the index always agrees
// with the tree.
func TestIndexFollowsWrites(t *testing.T) { forLayouts(t, testIndexFollowsWrites) }

func testIndexFollowsWrites(t *testing.T, l ledger.StateLayout) {
	h := newHarnessLayout(t, Config{}, nil, l)
	var ids []*identity
	for b := byte(1); b <= 5; b++ {
		ids = append(ids, h.register(b))
		indexAgrees(t, h, ids)
	}
	h.mustBlock(h.updateTx(ids[0], []*key.PrivateKey{testKey(t, 50)}, []int{0}, "1", ids[0].keys[0], ids[0].kid(0)))
	indexAgrees(t, h, ids)
	// A stale update is rejected: nothing is indexed for it.
	h.block(h.updateTx(ids[1], ids[1].keys, []int{0}, "7", ids[1].keys[0], ids[1].kid(0)))
	indexAgrees(t, h, ids)
	h.mustBlock(h.sign(h.must(tx.NewDIDDeactivate(ids[2].did, "1")), ids[2].keys[0], ids[2].kid(0)))
	indexAgrees(t, h, ids)
	if _, err := h.app.ResolveDID(ids[2].did, ledger.ResolveOptions{}); !errors.Is(err, ledger.ErrDeactivated) {
		t.Errorf("deactivated DID: err = %v", err)
	}
}

// TestIndexOlderReader: a reader still at height h while the next block's
// entries are in the index (Commit writes the index before the tree saves)
// gets the value at h from the tree, not the newer one.
func TestIndexOlderReader(t *testing.T) { forLayouts(t, testIndexOlderReader) }

func testIndexOlderReader(t *testing.T, l ledger.StateLayout) {
	h := newHarnessLayout(t, Config{}, nil, l)
	id := h.register(1)
	old, height := h.app.committedState()
	before, err := old.Get(ledger.DIDKey(id.did))
	if err != nil || before == nil {
		t.Fatal(err)
	}
	h.mustBlock(h.updateTx(id, []*key.PrivateKey{testKey(t, 51)}, []int{0}, "1", id.keys[0], id.kid(0)))
	// old still reads height `height`; its tree is that version.
	got, err := old.Get(ledger.DIDKey(id.did))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, before) {
		t.Errorf("reader at height %d saw the update of height %d", height, height+1)
	}
	now, _ := h.app.committedState()
	if got, _ := now.Get(ledger.DIDKey(id.did)); bytes.Equal(got, before) {
		t.Error("reader at the new height got the old record")
	}
}

// TestIndexRebuild: an index that cannot be trusted at open (missing, as in
// a state written before the index; or more than one block ahead of the
// tree) is rebuilt from the tree; one block ahead (a stop between indexing
// and saving) is kept and the replayed block rewrites it.
func TestIndexRebuild(t *testing.T) { forLayouts(t, testIndexRebuild) }

func testIndexRebuild(t *testing.T, l ledger.StateLayout) {
	h := newHarnessLayout(t, Config{}, nil, l)
	ids := []*identity{h.register(1), h.register(2)}
	ix := h.app.idx
	setMark := func(v int64, del bool) {
		t.Helper()
		var err error
		if del {
			err = ix.db.Delete(indexHeightKey, nil)
		} else {
			var m [8]byte
			binary.BigEndian.PutUint64(m[:], uint64(v))
			err = ix.db.Put(indexHeightKey, m[:], nil)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	reopen := func() {
		t.Helper()
		if err := h.app.Close(); err != nil {
			t.Fatal(err)
		}
		h.open()
		ix = h.app.idx
	}

	// Missing: a stale entry left in it must not survive the rebuild.
	if err := ix.db.Put(indexKey(ledger.DIDKey(ids[0].did)), append(make([]byte, 8), `{"stale":true}`...), nil); err != nil {
		t.Fatal(err)
	}
	setMark(0, true)
	reopen()
	indexAgrees(t, h, ids)
	if m, _ := ix.height(); m != h.height() {
		t.Errorf("index height after rebuild = %d, want %d", m, h.height())
	}

	// Far ahead (not something CometBFT replays): rebuilt.
	setMark(h.height()+5, false)
	reopen()
	indexAgrees(t, h, ids)

	// One block indexed but not saved: kept, and the block replays.
	other := newIdentity(t, 3)
	raw := h.createTx(other)
	h.finalize(raw)
	if err := ix.write(h.height()+1, h.app.pendingIdx); err != nil {
		t.Fatal(err)
	}
	reopen()
	if _, err := h.app.ResolveDID(other.did, ledger.ResolveOptions{}); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("DID of the unsaved block: err = %v, want ledger.ErrNotFound until it replays", err)
	}
	h.mustBlock(raw)
	indexAgrees(t, h, append(ids, other))
}

// forLayouts runs test in each state layout.
func forLayouts(t *testing.T, test func(*testing.T, ledger.StateLayout)) {
	for _, l := range []ledger.StateLayout{ledger.LayoutRecordsOnce, ledger.LayoutEveryVersion} {
		t.Run(fmt.Sprintf("layout %d", l), func(t *testing.T) { test(t, l) })
	}
}
