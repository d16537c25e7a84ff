package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/logbuf"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

// updateTx is a did.update of id to its document with one service entry
// naming n (so every version differs), at version prev.
func updateTx(t *testing.T, id *nodetest.Identity, prev, n int) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(id.Doc, &doc); err != nil {
		t.Fatal(err)
	}
	doc["service"] = []map[string]string{{"id": id.DID + "#svc", "type": "LinkedDomains", "serviceEndpoint": "https://hospital.example/" + strconv.Itoa(n)}}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return nodetest.Sign(t, nodetest.Must(t)(tx.NewDIDUpdate(id.DID, b, strconv.Itoa(prev))), id.Key, id.KID())
}

// TestLayoutMoveFourNodesSpread: four validators of a layout 1 network
// move to layout 2 over many blocks (Config.LayoutMoveBatch: a few DIDs
// per block, the same on every validator), with did.create and did.update
// landing in the blocks of the move, on DIDs the move has passed and DIDs
// it has not reached. One validator is stopped before the move and
// restarted while the three others are in the middle of it: it replays the
// move's blocks and follows the rest live. CometBFT checks each block's
// header app hash against every node's own result of the block before (a
// node that computed another would stop), every node's block store holds
// the same headers, every node ends at the same app hash, and every read
// of every DID (current, each versionId) is the same on the four.
func TestLayoutMoveFourNodesSpread(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four nodes and makes over a hundred blocks")
	}
	const batch = 4
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out := processDir(t, "movespread")
	base, err := node.FreeBasePort(4)
	if err != nil {
		t.Fatal(err)
	}
	res, err := node.Testnet(node.TestnetConfig{Validators: 4, OutDir: out, BasePort: base, BlockTime: 100 * time.Millisecond,
		ChainID: "medid-move-spread", StateLayout: ledger.LayoutEveryVersion, Protocol: ledger.BaseProtocol})
	if err != nil {
		t.Fatal(err)
	}
	cfg := machine.Config{SnapshotInterval: -1, LayoutMoveBatch: batch}
	ms := make([]*member, 4)
	logs := make([]*logbuf.Buffer, 4)
	for i, r := range res {
		logs[i] = &logbuf.Buffer{}
		ms[i] = startLayout1Member(t, r.Home, cfg, logs[i])
	}
	waitFor(t, time.Minute, "the first block", func() bool { h, _ := ms[0].app.LastCommit(); return h >= 1 })
	c0, err := client.New(client.Config{URL: ms[0].url})
	if err != nil {
		t.Fatal(err)
	}

	// DIDs and their versions.
	var ids []*nodetest.Identity
	version := map[string]int{}
	writes := 0
	create := func() []byte {
		id := nodetest.NewIdentity(t, fmt.Sprintf("spread-%d", len(ids)))
		ids = append(ids, id)
		version[id.DID] = 1
		return id.CreateTx(t)
	}
	update := func(id *nodetest.Identity) []byte {
		writes++
		version[id.DID]++
		return updateTx(t, id, version[id.DID]-1, writes)
	}
	var first [][]byte
	for range 40 {
		first = append(first, create())
	}
	if rs, err := c0.SubmitBatch(ctx, first); err != nil || len(rs) != len(first) {
		t.Fatalf("the first DIDs: %d results, %v", len(rs), err)
	} else {
		for i, r := range rs {
			if r.Err != nil || r.Result.Code != 0 {
				t.Fatalf("create %d: %+v", i, r)
			}
		}
	}
	submit := func(raw []byte) int64 {
		t.Helper()
		r, err := c0.Submit(ctx, raw)
		if err != nil || r.Code != 0 {
			t.Fatalf("submit: %+v, %v", r, err)
		}
		return r.Height
	}

	var govs []*key.PrivateKey
	for _, r := range res {
		govs = append(govs, govKey(t, r.Home))
	}
	H := ms[0].node.Height() + ledger.MinLayoutMoveLead + 10
	move := tx.Proposal{ID: "move-to-2", Action: tx.ActionLayoutSchedule, Layout: &tx.ProposedLayout{Layout: tx.MoveToLayout, Height: H}}
	rec, _, err := c0.Propose(ctx, govs[0], move)
	for _, g := range govs[1:3] {
		if err == nil {
			rec, _, err = c0.Approve(ctx, g, move.ID)
		}
	}
	if err != nil || rec.Status != ledger.ProposalExecuted {
		t.Fatalf("the schedule: %+v, %v", rec, err)
	}
	// Updates make the blocks up to H-15 (each DID updated a few times),
	// then node 3 stops once the network is quiescent (stopping a CometBFT
	// node while a peer catches up can panic, see bench4_test.go).
	for n := 0; ms[0].node.Height() < H-15; n++ {
		submit(update(ids[n%len(ids)]))
	}
	all := []*node.Node{ms[0].node, ms[1].node, ms[2].node, ms[3].node}
	waitFor(t, time.Minute, "a quiescent network", func() bool {
		h := heights(all)
		time.Sleep(400 * time.Millisecond)
		return slices.Min(h) == slices.Max(h) && slices.Equal(h, heights(all))
	})
	stopped, _ := ms[3].app.LastCommit()
	if err := ms[3].node.Stop(); err != nil {
		t.Fatal(err)
	}
	ms[3].srv.Close()
	if err := ms[3].app.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("move scheduled at %d; node 3 stopped at %d", H, stopped)

	// Three validators (30 of 40 power) go on: writes up to H-1, then
	// writes during the move, and node 3 restarted once node 0 is in the
	// middle of it.
	for n := 0; ms[0].node.Height() < H-1; n++ {
		submit(update(ids[(n*7)%len(ids)]))
	}
	var during []int64 // heights of the writes made while the move is under way
	restartedAt := int64(-1)
	for n := 0; ms[0].app.StateLayout() != ledger.LayoutRecordsOnce; n++ {
		if ctx.Err() != nil {
			t.Fatalf("the move does not end: %v", ctx.Err())
		}
		_, mv, err := ms[0].app.LayoutMove()
		if err != nil {
			t.Fatal(err)
		}
		if restartedAt < 0 && mv != nil && mv.Cursor != "" && mv.Moved >= 2*batch {
			restartedAt, _ = ms[0].app.LastCommit()
			logs[3] = &logbuf.Buffer{}
			ms[3] = startLayout1Member(t, res[3].Home, cfg, logs[3])
		}
		// A DID the move has passed and one it has not reached (in key
		// order), and a new DID.
		var done, notYet *nodetest.Identity
		for _, id := range ids {
			switch {
			case mv != nil && mv.Cursor != "" && id.DID <= mv.Cursor:
				done = id
			case notYet == nil && (mv == nil || mv.Cursor == "" || id.DID > mv.Cursor):
				notYet = id
			}
		}
		txs := [][]byte{create()}
		for _, id := range []*nodetest.Identity{done, notYet} {
			if id != nil {
				txs = append(txs, update(id))
			}
		}
		rs, err := c0.SubmitBatch(ctx, txs)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			if r.Err != nil || r.Result.Code != 0 {
				t.Fatalf("write %d during the move: %+v", i, r)
			}
			during = append(during, r.Result.Height)
		}
	}
	if restartedAt < 0 {
		t.Fatal("the move ended before node 3 was restarted")
	}
	// Writes after the move, so every node has blocks to follow.
	for n := range 3 {
		submit(update(ids[n]))
	}
	m := movedAt.FindStringSubmatch(logs[0].String())
	if m == nil {
		t.Fatalf("node 0 did not log the end of the move:\n%s", logs[0].String())
	}
	end, _ := strconv.ParseInt(m[1], 10, 64)
	if blocks := end - H + 1; blocks < 4 {
		t.Fatalf("the move took %d blocks (%d to %d), want at least 4", blocks, H, end)
	}
	var inMove int
	for _, h := range during {
		if h >= H && h <= end {
			inMove++
		}
	}
	if inMove < 3 {
		t.Errorf("%d writes landed in the blocks of the move (%d..%d): heights %v", inMove, H, end, during)
	}
	t.Logf("%d DIDs moved %d per block over blocks %d..%d; %d writes in those blocks; node 3 restarted at the network's height %d", len(ids), batch, H, end, inMove, restartedAt)

	// All four at one height with one app hash.
	waitFor(t, 2*time.Minute, "the four validators at one height", func() bool {
		h0, x0 := ms[0].app.LastCommit()
		for _, m := range ms[1:] {
			if h, x := m.app.LastCommit(); h != h0 || !bytes.Equal(x, x0) {
				return false
			}
		}
		return true
	})
	last, _ := ms[0].app.LastCommit()
	for h := int64(1); h <= last; h++ {
		b0 := ms[0].node.Block(h)
		for i, m := range ms[1:] {
			if b := m.node.Block(h); b0 == nil || b == nil || !bytes.Equal(b.AppHash, b0.AppHash) || !bytes.Equal(b.Hash(), b0.Hash()) {
				t.Fatalf("height %d: node %d's block differs from node 0's", h, i+1)
			}
		}
	}
	for i, m := range ms {
		if l := m.app.StateLayout(); l != ledger.LayoutRecordsOnce {
			t.Errorf("node %d in layout %d", i, l)
		}
		if want := fmt.Sprintf("msg=\"moved the state layout\" height=%d layout=2", end); !strings.Contains(logs[i].String(), want) {
			t.Errorf("node %d did not log %q", i, want)
		}
		if n := strings.Count(logs[i].String(), `msg="moving the state layout"`); i == 3 && n == 0 {
			t.Errorf("node 3 ran none of the move's blocks before its restart's end: %d", n)
		}
	}
	// Every read the same on the four, and layout 2's keys: under didv/
	// only the superseded versions.
	superseded := 0
	for _, id := range ids {
		superseded += version[id.DID] - 1
		for n := 0; n <= version[id.DID]+1; n++ {
			o := ledger.ResolveOptions{}
			if n > 0 {
				o.VersionID = strconv.Itoa(n)
			}
			var want string
			for i, m := range ms {
				rec, err := m.app.ResolveDID(id.DID, o)
				b, _ := json.Marshal(rec)
				got := fmt.Sprint(string(b), err)
				if i == 0 {
					want = got
					if n >= 1 && n <= version[id.DID] && (err != nil || rec.Metadata.VersionID != strconv.Itoa(n)) {
						t.Errorf("%s version %d on node 0: %s", id.DID, n, got)
					}
				} else if got != want {
					t.Errorf("%s %+v: node %d reads %s, node 0 %s", id.DID, o, i, got, want)
				}
			}
		}
	}
	for i, m := range ms {
		var didv int
		if err := m.app.Scan(ledger.PrefixDIDVersion, func(_, _ []byte) error { didv++; return nil }); err != nil {
			t.Fatal(err)
		}
		if didv != superseded {
			t.Errorf("node %d: %d keys under %s, want the %d superseded versions", i, didv, ledger.PrefixDIDVersion, superseded)
		}
	}
	stopAtEnd("movespread", out, ms)
}

var movedAt = regexp.MustCompile(`msg="moved the state layout" height=(\d+)`)
