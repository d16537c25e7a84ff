package proctest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/registry/node/nodetest"
)

// TestSeed: a network saved with SaveTo and started again from the copy
// (Config.Seed, new ports) is the same chain: it resolves the DIDs written
// before, keeps its genesis and commits new transactions; an incomplete
// seed and a seed of another size are refused.
func TestSeed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs registryd processes")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	cfg := Config{Dir: filepath.Join(dir, "first"), BlockTime: 50 * time.Millisecond, Quotas: nodetest.UnlimitedCreates(), Logf: t.Logf}
	nw, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	dids, err := nw.CreateDIDs(ctx, 20, 8)
	if err != nil {
		nw.Close()
		t.Fatal(err)
	}
	seed := filepath.Join(dir, "seed")
	err = nw.SaveTo(ctx, seed, map[string][]byte{"dids.txt": []byte(strings.Join(dids, "\n"))})
	oldURL, genesis := nw.Nodes[0].URL, nw.Genesis
	nw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !Seeded(seed) || Seeded(dir) {
		t.Fatal("Seeded does not tell a saved network from another folder")
	}
	if b, err := SeedFile(seed, "dids.txt"); err != nil || len(strings.Fields(string(b))) != len(dids) {
		t.Fatalf("seed file: %q, %v", b, err)
	}
	if _, err := SeedFile(seed, "../seed.json"); err == nil {
		t.Error("SeedFile read outside the seed")
	}
	if err := nw.SaveTo(ctx, seed, nil); err == nil {
		t.Error("SaveTo overwrote an existing seed")
	}
	if _, err := Start(ctx, Config{Dir: filepath.Join(dir, "three"), Validators: 3, Seed: seed}); err == nil || !strings.Contains(err.Error(), "holds 4 validators") {
		t.Errorf("a seed of 4 validators started as 3: %v", err)
	}
	if _, err := Start(ctx, Config{Dir: filepath.Join(dir, "none"), Seed: dir}); err == nil {
		t.Error("a folder without seed.json started as a seed")
	}

	cfg.Dir, cfg.Seed = filepath.Join(dir, "second"), seed
	again, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Nodes[0].URL == oldURL || string(again.Genesis) != string(genesis) {
		t.Errorf("restarted network: URL %s (was %s), same genesis %v", again.Nodes[0].URL, oldURL, string(again.Genesis) == string(genesis))
	}
	more, err := again.CreateDIDs(ctx, 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	// A node saved a block behind the others (SaveTo stops them one by
	// one), or slow to reconnect after the restart, catches up from its
	// peers: wait for that before asking every node for every DID (a
	// loaded CI machine once left node0 behind past Check's grace).
	if _, err := again.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := again.Check(ctx, append(dids, more...)); err != nil {
		t.Fatal(err)
	}
}
