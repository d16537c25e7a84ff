package proctest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/node/nodetest"
)

// syncDIDs is how many DIDs the network holds when the fifth node joins:
// 1,000 in `make test`; MEDID_STATESYNC_DIDS sets more (`make faults`
// runs 20,000; BENCHMARKS.md reports BenchmarkJoin).
func syncDIDs(t testing.TB) int {
	if s := os.Getenv("MEDID_STATESYNC_DIDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("MEDID_STATESYNC_DIDS=%q", s)
		}
		return n
	}
	return 1000
}

// TestFifthNodeJoinsByStateSync: a fifth node joins a four-validator
// network holding thousands of DIDs with `registryd join --state-sync on`,
// restores a snapshot instead of replaying the chain, and then serves the
// same reads as the others, with proofs a genesis-only client verifies,
// and the same blocks from its snapshot height on.
func TestFifthNodeJoinsByStateSync(t *testing.T) {
	if testing.Short() {
		t.Skip("runs five registryd processes")
	}
	t.Parallel() // mostly waiting: the two networks overlap in `make test`
	n := syncDIDs(t)
	// Registering runs at 200-600 DIDs/s on a shared 2-core machine.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute+time.Duration(n/100)*time.Second)
	defer cancel()
	nw, err := Start(ctx, Config{Dir: t.TempDir(), BlockTime: 50 * time.Millisecond, Logf: t.Logf, Quotas: nodetest.UnlimitedCreates(),
		App: node.AppSettings{SnapshotInterval: 20, KeepVersions: 10}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	start := time.Now()
	dids, err := nw.CreateDIDs(ctx, n, 256)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d DIDs registered in %s", len(dids), time.Since(start).Round(time.Millisecond))
	// Let a snapshot cover them: write until the newest snapshot is above
	// the height of the last DID.
	top, _ := nw.Nodes[0].Height(ctx)
	for {
		ni, err := nw.Nodes[0].Client().Network(ctx)
		if err == nil && ni.SnapshotHeight > top {
			break
		}
		if _, err := nw.CreateDIDs(ctx, 5, 5); err != nil {
			t.Fatal(err)
		}
	}
	joinStart := time.Now()
	fifth, err := nw.Join(ctx, "node4", true)
	if err != nil {
		t.Fatal(err)
	}
	target, _ := nw.Nodes[0].Height(ctx)
	if err := fifth.WaitHeight(ctx, target); err != nil {
		t.Fatal(err)
	}
	joined := time.Since(joinStart)
	base := fifth.base(ctx)
	if base <= 1 {
		t.Fatalf("the fifth node serves block %d: it replayed the chain instead of restoring a snapshot", base)
	}
	t.Logf("the fifth node joined by state sync in %s (snapshot at height %d, network at %d)", joined.Round(time.Millisecond), base, target)

	// Identical reads: every DID, plain, on the new node and on node0.
	c4, c0 := fifth.Client(), nw.Nodes[0].Client()
	readStart := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(dids); i += 16 {
				d := dids[i]
				a, errA := c4.Resolve(ctx, d)
				b, errB := c0.Resolve(ctx, d)
				ja, _ := json.Marshal(a)
				jb, _ := json.Marshal(b)
				if errA != nil || errB != nil || !bytes.Equal(ja, jb) {
					errs <- fmt.Errorf("%s: node4 %s %v, node0 %s %v", d, ja, errA, jb, errB)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d DIDs read from node4 and node0, identical (%s)", len(dids), time.Since(readStart).Round(time.Millisecond))
	// Proofs from the new node verify for a client that knows only the genesis.
	chainID, root, err := client.TrustFromGenesis(nw.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	proving, err := client.New(client.Config{URL: fifth.URL, VerifyProofs: true, ChainID: chainID, TrustedValidators: root})
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		d := dids[rand.IntN(len(dids))]
		if _, err := proving.Resolve(ctx, d); err != nil {
			t.Fatalf("proven read of %s from the state-synced node: %v", d, err)
		}
	}
	if _, err := proving.Resolve(ctx, "did:medid:"+fmt.Sprint("1111111111111111111111")); err == nil {
		t.Fatal("an unknown DID resolved")
	}
	compared, err := nw.Check(ctx, dids[len(dids)-50:])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("blocks %d..%d identical on all five nodes (%d heights)", base, target, compared)
}
