package machine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// newHarnessCfg is newHarness with an App configured by cfg (Dir set).
func newHarnessCfg(tb testing.TB, cfg Config) *harness {
	tb.Helper()
	return newHarnessWithGenesis(tb, cfg, nil)
}

// newHarnessWithGenesis is newHarnessCfg with the write quota policy q in
// genesis (nil: the defaults).
func newHarnessWithGenesis(tb testing.TB, cfg Config, q *ledger.QuotaPolicy) *harness {
	tb.Helper()
	return newHarnessLayout(tb, cfg, q, 0)
}

// newHarnessLayout is newHarnessWithGenesis with state layout l in genesis
// (0: ledger.CurrentLayout).
func newHarnessLayout(tb testing.TB, cfg Config, q *ledger.QuotaPolicy, l ledger.StateLayout) *harness {
	tb.Helper()
	h := &harness{tb: tb, dir: tb.TempDir(), gov: testKey(tb, 200)}
	h.govDID = did.KeyDID(h.gov.Public())
	cfg.Dir = h.dir
	a, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	h.app = a
	tb.Cleanup(func() { a.Close() })
	g, err := (&Genesis{Governance: []string{h.govDID}, Quotas: q, StateLayout: l}).Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{AppStateBytes: g, InitialHeight: 1, Time: t0}); err != nil {
		tb.Fatal(err)
	}
	return h
}

// history builds a state with every kind of history: DIDs created in
// several blocks, one DID updated twice, an accreditation granted and
// revoked, the issuer's directory entry, a status list published twice.
func history(h *harness, dids int) (updated *identity, issuer *identity) {
	h.tb.Helper()
	var batch [][]byte
	for i := range dids {
		k, err := key.NewEd25519FromSeed(bytes.Repeat([]byte{byte(i), byte(i >> 8), 7}, 11)[:32])
		if err != nil {
			h.tb.Fatal(err)
		}
		p, kid, err := tx.NewKeyDIDCreate(k.Public())
		if err != nil {
			h.tb.Fatal(err)
		}
		batch = append(batch, h.sign(p, k, kid))
		if len(batch) == 50 {
			h.mustBlock(batch...)
			batch = nil
		}
	}
	if len(batch) > 0 {
		h.mustBlock(batch...)
	}
	updated = h.register(1)
	k2 := testKey(h.tb, 2)
	h.mustBlock(h.updateTx(updated, []*key.PrivateKey{updated.keys[0], k2}, []int{0, 1}, "1", updated.keys[0], updated.kid(0)))
	h.mustBlock(h.updateTx(updated, []*key.PrivateKey{k2}, []int{0}, "2", updated.keys[0], updated.kid(0)))
	issuer = h.register(3)
	h.mustBlock(h.accreditTx(issuer.did, "acc-1", []string{"ImmunizationCredential"}, "2026-01-01T00:00:00Z", ""))
	h.mustBlock(h.revokeTx(issuer.did, "acc-1", "2026-02-01T00:00:00Z"))
	h.mustBlock(h.dirTx(tx.DirectoryAdd, issuer.did, stMarys(), 0, ""))
	list := historyList(issuer)
	h.mustBlock(h.publishTx(issuer, list, 1, statusListToken(h.tb, list, issuer.did, issuer.keys[0], issuer.kid(0), -1)))
	h.mustBlock(h.publishTx(issuer, list, 2, statusListToken(h.tb, list, issuer.did, issuer.keys[0], issuer.kid(0), 5)))
	return updated, issuer
}

// historyList is the status list history publishes, in issuer's namespace.
func historyList(issuer *identity) string { return issuer.did + ":list-1" }

// TestPruningKeepsHistory: with only 3 state versions kept, every history
// read (versionId, versionTime, accreditation history, status list
// versions, the latest-DID index, proofs at the latest height) still
// answers, because history lives in the latest state.
func TestPruningKeepsHistory(t *testing.T) {
	h := newHarnessCfg(t, Config{KeepVersions: 3, SnapshotInterval: -1})
	updated, issuer := history(h, 120)
	for range 5 {
		h.block()
	}
	latest := h.height()
	if vs := h.app.tree.AvailableVersions(); len(vs) > 4 || int64(vs[0]) < latest-3 {
		t.Fatalf("versions kept after pruning: %v (latest %d, keep 3)", vs, latest)
	}
	if r, _ := h.app.Query(context.Background(), &abci.RequestQuery{Path: ledger.QueryDID, Data: []byte(updated.did), Height: 2}); r.Code == 0 {
		t.Fatal("a pruned version still answered a query")
	}
	v1, err := h.app.ResolveDID(updated.did, ledger.ResolveOptions{VersionID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts ledger.ResolveOptions
		want string
	}{
		{"current", ledger.ResolveOptions{}, "3"},
		{"versionId 1", ledger.ResolveOptions{VersionID: "1"}, "1"},
		{"versionId 2", ledger.ResolveOptions{VersionID: "2"}, "2"},
		{"versionTime just after the creation", ledger.ResolveOptions{VersionTime: ptr(v1.VersionTime().Add(30 * time.Second))}, "1"},
		{"versionTime of the second version", ledger.ResolveOptions{VersionTime: ptr(v1.VersionTime().Add(90 * time.Second))}, "2"},
	} {
		rec, err := h.app.ResolveDID(updated.did, tc.opts)
		if err != nil || rec.Metadata.VersionID != tc.want {
			t.Errorf("%s after pruning: %v, %v; want versionId %s", tc.name, rec, err, tc.want)
		}
	}
	acc, err := h.app.Accreditations(issuer.did)
	if err != nil || len(acc.Accreditations) != 1 || acc.Accreditations[0].Revocation == nil {
		t.Errorf("accreditation history after pruning: %+v, %v", acc, err)
	}
	if ok, _ := h.app.AccreditedAt(issuer.did, "ImmunizationCredential", h.time("2026-01-15T00:00:00Z")); !ok {
		t.Error("accredited-at-issuance check after pruning: false")
	}
	for v := int64(1); v <= 2; v++ {
		if sl, err := h.app.StatusList(historyList(issuer), v); err != nil || sl.Version != v {
			t.Errorf("status list version %d after pruning: %v, %v", v, sl, err)
		}
	}
	r, err := h.app.Query(context.Background(), &abci.RequestQuery{Path: ledger.QueryDID, Data: []byte(updated.did), Prove: true})
	if err != nil || r.Code != 0 {
		t.Fatalf("proving query at the latest height: %v %+v", err, r)
	}
	if err := ledger.VerifyProof(h.hash(), r.Key, r.Value, r.ProofOps); err != nil {
		t.Fatalf("proof at the latest height after pruning: %v", err)
	}
	// A restart keeps pruning where it left off and keeps the index.
	h.app.Close()
	h.open()
	if rec, err := h.app.ResolveDID(updated.did, ledger.ResolveOptions{VersionID: "1"}); err != nil || rec.Metadata.VersionID != "1" {
		t.Fatalf("history after a restart: %v %v", rec, err)
	}
}

// restoreInto state-syncs a fresh App from src's newest snapshot, chunk by
// chunk, as CometBFT does, and returns the fresh App. The fresh App expects
// src's layout, as registryd's does from the genesis.
func restoreInto(t testing.TB, src *harness, corrupt func(i int, chunk []byte) []byte, appHash []byte) (*App, abci.ResponseApplySnapshotChunk_Result) {
	t.Helper()
	return restoreIntoWith(t, src, corrupt, appHash, func(*App) {})
}

// restoreIntoWith is restoreInto with setup run on the fresh App before the
// offer.
func restoreIntoWith(t testing.TB, src *harness, corrupt func(i int, chunk []byte) []byte, appHash []byte, setup func(*App)) (*App, abci.ResponseApplySnapshotChunk_Result) {
	t.Helper()
	ctx := context.Background()
	if err := src.app.WaitSnapshots(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := src.app.ListSnapshots(ctx, &abci.RequestListSnapshots{})
	if err != nil || len(list.Snapshots) == 0 {
		t.Fatalf("ListSnapshots: %v, %v", list, err)
	}
	snap := list.Snapshots[0]
	if h, _ := src.app.LastCommit(); int64(snap.Height) != h {
		t.Fatalf("newest snapshot is of height %d, the state is at %d", snap.Height, h)
	}
	dst, err := New(Config{Dir: t.TempDir(), SnapshotInterval: -1, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	dst.ExpectLayout(src.app.layout)
	setup(dst)
	offer, err := dst.OfferSnapshot(ctx, &abci.RequestOfferSnapshot{Snapshot: snap, AppHash: appHash})
	if err != nil || offer.Result != abci.ResponseOfferSnapshot_ACCEPT {
		t.Fatalf("OfferSnapshot: %v, %v", offer, err)
	}
	var last abci.ResponseApplySnapshotChunk_Result
	for i := uint32(0); i < snap.Chunks; i++ {
		c, err := src.app.LoadSnapshotChunk(ctx, &abci.RequestLoadSnapshotChunk{Height: snap.Height, Format: snap.Format, Chunk: i})
		if err != nil || len(c.Chunk) == 0 {
			t.Fatalf("LoadSnapshotChunk %d: %v", i, err)
		}
		chunk := c.Chunk
		if corrupt != nil {
			chunk = corrupt(int(i), chunk)
		}
		res, err := dst.ApplySnapshotChunk(ctx, &abci.RequestApplySnapshotChunk{Index: i, Chunk: chunk, Sender: "peer"})
		if err != nil {
			t.Fatal(err)
		}
		last = res.Result
		if last != abci.ResponseApplySnapshotChunk_ACCEPT {
			break
		}
	}
	return dst, last
}

// TestSnapshotRestoresIdenticalState runs in both state layouts: the
// restored node reads and proves the same, knows the chain's layout, and
// writes the next blocks (a create, a deactivation that supersedes a
// version) to the same app hash as the source.
func TestSnapshotRestoresIdenticalState(t *testing.T) {
	for _, l := range []ledger.StateLayout{ledger.LayoutRecordsOnce, ledger.LayoutEveryVersion} {
		t.Run(fmt.Sprintf("layout %d", l), func(t *testing.T) { testSnapshotRestoresIdenticalState(t, l) })
	}
}

func testSnapshotRestoresIdenticalState(t *testing.T, layout ledger.StateLayout) {
	h := newHarnessLayout(t, Config{SnapshotInterval: 5, KeepVersions: 2}, nil, layout)
	updated, issuer := history(h, 400)
	snapshotNow(t, h)
	height, appHash := h.app.LastCommit()
	dst, res := restoreInto(t, h, nil, appHash)
	if res != abci.ResponseApplySnapshotChunk_ACCEPT {
		t.Fatalf("restore ended %v", res)
	}
	gotH, gotHash := dst.LastCommit()
	if gotH != height || !bytes.Equal(gotHash, appHash) {
		t.Fatalf("restored state at %d %X, want %d %X", gotH, gotHash, height, appHash)
	}
	// Identical reads and proofs.
	if dst.layout != layout {
		t.Fatalf("restored state in layout %d, the chain's is %d", dst.layout, layout)
	}
	for _, id := range []string{updated.did, issuer.did} {
		for _, v := range []string{"", "1", "2", "3", "4"} {
			a, errA := h.app.ResolveDID(id, ledger.ResolveOptions{VersionID: v})
			b, errB := dst.ResolveDID(id, ledger.ResolveOptions{VersionID: v})
			if fmt.Sprint(a, errA) != fmt.Sprint(b, errB) {
				t.Errorf("ResolveDID(%s, %q): source %v %v, restored %v %v", id, v, a, errA, b, errB)
			}
		}
	}
	for _, k := range [][]byte{ledger.DIDKey(updated.did), ledger.DIDVersionKey(updated.did, 2), ledger.DIDVersionKey(updated.did, 3), ledger.IssuerKey(issuer.did), ledger.StatusListVersionKey(historyList(issuer), 1), []byte("did/did:medid:none")} {
		qa, _ := h.app.Query(context.Background(), &abci.RequestQuery{Path: ledger.QueryKey, Data: k, Prove: true})
		qb, _ := dst.Query(context.Background(), &abci.RequestQuery{Path: ledger.QueryKey, Data: k, Prove: true})
		if qa.Code != qb.Code || !bytes.Equal(qa.Value, qb.Value) || qa.ProofOps.String() != qb.ProofOps.String() {
			t.Errorf("query %s differs after restore", k)
		}
	}
	// The index was rebuilt: the restored node knows every DID, and in
	// layout 2 reads each through its leaf pointer.
	if _, err := dst.ResolveDID(updated.did, ledger.ResolveOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := indexMatchesTree(t, dst); n < 400 {
		t.Errorf("%d DIDs in the restored state, want at least 400", n)
	}
	// What lives beside the tree was loaded too: the directory's search
	// index and the quota policy genesis wrote (state sync runs no
	// InitChain).
	q := ledger.DirectorySearch{Query: "st mary"}
	pa, errA := h.app.SearchDirectory(q)
	pb, errB := dst.SearchDirectory(q)
	if errB != nil || len(pb.Results) != 1 || pb.Results[0].DID != issuer.did || fmt.Sprint(pa, errA) != fmt.Sprint(pb, errB) {
		t.Errorf("directory search after restore: %+v %v; source %+v %v", pb, errB, pa, errA)
	}
	if fmt.Sprint(dst.policy) != fmt.Sprint(h.app.policy) {
		t.Errorf("quota policy after restore: %+v, want %+v", dst.policy, h.app.policy)
	}
	// Both continue with the same block to the same app hash.
	next := h.height() + 1
	id := newIdentity(t, 77)
	raw := h.createTx(id)
	deact := h.sign(h.must(tx.NewDIDDeactivate(issuer.did, "1")), issuer.keys[0], issuer.kid(0))
	txs := [][]byte{raw, deact}
	ra, _ := h.app.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: next, Time: blockTime(next), Txs: txs})
	rb, err := dst.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: next, Time: blockTime(next), Txs: txs})
	if err != nil || !bytes.Equal(ra.AppHash, rb.AppHash) || rb.TxResults[0].Code != 0 || rb.TxResults[1].Code != 0 {
		t.Fatalf("next block after restore: %X vs %X (%v, %v)", ra.AppHash, rb.AppHash, err, rb.TxResults)
	}
}

func TestSnapshotRestoreRefusesBadData(t *testing.T) {
	h := newHarnessCfg(t, Config{SnapshotInterval: 5})
	history(h, 60)
	snapshotNow(t, h)
	_, appHash := h.app.LastCommit()
	t.Run("corrupt chunk is fetched again", func(t *testing.T) {
		_, res := restoreInto(t, h, func(i int, c []byte) []byte {
			c = bytes.Clone(c)
			c[len(c)/2] ^= 1
			return c
		}, appHash)
		if res != abci.ResponseApplySnapshotChunk_RETRY {
			t.Fatalf("a chunk that does not match its hash: %v, want RETRY", res)
		}
	})
	t.Run("state that does not hash to the trusted app hash", func(t *testing.T) {
		wrong := bytes.Clone(appHash)
		wrong[0] ^= 1
		dst, res := restoreInto(t, h, nil, wrong)
		if res != abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT {
			t.Fatalf("restore against another app hash: %v, want REJECT_SNAPSHOT", res)
		}
		if ht, _ := dst.LastCommit(); ht != 0 {
			t.Fatalf("a refused snapshot left state at height %d", ht)
		}
		// The wiped node can take the right snapshot afterwards.
		list, _ := h.app.ListSnapshots(context.Background(), &abci.RequestListSnapshots{})
		snap := list.Snapshots[0]
		if o, _ := dst.OfferSnapshot(context.Background(), &abci.RequestOfferSnapshot{Snapshot: snap, AppHash: appHash}); o.Result != abci.ResponseOfferSnapshot_ACCEPT {
			t.Fatalf("second offer: %v", o)
		}
		for i := uint32(0); i < snap.Chunks; i++ {
			c, _ := h.app.LoadSnapshotChunk(context.Background(), &abci.RequestLoadSnapshotChunk{Height: snap.Height, Format: snap.Format, Chunk: i})
			r, err := dst.ApplySnapshotChunk(context.Background(), &abci.RequestApplySnapshotChunk{Index: i, Chunk: c.Chunk})
			if err != nil || r.Result != abci.ResponseApplySnapshotChunk_ACCEPT {
				t.Fatalf("chunk %d: %v %v", i, r, err)
			}
		}
		if _, got := dst.LastCommit(); !bytes.Equal(got, appHash) {
			t.Fatal("the second restore did not reach the app hash")
		}
	})
	t.Run("offers", func(t *testing.T) {
		list, _ := h.app.ListSnapshots(context.Background(), &abci.RequestListSnapshots{})
		good := *list.Snapshots[0]
		dst, _ := New(Config{Dir: t.TempDir()})
		defer dst.Close()
		for _, tc := range []struct {
			name string
			snap abci.Snapshot
			hash []byte
			want abci.ResponseOfferSnapshot_Result
		}{
			{"other format", func() abci.Snapshot { s := good; s.Format = 9; return s }(), appHash, abci.ResponseOfferSnapshot_REJECT_FORMAT},
			{"chunk count differs", func() abci.Snapshot { s := good; s.Chunks++; return s }(), appHash, abci.ResponseOfferSnapshot_REJECT},
			{"hash differs", func() abci.Snapshot { s := good; s.Hash = bytes.Repeat([]byte{1}, 32); return s }(), appHash, abci.ResponseOfferSnapshot_REJECT},
			{"metadata not JSON", func() abci.Snapshot { s := good; s.Metadata = []byte("x"); return s }(), appHash, abci.ResponseOfferSnapshot_REJECT},
			{"no trusted app hash", good, nil, abci.ResponseOfferSnapshot_REJECT},
		} {
			o, err := dst.OfferSnapshot(context.Background(), &abci.RequestOfferSnapshot{Snapshot: &tc.snap, AppHash: tc.hash})
			if err != nil || o.Result != tc.want {
				t.Errorf("%s: %v %v, want %v", tc.name, o, err, tc.want)
			}
		}
		// A node with state refuses to restore over it.
		if o, _ := h.app.OfferSnapshot(context.Background(), &abci.RequestOfferSnapshot{Snapshot: &good, AppHash: appHash}); o.Result != abci.ResponseOfferSnapshot_ABORT {
			t.Errorf("offer to a node with state: %v, want ABORT", o)
		}
	})
}

func TestSnapshotsKeptAndBlocksRetained(t *testing.T) {
	h := newHarnessCfg(t, Config{SnapshotInterval: 3, SnapshotKeep: 2, KeepBlocks: 2})
	var retains []int64
	for range 13 {
		h.finalize()
		resp, err := h.app.Commit(context.Background(), &abci.RequestCommit{})
		if err != nil {
			t.Fatal(err)
		}
		retains = append(retains, resp.RetainHeight)
		if err := h.app.WaitSnapshots(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := h.app.ListSnapshots(context.Background(), &abci.RequestListSnapshots{})
	var heights []uint64
	for _, s := range list.Snapshots {
		heights = append(heights, s.Height)
	}
	if fmt.Sprint(heights) != "[12 9]" {
		t.Fatalf("snapshots kept: %v, want [12 9]", heights)
	}
	// No block may go before a snapshot exists, and never above the oldest kept.
	if retains[0] != 0 || retains[1] != 0 || retains[12] != 9 {
		t.Fatalf("retain heights: %v", retains)
	}
	if hgt, at := h.app.LastSnapshot(); hgt != 12 || at.IsZero() {
		t.Fatalf("LastSnapshot: %d %v", hgt, at)
	}
}

// FuzzSnapshotStream: the node stream parser (untrusted bytes from peers)
// never panics and bounds what it allocates; a stream it accepts re-encodes
// to the same bytes.
func FuzzSnapshotStream(f *testing.F) {
	f.Add([]byte{0, 1, 3, 'k', 'e', 'y', 2, 'v'})
	f.Add([]byte{1, 5, 1, 'k', 0})
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		for {
			n, err := readExportNode(br)
			if err != nil {
				return // io.EOF ends a clean stream; anything else is refused
			}
			if len(n.Key) > maxExportKey || len(n.Value) > maxExportValue || n.Height < 0 || n.Version < 1 {
				t.Fatalf("accepted an out-of-bounds node: %d %d %d %d", len(n.Key), len(n.Value), n.Height, n.Version)
			}
		}
	})
}

// testLogger sends an App's logs to the test log.
func testLogger(t testing.TB) *slog.Logger {
	if _, ok := t.(*testing.B); ok {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// snapshotNow commits empty blocks until the newest snapshot is of the
// current height (a snapshot is skipped while the previous one is still
// being written).
func snapshotNow(t testing.TB, h *harness) {
	t.Helper()
	for range 100 {
		if err := h.app.WaitSnapshots(context.Background()); err != nil {
			t.Fatal(err)
		}
		if hs, _ := h.app.LastSnapshot(); hs == h.height() {
			return
		}
		h.block()
	}
	t.Fatal("no snapshot of the current height after 100 blocks")
}

// TestOfferedSnapshotOutlivesPruning: a snapshot offered to a joining peer
// is still there when the peer fetches its chunks, though newer snapshots
// were written meanwhile (the walkthrough's joining node once retried a
// pruned snapshot's chunk for a minute: "cannot add nil chunk"); after
// snapshotGrace it is pruned as usual.
func TestOfferedSnapshotOutlivesPruning(t *testing.T) {
	ctx := context.Background()
	h := newHarnessCfg(t, Config{SnapshotInterval: 3, SnapshotKeep: 2})
	kept := func() string {
		list, err := h.app.snapshots()
		if err != nil {
			t.Fatal(err)
		}
		var hs []uint64
		for _, s := range list {
			hs = append(hs, s.Height)
		}
		return fmt.Sprint(hs)
	}
	chunk := func(height uint64) int {
		r, err := h.app.LoadSnapshotChunk(ctx, &abci.RequestLoadSnapshotChunk{Height: height, Format: SnapshotFormat, Chunk: 0})
		if err != nil {
			t.Fatal(err)
		}
		return len(r.Chunk)
	}
	h.emptyBlocksSnapshotted(6)
	if got := kept(); got != "[6 3]" {
		t.Fatalf("snapshots before the offer: %s, want [6 3]", got)
	}
	if _, err := h.app.ListSnapshots(ctx, &abci.RequestListSnapshots{}); err != nil {
		t.Fatal(err)
	}
	h.emptyBlocksSnapshotted(6) // snapshots 9 and 12: 3 and 6 would be pruned but were offered
	if got := kept(); got != "[12 9 6 3]" {
		t.Fatalf("snapshots after the offer: %s, want [12 9 6 3]", got)
	}
	if chunk(3) == 0 || chunk(6) == 0 {
		t.Fatal("an offered snapshot's chunk is gone while its peer may still fetch it")
	}
	// The grace passes: the next snapshot prunes them.
	h.app.offeredMu.Lock()
	for k, at := range h.app.offered {
		h.app.offered[k] = at.Add(-snapshotGrace)
	}
	h.app.offeredMu.Unlock()
	h.emptyBlocksSnapshotted(3)
	if got := kept(); got != "[15 12]" {
		t.Fatalf("snapshots after the grace: %s, want [15 12]", got)
	}
	if chunk(3) != 0 {
		t.Fatal("a pruned snapshot still serves chunks")
	}
}

// TestNoSnapshotWhileCatchingUp: a node that is catching up with the
// network (block sync after a state sync join) writes no snapshot; once it
// follows the chain it snapshots at the interval again.
func TestNoSnapshotWhileCatchingUp(t *testing.T) {
	h := newHarnessCfg(t, Config{SnapshotInterval: 3, SnapshotKeep: 5})
	var catchingUp atomic.Bool
	catchingUp.Store(true)
	h.app.PauseSnapshotsWhile(catchingUp.Load)
	h.emptyBlocksSnapshotted(7)
	if list, _ := h.app.snapshots(); len(list) != 0 {
		t.Fatalf("%d snapshots written while catching up", len(list))
	}
	if hs, _ := h.app.LastSnapshot(); hs != 0 {
		t.Fatalf("LastSnapshot %d while catching up", hs)
	}
	catchingUp.Store(false)
	h.emptyBlocksSnapshotted(2) // heights 8, 9
	if hs, _ := h.app.LastSnapshot(); hs != 9 {
		t.Fatalf("LastSnapshot %d after catching up, want 9", hs)
	}
}
