package machine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/medid/medid/registry/ledger"
)

// newestSnapshot returns src's newest snapshot (of its current height) and
// its chunks.
func newestSnapshot(t testing.TB, src *harness) (*abci.Snapshot, [][]byte) {
	t.Helper()
	ctx := context.Background()
	snapshotNow(t, src)
	list, err := src.app.ListSnapshots(ctx, &abci.RequestListSnapshots{})
	if err != nil || len(list.Snapshots) == 0 {
		t.Fatalf("ListSnapshots: %v, %v", list, err)
	}
	snap := list.Snapshots[0]
	var chunks [][]byte
	for i := range snap.Chunks {
		c, err := src.app.LoadSnapshotChunk(ctx, &abci.RequestLoadSnapshotChunk{Height: snap.Height, Format: snap.Format, Chunk: i})
		if err != nil || len(c.Chunk) == 0 {
			t.Fatalf("LoadSnapshotChunk %d: %v", i, err)
		}
		chunks = append(chunks, c.Chunk)
	}
	return snap, chunks
}

// restoreAll offers snap to dst and applies every chunk; it fails the test
// unless the restore is accepted.
func restoreAll(t testing.TB, dst *App, snap *abci.Snapshot, chunks [][]byte, appHash []byte) {
	t.Helper()
	ctx := context.Background()
	if o, err := dst.OfferSnapshot(ctx, &abci.RequestOfferSnapshot{Snapshot: snap, AppHash: appHash}); err != nil || o.Result != abci.ResponseOfferSnapshot_ACCEPT {
		t.Fatalf("OfferSnapshot: %v, %v", o, err)
	}
	for i, c := range chunks {
		r, err := dst.ApplySnapshotChunk(ctx, &abci.RequestApplySnapshotChunk{Index: uint32(i), Chunk: c, Sender: "peer"})
		if err != nil || r.Result != abci.ResponseApplySnapshotChunk_ACCEPT {
			t.Fatalf("chunk %d: %v, %v", i, r, err)
		}
	}
}

// TestRestoreIndexByLayout: a restore writes layout 1's latest-DID index
// (copies of the records) while it imports the snapshot when the node
// expects layout 1 (its genesis says so, ExpectLayout), and rebuilds it
// from the restored state otherwise; either way the restored node's index
// is exact for the layout the restored state names (in layout 2 every
// read goes through its leaf pointer), whatever the expectation was.
func TestRestoreIndexByLayout(t *testing.T) {
	defer func(n int) { indexFeedBatch = n }(indexFeedBatch)
	indexFeedBatch = 64 // several batches, written while the next fills
	for _, chain := range []ledger.StateLayout{ledger.LayoutEveryVersion, ledger.LayoutRecordsOnce} {
		src := newHarnessLayout(t, Config{SnapshotInterval: 5}, nil, chain)
		updated, _ := history(src, 300)
		snap, chunks := newestSnapshot(t, src)
		height, appHash := src.app.LastCommit()
		for _, tc := range []struct {
			expect ledger.StateLayout // 0: ExpectLayout not called
			want   string
		}{
			{0, map[bool]string{true: "written while importing", false: "rebuilt from the restored tree"}[chain == ledger.LayoutEveryVersion]},
			{ledger.LayoutEveryVersion, map[bool]string{true: "written while importing", false: "rebuilt from the restored tree"}[chain == ledger.LayoutEveryVersion]},
			{ledger.LayoutRecordsOnce, "rebuilt from the restored tree"},
		} {
			t.Run(fmt.Sprintf("chain in layout %d, node expects %d", chain, tc.expect), func(t *testing.T) {
				var log bytes.Buffer
				dst, err := New(Config{Dir: t.TempDir(), SnapshotInterval: -1, Logger: slog.New(slog.NewTextHandler(&log, nil))})
				if err != nil {
					t.Fatal(err)
				}
				defer dst.Close()
				if tc.expect != 0 {
					dst.ExpectLayout(tc.expect)
				}
				restoreAll(t, dst, snap, chunks, appHash)
				if !strings.Contains(log.String(), `index="`+tc.want+`"`) {
					t.Errorf("the restore's log does not say the index was %s:\n%s", tc.want, log.String())
				}
				if dst.layout != chain {
					t.Errorf("restored state in layout %d, want %d", dst.layout, chain)
				}
				if m, err := dst.idx.height(); err != nil || m != height {
					t.Errorf("index height %d (%v), want %d", m, err, height)
				}
				if n := indexMatchesTree(t, dst); n < 300 {
					t.Errorf("%d DIDs through the index, want at least 300", n)
				}
				a, errA := src.app.ResolveDID(updated.did, ledger.ResolveOptions{})
				b, errB := dst.ResolveDID(updated.did, ledger.ResolveOptions{})
				if errB != nil || fmt.Sprint(a, errA) != fmt.Sprint(b, errB) {
					t.Errorf("updated DID on the restored node: %v %v; source %v %v", b, errB, a, errA)
				}
				// A restart trusts the index the restore completed.
				log.Reset()
				if err := dst.Close(); err != nil {
					t.Fatal(err)
				}
				dst, err = New(Config{Dir: dst.cfg.Dir, SnapshotInterval: -1, Logger: slog.New(slog.NewTextHandler(&log, nil))})
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(log.String(), "the DID index") {
					t.Errorf("a restart after the restore touched the index: %s", log.String())
				}
				indexMatchesTree(t, dst)
			})
		}
	}
}

// TestRestoreStopWindows: where a stop during a state sync restore leaves
// the latest-DID index entries the import wrote, and what follows. The
// entries are written before the tree's version and the index's height
// record after the state is checked, so:
//   - stopped in the middle of the import: the node opens at height 0 and
//     serves nothing from the entries (an entry above a reader's height is
//     not used); the next restore starts from an empty database, so an
//     entry of a DID the next snapshot does not hold is gone (here a
//     snapshot of a later height without 200 of the DIDs: served from
//     the leftover entries, they would resolve);
//   - stopped after the import, before the height record: the next start
//     rebuilds the index from the restored tree.
func TestRestoreStopWindows(t *testing.T) {
	defer func(n int) { indexFeedBatch = n }(indexFeedBatch)
	indexFeedBatch = 32
	ctx := context.Background()
	big := newHarnessCfg(t, Config{SnapshotInterval: 5})
	history(big, 300)
	bigSnap, bigChunks := newestSnapshot(t, big)
	_, bigHash := big.app.LastCommit()
	small := newHarnessCfg(t, Config{SnapshotInterval: 5})
	history(small, 100) // the first 100 of big's DIDs
	for small.height() <= big.height() {
		small.block()
	}
	smallSnap, smallChunks := newestSnapshot(t, small)
	_, smallHash := small.app.LastCommit()
	// A DID the larger state holds and the smaller one does not.
	var gone string
	bigView, _ := big.app.view()
	smallView, _ := small.app.view()
	bigView.IterateRange(didStart, didEnd, true, func(k, _ []byte) bool {
		if v, err := smallView.Get(k); err == nil && v == nil {
			gone = string(k[len(ledger.PrefixDID):])
			return true
		}
		return false
	})
	if _, err := big.app.ResolveDID(gone, ledger.ResolveOptions{}); gone == "" || err != nil {
		t.Fatalf("no DID of the larger state missing from the smaller one (%q, %v)", gone, err)
	}

	// offerBig opens an empty App in a new folder and has it accept the
	// larger state's snapshot (the restore has begun, nothing applied).
	offerBig := func(t *testing.T) (string, *App) {
		t.Helper()
		dir := t.TempDir()
		dst, err := New(Config{Dir: dir, SnapshotInterval: -1, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		if o, err := dst.OfferSnapshot(ctx, &abci.RequestOfferSnapshot{Snapshot: bigSnap, AppHash: bigHash}); err != nil || o.Result != abci.ResponseOfferSnapshot_ACCEPT {
			t.Fatalf("OfferSnapshot: %v, %v", o, err)
		}
		return dir, dst
	}

	t.Run("in the middle of the import", func(t *testing.T) {
		dir, dst := offerBig(t)
		// Three quarters of the stream (the DID leaves come first), then
		// the process stops.
		all := bytes.Join(bigChunks, nil)
		if _, err := dst.restoring.pw.Write(all[:len(all)*3/4]); err != nil {
			t.Fatal(err)
		}
		entries := func(a *App) int {
			it := a.db.RawDB().NewIterator(util.BytesPrefix(indexKey(didStart)), nil)
			defer it.Release()
			n := 0
			for it.Next() {
				n++
			}
			return n
		}
		deadline := time.Now().Add(10 * time.Second)
		for entries(dst) < 2*indexFeedBatch && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := entries(dst); n < 2*indexFeedBatch {
			t.Fatalf("%d index entries written while importing, want some batches", n)
		}
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
		dst, err := New(Config{Dir: dir, SnapshotInterval: -1, Logger: testLogger(t)})
		if err != nil {
			t.Fatalf("open after a stop in the middle of the import: %v", err)
		}
		defer dst.Close()
		if h, _ := dst.LastCommit(); h != 0 {
			t.Fatalf("height %d after a stopped import, want 0", h)
		}
		// The stop left index entries (above) and imported nodes; the
		// restore's mark made the start remove them all.
		if n := entries(dst); n != 0 {
			t.Fatalf("%d index entries of the stopped import are still there", n)
		}
		if _, err := dst.ResolveDID(gone, ledger.ResolveOptions{}); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("%s at height 0 after a stopped import: %v, want not found", gone, err)
		}
		restoreAll(t, dst, smallSnap, smallChunks, smallHash)
		if _, err := dst.ResolveDID(gone, ledger.ResolveOptions{}); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("%s after restoring a state without it: %v, want not found", gone, err)
		}
		if n := indexMatchesTree(t, dst); n < 100 || n >= 300 {
			t.Errorf("%d DIDs in the restored state, want the smaller state's", n)
		}
		if n := entries(dst); n != indexMatchesTree(t, dst) {
			t.Errorf("%d index entries for %d DIDs", n, indexMatchesTree(t, dst))
		}
	})

	t.Run("after IAVL flushed imported nodes", func(t *testing.T) {
		// IAVL's importer writes its nodes in batches of 10,000 as they
		// come, the root last: a process stopped in between leaves nodes
		// of the snapshot's version without a root, which IAVL cannot load
		// ("version does not exist"). One such node stands for the batch.
		dir, dst := offerBig(t)
		node := binary.BigEndian.AppendUint64([]byte("s"), bigSnap.Height)
		node = binary.BigEndian.AppendUint32(node, 7)
		mustDB(t, dst.db.RawDB().Put(node, []byte{0, 2, 0x0a, 'k', 0x01, 'v'}, nil))
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		dst, err := New(Config{Dir: dir, SnapshotInterval: -1, Logger: slog.New(slog.NewTextHandler(&log, nil))})
		if err != nil {
			t.Fatalf("open after a stop with imported nodes on disk: %v", err)
		}
		defer dst.Close()
		if !strings.Contains(log.String(), "did not end") {
			t.Errorf("open did not say it removed the unfinished restore: %s", log.String())
		}
		if h, _ := dst.LastCommit(); h != 0 {
			t.Fatalf("height %d after a stopped restore, want 0", h)
		}
		if ok, _ := dst.db.RawDB().Has(node, nil); ok {
			t.Error("the stopped restore's node is still in the database")
		}
		restoreAll(t, dst, smallSnap, smallChunks, smallHash)
		if ok, _ := dst.db.RawDB().Has(restoringKey, nil); ok {
			t.Error("a restore that ended left its mark: the next start would empty a good state")
		}
		if n := indexMatchesTree(t, dst); n < 100 || n >= 300 {
			t.Errorf("%d DIDs in the restored state, want the smaller state's", n)
		}
	})

	t.Run("after the import, before the index height", func(t *testing.T) {
		dir := t.TempDir()
		dst, err := New(Config{Dir: dir, SnapshotInterval: -1, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		restoreAll(t, dst, bigSnap, bigChunks, bigHash)
		mustDB(t, dst.idx.db.Delete(indexHeightKey, nil))
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		dst, err = New(Config{Dir: dir, SnapshotInterval: -1, Logger: slog.New(slog.NewTextHandler(&log, nil))})
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		if !strings.Contains(log.String(), "rebuilt the DID index") {
			t.Errorf("open did not rebuild the index: %s", log.String())
		}
		if n := indexMatchesTree(t, dst); n < 300 {
			t.Errorf("%d DIDs through the index, want at least 300", n)
		}
	})
}
