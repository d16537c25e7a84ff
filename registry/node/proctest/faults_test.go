package proctest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/node/nodetest"
)

// faultPlan is how hard TestFaults pushes: `make test` runs the short plan,
// `make faults` (MEDID_FAULTS=full) the full one.
type faultPlan struct {
	window      time.Duration // how long each fault lasts
	killRounds  int           // kill-and-restart rounds
	rate        float64       // did.create per second during the run
	delay       time.Duration // one-way delay on a slowed node's links
	diskLimit   int64         // the disk-fault node's file system
	maxRecovery time.Duration // a fault not healed within this fails
}

func plan() (faultPlan, bool) {
	if os.Getenv("MEDID_FAULTS") == "full" {
		return faultPlan{window: 20 * time.Second, killRounds: 5, rate: 40, delay: 300 * time.Millisecond, diskLimit: 512 << 20, maxRecovery: 2 * time.Minute}, true
	}
	return faultPlan{window: 2 * time.Second, killRounds: 1, rate: 15, delay: 200 * time.Millisecond, diskLimit: 256 << 20, maxRecovery: time.Minute}, false
}

// outcome is what a scenario reports.
type outcome struct {
	scenario  string
	progress  string        // heights the connected nodes made during the fault
	recovered time.Duration // from the end of the fault until every node caught up
	acked     int           // acknowledged DIDs checked on every node
	heights   int64         // heights whose blocks were compared on every node
}

// TestFaults runs four validators as registryd processes under a steady
// did.create load and injects, one after another: kill -9 and restart of
// random nodes, a partition of one node, delayed links of one node, and a
// disk filling up on one node. After each: the nodes that stayed connected
// (3 of 4) kept committing, every acknowledged DID is on every node, every
// node has the same block at every height, and the time the faulty node
// took to catch up is reported. `make faults` runs longer faults.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four registryd processes")
	}
	t.Parallel() // mostly waiting: the two networks overlap in `make test`
	p, full := plan()
	budget := 4 * time.Minute
	if full {
		budget = 30 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	nw, err := Start(ctx, Config{Dir: t.TempDir(), BlockTime: 100 * time.Millisecond, Logf: t.Logf, Quotas: nodetest.UnlimitedCreates(),
		DiskLimits: map[int]int64{3: p.diskLimit}, App: node.AppSettings{SnapshotInterval: 100, KeepVersions: 50}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	load := nw.StartLoad(ctx, p.rate, 16)
	defer load.Stop()

	var outcomes []outcome
	checked := 0 // acknowledged DIDs checked so far
	run := func(name string, fault func() (during string, heal func() error)) {
		t.Helper()
		time.Sleep(p.window / 2) // load before the fault
		during, heal := fault()
		if err := heal(); err != nil {
			t.Fatalf("%s: healing: %v", name, err)
		}
		healed := time.Now()
		rctx, rcancel := context.WithTimeout(ctx, p.maxRecovery)
		_, err := nw.WaitCaughtUp(rctx)
		rcancel()
		if err != nil {
			t.Fatalf("%s: not recovered within %s: %v", name, p.maxRecovery, err)
		}
		recovered := time.Since(healed)
		acked := load.Acked()
		if _, err := nw.WaitCaughtUp(ctx); err != nil {
			t.Fatal(err)
		}
		compared, err := nw.Check(ctx, acked[checked:])
		if err != nil {
			var me *MissingError
			if errors.As(err, &me) {
				t.Fatalf("%s: %v; acknowledged by %s\n%s log:\n%s", name, err, load.AckedBy(me.DID), me.Node, nodeNamed(nw, me.Node).LogTail(3000))
			}
			t.Fatalf("%s: %v", name, err)
		}
		o := outcome{scenario: name, progress: during, recovered: recovered, acked: len(acked), heights: compared}
		checked = len(acked)
		outcomes = append(outcomes, o)
		t.Logf("held: %-12s connected nodes %s; recovered in %s; %d acknowledged DIDs on every node; blocks identical at %d heights",
			o.scenario, o.progress, o.recovered.Round(time.Millisecond), o.acked, o.heights)
	}

	for r := range p.killRounds {
		victim := rand.IntN(4)
		run(fmt.Sprintf("kill-%d", r+1), func() (string, func() error) {
			if err := nw.Nodes[victim].Kill(); err != nil {
				t.Fatal(err)
			}
			during := progress(t, ctx, nw, others(victim), p.window)
			return fmt.Sprintf("(node%d killed) %s", victim, during), nw.Nodes[victim].Start
		})
	}
	run("partition", func() (string, func() error) {
		v := rand.IntN(4)
		h0, _ := nw.Nodes[v].Height(ctx)
		nw.Partition(v)
		during := progress(t, ctx, nw, others(v), p.window)
		if h1, _ := nw.Nodes[v].Height(ctx); h1 > h0+2 {
			t.Errorf("node%d, cut off, went from height %d to %d alone", v, h0, h1)
		}
		return fmt.Sprintf("(node%d cut off) %s", v, during), func() error { nw.Heal(v); return nil }
	})
	run("delay", func() (string, func() error) {
		v := rand.IntN(4)
		nw.Delay(v, p.delay)
		during := progress(t, ctx, nw, []int{0, 1, 2, 3}, p.window)
		return fmt.Sprintf("(node%d's links +%s each way) %s", v, p.delay, during), func() error { nw.Delay(v, 0); return nil }
	})
	run("disk-full", func() (string, func() error) {
		const v = 3
		// First below the readiness minimum: /readyz says so, the node
		// keeps validating.
		if err := nw.FillDisk(v, p.diskLimit/5); err != nil {
			t.Fatal(err)
		}
		waitReady(t, ctx, nw.Nodes[v], "disk")
		// Then below the stop threshold: the node stops cleanly.
		if err := nw.FillDisk(v, p.diskLimit/16); err != nil {
			t.Fatal(err)
		}
		if !nw.Nodes[v].Exited(30 * time.Second) {
			t.Fatalf("node%d kept running with its disk almost full: %s", v, nw.Nodes[v].LogTail(1500))
		}
		if !strings.Contains(nw.Nodes[v].LogTail(4000), "disk almost full") {
			t.Errorf("node%d stopped without saying why: %s", v, nw.Nodes[v].LogTail(1500))
		}
		during := progress(t, ctx, nw, others(v), p.window)
		return fmt.Sprintf("(node%d stopped itself, disk full) %s", v, during), func() error {
			if err := nw.FreeDisk(v); err != nil {
				return err
			}
			return nw.Nodes[v].Start()
		}
	})
	load.Stop()
	// Everything acknowledged, on every node, once more.
	acked := load.Acked()
	if _, err := nw.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Check(ctx, acked); err != nil {
		t.Fatal(err)
	}
	t.Logf("held: all %d scenarios; %d DIDs submitted, %d acknowledged and on every node, %d submissions retried on another node",
		len(outcomes), load.Submitted.Load(), len(acked), load.Failed.Load())
}

func nodeNamed(nw *Network, name string) *Node {
	for _, nd := range nw.Nodes {
		if nd.Name == name {
			return nd
		}
	}
	return nil
}

func others(v int) []int {
	var out []int
	for i := range 4 {
		if i != v {
			out = append(out, i)
		}
	}
	return out
}

// progressBound is how long past its window a fault may go without a new
// block on a connected node before progress counts as lost: a round whose
// proposer is the faulty node ends only at CometBFT's propose timeout (1 s)
// plus the vote rounds, and a machine shared with other tests stretches
// that.
const progressBound = 10 * time.Second

// progress requires the nodes to commit new blocks during the fault: it
// waits window, then until each has a higher height, at most progressBound
// more, and says from which to which height.
func progress(t *testing.T, ctx context.Context, nw *Network, nodes []int, window time.Duration) string {
	t.Helper()
	start := map[int]int64{}
	for _, i := range nodes {
		h, err := nw.Nodes[i].Height(ctx)
		if err != nil {
			t.Fatalf("node%d: %v", i, err)
		}
		start[i] = h
	}
	began := time.Now()
	time.Sleep(window)
	deadline := time.Now().Add(progressBound)
	var parts []string
	for _, i := range nodes {
		for {
			h, err := nw.Nodes[i].Height(ctx)
			if err != nil {
				t.Fatalf("node%d: %v", i, err)
			}
			if h > start[i] {
				parts = append(parts, fmt.Sprintf("node%d %d→%d", i, start[i], h))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node%d made no progress in %s (height %d) with %d of 4 nodes connected", i, time.Since(began).Round(time.Millisecond), h, len(nodes))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return strings.Join(parts, ", ") + fmt.Sprintf(" in %s", time.Since(began).Round(100*time.Millisecond))
}

// waitReady waits until the node's /readyz fails check name.
func waitReady(t *testing.T, ctx context.Context, nd *Node, check string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(nd.URL + "/readyz")
		if err == nil {
			var r struct {
				Checks []struct {
					Name string `json:"name"`
					OK   bool   `json:"ok"`
				} `json:"checks"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			for _, c := range r.Checks {
				if c.Name == check && !c.OK && resp.StatusCode == http.StatusServiceUnavailable {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("%s's /readyz never reported the %s check failing", nd.Name, check)
}
