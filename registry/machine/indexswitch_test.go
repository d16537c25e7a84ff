package machine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/cosmos/iavl"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/ledger"
)

// treeLeaf is a DID leaf as the tree's API gives it.
type treeLeaf struct {
	key, value string
	version    int64
}

// TestLeafRangeAgreesWithTree: leafRange, which walks a saved version's
// nodes in the state database from its root (convertCopies uses it), gives
// for every kept version, every range and every limit exactly the DID
// leaves the tree's own iterator gives, in key order, each with the node
// key of its version. The chain has empty blocks (roots that refer to an
// older version's root) and pruning (which moves a referred root to nonce
// 0), and every node decodes as IAVL v1 writes it (decodeInner for inner
// nodes, which IAVL's own decoder accepts too).
func TestLeafRangeAgreesWithTree(t *testing.T) {
	h := newHarnessLayout(t, Config{KeepVersions: 4, SnapshotInterval: -1}, nil, ledger.LayoutRecordsOnce)
	var ids []*identity
	for i := range 12 {
		id := newIdentity(t, byte(30+i))
		ids = append(ids, id)
		h.mustBlock(h.createTx(id))
		if i%3 == 0 {
			h.block()
		}
	}
	h.mustBlock(h.updateTx(ids[4], []*key.PrivateKey{testKey(t, 90)}, []int{0}, "1", ids[4].keys[0], ids[4].kid(0)))
	for range 6 {
		h.block() // empty: roots that refer to the update's, which pruning then moves
	}
	// Every node decodes: leaves by decodeLeaf, the others by decodeInner,
	// and IAVL agrees.
	it := h.app.idx.db.NewIterator(util.BytesPrefix([]byte{'s'}), nil)
	inner := 0
	for it.Next() {
		k, raw := it.Key(), it.Value()
		if len(k) != nodeKeyLen || raw[0] == 's' || len(raw) == 0 {
			continue // not a node, or a root reference
		}
		if _, err := iavl.MakeNode(k[1:], raw); err != nil {
			t.Fatalf("IAVL does not decode node %x: %v", k, err)
		}
		_, _, leaf := decodeLeaf(raw)
		_, left, right, ok := decodeInner(raw)
		if leaf == ok {
			t.Errorf("node %x: a leaf %v, an inner node %v", k, leaf, ok)
		}
		if ok {
			inner++
			if len(left) != 12 || len(right) != 12 {
				t.Errorf("node %x: children %x, %x", k, left, right)
			}
		}
	}
	it.Release()
	if inner == 0 {
		t.Fatal("no inner node decoded")
	}

	last := h.height()
	// The kept versions after the update refer to its root, which pruning
	// moved to nonce 0.
	moved := 0
	for v := last - 3; v <= last; v++ {
		nk := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, uint64(v)), 1)
		raw, err := h.app.idx.db.Get(leafNodeKey(nk), nil)
		if err != nil {
			t.Fatal(err)
		}
		if raw[0] == 's' {
			if ok, _ := h.app.idx.db.Has(raw, nil); !ok {
				moved++
			}
		}
	}
	if moved == 0 {
		t.Fatal("no kept version refers to a root pruning moved: the chain does not test that")
	}
	checked := 0
	for v := last - 3; v <= last; v++ {
		view, err := h.app.reader.GetImmutable(v)
		if err != nil {
			t.Fatal(err)
		}
		var want []treeLeaf
		view.IterateRangeInclusive(didStart, didEnd, true, func(k, val []byte, version int64) bool {
			if indexed(k) {
				want = append(want, treeLeaf{string(k), string(val), version})
			}
			return false
		})
		if len(want) != len(ids) {
			t.Fatalf("version %d holds %d DIDs, want %d", v, len(want), len(ids))
		}
		bounds := [][]byte{nil}
		for _, l := range want {
			bounds = append(bounds, []byte(l.key))
		}
		bounds = append(bounds, []byte("did/"), []byte("did/zzz"))
		for _, after := range bounds {
			for _, through := range bounds {
				for _, max := range []int{1, 3, len(want) + 1} {
					var got []treeLeaf
					more, err := h.app.idx.leafRange(v, after, through, max, func(nk, k, val []byte) {
						got = append(got, treeLeaf{string(k), string(val), int64(binary.BigEndian.Uint64(nk))})
						if raw, err := h.app.idx.db.Get(leafNodeKey(nk), nil); err != nil {
							t.Errorf("node %x: %v", nk, err)
						} else if lk, lv, ok := decodeLeaf(raw); !ok || !bytes.Equal(lk, k) || !bytes.Equal(lv, val) {
							t.Errorf("node %x does not hold %s", nk, k)
						}
					})
					if err != nil {
						t.Fatal(err)
					}
					var inRange []treeLeaf
					for _, l := range want {
						if (after == nil || l.key > string(after)) && (through == nil || l.key <= string(through)) {
							inRange = append(inRange, l)
						}
					}
					exp := inRange
					if len(exp) > max {
						exp = exp[:max]
					}
					name := fmt.Sprintf("version %d, after %q, through %q, max %d", v, after, through, max)
					if fmt.Sprint(got) != fmt.Sprint(exp) {
						t.Fatalf("%s: leafRange gives %v, want %v", name, got, exp)
					}
					if more != (len(inRange) > max) {
						t.Errorf("%s: more %v with %d leaves in range", name, more, len(inRange))
					}
					checked++
				}
			}
		}
	}
	t.Logf("%d ranges checked; versions %v kept", checked, h.app.tree.AvailableVersions())
}

// FuzzDecodeInner: decodeInner never panics, and what it accepts (height,
// size, key, children) encodes, as IAVL writes an inner node, to bytes it
// decodes to the same.
func FuzzDecodeInner(f *testing.F) {
	node := func(height, size int64, key []byte, mode, lv, ln, rv, rn int64) []byte {
		b := binary.AppendVarint(nil, height)
		b = binary.AppendVarint(b, size)
		b = binary.AppendUvarint(b, uint64(len(key)))
		b = append(b, key...)
		b = append(b, 32)
		b = append(b, bytes.Repeat([]byte{7}, 32)...)
		for _, x := range []int64{mode, lv, ln, rv, rn} {
			b = binary.AppendVarint(b, x)
		}
		return b
	}
	f.Add(node(1, 2, []byte("did/x"), 0, 5, 2, 5, 3))
	f.Add(node(3, 9, nil, 0, 1, 1, 2, 1))
	f.Add(node(1, 2, []byte("k"), 1, 5, 2, 5, 3))
	f.Add(node(1, 2, []byte("k"), 0, 5, 1<<33, 5, 3))
	f.Add([]byte{0, 2, 1, 'k', 1, 'v'})
	f.Fuzz(func(t *testing.T, raw []byte) {
		k, left, right, ok := decodeInner(raw)
		if !ok {
			return
		}
		if len(left) != 12 || len(right) != 12 {
			t.Fatalf("decodeInner(%x): children %x, %x", raw, left, right)
		}
		h, n := binary.Varint(raw)
		size, _ := binary.Varint(raw[n:])
		enc := node(h, size, k, 0,
			int64(binary.BigEndian.Uint64(left)), int64(binary.BigEndian.Uint32(left[8:])),
			int64(binary.BigEndian.Uint64(right)), int64(binary.BigEndian.Uint32(right[8:])))
		k2, l2, r2, ok := decodeInner(enc)
		if !ok || !bytes.Equal(k2, k) || !bytes.Equal(l2, left) || !bytes.Equal(r2, right) {
			t.Errorf("decodeInner(%x) = %x %x %x, which encodes to %x, decoded as %x %x %x (%v)", raw, k, left, right, enc, k2, l2, r2, ok)
		}
	})
}
