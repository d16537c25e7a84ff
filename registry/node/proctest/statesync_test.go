package proctest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/node/nodetest"
)

// syncDIDs is how many DIDs the network holds when the fifth node joins:
// 1,000 in `make test`; MEDID_STATESYNC_DIDS sets more (`make faults`
// runs 20,000; BENCHMARKS.md reports 100,000 with BenchmarkJoin).
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

// snapshotEvery is the test network's snapshot interval for n DIDs: 20
// blocks, or one block per 500 DIDs above 10,000. Exporting the state takes
// time in proportion to it (100,000 DIDs: 5-25 s a node on the shared
// machine, ~6 blocks/s of this test's chain), and a node skips a snapshot
// while the previous one is being written: at 20 blocks the four
// validators exported back to back for the whole test, and that, not the
// join, filled the machine's two cores. The join starts right after a
// snapshot above the DIDs' height (a snapshot interval-old makes the
// catch-up longer by the interval's blocks; docs/design/0021).
func snapshotEvery(n int) int64 { return max(20, int64(n)/500) }

// syncDIDsFile lists the DIDs of a saved network, one a line.
const syncDIDsFile = "dids.txt"

// syncNetwork starts four validators holding syncDIDs DIDs, registered
// through them as signed did.create transactions, and returns the DIDs.
// With MEDID_STATESYNC_SEED=<folder>, the network is built once and saved
// there (Network.SaveTo), and later runs with as many DIDs or fewer start
// from a copy of it: registering 100,000 DIDs through four processes takes
// minutes on a shared 2-core machine, the join that is measured seconds.
func syncNetwork(tb testing.TB, ctx context.Context, cfg Config) (*Network, []string) {
	n := syncDIDs(tb)
	seed := os.Getenv("MEDID_STATESYNC_SEED")
	if seed != "" && Seeded(seed) {
		b, err := SeedFile(seed, syncDIDsFile)
		if err != nil {
			tb.Fatal(err)
		}
		dids := strings.Fields(string(b))
		if len(dids) < n {
			tb.Fatalf("MEDID_STATESYNC_SEED=%s holds %d DIDs, want %d: remove it to build a new one", seed, len(dids), n)
		}
		cfg.Seed = seed
		start := time.Now()
		nw, err := Start(ctx, cfg)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Logf("network of %d DIDs started from the saved %s in %s", len(dids), seed, time.Since(start).Round(time.Millisecond))
		return nw, dids[:n]
	}
	build := cfg
	if seed != "" {
		// Built once for later runs: larger blocks, no snapshots while
		// registering (the runs snapshot with cfg's settings), and no
		// proxies in this process, whose CPU the submitters need.
		build.BlockTime, build.App.SnapshotInterval, build.Direct = 250*time.Millisecond, -1, true
		build.Dir = filepath.Join(cfg.Dir, "build")
	}
	nw, err := Start(ctx, build)
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	// Enough submitters that the blocks fill: each waits for its commit.
	dids, err := nw.CreateDIDs(ctx, n, min(256, n))
	if err != nil {
		nw.Close()
		tb.Fatal(err)
	}
	took := time.Since(start)
	h, _ := nw.Nodes[0].Height(ctx)
	tb.Logf("%d DIDs registered in %s (%.0f/s, %d blocks)", len(dids), took.Round(time.Millisecond), float64(len(dids))/took.Seconds(), h)
	if seed == "" {
		return nw, dids
	}
	err = nw.SaveTo(ctx, seed, map[string][]byte{syncDIDsFile: []byte(strings.Join(dids, "\n") + "\n")})
	nw.Close()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("network saved to %s", seed)
	if err := os.RemoveAll(build.Dir); err != nil {
		tb.Fatal(err)
	}
	return syncNetwork(tb, ctx, cfg)
}

// waitSnapshotAbove waits until node0's newest snapshot is above height
// top, writing a few DIDs a time if no load moves the chain on.
func waitSnapshotAbove(tb testing.TB, ctx context.Context, nw *Network, top int64, write bool) {
	for {
		ni, err := nw.Nodes[0].Client().Network(ctx)
		if err == nil && ni.SnapshotHeight > top {
			return
		}
		if ctx.Err() != nil {
			tb.Fatalf("no snapshot above height %d: %v", top, ctx.Err())
		}
		if write {
			if _, err := nw.CreateDIDs(ctx, 5, 5); err != nil {
				tb.Fatal(err)
			}
		} else {
			time.Sleep(200 * time.Millisecond)
		}
	}
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
	cfg := Config{Dir: t.TempDir(), BlockTime: 50 * time.Millisecond, Logf: t.Logf, Quotas: nodetest.UnlimitedCreates(),
		App: node.AppSettings{SnapshotInterval: snapshotEvery(n), KeepVersions: 10}}
	// MEDID_JOIN_KEEP=<folder> keeps what explains a join's time there:
	// the joining node's CPU profile of its first 90 s and its log.
	keep := os.Getenv("MEDID_JOIN_KEEP")
	if keep != "" {
		if err := os.MkdirAll(keep, 0o700); err != nil {
			t.Fatal(err)
		}
		cfg.JoinArgs = func(name string) []string {
			return []string{"--cpuprofile", filepath.Join(keep, name+".pprof"), "--cpuprofile-for", "90s"}
		}
	}
	nw, dids := syncNetwork(t, ctx, cfg)
	defer nw.Close()
	// Let a snapshot cover them: write until the newest snapshot is above
	// the height of the last DID.
	top, _ := nw.Nodes[0].Height(ctx)
	waitSnapshotAbove(t, ctx, nw, top, true)
	// The chain moves on while the node joins: it must follow new blocks.
	load := nw.StartLoad(ctx, 5, 4)
	defer load.Stop()
	// How old the newest snapshot is when the join begins (its export
	// takes a while after its height): the catch-up replays these blocks
	// too (docs/design/0021, snapshot interval).
	startHeight, _ := nw.Nodes[0].Height(ctx)
	joinStart := time.Now()
	fifth, err := nw.Join(ctx, "node4", true)
	if err != nil {
		t.Fatal(err)
	}
	if keep != "" {
		defer func() {
			for _, nd := range []*Node{fifth, nw.Nodes[0]} {
				_ = os.WriteFile(filepath.Join(keep, nd.Name+".log"), []byte(nd.LogTail(1<<30)), 0o600)
			}
		}()
	}
	target, err := fifth.WaitCaughtUpWith(ctx, nw.Nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	joined := time.Since(joinStart)
	traffic := nw.Traffic(fifth.Index)
	base := fifth.base(ctx)
	if base <= 1 {
		t.Fatalf("the fifth node serves block %d: it replayed the chain instead of restoring a snapshot", base)
	}
	t.Logf("the fifth node joined by state sync in %s (snapshot at height %d, network at %d when the join began and %d when it ended; %.1f MB of peer traffic)", joined.Round(time.Millisecond), base, startHeight, target, float64(traffic)/1e6)
	// The catch-up asked the peers' heights, and block sync heard them
	// (docs/design/0021, catch-up; TestAskPeerHeightsReachesBlockSync
	// checks the answers reach block sync, deterministically).
	asks, answers, err := catchUpCounts(ctx, fifth.URL)
	if err != nil {
		t.Fatal(err)
	}
	if asks <= 0 {
		t.Fatalf("the fifth node's medid_node_catchup_asks_total = %v after its join: the catch-up never asked its peers' heights", asks)
	}
	t.Logf("the fifth node asked its peers' heights %v times and block sync received %v answers", asks, answers)
	if p, ok := joinPhases(fifth.LogTail(1<<30), joinStart, joinStart.Add(joined)); ok {
		t.Logf("where the join's time went: start and snapshot discovery %s, fetching and restoring the snapshot %s, catching up the %d blocks made meanwhile %s (of it by consensus after block sync: %s)",
			p.discover.Round(time.Millisecond), p.restore.Round(time.Millisecond), target-base, p.catchUp.Round(time.Millisecond), p.consensus.Round(time.Millisecond))
	}

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
	// It follows: the DIDs written while it joined and after reach it too.
	time.Sleep(time.Second)
	load.Stop()
	if _, err := nw.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	after := load.Acked()
	if len(after) == 0 {
		t.Fatal("no DID was acknowledged while the node joined")
	}
	compared, err := nw.Check(ctx, append(dids[len(dids)-50:], after...))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("blocks from %d (the snapshot) on identical on all five nodes (%d heights); the %d DIDs written during and after the join are on every node", base, compared, len(after))
}

// phases splits a state sync join by the joining node's log: from the
// start to the first snapshot chunk (process start, CometBFT's snapshot
// discovery), the restore (fetching and applying chunks until the state
// matches the app hash), and from then until the node is at the
// network's height (CometBFT's light client check of the snapshot height,
// then block sync of the blocks made meanwhile).
// The catch-up is split further when the log says when the node
// switched from block sync to consensus (consensus: the part after).
type phases struct{ discover, restore, catchUp, consensus time.Duration }

var logTime = regexp.MustCompile(`time=(\S+) .*msg="(restoring a snapshot|snapshot restored|caught up with the network[^"]*)"`)

func joinPhases(log string, start, end time.Time) (phases, bool) {
	var restoring, restored, following time.Time
	for _, m := range logTime.FindAllStringSubmatch(log, -1) {
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			continue
		}
		switch m[2] {
		case "restoring a snapshot":
			if restoring.IsZero() {
				restoring = at
			}
		case "snapshot restored":
			restored = at
		default:
			if following.IsZero() {
				following = at
			}
		}
	}
	if restoring.IsZero() || restored.IsZero() {
		return phases{}, false
	}
	p := phases{discover: restoring.Sub(start), restore: restored.Sub(restoring), catchUp: end.Sub(restored)}
	if !following.IsZero() && following.After(restored) && following.Before(end) {
		p.consensus = end.Sub(following)
	}
	return p, true
}

// TestJoinPhases: the split of a join by the joining node's log.
func TestJoinPhases(t *testing.T) {
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	log := `time=2026-12-03T10:00:01.000Z level=INFO msg="registry started" node=node4 height=0
time=2026-12-03T10:00:06.500Z level=INFO msg="restoring a snapshot" node=node4 height=0 chunks=6
time=2026-12-03T10:00:06.900Z level=WARN msg="snapshot refused" node=node4 height=0
time=2026-12-03T10:00:07.000Z level=INFO msg="restoring a snapshot" node=node4 height=0 chunks=6
time=2026-12-03T10:00:30.250Z level=INFO msg="snapshot restored" node=node4 height=741 nodes=400161
`
	p, ok := joinPhases(log, start, start.Add(45*time.Second))
	if !ok || p.discover != 6500*time.Millisecond || p.restore != 23750*time.Millisecond || p.catchUp != 14750*time.Millisecond || p.consensus != 0 {
		t.Errorf("phases %+v (%v)", p, ok)
	}
	log += `time=2026-12-03T10:00:41.000Z level=INFO msg="caught up with the network: following the chain by consensus" node=node4 height=905
`
	p, ok = joinPhases(log, start, start.Add(45*time.Second))
	if !ok || p.catchUp != 14750*time.Millisecond || p.consensus != 4*time.Second {
		t.Errorf("phases with the switch to consensus %+v (%v)", p, ok)
	}
	if _, ok := joinPhases(`time=2026-12-03T10:00:06.500Z level=INFO msg="restoring a snapshot"`, start, start); ok {
		t.Error("a log without a finished restore was split")
	}
}

// catchUpCounts reads medid_node_catchup_asks_total and
// medid_node_catchup_answers_total from the /metrics of the node at url.
func catchUpCounts(ctx context.Context, url string) (asks, answers float64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET %s/metrics: %s, %v", url, resp.Status, err)
	}
	found := map[string]float64{}
	for _, l := range strings.Split(string(body), "\n") {
		if name, v, ok := strings.Cut(l, " "); ok && (name == "medid_node_catchup_asks_total" || name == "medid_node_catchup_answers_total") {
			if found[name], err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
				return 0, 0, fmt.Errorf("%s/metrics: %q: %w", url, l, err)
			}
		}
	}
	for _, name := range []string{"medid_node_catchup_asks_total", "medid_node_catchup_answers_total"} {
		if _, ok := found[name]; !ok {
			return 0, 0, fmt.Errorf("%s/metrics has no %s", url, name)
		}
	}
	return found["medid_node_catchup_asks_total"], found["medid_node_catchup_answers_total"], nil
}
