package proctest

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/node/nodetest"
)

// loneCommitBound is how long a lone transaction may take to commit in
// TestLoneTransactionsCommit; relayStall is the relay's stall timer
// (registry/node.relayStallAfter).
const (
	loneCommitBound = 15 * time.Second
	relayStall      = 2 * time.Second
)

// nudgeLog is what a node logs when its relay sends waiting transactions to
// every peer again (registry/node/relay.go).
const nudgeLog = "transactions waited without a block in round 0"

// TestLoneTransactionsCommit: with the registry's direct mempool relay (the
// default; CometBFT's own gossip off), a single transaction on an idle
// chain commits promptly whichever validator it is given to, also when it
// enters the mempool without the relay (CometBFT's RPC) or while its node
// is cut off from the others. These are the cases in which limiting
// CometBFT's gossip left a transaction waiting for the empty-block
// interval (1 h): validators start a round only for transactions in their
// own mempool (docs/design/0022, decisions 7 and 8).
func TestLoneTransactionsCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four registryd processes")
	}
	t.Parallel() // mostly waiting
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	nw, err := Start(ctx, Config{Dir: t.TempDir(), BlockTime: 100 * time.Millisecond, Logf: t.Logf, Quotas: nodetest.UnlimitedCreates(),
		MempoolRelay: node.RelayDirect})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	defer func() {
		if t.Failed() {
			for _, nd := range nw.Nodes {
				var keep []string
				for _, l := range strings.Split(nd.LogTail(1<<22), "\n") {
					if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
						keep = append(keep, l)
					}
				}
				t.Logf("%s: warnings and errors of its log:\n%s", nd.Name, strings.Join(keep, "\n"))
			}
		}
	}()
	// A first transaction, untimed: the validators have connected (a
	// node that submits before its peers are up sends its mempool to
	// each as it connects), and every node has its block.
	if _, err := nw.Nodes[0].Client().Submit(ctx, nodetest.NewIdentity(t, "lone-warm").CreateTx(t)); err != nil {
		t.Fatal(err)
	}
	for _, nd := range nw.Nodes[1:] {
		if _, err := nd.WaitCaughtUpWith(ctx, nw.Nodes[0]); err != nil {
			t.Fatal(err)
		}
	}
	nudges := func() int {
		n := 0
		for _, nd := range nw.Nodes {
			n += strings.Count(nd.LogTail(1<<22), nudgeLog)
		}
		return n
	}

	// 1. Through the API, one at a time, to each validator in turn. Three
	// rounds over the four validators meet several proposers of round 0.
	// Each must commit well within a minute (limited CometBFT gossip
	// left such a transaction for the empty-block interval, 1 h); the
	// bound allows a round that timed out and a resend by the stall timer
	// on a loaded machine. Usually the direct relay alone brings it to the
	// proposer in a few hundred milliseconds.
	const rounds = 3
	slow := 0
	for i := range rounds * len(nw.Nodes) {
		nd := nw.Nodes[i%len(nw.Nodes)]
		id := nodetest.NewIdentity(t, fmt.Sprintf("lone-api-%d", i))
		start := time.Now()
		sctx, scancel := context.WithTimeout(ctx, loneCommitBound)
		_, err := nd.Client().Submit(sctx, id.CreateTx(t))
		scancel()
		if err != nil {
			// The client gives up after 5 s: wait for the commit itself.
			waitResolvable(ctx, t, nd, id.DID, loneCommitBound-time.Since(start))
		}
		took := time.Since(start)
		if took > relayStall {
			slow++
		}
		t.Logf("lone transaction %d through %s committed in %s", i, nd.Name, took.Round(time.Millisecond))
	}
	t.Logf("%d of %d lone API transactions took longer than %s; %d resends by the stall timer", slow, rounds*len(nw.Nodes), relayStall, nudges())

	// 2. Through CometBFT's RPC (broadcast_tx_sync), which the relay does
	// not see: the transaction is in one mempool only. Unless that node
	// proposes round 0, the stall timer must send it on.
	for i, nd := range nw.Nodes {
		id := nodetest.NewIdentity(t, fmt.Sprintf("lone-rpc-%d", i))
		start := time.Now()
		broadcastRPC(ctx, t, nd, id.CreateTx(t))
		waitResolvable(ctx, t, nd, id.DID, loneCommitBound)
		t.Logf("lone RPC transaction %d through %s committed in %s", i, nd.Name, time.Since(start).Round(time.Millisecond))
	}
	t.Logf("%d nudges for transactions that entered one mempool through the RPC", nudges())

	// 3. Given to a node cut off from the others: once its links are back,
	// the peers that reconnect receive what waits in its mempool.
	cut := nw.Nodes[3]
	nw.Partition(cut.Index)
	id := nodetest.NewIdentity(t, "lone-partitioned")
	sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
	_, err = cut.Client().Submit(sctx, id.CreateTx(t))
	scancel()
	if err == nil {
		t.Fatal("a node cut off from every other validator committed a transaction")
	}
	nw.Heal(cut.Index)
	start := time.Now()
	waitResolvable(ctx, t, nw.Nodes[0], id.DID, 2*loneCommitBound)
	t.Logf("transaction given to a cut-off node committed %s after its links came back", time.Since(start).Round(time.Millisecond))
}

// broadcastRPC puts raw into nd's mempool through CometBFT's JSON-RPC.
func broadcastRPC(ctx context.Context, t *testing.T, nd *Node, raw []byte) {
	t.Helper()
	u := fmt.Sprintf("http://%s/broadcast_tx_sync?tx=0x%s", nd.RPC, hex.EncodeToString(raw))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("broadcast_tx_sync on %s: %v", nd.Name, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"code":0`) {
		t.Fatalf("broadcast_tx_sync on %s: %s %s", nd.Name, resp.Status, body)
	}
}

// waitResolvable waits up to d until nd resolves did.
func waitResolvable(ctx context.Context, t *testing.T, nd *Node, did string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if _, err := nd.Client().Resolve(ctx, did); err == nil {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("%s not resolvable on %s after %s: %v", did, nd.Name, d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
