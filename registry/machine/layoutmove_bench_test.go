package machine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/medid/medid/internal/benchbase"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// fillLayout1 writes n DID records as layout 1 keeps them (did/<did> and
// the same bytes at didv/<did>/1), perBlock in each block, with the
// latest index entries Commit writes for them. The records are shaped
// like a did.create's (a single-key document, ~630 bytes) but written
// straight into the working tree: signing and checking a million
// transactions is not what is measured.
func fillLayout1(tb testing.TB, h *harness, n, perBlock int) {
	tb.Helper()
	for done := 0; done < n; {
		h.finalize()
		height := h.height() + 1
		created := blockTime(height)
		for i := 0; i < perBlock && done < n; i, done = i+1, done+1 {
			sum := sha256.Sum256([]byte(strconv.Itoa(done)))
			// A did:medid id and a multikey of their lengths (22 and 48).
			d := "did:medid:" + hex.EncodeToString(sum[:11])
			mk := "z6Mk" + hex.EncodeToString(sum[:22])
			doc := fmt.Sprintf(`{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],"id":%q,"verificationMethod":[{"id":"%s#key-1","type":"Multikey","controller":%q,"publicKeyMultibase":%q}],"authentication":["%s#key-1"],"assertionMethod":["%s#key-1"]}`,
				d, d, d, mk, d, d)
			rec := ledger.DIDRecord{DID: d, Document: json.RawMessage(doc), Height: height,
				Metadata: ledger.DocumentMetadata{Created: &created, VersionID: "1"}}
			v, err := marshalDIDRecord(&rec)
			if err != nil {
				tb.Fatal(err)
			}
			for _, k := range [][]byte{ledger.DIDKey(d), ledger.DIDVersionKey(d, 1)} {
				if _, err := h.app.tree.Set(k, v); err != nil {
					tb.Fatal(err)
				}
			}
			h.app.pendingIdx = append(h.app.pendingIdx, write{ledger.DIDKey(d), v})
		}
		h.commit()
	}
}

// tWriter writes the app's log lines that time the move to the test log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	if s := string(p); strings.Contains(s, "moved the state layout") || strings.Contains(s, "points at the tree's leaves") || strings.Contains(s, "converting the DID index") {
		w.t.Log(strings.TrimSpace(s))
	}
	return len(p), nil
}

func dirBytes(tb testing.TB, dir string) int64 {
	tb.Helper()
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// TestLayoutMoveDuration measures the block that moves a state of
// $MEDID_LAYOUT_MOVE_DIDS DIDs (skipped when unset) from layout 1 to
// layout 2: FinalizeBlock (the deletions, in the working tree), and
// Commit (the tree's save, then the switch of the latest index to leaf
// pointers), wall and process CPU time, and the state's size on disk
// before, right after and after LevelDB compacted.
//
//	MEDID_LAYOUT_MOVE_DIDS=100000 nice -n 5 go test ./registry/machine/ -run TestLayoutMoveDuration -v -timeout 60m
//
// MEDID_LAYOUT_MOVE_CHUNK sets the DIDs moved per block (default
// ledger.LayoutMoveChunk; a number above the DIDs makes it one block).
func TestLayoutMoveDuration(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("MEDID_LAYOUT_MOVE_DIDS"))
	if n <= 0 {
		t.Skip("set MEDID_LAYOUT_MOVE_DIDS to the number of DIDs")
	}
	if c, _ := strconv.Atoi(os.Getenv("MEDID_LAYOUT_MOVE_CHUNK")); c > 0 {
		defer func(old int) { layoutMoveChunk = old }(layoutMoveChunk)
		layoutMoveChunk = c
	}
	load := func() string {
		b, _ := os.ReadFile("/proc/loadavg")
		return strings.Join(strings.Fields(string(b))[:3], " ")
	}
	// The app's own lines time the move (FinalizeBlock) and the index
	// switch (in Commit).
	logs := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := newHarnessLayout(t, Config{Logger: logs}, nil, ledger.LayoutEveryVersion)
	started := time.Now()
	fillLayout1(t, h, n, 10_000)
	t.Logf("filled %d DIDs in layout 1 in %s (load %s)", n, time.Since(started).Round(time.Second), load())
	p := h.must(tx.NewNetworkProposal(h.govDID, scheduleProposal("move", h.height()+1+ledger.MinLayoutMoveLead)))
	h.mustBlock(h.sign(p, h.gov, h.govDID+"#"+h.gov.Public().Multikey()))
	_, mv, _ := h.app.LayoutMove()
	for h.height() < mv.Height-1 {
		h.block()
	}
	if err := h.app.db.RawDB().CompactRange(util.Range{}); err != nil {
		t.Fatal(err)
	}
	h.app.Close()
	before := dirBytes(t, filepath.Join(h.dir, "state.db"))
	h.open()
	h.app.log = logs

	// The blocks of the move: one chunk each, the last also switches the
	// index in its Commit.
	var blocks int
	var maxWall, maxCPU, sumWall, sumCPU time.Duration
	var lastFin, lastCommit, lastFinCPU, lastCommitCPU time.Duration
	for h.app.layout != ledger.LayoutRecordsOnce {
		cpu0, wall0 := benchbase.ProcessCPU(), time.Now()
		next := h.height() + 1
		if _, err := h.app.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: next, Time: blockTime(next)}); err != nil {
			t.Fatal(err)
		}
		cpu1, wall1 := benchbase.ProcessCPU(), time.Now()
		h.commit()
		cpu2, wall2 := benchbase.ProcessCPU(), time.Now()
		blocks++
		w, c := wall2.Sub(wall0), cpu2-cpu0
		t.Logf("block %d of the move: FinalizeBlock %s wall (%s CPU), Commit %s wall (%s CPU)", blocks,
			wall1.Sub(wall0).Round(time.Millisecond), (cpu1 - cpu0).Round(time.Millisecond), wall2.Sub(wall1).Round(time.Millisecond), (cpu2 - cpu1).Round(time.Millisecond))
		sumWall, sumCPU = sumWall+w, sumCPU+c
		maxWall, maxCPU = max(maxWall, w), max(maxCPU, c)
		lastFin, lastCommit, lastFinCPU, lastCommitCPU = wall1.Sub(wall0), wall2.Sub(wall1), cpu1-cpu0, cpu2-cpu1
	}
	if h.app.idx.values.Load() {
		t.Fatal("the index still copies records after the move")
	}
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	t.Logf("move of %d DIDs (%d per block): %d blocks, %s wall and %s CPU in all; the longest block %s wall, %s CPU; the last block FinalizeBlock %s wall (%s CPU), Commit with the index switch %s wall (%s CPU); load %s",
		n, h.app.cfg.LayoutMoveBatch, blocks, r(sumWall), r(sumCPU), r(maxWall), r(maxCPU), r(lastFin), r(lastFinCPU), r(lastCommit), r(lastCommitCPU), load())
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	t.Logf("heap: %d MiB in use, %d MiB obtained from the OS", m.HeapInuse>>20, m.HeapSys>>20)
	// The next block, a normal one.
	cpu3, wall3 := benchbase.ProcessCPU(), time.Now()
	h.block()
	t.Logf("the block after: %s wall, %s CPU", time.Since(wall3).Round(time.Millisecond), (benchbase.ProcessCPU() - cpu3).Round(time.Millisecond))
	h.app.Close()
	after := dirBytes(t, filepath.Join(h.dir, "state.db"))
	h.open()
	// Every version older than the move pruned (KeepVersions 100), then
	// compacted.
	for range 110 {
		h.block()
	}
	if err := h.app.db.RawDB().CompactRange(util.Range{}); err != nil {
		t.Fatal(err)
	}
	h.app.Close()
	compacted := dirBytes(t, filepath.Join(h.dir, "state.db"))
	t.Logf("state on disk (synthetic records compress better than real ones: compare the ratios): %d B/DID before the move (compacted), %d B/DID right after, %d B/DID once the versions before it were pruned and compacted (%.2fx)",
		before/int64(n), after/int64(n), compacted/int64(n), float64(compacted)/float64(before))
}
