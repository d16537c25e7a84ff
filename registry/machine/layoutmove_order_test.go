package machine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/ledger"
)

// orderChain is a layout 1 chain that moves to layout 2 (mv) beside the
// same blocks in a chain in layout 2 from its genesis (ref), built so that
// the node database holds several leaves of the same DID keys when the
// latest index switches: every DID is updated twice within the versions
// kept before the move, and again between the move's batches. Any pass
// over the node database that takes an older leaf of a key for its
// current one (the index switch's order, a rebuild's) shows here as a
// wrong read or an entry that is not the current leaf.
type orderChain struct {
	mv, ref *harness
	ids     []*identity
	// version is each DID's current version (by DID).
	version map[string]int
	// H is the move's first block; pre the folder of mv copied at H-1.
	H   int64
	pre string
	// blocks are the transactions of blocks H, H+1, ... up to three blocks
	// after the block that ended the move (the same bytes in both chains).
	blocks [][][]byte
	// reads are ref's answers at each height from H-1 on.
	reads map[int64][]orderRead
}

// orderRead is one read of a DID and its answer.
type orderRead struct {
	did  string
	opts ledger.ResolveOptions
	want string
}

// orderReads reads every DID of a: current, and every versionId up to one
// past the current one.
func orderReads(t *testing.T, a *App) []orderRead {
	t.Helper()
	var out []orderRead
	for d, m := range didVersions(t, a) {
		for n := int64(0); n <= m+1; n++ {
			o := ledger.ResolveOptions{}
			if n > 0 {
				o.VersionID = strconv.FormatInt(n, 10)
			}
			out = append(out, orderRead{d, o, resolved(a.ResolveDID(d, o))})
		}
	}
	return out
}

// checkReads reads rs through a and reports what differs.
func checkReads(t *testing.T, a *App, rs []orderRead, what string) {
	t.Helper()
	for _, r := range rs {
		if got := resolved(a.ResolveDID(r.did, r.opts)); got != r.want {
			t.Errorf("%s: %s %+v: %s, want %s", what, r.did, r.opts, got, r.want)
		}
	}
}

// updateSame is a did.update of id that alternates its document between
// one key and two (so every version differs), signed by its first key.
func (c *orderChain) update(t *testing.T, id *identity) []byte {
	t.Helper()
	n := c.version[id.did]
	keys := []*key.PrivateKey{id.keys[0]}
	if n%2 == 1 {
		keys = append(keys, testKey(t, byte(60+n%50)))
	}
	c.version[id.did] = n + 1
	return c.mv.updateTx(id, keys, []int{0}, strconv.Itoa(n), id.keys[0], id.kid(0))
}

// both runs txs as the next block of both chains; every tx must be
// accepted.
func (c *orderChain) both(t *testing.T, mvOnly [][]byte, txs ...[]byte) {
	t.Helper()
	for _, x := range []struct {
		h   *harness
		txs [][]byte
	}{{c.mv, append(append([][]byte(nil), txs...), mvOnly...)}, {c.ref, txs}} {
		for i, r := range x.h.block(x.txs...) {
			if r.Code != 0 {
				t.Fatalf("height %d tx %d: code %d (%s)", x.h.height(), i, r.Code, r.Log)
			}
		}
	}
}

// newOrderChain builds the two chains through the move (three DIDs per
// block), recording ref's reads at every height from H-1 on.
func newOrderChain(t *testing.T) *orderChain {
	t.Helper()
	c := &orderChain{
		mv:      newHarnessLayout(t, Config{SnapshotInterval: -1}, nil, ledger.LayoutEveryVersion),
		ref:     newHarnessLayout(t, Config{SnapshotInterval: -1}, nil, ledger.LayoutRecordsOnce),
		version: map[string]int{},
		reads:   map[int64][]orderRead{},
	}
	var creates [][]byte
	for i := range 14 {
		id := newIdentity(t, byte(150+i))
		c.ids = append(c.ids, id)
		c.version[id.did] = 1
		creates = append(creates, c.mv.createTx(id))
	}
	c.H = c.mv.height() + 1 + ledger.MinLayoutMoveLead
	c.both(t, [][]byte{c.mv.propose1(scheduleProposal("move-to-2", c.H))}, creates...)
	// Updates long before the move (their superseded leaves pruned by the
	// time it runs: 100 versions are kept) ...
	var early [][]byte
	for _, id := range c.ids {
		early = append(early, c.update(t, id))
	}
	c.both(t, nil, early...)
	for c.mv.height() < c.H-30 {
		c.both(t, nil)
	}
	// ... and twice each within the versions kept, so the node database
	// holds three leaves of every DID key when the move starts.
	for range 2 {
		var txs [][]byte
		for _, id := range c.ids {
			txs = append(txs, c.update(t, id))
		}
		c.both(t, nil, txs...)
		c.both(t, nil)
	}
	for c.mv.height() < c.H-1 {
		c.both(t, nil)
	}
	c.mv.app.Close()
	c.pre = t.TempDir()
	if err := os.CopyFS(c.pre, os.DirFS(c.mv.dir)); err != nil {
		t.Fatal(err)
	}
	c.mv.open()
	c.reads[c.H-1] = orderReads(t, c.ref.app)

	// The move: each block updates DIDs on both sides of the cursor, and
	// the first two create DIDs;
	// the blocks after it update DIDs too.
	for i, after := 0, 0; after < 3; i++ {
		if c.mv.app.layout == ledger.LayoutRecordsOnce {
			after++ // blocks from the one that ended the move
		}
		if i > 20 {
			t.Fatal("the move does not end")
		}
		var txs [][]byte
		_, mv, _ := c.mv.app.LayoutMove()
		// In key order: the last DID the move has passed, the first it
		// has not (which this block moves, and whose entry this block's
		// Commit converts), and the last one.
		sorted := slices.Clone(c.ids)
		slices.SortFunc(sorted, func(a, b *identity) int { return strings.Compare(a.did, b.did) })
		var done, next *identity
		for _, id := range sorted {
			switch {
			case mv != nil && mv.Cursor != "" && id.did <= mv.Cursor:
				done = id
			case next == nil:
				next = id
			}
		}
		for i, id := range []*identity{done, next, sorted[len(sorted)-1]} {
			if id != nil && (i < 2 || id != next) {
				txs = append(txs, c.update(t, id))
			}
		}
		if i < 2 {
			id := newIdentity(t, byte(180+i))
			c.ids = append(c.ids, id)
			c.version[id.did] = 1
			txs = append(txs, c.mv.createTx(id))
		}
		c.blocks = append(c.blocks, txs)
		c.both(t, nil, txs...)
		c.reads[c.mv.height()] = orderReads(t, c.ref.app)
	}
	return c
}

// checkLeafEntries checks that every DID's index entry in a is a pointer
// to the leaf of the DID's current record (its version and checksum).
func checkLeafEntries(t *testing.T, a *App) {
	t.Helper()
	view, _ := a.view()
	n := 0
	view.IterateRangeInclusive(didStart, didEnd, true, func(k, v []byte, version int64) bool {
		n++
		e, err := a.db.RawDB().Get(indexKey(k), nil)
		switch {
		case err != nil || len(e) != entryLeaf:
			t.Errorf("index entry of %s: %d bytes (%v), want a leaf pointer", k, len(e), err)
		case int64(binary.BigEndian.Uint64(e)) != version || binary.BigEndian.Uint32(e[12:]) != crc32.Checksum(v, castagnoli):
			t.Errorf("index entry of %s points at a leaf of version %d, the current one is of version %d", k, binary.BigEndian.Uint64(e), version)
		}
		return false
	})
	if n == 0 {
		t.Fatal("no DIDs")
	}
}

// TestLayoutMoveIndexLeafOrder: when the latest index switches to leaf
// pointers, the node database holds several leaves of most DID keys (each
// DID updated twice in the versions kept before the move, and again in
// the move's blocks, among them the DID each block moves). Readers of the
// height before each Commit of the move read what the chain in layout 2
// from its genesis reads at that height, at every step of the index
// writes (switchIndexStep); afterwards every entry points at its DID's
// current leaf and every read (versionId, versionTime, the document,
// proofs) is the layout 2 chain's. Then the same with the node stopped at
// each step (as a crash would) and reopened: it goes on with the
// remaining blocks and ends the same. An index write that points a key at
// an older leaf (a pass over the node database in the wrong direction, a
// conversion from an older tree) or that converts nothing fails here.
func TestLayoutMoveIndexLeafOrder(t *testing.T) {
	defer func(c, b int) { layoutMoveChunk, indexRebuildBatch = c, b }(layoutMoveChunk, indexRebuildBatch)
	layoutMoveChunk, indexRebuildBatch = 3, 2
	c := newOrderChain(t)
	checkLeafEntries(t, c.mv.app)
	compareReads(t, c.mv.app, c.ref.app)
	c.mv.app.Close()
	c.mv.open()
	checkLeafEntries(t, c.mv.app)
	compareReads(t, c.mv.app, c.ref.app)

	// replay runs the move's blocks on a copy of the chain at H-1, calling
	// step (as switchIndexStep) after each batch of index writes, with the
	// reads of the height the Commit's readers see checked there. It
	// returns the harness and how many steps were made.
	errStop := errors.New("stopped")
	replay := func(t *testing.T, stop int) (*harness, int) {
		h := &harness{tb: t, dir: t.TempDir()}
		if err := os.CopyFS(h.dir, os.DirFS(c.pre)); err != nil {
			t.Fatal(err)
		}
		h.open()
		steps := 0
		switchIndexStep = func() error {
			steps++
			_, seen := h.app.view()
			checkReads(t, h.app, c.reads[seen], fmt.Sprintf("batch %d, readers at %d", steps, seen))
			if steps == stop {
				return errStop
			}
			return nil
		}
		defer func() { switchIndexStep = nil }()
		for i, b := range c.blocks {
			h.finalize(b...)
			_, err := h.app.Commit(context.Background(), &abci.RequestCommit{})
			switch {
			case err == nil:
			case errors.Is(err, errStop):
				// The tree saved the block, the index switch stopped:
				// the process restarts at that height.
				switchIndexStep = nil
				h.app.Close()
				h.open()
				if got, want := h.height(), c.H+int64(i); got != want {
					t.Fatalf("reopened at %d, want %d", got, want)
				}
				checkReads(t, h.app, c.reads[h.height()], fmt.Sprintf("reopened after batch %d", stop))
			default:
				t.Fatalf("Commit of block %d: %v", c.H+int64(i), err)
			}
			checkReads(t, h.app, c.reads[h.height()], fmt.Sprintf("after block %d", h.height()))
		}
		return h, steps
	}
	_, steps := replay(t, 0)
	if steps < 6 {
		t.Fatalf("the index switch made %d steps: too few to stop it in between", steps)
	}
	t.Logf("%d DIDs, the index switch makes %d steps", len(c.ids), steps)
	for stop := 1; stop <= steps; stop++ {
		t.Run(fmt.Sprintf("stop at step %d of %d", stop, steps), func(t *testing.T) {
			h, _ := replay(t, stop)
			checkLeafEntries(t, h.app)
			compareReads(t, h.app, c.ref.app)
		})
	}
}
