package machine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// newNetHarnessLayout is newNetHarness (four governance keys, four
// validators) with a genesis in layout l.
func newNetHarnessLayout(tb testing.TB, l ledger.StateLayout) *netHarness {
	tb.Helper()
	return newNetHarnessGenesis(tb, &Genesis{StateLayout: l}, &harness{})
}

func scheduleProposal(id string, height int64) tx.Proposal {
	return tx.Proposal{ID: id, Action: tx.ActionLayoutSchedule, Layout: &tx.ProposedLayout{Layout: tx.MoveToLayout, Height: height}}
}

func cancelProposal(id string, height int64) tx.Proposal {
	return tx.Proposal{ID: id, Action: tx.ActionLayoutCancel, Layout: &tx.ProposedLayout{Layout: tx.MoveToLayout, Height: height}}
}

// TestLayoutMoveRefusals: what a schedule or cancel proposal is refused
// for, in CheckTx and FinalizeBlock alike, each refusal changing nothing;
// one governance key of four schedules nothing; the quorum schedules and
// cancels.
func TestLayoutMoveRefusals(t *testing.T) {
	n := newNetHarnessLayout(t, ledger.LayoutEveryVersion)
	outsiderDID := did.KeyDID(testKey(t, 99).Public())
	next := func() int64 { return n.height() + 1 }
	lead := ledger.MinLayoutMoveLead
	refuse := n.refuses
	for _, tc := range []refusal{
		{"not a governance key", n.outsiderPropose(scheduleProposal("x", next()+lead)), ledger.CodeUnauthorized, ""},
		{"height one block short of the lead", n.propose(0, scheduleProposal("s1", next()+lead-1)), ledger.CodeInvalid, "too close"},
		{"height of this block", n.propose(0, scheduleProposal("s2", next())), ledger.CodeInvalid, "too close"},
		{"height in the past", n.propose(0, scheduleProposal("s3", 1)), ledger.CodeInvalid, "too close"},
		{"cancel with nothing scheduled", n.propose(0, cancelProposal("c1", next()+lead)), ledger.CodeNotFound, "no move"},
	} {
		refuse(t, tc.name, tc.raw, tc.code, tc.want)
	}
	// Malformed proposals never reach the state: tx.Decode refuses them.
	for _, tc := range []struct {
		name string
		p    tx.Proposal
		want string
	}{
		{"layout 3", tx.Proposal{ID: "m1", Action: tx.ActionLayoutSchedule, Layout: &tx.ProposedLayout{Layout: 3, Height: 500}}, "only be moved to layout 2"},
		{"layout 1", tx.Proposal{ID: "m2", Action: tx.ActionLayoutSchedule, Layout: &tx.ProposedLayout{Layout: 1, Height: 500}}, "only be moved to layout 2"},
		{"no layout", tx.Proposal{ID: "m3", Action: tx.ActionLayoutSchedule}, "layout is required"},
		{"height 0", tx.Proposal{ID: "m4", Action: tx.ActionLayoutCancel, Layout: &tx.ProposedLayout{Layout: 2}}, "height must be"},
		{"negative height", tx.Proposal{ID: "m5", Action: tx.ActionLayoutSchedule, Layout: &tx.ProposedLayout{Layout: 2, Height: -5}}, "height must be"},
		{"with a validator", tx.Proposal{ID: "m6", Action: tx.ActionLayoutSchedule, Layout: &tx.ProposedLayout{Layout: 2, Height: 500}, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(1))}}, "only layout"},
		{"with a governance key", tx.Proposal{ID: "m7", Action: tx.ActionLayoutCancel, Layout: &tx.ProposedLayout{Layout: 2, Height: 500}, Governance: outsiderDID}, "only layout"},
		{"layout on a validator action", tx.Proposal{ID: "m8", Action: tx.ActionValidatorRemove, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(1))}, Layout: &tx.ProposedLayout{Layout: 2, Height: 500}}, "layout is not allowed"},
	} {
		t.Run("malformed: "+tc.name, func(t *testing.T) {
			if _, err := tx.NewNetworkProposal(n.gov(0), tc.p); err == nil || !errors.Is(err, tx.ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewNetworkProposal: %v, want malformed with %q", err, tc.want)
			}
		})
	}

	// One key of four records a proposal and schedules nothing.
	h1 := next() + lead + 5
	n.blockUpdates([]uint32{0}, n.propose(0, scheduleProposal("move", h1)))
	if _, mv, err := n.app.LayoutMove(); err != nil || mv != nil {
		t.Fatalf("one approval of four scheduled a move: %+v (%v)", mv, err)
	}
	// A second approval by the same key is refused; three carry it.
	if r := n.checkTx(n.approve(0, "move")); r.Code != ledger.CodeExists {
		t.Fatalf("second approval by the proposer: code %d (%s)", r.Code, r.Log)
	}
	n.blockUpdates([]uint32{0, 0}, n.approve(1, "move"), n.approve(2, "move"))
	l, mv, err := n.app.LayoutMove()
	if err != nil || l != ledger.LayoutEveryVersion || mv == nil || mv.Height != h1 || mv.Proposal != "move" || mv.Layout != ledger.LayoutRecordsOnce {
		t.Fatalf("after the quorum: layout %d, move %+v (%v)", l, mv, err)
	}
	refuse(t, "a second schedule while one is scheduled", n.propose(0, scheduleProposal("s4", next()+lead+50)), ledger.CodeExists, "cancel it first")
	refuse(t, "cancel naming another height", n.propose(0, cancelProposal("c2", h1+1)), ledger.CodeInvalid, "scheduled is at height")

	// A cancel needs the quorum too.
	n.blockUpdates([]uint32{0, 0}, n.propose(3, cancelProposal("cancel", h1)), n.approve(1, "cancel"))
	if _, mv, _ := n.app.LayoutMove(); mv == nil {
		t.Fatal("two approvals of four cancelled the move")
	}
	n.blockUpdates([]uint32{0}, n.approve(0, "cancel"))
	if _, mv, _ := n.app.LayoutMove(); mv != nil {
		t.Fatalf("the quorum's cancel left %+v", mv)
	}
	// Nothing happens at the cancelled height.
	for n.height() < h1+1 {
		n.block()
	}
	if l, _, _ := n.app.LayoutMove(); l != ledger.LayoutEveryVersion || n.app.layout != ledger.LayoutEveryVersion {
		t.Fatalf("a cancelled move happened: layout %d", l)
	}

	// A schedule whose approvals come after the lead has run out is
	// refused at the approval that would carry it.
	h2 := next() + lead
	n.blockUpdates([]uint32{0, 0}, n.propose(0, scheduleProposal("late", h2)), n.approve(1, "late"))
	n.block()
	refuse(t, "carried too late", n.approve(2, "late"), ledger.CodeInvalid, "too close")

	// A chain in layout 2 has nothing to move.
	two := newNetHarnessLayout(t, ledger.LayoutRecordsOnce)
	if r := two.checkTx(two.propose(0, scheduleProposal("s5", two.height()+1+lead))); r.Code != ledger.CodeInvalid || !strings.Contains(r.Log, "layout 2 already") {
		t.Fatalf("schedule on a layout 2 chain: code %d (%s)", r.Code, r.Log)
	}
}

// migratedGolden runs the recorded chain (layoutGolden) so that its
// blocks 4..7 (updates and a deactivation) come after a move of the state
// layout: blocks 1..3 at heights 1..3, empty blocks up to H-1, blocks 4..7
// at heights H.. H+3. With schedule set the genesis is the recorded one
// (layout 1) and block 3 also carries the governance key's layout.schedule
// at H (one key of one: carried at once); otherwise the genesis is in
// layout 2 and the blocks are the same without it. stopAt > 0 stops after
// committing that height.
func migratedGolden(t *testing.T, g *layoutGolden, schedule bool, stopAt int64) (*harness, int64) {
	t.Helper()
	H := 3 + ledger.MinLayoutMoveLead
	gen := []byte(g.Genesis)
	if !schedule {
		pg, err := ParseGenesis(gen)
		if err != nil {
			t.Fatal(err)
		}
		pg.StateLayout = ledger.LayoutRecordsOnce
		if gen, err = pg.Marshal(); err != nil {
			t.Fatal(err)
		}
	}
	h := &harness{tb: t, dir: t.TempDir(), gov: testKey(t, 200)}
	h.govDID = did.KeyDID(h.gov.Public())
	h.open()
	if _, err := h.app.InitChain(context.Background(), &abci.RequestInitChain{AppStateBytes: gen, InitialHeight: 1, Time: t0}); err != nil {
		t.Fatal(err)
	}
	goldenBlock := func(i int, extra ...[]byte) {
		r := h.finalize(append(append([][]byte(nil), g.Blocks[i]...), extra...)...)
		for j, x := range r.TxResults {
			want := uint32(0)
			if j < len(g.Codes[i]) {
				want = g.Codes[i][j]
			}
			if x.Code != want {
				t.Fatalf("height %d (recorded block %d) tx %d: code %d (%s), want %d", h.height()+1, i+1, j, x.Code, x.Log, want)
			}
		}
		h.commit()
	}
	for i := 0; i < len(g.Blocks); i++ {
		if stopAt > 0 && h.height() >= stopAt {
			break
		}
		if i == 3 {
			for h.height() < H-1 && (stopAt == 0 || h.height() < stopAt) {
				h.block()
			}
			if stopAt > 0 && h.height() >= stopAt {
				break
			}
		}
		var extra [][]byte
		if i == 2 && schedule {
			p := h.must(tx.NewNetworkProposal(h.govDID, scheduleProposal("move-to-2", H)))
			p.Nonce = "move-to-2" // the same transaction in every run
			extra = append(extra, h.sign(p, h.gov, h.govDID+"#"+h.gov.Public().Multikey()))
		}
		goldenBlock(i, extra...)
	}
	return h, H
}

// stateEntries returns every key and value of the committed state.
func stateEntries(t *testing.T, a *App) map[string]string {
	t.Helper()
	view, _ := a.view()
	out := map[string]string{}
	view.Iterate(func(k, v []byte) bool {
		out[string(k)] = string(v)
		return false
	})
	return out
}

// compareReads checks that every read of every DID (current, each versionId
// up to two past the current one, proven versions checked as a client does,
// versionTime at every minute up to the last block) is the same in a and b.
func compareReads(t *testing.T, a, b *App) {
	t.Helper()
	dids := didVersions(t, a)
	if got := didVersions(t, b); len(got) != len(dids) {
		t.Fatalf("%d DIDs, want %d", len(got), len(dids))
	}
	last, _ := a.LastCommit()
	for d, m := range dids {
		read := func(x *App, o ledger.ResolveOptions) string { return resolved(x.ResolveDID(d, o)) }
		if x, y := read(a, ledger.ResolveOptions{}), read(b, ledger.ResolveOptions{}); x != y {
			t.Errorf("%s current: %s, want %s", d, x, y)
		}
		for n := int64(0); n <= m+2; n++ {
			o := ledger.ResolveOptions{VersionID: strconv.FormatInt(n, 10)}
			x, y := read(a, o), read(b, o)
			if x != y {
				t.Errorf("%s versionId %d: %s, want %s", d, n, x, y)
			}
			if n < 1 {
				continue
			}
			if p := resolved(provenVersion(t, a, d, n)); p != y {
				t.Errorf("%s versionId %d proven: %s, want %s", d, n, p, y)
			}
		}
		for _, min := range []int64{0, 1, 2, 3, 4, last - 3, last - 2, last - 1, last, last + 1} {
			for _, off := range []time.Duration{-time.Second, 0, time.Second} {
				at := blockTime(min).Add(off)
				o := ledger.ResolveOptions{VersionTime: &at}
				if x, y := read(a, o), read(b, o); x != y {
					t.Errorf("%s versionTime %s: %s, want %s", d, at.Format(time.RFC3339), x, y)
				}
			}
		}
	}
}

// TestLayoutMoveGoldenChain: a layout 1 chain that moves to layout 2 holds
// exactly the keys and values the same blocks give a chain in layout 2
// from its genesis (the governance proposal and its replay record aside),
// answers every read the same, with proofs that verify, and its latest
// index points at leaves. Before the move its app hashes are those of a
// layout 1 chain with the proposal, from the move on they differ.
func TestLayoutMoveGoldenChain(t *testing.T) {
	g := loadLayoutGolden(t)
	moved, H := migratedGolden(t, g, true, 0)
	ref, _ := migratedGolden(t, g, false, 0)
	if moved.app.layout != ledger.LayoutRecordsOnce || moved.app.idx.values.Load() {
		t.Fatalf("after the move: layout %d, index copies %v", moved.app.layout, moved.app.idx.values.Load())
	}
	got, want := stateEntries(t, moved.app), stateEntries(t, ref.app)
	var extra []string
	for k, v := range got {
		w, ok := want[k]
		switch {
		case !ok:
			extra = append(extra, k)
		case w != v:
			t.Errorf("%s: %s, want %s", k, v, w)
		}
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("%s is missing after the move", k)
		}
	}
	// The proposal (its record and its replay record) is all the moved
	// chain holds more.
	if len(extra) != 2 {
		t.Errorf("keys only in the moved chain: %q", extra)
	}
	for _, k := range extra {
		if k != string(ledger.ProposalKey("move-to-2")) && !strings.HasPrefix(k, "tx/") {
			t.Errorf("key only in the moved chain: %q", k)
		}
	}
	if rec, err := moved.app.Proposal("move-to-2"); err != nil || rec.Status != ledger.ProposalExecuted || rec.Layout == nil || rec.Layout.Height != H {
		t.Errorf("the proposal's record: %+v (%v)", rec, err)
	}
	if _, ok := got[ledger.KeyLayoutMove]; ok {
		t.Error("the scheduled move is still in the state")
	}
	compareReads(t, moved.app, ref.app)

	// Every DID's entry in the latest index is a pointer to its leaf, and
	// resolutions go through it.
	hits := moved.app.idx.leafHits.Load()
	for d := range didVersions(t, moved.app) {
		e, err := moved.app.db.RawDB().Get(indexKey(ledger.DIDKey(d)), nil)
		if err != nil || len(e) != entryLeaf {
			t.Errorf("index entry of %s: %d bytes (%v), want a leaf pointer", d, len(e), err)
		}
		if _, err := moved.app.ResolveDID(d, ledger.ResolveOptions{}); err != nil && !errors.Is(err, ledger.ErrDeactivated) {
			t.Errorf("resolve %s: %v", d, err)
		}
	}
	if moved.app.idx.leafHits.Load() == hits {
		t.Error("no resolution went through a leaf pointer")
	}
	format, err := moved.app.db.RawDB().Get(indexFormatKey, nil)
	if err != nil || !bytes.Equal(format, indexLeafFormat) {
		t.Errorf("index format %q (%v)", format, err)
	}

	// The layout 1 chain with the proposal gives the app hashes of a
	// layout 1 chain up to H-1 (the proposal aside, the recorded blocks'
	// hashes are checked by TestLayout1GoldenChain), and the move changes
	// them from H on: a node without the move would fork there, so the
	// layout of a reopened node is the state's.
	moved.app.Close()
	moved.open()
	if moved.app.layout != ledger.LayoutRecordsOnce || moved.app.idx.values.Load() {
		t.Fatalf("reopened: layout %d, index copies %v", moved.app.layout, moved.app.idx.values.Load())
	}
	compareReads(t, moved.app, ref.app)
	// Later blocks run in layout 2: an update writes no current copy.
	id := newIdentity(t, 77)
	moved.mustBlock(moved.createTx(id))
	ref.mustBlock(ref.createTx(id))
	if got, want := stateEntries(t, moved.app)[string(ledger.DIDVersionKey(id.did, 1))], ""; got != want {
		t.Errorf("a DID created after the move has a copy under didv/")
	}
}

// TestLayoutMoveIndexSwitchStops stops the switch of the latest index in
// the Commit of a move of one block (as a crash would, after the tree
// saved the move's block): before the index batch and after it. Until
// then readers of the block before read what they read before the move,
// and a node reopened after the stop answers every read as the chain in
// layout 2 from its genesis does. (A move over many blocks with several
// leaves of each DID key: TestLayoutMoveIndexLeafOrder.)
func TestLayoutMoveIndexSwitchStops(t *testing.T) {
	defer func(b int) { indexRebuildBatch = b }(indexRebuildBatch)
	indexRebuildBatch = 3
	g := loadLayoutGolden(t)
	H := 3 + ledger.MinLayoutMoveLead
	ref, _ := migratedGolden(t, g, false, H)
	pre, _ := migratedGolden(t, g, true, H-1)
	// What readers of H-1 read, for every DID and version.
	type read struct {
		did  string
		opts ledger.ResolveOptions
		want string
	}
	var reads []read
	for d, m := range didVersions(t, pre.app) {
		for n := int64(0); n <= m+1; n++ {
			o := ledger.ResolveOptions{}
			if n > 0 {
				o.VersionID = strconv.FormatInt(n, 10)
			}
			reads = append(reads, read{d, o, resolved(pre.app.ResolveDID(d, o))})
		}
	}
	pre.app.Close()
	src := pre.dir

	// Count the steps.
	steps := 0
	switchIndexStep = func() error { steps++; return nil }
	defer func() { switchIndexStep = nil }()
	{
		h := &harness{tb: t, dir: t.TempDir()}
		if err := os.CopyFS(h.dir, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
		h.open()
		h.finalize(g.Blocks[3]...)
		h.commit()
		compareReads(t, h.app, ref.app)
	}
	if steps < 2 {
		t.Fatalf("the switch made %d steps: too few to stop it in between", steps)
	}
	t.Logf("the switch writes %d batches (%d DIDs)", steps, len(didVersions(t, ref.app)))
	for stop := 1; stop <= steps; stop++ {
		t.Run(fmt.Sprintf("stop after batch %d of %d", stop, steps), func(t *testing.T) {
			h := &harness{tb: t, dir: t.TempDir()}
			if err := os.CopyFS(h.dir, os.DirFS(src)); err != nil {
				t.Fatal(err)
			}
			h.open()
			step := 0
			errStop := errors.New("stopped")
			switchIndexStep = func() error {
				step++
				// Readers of H-1 are live during the switch.
				for _, r := range reads {
					if got := resolved(h.app.ResolveDID(r.did, r.opts)); got != r.want {
						t.Errorf("batch %d: %s %+v at H-1: %s, want %s", step, r.did, r.opts, got, r.want)
					}
				}
				if step == stop {
					return errStop
				}
				return nil
			}
			h.finalize(g.Blocks[3]...)
			if _, err := h.app.Commit(context.Background(), &abci.RequestCommit{}); !errors.Is(err, errStop) {
				t.Fatalf("Commit: %v, want the stop", err)
			}
			switchIndexStep = nil
			h.app.Close()
			h.open()
			if got := h.height(); got != H {
				t.Fatalf("reopened at height %d, want %d", got, H)
			}
			if h.app.layout != ledger.LayoutRecordsOnce || h.app.idx.values.Load() {
				t.Fatalf("reopened in layout %d, index copies %v", h.app.layout, h.app.idx.values.Load())
			}
			compareReads(t, h.app, ref.app)
		})
	}
}

// TestLayoutMoveStopBeforeSave: a node that stops after the move's block
// was finalized and before it was saved reopens in layout 1 at H-1 and
// makes the same move when the block is replayed.
func TestLayoutMoveStopBeforeSave(t *testing.T) {
	g := loadLayoutGolden(t)
	ref, H := migratedGolden(t, g, true, 0)
	h, _ := migratedGolden(t, g, true, H-1)
	r := h.finalize(g.Blocks[3]...)
	h.app.Close() // no Commit
	h.open()
	if h.height() != H-1 || h.app.layout != ledger.LayoutEveryVersion || !h.app.idx.values.Load() {
		t.Fatalf("reopened at %d in layout %d", h.height(), h.app.layout)
	}
	r2 := h.finalize(g.Blocks[3]...)
	if !sameBytes(r.AppHash, r2.AppHash) {
		t.Fatalf("the replayed move gives app hash %X, the first %X", r2.AppHash, r.AppHash)
	}
	h.commit()
	for _, b := range g.Blocks[4:] {
		h.finalize(b...)
		h.commit()
	}
	if !sameBytes(h.hash(), ref.hash()) {
		a, b := stateEntries(t, h.app), stateEntries(t, ref.app)
		for k, v := range a {
			if b[k] != v {
				t.Errorf("%s: %s, the chain that did not stop %s", k, v, b[k])
			}
		}
		for k := range b {
			if _, ok := a[k]; !ok {
				t.Errorf("%s missing", k)
			}
		}
		t.Fatalf("app hash %X, the chain that did not stop %X", h.hash(), ref.hash())
	}
	compareReads(t, h.app, ref.app)
}

// TestLayoutMoveSpread: a move spread over blocks (three DIDs per block
// here), with the recorded chain's updates and a deactivation, and new
// DIDs, in the blocks of the move, DIDs on either side of the cursor.
// After every block every read (through CheckTx's verdicts too) is the
// one the chain in layout 2 from its genesis gives, and once the last DID
// is moved the state holds the same keys and values.
func TestLayoutMoveSpread(t *testing.T) {
	defer func(c int) { layoutMoveChunk = c }(layoutMoveChunk)
	layoutMoveChunk = 3
	g := loadLayoutGolden(t)
	H := 3 + ledger.MinLayoutMoveLead
	moved, _ := migratedGolden(t, g, true, H-1)
	ref, _ := migratedGolden(t, g, false, H-1)
	var blocks [][][]byte
	for _, b := range g.Blocks[3:] {
		blocks = append(blocks, b)
	}
	var created []*identity
	for i := range 6 {
		created = append(created, newIdentity(t, byte(120+i)))
	}
	blocks = append(blocks, [][]byte{moved.createTx(created[0]), moved.createTx(created[1]), moved.createTx(created[2])})
	blocks = append(blocks, [][]byte{moved.createTx(created[3]), moved.createTx(created[4]), moved.createTx(created[5])})
	blocks = append(blocks, nil, nil, nil)
	sawCursor := false
	sides := map[bool]int{} // DIDs written during the move: moved already (true) or not
	for i, b := range blocks {
		if _, mv, _ := moved.app.LayoutMove(); mv != nil && mv.Cursor != "" {
			for _, raw := range b {
				if tt, err := tx.Decode(raw); err == nil {
					sides[tt.Payload.DID <= mv.Cursor]++
				}
			}
		}
		for j, raw := range b {
			if a, r := moved.checkTx(raw), ref.checkTx(raw); a.Code != r.Code {
				t.Fatalf("block %d tx %d: CheckTx during the move %d (%s), in layout 2 %d (%s)", i, j, a.Code, a.Log, r.Code, r.Log)
			}
		}
		rm, rr := moved.finalize(b...), ref.finalize(b...)
		for j := range rm.TxResults {
			if rm.TxResults[j].Code != rr.TxResults[j].Code {
				t.Fatalf("block %d tx %d: code %d (%s) during the move, %d (%s) in layout 2", i, j, rm.TxResults[j].Code, rm.TxResults[j].Log, rr.TxResults[j].Code, rr.TxResults[j].Log)
			}
		}
		moved.commit()
		ref.commit()
		if i == 2 {
			// A node restarted in the middle of the move goes on from the
			// cursor the state holds.
			moved.app.Close()
			moved.open()
		}
		compareReads(t, moved.app, ref.app)
		_, mv, _ := moved.app.LayoutMove()
		if mv != nil && mv.Cursor != "" {
			sawCursor = true
			if r := moved.checkTx(moved.propose1(cancelProposal("cancel-"+strconv.Itoa(i), mv.Height))); r.Code != ledger.CodeInvalid || !strings.Contains(r.Log, "under way") {
				t.Errorf("cancel during the move: code %d (%s)", r.Code, r.Log)
			}
		}
	}
	if !sawCursor {
		t.Fatal("the move was not spread over blocks")
	}
	if sides[true] == 0 || sides[false] == 0 {
		t.Errorf("DIDs written during the move, moved already and not: %d and %d; want some of each", sides[true], sides[false])
	}
	t.Logf("DIDs written during the move: %d moved already, %d not yet", sides[true], sides[false])
	if l, mv, _ := moved.app.LayoutMove(); l != ledger.LayoutRecordsOnce || mv != nil {
		t.Fatalf("after the move: layout %d, move %+v", l, mv)
	}
	got, want := stateEntries(t, moved.app), stateEntries(t, ref.app)
	for k, v := range got {
		if w, ok := want[k]; ok && w != v {
			t.Errorf("%s: %s, want %s", k, v, w)
		} else if !ok && k != string(ledger.ProposalKey("move-to-2")) && !strings.HasPrefix(k, "tx/") {
			t.Errorf("key only in the moved chain: %q", k)
		}
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("%s is missing after the move", k)
		}
	}
	// A node that reopens after the move reads the same.
	moved.app.Close()
	moved.open()
	compareReads(t, moved.app, ref.app)
}

// propose1 signs a network.propose by the harness's governance key.
func (h *harness) propose1(p tx.Proposal) []byte {
	pl := h.must(tx.NewNetworkProposal(h.govDID, p))
	return h.sign(pl, h.gov, h.govDID+"#"+h.gov.Public().Multikey())
}

// TestLayoutMoveStateSyncMidMove: a node that restores a snapshot taken
// while a move is under way (its cursor in the state) goes on with the
// move from the cursor: block after block it reaches the source's app
// hashes, ends in layout 2 with leaf pointers, and reads the same.
func TestLayoutMoveStateSyncMidMove(t *testing.T) {
	defer func(c int) { layoutMoveChunk = c }(layoutMoveChunk)
	layoutMoveChunk = 2
	g := loadLayoutGolden(t)
	src, H := migratedGolden(t, g, true, 0) // blocks 4..7 at H..H+3: the move under way
	if _, mv, _ := src.app.LayoutMove(); mv == nil || mv.Cursor == "" {
		t.Fatalf("no move under way at %d: %+v", src.height(), mv)
	}
	// Reopen the source with a snapshot at every block, and make one.
	src.app.Close()
	a, err := New(Config{Dir: src.dir, SnapshotInterval: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	src.app = a
	src.block()
	snapshotNow(t, src)
	height, appHash := src.app.LastCommit()
	_, mv, _ := src.app.LayoutMove()
	if mv == nil || mv.Cursor == "" {
		t.Fatalf("the snapshot at %d is not of a move under way", height)
	}
	dst, res := restoreIntoWith(t, src, nil, appHash, func(d *App) { d.ExpectLayout(ledger.LayoutEveryVersion) })
	if res != abci.ResponseApplySnapshotChunk_ACCEPT {
		t.Fatalf("restore ended %v", res)
	}
	d := &harness{tb: t, app: dst}
	if _, dmv, _ := dst.LayoutMove(); dmv == nil || dmv.Cursor != mv.Cursor || dst.layout != ledger.LayoutEveryVersion {
		t.Fatalf("restored at %d: layout %d, move %+v; the source's cursor %q", height, dst.layout, dmv, mv.Cursor)
	}
	id := newIdentity(t, 140)
	for i := 0; src.app.layout != ledger.LayoutRecordsOnce || i < 2; i++ {
		var txs [][]byte
		if i == 1 {
			txs = [][]byte{src.createTx(id)}
		}
		a, b := src.finalize(txs...), d.finalize(txs...)
		if !sameBytes(a.AppHash, b.AppHash) {
			t.Fatalf("block %d: the restored node's app hash %X, the source's %X", src.height()+1, b.AppHash, a.AppHash)
		}
		src.commit()
		d.commit()
		if i > 20 {
			t.Fatal("the move does not end")
		}
	}
	if dst.layout != ledger.LayoutRecordsOnce || dst.idx.values.Load() {
		t.Fatalf("the restored node after the move: layout %d, index copies %v", dst.layout, dst.idx.values.Load())
	}
	compareReads(t, dst, src.app)
	// The copies the restore wrote are converted in the following blocks
	// (after the move if need be): then every entry is a leaf pointer.
	for i := 0; dst.idx.copiesLeft.Load(); i++ {
		if i > 20 {
			t.Fatal("the restored node's index conversion does not end")
		}
		a, b := src.finalize(), d.finalize()
		if !sameBytes(a.AppHash, b.AppHash) {
			t.Fatalf("block %d: the restored node's app hash %X, the source's %X", src.height()+1, b.AppHash, a.AppHash)
		}
		src.commit()
		d.commit()
	}
	checkLeafEntries(t, dst)
	compareReads(t, dst, src.app)
	t.Logf("restored at %d (cursor %s), the move ended at %d (began at %d)", height, mv.Cursor, src.height(), H)
}
