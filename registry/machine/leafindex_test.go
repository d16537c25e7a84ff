package machine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/cosmos/iavl"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// indexMatchesTree reads every DID of a's committed state through the
// latest index and from the tree: they must agree, and in layout 2 every
// read must have gone through a leaf pointer (none fell back to the tree).
// It returns how many DIDs it read.
func indexMatchesTree(t *testing.T, a *App) int {
	t.Helper()
	r, _ := a.committedState()
	view, _ := a.view()
	hits, misses := a.idx.leafHits.Load(), a.idx.leafMisses.Load()
	n := 0
	view.IterateRange(didStart, didEnd, true, func(k, want []byte) bool {
		n++
		got, err := r.Get(k)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s through the index: %q, %v; the tree holds %q", k, got, err, want)
		}
		return false
	})
	if a.layout == ledger.LayoutRecordsOnce {
		if m := a.idx.leafMisses.Load() - misses; m != 0 {
			t.Errorf("%d of %d reads could not use their leaf pointer", m, n)
		}
		if got := a.idx.leafHits.Load() - hits; got != int64(n) {
			t.Errorf("%d of %d reads went through a leaf pointer", got, n)
		}
	}
	return n
}

// TestLeafIndexCrashAfterSave: the process stops after the tree saved a
// block's version and before the index recorded it (layout 2 writes the
// index after SaveVersion). The block updated a DID whose previous leaf is
// still in the database, so the old entry would point at a valid, wrong
// record: the restart must repair the index before anything is read, and
// then serve the new record through the new leaf.
func TestLeafIndexCrashAfterSave(t *testing.T) {
	h := newHarnessLayout(t, Config{}, nil, ledger.LayoutRecordsOnce)
	ids := []*identity{h.register(1), h.register(2)}
	before, err := h.app.ResolveDID(ids[0].did, ledger.ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oldEntry, err := h.app.idx.db.Get(indexKey(ledger.DIDKey(ids[0].did)), nil)
	if err != nil {
		t.Fatal(err)
	}
	fresh := newIdentity(t, 3)
	h.finalize(h.updateTx(ids[0], []*key.PrivateKey{testKey(t, 52)}, []int{0}, "1", ids[0].keys[0], ids[0].kid(0)), h.createTx(fresh))
	// Commit, stopped between the tree and the index.
	if _, _, err := h.app.tree.SaveVersion(); err != nil {
		t.Fatal(err)
	}
	saved := h.app.tree.Version()
	if m, _ := h.app.idx.height(); m != saved-1 {
		t.Fatalf("index height %d, want %d (one behind)", m, saved-1)
	}
	// The old entry's leaf is still there: without the repair it would be
	// served.
	if _, err := h.app.idx.db.Get(leafNodeKey(oldEntry[:12]), nil); err != nil {
		t.Fatalf("the superseded leaf is gone already (%v): the test no longer covers the window", err)
	}
	if err := h.app.Close(); err != nil {
		t.Fatal(err)
	}
	h.open()
	if h.height() != saved {
		t.Fatalf("reopened at %d, want %d", h.height(), saved)
	}
	if m, _ := h.app.idx.height(); m != saved {
		t.Errorf("index height after the repair %d, want %d", m, saved)
	}
	after, err := h.app.ResolveDID(ids[0].did, ledger.ResolveOptions{})
	if err != nil || after.Metadata.VersionID != "2" || after.Metadata.VersionID == before.Metadata.VersionID {
		t.Fatalf("updated DID after the repair: %+v, %v; want versionId 2", after, err)
	}
	if _, err := h.app.ResolveDID(fresh.did, ledger.ResolveOptions{}); err != nil {
		t.Errorf("DID created in the repaired block: %v", err)
	}
	if n := indexMatchesTree(t, h.app); n != 3 {
		t.Errorf("%d DIDs in the state, want 3", n)
	}
	// And the chain goes on.
	h.mustBlock(h.createTx(newIdentity(t, 4)))
	indexMatchesTree(t, h.app)
}

// TestLeafIndexStopWindows: every other place a stop can leave the index
// of layout 2, and what the next start does with it.
func TestLeafIndexStopWindows(t *testing.T) {
	for _, tc := range []struct {
		name string
		// damage changes the index of a state at its saved height.
		damage func(t *testing.T, h *harness)
		want   string // what open reports
	}{
		{"untouched", func(*testing.T, *harness) {}, ""},
		{"no height record (an index never written)", func(t *testing.T, h *harness) {
			mustDB(t, h.app.idx.db.Delete(indexHeightKey, nil))
		}, "rebuilt"},
		{"two blocks behind", func(t *testing.T, h *harness) { setIndexHeight(t, h, h.height()-2) }, "rebuilt"},
		{"ahead of the tree", func(t *testing.T, h *harness) { setIndexHeight(t, h, h.height()+1) }, "rebuilt"},
		{"entries of the software of before (height only, no format)", func(t *testing.T, h *harness) {
			mustDB(t, h.app.idx.db.Delete(indexFormatKey, nil))
			it := h.app.idx.db.NewIterator(util.BytesPrefix(indexPrefix), nil)
			defer it.Release()
			for it.Next() {
				mustDB(t, h.app.idx.db.Put(append([]byte(nil), it.Key()...), append([]byte(nil), it.Value()[:8]...), nil))
			}
		}, "rebuilt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessLayout(t, Config{}, nil, ledger.LayoutRecordsOnce)
			id := h.register(1)
			h.register(2)
			h.mustBlock(h.updateTx(id, []*key.PrivateKey{testKey(t, 53)}, []int{0}, "1", id.keys[0], id.kid(0)))
			tc.damage(t, h)
			if err := h.app.Close(); err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			a, err := New(Config{Dir: h.dir, Logger: slog.New(slog.NewTextHandler(&log, nil))})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			h.app = a
			if did := "the DID index"; tc.want != "" && !strings.Contains(log.String(), tc.want+" "+did) ||
				tc.want == "" && strings.Contains(log.String(), did) {
				t.Errorf("open logged %q; want %q", log.String(), tc.want)
			}
			if m, _ := h.app.idx.height(); m != h.height() {
				t.Errorf("index height %d, want %d", m, h.height())
			}
			indexMatchesTree(t, h.app)
			rec, err := h.app.ResolveDID(id.did, ledger.ResolveOptions{})
			if err != nil || rec.Metadata.VersionID != "2" {
				t.Errorf("updated DID: %+v, %v", rec, err)
			}
		})
	}
}

// TestLeafIndexOpenReports: what latestIndex.open does for each state of
// the index (kept, repaired, rebuilt).
func TestLeafIndexOpenReports(t *testing.T) {
	h := newHarnessLayout(t, Config{}, nil, ledger.LayoutRecordsOnce)
	h.register(1)
	h.register(2)
	ix := h.app.idx
	view, v := h.app.view()
	for _, tc := range []struct {
		name string
		mark int64
		want string
	}{
		{"at the saved version", v, ""},
		{"one behind", v - 1, "repaired"},
		{"two behind", v - 2, "rebuilt"},
		{"one ahead", v + 1, "rebuilt"},
	} {
		setIndexHeight(t, h, tc.mark)
		got, err := ix.open(v, view, false)
		if err != nil || got != tc.want {
			t.Errorf("%s: open = %q, %v; want %q", tc.name, got, err, tc.want)
		}
		indexMatchesTree(t, h.app)
	}
}

// TestLeafIndexBadPointers: an entry whose leaf is gone, is another key's,
// or holds another value than the entry's checksum is not used: the tree
// answers, and the right record comes back.
func TestLeafIndexBadPointers(t *testing.T) {
	h := newHarnessLayout(t, Config{}, nil, ledger.LayoutRecordsOnce)
	a, b := h.register(1), h.register(2)
	ka, kb := ledger.DIDKey(a.did), ledger.DIDKey(b.did)
	ea, err := h.app.idx.db.Get(indexKey(ka), nil)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := h.app.idx.db.Get(indexKey(kb), nil)
	if err != nil {
		t.Fatal(err)
	}
	missing := append([]byte(nil), ea...)
	binary.BigEndian.PutUint32(missing[8:], 9999)
	badSum := append([]byte(nil), ea...)
	badSum[15] ^= 1
	for _, tc := range []struct {
		name  string
		entry []byte
	}{
		{"leaf gone", missing},
		{"another DID's leaf", append(append([]byte(nil), eb[:12]...), ea[12:]...)},
		{"another DID's leaf and checksum", eb},
		{"checksum of another value", badSum},
		{"height only", ea[:8]},
		{"odd length", append(append([]byte(nil), ea...), 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustDB(t, h.app.idx.db.Put(indexKey(ka), tc.entry, nil))
			r, _ := h.app.committedState()
			view, _ := h.app.view()
			want, _ := view.Get(ka)
			got, err := r.Get(ka)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("read through %x: %q, %v; want %q", tc.entry, got, err, want)
			}
		})
	}
	mustDB(t, h.app.idx.db.Put(indexKey(ka), ea, nil))
	indexMatchesTree(t, h.app)
}

// TestLeafIndexWrittenKeyWithoutLeaf: a key the block wrote whose leaf the
// scan of the saved version does not find with the written value gets a
// height-only entry, so its reads go to the tree instead of to the leaf of
// an older version.
func TestLeafIndexWrittenKeyWithoutLeaf(t *testing.T) {
	h := newHarnessLayout(t, Config{}, nil, ledger.LayoutRecordsOnce)
	a := h.register(1)
	k := ledger.DIDKey(a.did)
	// As if the block of height h.height() had written another value:
	// no leaf of that version holds it.
	if err := h.app.idx.writeLeaves(h.height(), []write{{key: k, value: []byte(`{"other":1}`)}}, false); err != nil {
		t.Fatal(err)
	}
	e, err := h.app.idx.db.Get(indexKey(k), nil)
	if err != nil || len(e) != entryHeightOnly || int64(binary.BigEndian.Uint64(e)) != h.height() {
		t.Fatalf("entry %x, %v; want the height %d only", e, err, h.height())
	}
	r, _ := h.app.committedState()
	view, _ := h.app.view()
	want, _ := view.Get(k)
	if got, err := r.Get(k); err != nil || !bytes.Equal(got, want) {
		t.Errorf("read: %q, %v; want %q", got, err, want)
	}
}

// TestLeafIndexPruning: with few versions kept, DIDs updated again and
// again have their old leaves pruned from the database; every current
// record still reads through its pointer, a restart keeps the index, and a
// rebuild over the pruned database finds the live leaves.
func TestLeafIndexPruning(t *testing.T) {
	h := newHarnessLayout(t, Config{KeepVersions: 2, SnapshotInterval: -1}, nil, ledger.LayoutRecordsOnce)
	var ids []*identity
	for b := byte(1); b <= 6; b++ {
		ids = append(ids, h.register(b))
	}
	first, _ := h.app.idx.db.Get(indexKey(ledger.DIDKey(ids[0].did)), nil)
	signer := ids[0].keys[0]
	for i := range 4 {
		next := testKey(t, byte(60+i))
		h.mustBlock(h.updateTx(ids[0], []*key.PrivateKey{next}, []int{0}, strconv.Itoa(i+1), signer, ids[0].kid(0)))
		ids[0].keys = []*key.PrivateKey{next}
		signer = next
	}
	h.mustBlock(h.sign(h.must(tx.NewDIDDeactivate(ids[1].did, "1")), ids[1].keys[0], ids[1].kid(0)))
	for range 4 {
		h.block()
	}
	if _, err := h.app.idx.db.Get(leafNodeKey(first[:12]), nil); err == nil {
		t.Fatal("the first leaf of the updated DID was not pruned: the test no longer covers pruning")
	}
	indexMatchesTree(t, h.app)
	if rec, err := h.app.ResolveDID(ids[0].did, ledger.ResolveOptions{}); err != nil || rec.Metadata.VersionID != "5" {
		t.Errorf("updated DID: %+v, %v; want versionId 5", rec, err)
	}
	if _, err := h.app.ResolveDID(ids[1].did, ledger.ResolveOptions{}); !errors.Is(err, ledger.ErrDeactivated) {
		t.Errorf("deactivated DID: %v", err)
	}
	view, v := h.app.view()
	mustDB(t, h.app.idx.rebuild(v, view))
	indexMatchesTree(t, h.app)
	h.app.Close()
	h.open()
	indexMatchesTree(t, h.app)
}

// TestLeafIndexRebuildPicksLiveLeaves: a rebuild over a database that
// still holds superseded leaves (every version kept) points each DID at its
// current leaf, and drops entries of keys the state does not hold.
func TestLeafIndexRebuildPicksLiveLeaves(t *testing.T) {
	h := newHarnessLayout(t, Config{KeepVersions: -1, SnapshotInterval: -1}, nil, ledger.LayoutRecordsOnce)
	a, b := h.register(1), h.register(2)
	h.mustBlock(h.updateTx(a, []*key.PrivateKey{testKey(t, 54)}, []int{0}, "1", a.keys[0], a.kid(0)))
	h.mustBlock(h.sign(h.must(tx.NewDIDDeactivate(b.did, "1")), b.keys[0], b.kid(0)))
	ghost := indexKey([]byte("did/did:medid:ghost"))
	mustDB(t, h.app.idx.db.Put(ghost, heightEntry(1), nil))
	view, v := h.app.view()
	mustDB(t, h.app.idx.rebuild(v, view))
	if _, err := h.app.idx.db.Get(ghost, nil); err == nil {
		t.Error("the entry of a key the state does not hold survived the rebuild")
	}
	if n := indexMatchesTree(t, h.app); n != 2 {
		t.Errorf("%d DIDs, want 2", n)
	}
	// The rebuild against an older version (as after a stop, with newer
	// nodes in the database) points at that version's leaves.
	old, err := h.app.reader.GetImmutable(v - 2)
	if err != nil {
		t.Fatal(err)
	}
	mustDB(t, h.app.idx.rebuild(v-2, old))
	r := committedReader{tree: old, height: v - 2, ix: h.app.idx}
	old.IterateRange(didStart, didEnd, true, func(k, want []byte) bool {
		if got, err := r.Get(k); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s at version %d: %q, %v; want %q", k, v-2, got, err, want)
		}
		return false
	})
}

// TestDecodeLeafAgreesWithIAVL decodes every node IAVL wrote for a small
// chain: each leaf decodes to the key and value the tree holds at its
// version, IAVL's own decoder accepts it, and no inner node decodes as a
// leaf.
func TestDecodeLeafAgreesWithIAVL(t *testing.T) {
	h := newHarnessLayout(t, Config{KeepVersions: -1, SnapshotInterval: -1}, nil, ledger.LayoutRecordsOnce)
	a := h.register(1)
	h.register(2)
	h.mustBlock(h.updateTx(a, []*key.PrivateKey{testKey(t, 55)}, []int{0}, "1", a.keys[0], a.kid(0)))
	it := h.app.idx.db.NewIterator(util.BytesPrefix([]byte{'s'}), nil)
	defer it.Release()
	leaves, inner := 0, 0
	for it.Next() {
		k, raw := it.Key(), it.Value()
		if len(k) != nodeKeyLen {
			continue
		}
		if _, err := iavl.MakeNode(k[1:], raw); err != nil {
			t.Fatalf("IAVL does not decode node %x: %v", k, err)
		}
		key, value, ok := decodeLeaf(raw)
		if !ok {
			inner++
			if raw[0] == 0 {
				t.Errorf("node %x has height 0 but does not decode as a leaf: %x", k, raw)
			}
			continue
		}
		leaves++
		version := int64(binary.BigEndian.Uint64(k[1:]))
		want, err := h.app.tree.GetVersioned(key, version)
		if err != nil || !bytes.Equal(want, value) {
			t.Errorf("leaf %x decodes to %q = %q; the tree at %d holds %q (%v)", k, key, value, version, want, err)
		}
	}
	if leaves == 0 || inner == 0 {
		t.Errorf("%d leaves, %d inner nodes: nothing compared", leaves, inner)
	}
}

// FuzzDecodeLeaf: decodeLeaf never panics, and what it accepts re-encodes
// to the same bytes (one encoding per leaf).
func FuzzDecodeLeaf(f *testing.F) {
	f.Add([]byte{0, 2, 4, 'd', 'i', 'd', '/', 1, 'x'})
	f.Add([]byte{0, 2, 0, 0})
	f.Add([]byte{2, 4, 1, 'k'})
	f.Add([]byte{0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, raw []byte) {
		k, v, ok := decodeLeaf(raw)
		if !ok {
			return
		}
		enc := []byte{0, 2}
		enc = binary.AppendUvarint(enc, uint64(len(k)))
		enc = append(enc, k...)
		enc = binary.AppendUvarint(enc, uint64(len(v)))
		enc = append(enc, v...)
		if !bytes.Equal(enc, raw) {
			t.Errorf("decodeLeaf(%x) = %x, %x, which encodes to %x", raw, k, v, enc)
		}
		_ = crc32.Checksum(v, castagnoli)
	})
}

func setIndexHeight(t *testing.T, h *harness, v int64) {
	t.Helper()
	var m [8]byte
	binary.BigEndian.PutUint64(m[:], uint64(v))
	mustDB(t, h.app.idx.db.Put(indexHeightKey, m[:], nil))
}

func mustDB(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLeafIndexCache: in layout 2 a DID read once through its leaf pointer
// is then read from the leaf cache (the leaf is not read from LevelDB
// again), and a cached leaf is checked as one read from LevelDB: a wrong
// leaf under the pointer's node key (another key's, as a hash collision
// or a restore that reused node keys would leave; a stale record; damaged
// bytes) sends the reader to the tree and is dropped from the cache. After
// a DID's record changes its reads get the new record. A rebuild of the
// index empties the cache; layout 1 never fills it.
func TestLeafIndexCache(t *testing.T) {
	h := newHarnessLayout(t, Config{}, nil, ledger.LayoutRecordsOnce)
	a, b := h.register(1), h.register(2)
	h.register(3)
	n := indexMatchesTree(t, h.app)
	if got := h.app.idx.leaves.len(); got != n {
		t.Fatalf("after reading %d DIDs: %d leaves cached", n, got)
	}
	// Remove a's leaf from LevelDB: the read is answered from the cache.
	ka, kb := ledger.DIDKey(a.did), ledger.DIDKey(b.did)
	ea, err := h.app.idx.db.Get(indexKey(ka), nil)
	if err != nil {
		t.Fatal(err)
	}
	leafA, err := h.app.idx.db.Get(leafNodeKey(ea[:12]), nil)
	if err != nil {
		t.Fatal(err)
	}
	mustDB(t, h.app.idx.db.Delete(leafNodeKey(ea[:12]), nil))
	r, _ := h.app.committedState()
	view, _ := h.app.view()
	want, _ := view.Get(ka)
	hits := h.app.idx.leafHits.Load()
	if got, err := r.Get(ka); err != nil || !bytes.Equal(got, want) || h.app.idx.leafHits.Load() != hits+1 {
		t.Errorf("read of a cached leaf gone from LevelDB: %q, %v (leaf hits +%d); want %q through the pointer",
			got, err, h.app.idx.leafHits.Load()-hits, want)
	}
	mustDB(t, h.app.idx.db.Put(leafNodeKey(ea[:12]), leafA, nil))

	// Wrong leaves planted under a's node key, as a cache that served the
	// wrong key's entry (a hash collision) or a stale or damaged one would
	// hold: each is refused, the tree answers, the entry is dropped, and
	// the next read caches a's leaf from LevelDB again.
	eb, err := h.app.idx.db.Get(indexKey(kb), nil)
	if err != nil {
		t.Fatal(err)
	}
	leafB, err := h.app.idx.db.Get(leafNodeKey(eb[:12]), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, valueA, ok := decodeLeaf(leafA)
	if !ok {
		t.Fatal("a's leaf does not decode")
	}
	flipped := append([]byte(nil), leafA...)
	flipped[len(flipped)-2] ^= 0x20
	for _, tc := range []struct {
		name string
		leaf []byte
	}{
		{"another DID's leaf", leafB},
		{"a's key with another value (a stale record)", testLeafBytes(ka, append(append([]byte(nil), valueA...), ' '))},
		{"a byte of the value flipped", flipped},
		{"truncated", leafA[:len(leafA)-1]},
		{"trailing byte", append(append([]byte(nil), leafA...), 0)},
		{"not a leaf", append([]byte{2, 4}, leafA[2:]...)},
		{"empty", []byte{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.app.idx.leaves.put(ea[:12], tc.leaf)
			if got, ok := h.app.idx.leaves.get(nil, ea[:12]); !ok || !bytes.Equal(got, tc.leaf) {
				t.Fatalf("planting: got %x, %v", got, ok)
			}
			misses := h.app.idx.leafMisses.Load()
			if got, err := r.Get(ka); err != nil || !bytes.Equal(got, want) || h.app.idx.leafMisses.Load() != misses+1 {
				t.Errorf("read with %s cached under the pointer: %q, %v (misses +%d); want %q from the tree",
					tc.name, got, err, h.app.idx.leafMisses.Load()-misses, want)
			}
			if got, ok := h.app.idx.leaves.get(nil, ea[:12]); ok {
				t.Errorf("the refused entry is still cached: %x", got)
			}
			hits := h.app.idx.leafHits.Load()
			if got, err := r.Get(ka); err != nil || !bytes.Equal(got, want) || h.app.idx.leafHits.Load() != hits+1 {
				t.Errorf("read after the refusal: %q, %v; want %q through the pointer", got, err, want)
			}
			if got, ok := h.app.idx.leaves.get(nil, ea[:12]); !ok || !bytes.Equal(got, leafA) {
				t.Errorf("after the refusal the cache holds %x, %v; want a's leaf", got, ok)
			}
		})
	}

	// a's record changes: the index points at the new leaf, and the old
	// leaf, still cached under its own node key, is never served for it.
	h.mustBlock(h.updateTx(a, []*key.PrivateKey{testKey(t, 54)}, []int{0}, "1", a.keys[0], a.kid(0)))
	if _, ok := h.app.idx.leaves.get(nil, ea[:12]); !ok {
		t.Fatal("a's old leaf is not cached: the test no longer covers a stale entry")
	}
	r, _ = h.app.committedState()
	view, _ = h.app.view()
	want, _ = view.Get(ka)
	if bytes.Equal(want, valueA) {
		t.Fatal("the update did not change a's record")
	}
	for i := range 2 { // from LevelDB, then from the cache
		if got, err := r.Get(ka); err != nil || !bytes.Equal(got, want) {
			t.Errorf("read %d after a's update: %q, %v; want %q", i, got, err, want)
		}
	}
	ea2, err := h.app.idx.db.Get(indexKey(ka), nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(ea2[:12], ea[:12]) {
		t.Fatal("a's entry still points at the old leaf")
	}
	// And the old leaf planted under the new node key is refused.
	h.app.idx.leaves.put(ea2[:12], leafA)
	if got, err := r.Get(ka); err != nil || !bytes.Equal(got, want) {
		t.Errorf("read with a's old leaf under the new node key: %q, %v; want %q", got, err, want)
	}

	view, v := h.app.view()
	mustDB(t, h.app.idx.rebuild(v, view))
	if got := h.app.idx.leaves.len(); got != 0 {
		t.Errorf("after a rebuild: %d leaves cached", got)
	}
	indexMatchesTree(t, h.app)

	one := newHarnessLayout(t, Config{}, nil, ledger.LayoutEveryVersion)
	one.register(1)
	indexMatchesTree(t, one.app)
	if got := one.app.idx.leaves.len(); got != 0 {
		t.Errorf("layout 1: %d leaves cached", got)
	}
}

// testLeafBytes encodes a leaf as IAVL v1's node database stores it (see
// decodeLeaf).
func testLeafBytes(k, v []byte) []byte {
	b := []byte{0, 2}
	b = binary.AppendUvarint(b, uint64(len(k)))
	b = append(b, k...)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}
