package node_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/store"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/tx"
)

// Red team 5 (issue 18): protocol 5 names a filing by the hash CometBFT
// passes in RequestFinalizeBlock.Hash, and an App refuses a block without
// one from protocol 5 on (an error there stops the node). CometBFT's code
// passes block.Hash() (the header's hash, which the commit signs) on every
// path that executes a block: consensus and block sync (ApplyBlock,
// ApplyVerifiedBlock) and the handshake's replay (ExecCommitBlock for the
// blocks an App lacks, ApplyBlock for the last one), in v0.38 and v0.39
// alike; state sync executes no block. These tests run those paths on a
// real node and check that the name an App stores is that hash, the same
// after every replay.

// rt5Node is a single-validator registry node (registryd init) whose
// genesis starts at this release's protocol, started on its home.
type rt5Node struct {
	t    *testing.T
	home string
	peer string // its id@address
	m    *member
	c    *client.Client
}

func newRt5Node(t *testing.T) *rt5Node {
	t.Helper()
	home := processDir(t, "rt5")
	p2p, err := node.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	res, err := node.Init(node.InitConfig{Home: home, ChainID: "medid-rt5", P2PAddr: p2p, BlockTime: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	n := &rt5Node{t: t, home: home, peer: res.NodeID + "@" + p2p}
	n.start()
	return n
}

func (n *rt5Node) appDir() string { return filepath.Join(n.home, "data", "registry") }

func (n *rt5Node) start() {
	n.t.Helper()
	n.m = startMember(n.t, n.home, machine.Config{})
	c, err := client.New(client.Config{URL: n.m.url})
	if err != nil {
		n.t.Fatal(err)
	}
	n.c = c
	waitFor(n.t, time.Minute, "the node to commit", func() bool { h, _ := n.m.app.LastCommit(); return h >= 1 })
}

// stop stops the node and closes its App: nothing of it runs afterwards.
func (n *rt5Node) stop() {
	n.t.Helper()
	if err := n.m.node.Stop(); err != nil {
		n.t.Logf("stop: %v", err)
	}
	n.m.srv.Close()
	if err := n.m.app.Close(); err != nil {
		n.t.Fatal(err)
	}
}

// settle waits until the node has made the empty block CometBFT makes
// after a block that changed the app hash, so the App and the block store
// end at the same height with nothing in flight: the newest block's
// header carries the App's app hash (the block changed nothing). It
// returns that height.
func (n *rt5Node) settle() int64 {
	n.t.Helper()
	var h int64
	waitFor(n.t, time.Minute, "the node to settle", func() bool {
		h = n.m.node.Height()
		a, hash := n.m.app.LastCommit()
		if h == 0 || a != h {
			return false
		}
		b := n.m.node.Block(h)
		return b != nil && string(b.AppHash) == string(hash)
	})
	return h
}

// blockHash is the hash of the block at height in the node's block store,
// in hex: what the header commits to and the commit signs.
func (n *rt5Node) blockHash(height int64) string {
	n.t.Helper()
	b := n.m.node.Block(height)
	if b == nil {
		n.t.Fatalf("no block %d", height)
	}
	return hex.EncodeToString(b.Hash())
}

func rt5Gov(t *testing.T, i int) *key.PrivateKey {
	t.Helper()
	k, err := key.NewEd25519FromSeed([]byte(fmt.Sprintf("redteam5 governance key %08d", i)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// copyDir copies the folder src (a stopped App's state) to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRedteam5ReplayNamesTheSameBlock: a protocol-5 chain on a real
// CometBFT node. Each filing stores the hash of the block that filed it
// as CometBFT's block store has it (block 1 included: CometBFT builds the
// first block's hash from an empty last commit). The node is then made to
// re-execute the blocks through each path of CometBFT's handshake:
//   - the App's state removed (InitChain, then every block replayed by
//     ExecCommitBlock from block 1);
//   - the App's state from before the filing (the blocks it lacks
//     replayed by ExecCommitBlock);
//   - that state with CometBFT's state rolled back one block, as a crash
//     between the App's Commit and CometBFT's saving of its state leaves
//     it (the blocks replayed by ExecCommitBlock, the last by ApplyBlock);
//   - after the open filing is approved by the name the replayed node
//     serves (and carried), a crash between FinalizeBlock and Commit of
//     the filing's block itself (the blocks after it removed, CometBFT's
//     state and the App's a block back: the filing's block executed by
//     ApplyBlock).
//
// Each time the node comes back at the same height and app hash (CometBFT
// itself panics on a replayed app hash that differs) and the record names
// the same block.
func TestRedteam5ReplayNamesTheSameBlock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and restarts a node four times")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	n := newRt5Node(t)
	gov0 := govKey(t, n.home)
	if p := n.m.app.Protocol().Version; p < ledger.FilingBlockProtocol {
		t.Fatalf("the chain runs protocol %d", p)
	}
	// The sole key adds a second (carried at once), so the next filing
	// stays open until the second approves it.
	g1 := rt5Gov(t, 1)
	added, _, err := n.c.Propose(ctx, gov0, tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: did.KeyDID(g1.Public())})
	if err != nil || added.Status != ledger.ProposalExecuted {
		t.Fatalf("add a governance key: %+v, %v", added, err)
	}
	n.settle()
	n.stop()
	before := filepath.Join(processDir(t, "rt5-app"), "registry")
	copyDir(t, n.appDir(), before)
	n.start()
	open, _, err := n.c.Propose(ctx, gov0, tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: did.KeyDID(rt5Gov(t, 2).Public())})
	if err != nil || open.Status != ledger.ProposalOpen {
		t.Fatalf("file a proposal: %+v, %v", open, err)
	}
	tip := n.settle()
	names := map[string]*ledger.ProposalRecord{added.ID: added, open.ID: open}
	for id, rec := range names {
		if want := n.blockHash(rec.Height); rec.FilingBlock != want {
			t.Fatalf("proposal %s filed at %d names block %q; the block store's block %d has hash %s", id, rec.Height, rec.FilingBlock, rec.Height, want)
		}
	}
	if b := n.m.node.Block(1); b == nil || len(b.Hash()) != 32 {
		t.Fatal("block 1 in the block store has no hash")
	}
	_, appHash := n.m.app.LastCommit()
	n.stop()

	check := func(how string, appAt int64) {
		t.Helper()
		// What the App holds before the node starts: the handshake must
		// replay the blocks above it.
		a, err := machine.New(machine.Config{Dir: n.appDir()})
		if err != nil {
			t.Fatal(err)
		}
		if h, _ := a.LastCommit(); h != appAt {
			t.Fatalf("%s: the App starts at %d, want %d", how, h, appAt)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		n.start()
		h, got := n.m.app.LastCommit()
		if h < tip || (h == tip && string(got) != string(appHash)) {
			t.Fatalf("%s: the App at %d (%x), want %d (%x)", how, h, got, tip, appHash)
		}
		for id, want := range names {
			rec, err := n.m.app.Proposal(id)
			if err != nil || rec.FilingBlock != want.FilingBlock || rec.Height != want.Height {
				t.Fatalf("%s: proposal %s filed at %d in block %q, want %d %q (%v)", how, id, rec.Height, rec.FilingBlock, want.Height, want.FilingBlock, err)
			}
		}
	}
	// 1. The App's state removed: everything replayed from block 1.
	if err := os.RemoveAll(n.appDir()); err != nil {
		t.Fatal(err)
	}
	check("the App's state removed", 0)
	n.stop()
	// 2. The App's state from before the filing.
	if err := os.RemoveAll(n.appDir()); err != nil {
		t.Fatal(err)
	}
	copyDir(t, before, n.appDir())
	check("the App's state from before the filing", open.Height-1)
	n.stop()
	// 3. The same, and CometBFT's state one block back (the last block
	// replayed through ApplyBlock, with the App).
	if err := os.RemoveAll(n.appDir()); err != nil {
		t.Fatal(err)
	}
	copyDir(t, before, n.appDir())
	if h := rollBackOne(t, n.home, false); h != tip-1 {
		t.Fatalf("CometBFT's state rolled back to %d, want %d", h, tip-1)
	}
	check("the App's state from before the filing, CometBFT's state a block back", open.Height-1)
	// The open filing, approved by the name the replayed node serves.
	rec, err := n.c.Proposal(ctx, open.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, res, err := n.c.ApproveFiling(ctx, g1, rec)
	if err != nil || res.Code != 0 || got.Status != ledger.ProposalExecuted {
		t.Fatalf("approve after the replays: %+v, %+v, %v", got, res, err)
	}
	n.settle()
	// 4. A crash between the App's FinalizeBlock and Commit of the
	// filing's block: the block store ends at the filing's block (the
	// blocks after it removed), CometBFT's state and the App's at the block
	// before; the handshake executes the filing's block with the App
	// through ApplyBlock, as consensus did. (The chain is not run on from
	// there: its validator signed the removed blocks' heights already.)
	afterFiling := n.m.node.Block(open.Height + 1).AppHash
	n.stop()
	if err := os.RemoveAll(n.appDir()); err != nil {
		t.Fatal(err)
	}
	copyDir(t, before, n.appDir())
	for n.storeHeight(t) > open.Height {
		rollBackOne(t, n.home, true)
	}
	if h := rollBackOne(t, n.home, false); h != open.Height-1 {
		t.Fatalf("CometBFT's state rolled back to %d, want %d", h, open.Height-1)
	}
	a, err := machine.New(machine.Config{Dir: n.appDir()})
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := a.LastCommit(); h != open.Height-1 {
		t.Fatalf("the App starts at %d, want %d", h, open.Height-1)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	n.start()
	// The app hash after the filing's block: the App's, or if the node
	// has made a block since, that block's header's.
	at, hash := n.m.app.LastCommit()
	if at > open.Height {
		hash = n.m.node.Block(open.Height + 1).AppHash
	}
	if at < open.Height || string(hash) != string(afterFiling) {
		t.Fatalf("the filing's block replayed: the App at %d, app hash after it %x, want %x", at, hash, afterFiling)
	}
	if rec, err := n.m.app.Proposal(open.ID); err != nil || rec.FilingBlock != open.FilingBlock {
		t.Fatalf("the filing's block replayed: %+v, %v, want block %s", rec, err, open.FilingBlock)
	}
	n.stop()
}

// storeHeight is the height of the stopped node's block store.
func (n *rt5Node) storeHeight(t *testing.T) int64 {
	t.Helper()
	db, err := dbm.NewDB("blockstore", dbm.GoLevelDBBackend, filepath.Join(n.home, "data"))
	if err != nil {
		t.Fatal(err)
	}
	bs := store.NewBlockStore(db)
	defer bs.Close()
	return bs.Height()
}

func rollBackOne(t *testing.T, home string, removeBlock bool) int64 {
	t.Helper()
	dir := filepath.Join(home, "data")
	stateDB, err := dbm.NewDB("state", dbm.GoLevelDBBackend, dir)
	if err != nil {
		t.Fatal(err)
	}
	blockDB, err := dbm.NewDB("blockstore", dbm.GoLevelDBBackend, dir)
	if err != nil {
		t.Fatal(err)
	}
	ss := sm.NewStore(stateDB, sm.StoreOptions{DiscardABCIResponses: true})
	bs := store.NewBlockStore(blockDB)
	saved, err := ss.Load()
	if err != nil {
		t.Fatal(err)
	}
	rolled, _, err := sm.Rollback(bs, ss, removeBlock)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ss.Load()
	if err != nil {
		t.Fatal(err)
	}
	st.Version = saved.Version
	if err := ss.Save(st); err != nil {
		t.Fatal(err)
	}
	if err := bs.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ss.Close(); err != nil {
		t.Fatal(err)
	}
	return rolled
}

// TestRedteam5BlockSyncNamesTheSameBlock: a node that joins a protocol-5
// chain without state sync executes every block from block 1 as CometBFT
// hands them over to a node that starts behind (block sync, CometBFT's
// default, then consensus: ApplyVerifiedBlock either way, each block's
// hash recomputed from the header it received) and stores the same
// filingBlock and app hash as the validator.
func TestRedteam5BlockSyncNamesTheSameBlock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two nodes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	v := newRt5Node(t)
	gov0 := govKey(t, v.home)
	g1 := rt5Gov(t, 1)
	if _, _, err := v.c.Propose(ctx, gov0, tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: did.KeyDID(g1.Public())}); err != nil {
		t.Fatal(err)
	}
	open, _, err := v.c.Propose(ctx, gov0, tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: did.KeyDID(rt5Gov(t, 3).Public())})
	if err != nil || open.Status != ledger.ProposalOpen || open.FilingBlock != v.blockHash(open.Height) {
		t.Fatalf("file a proposal: %+v, %v", open, err)
	}
	tip := v.settle()
	genesis, err := v.m.node.GenesisJSON()
	if err != nil {
		t.Fatal(err)
	}
	home := processDir(t, "rt5-follower")
	p2p, err := node.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := node.Join(node.JoinConfig{Home: home, Genesis: genesis, PersistentPeers: v.peer, P2PAddr: p2p, BlockTime: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	f := startMember(t, home, machine.Config{})
	waitFor(t, 2*time.Minute, "the follower to sync", func() bool { h, _ := f.app.LastCommit(); return h >= tip })
	if rec, err := f.app.Proposal(open.ID); err != nil || rec.FilingBlock != open.FilingBlock || rec.Height != open.Height {
		t.Fatalf("the follower's record: %+v, %v, want filed at %d in block %s", rec, err, open.Height, open.FilingBlock)
	}
	// The approval, on the validator; the follower executes its block too.
	got, _, err := v.c.ApproveFiling(ctx, g1, open)
	if err != nil || got.Status != ledger.ProposalExecuted {
		t.Fatalf("approve: %+v, %v", got, err)
	}
	waitAgree(t, time.Minute, "the follower to agree", v.m, f)
	if err := f.node.Stop(); err != nil {
		t.Logf("stop the follower: %v", err)
	}
	f.srv.Close()
	if err := f.app.Close(); err != nil {
		t.Fatal(err)
	}
	v.stop()
}
