package machine

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/registry/tx"
)

var updateLayoutGolden = flag.Bool("update-layout-golden", false, "rewrite testdata/layout1-golden.json (only from a build whose layout 1 is known good)")

// layoutGolden is a fixed chain recorded by the software of before the
// layout parameter (docs/design/0021, "State layout"): the genesis
// app_state bytes as they were written then (no stateLayout member), every
// block's transactions, and the code of each and app hash after each block.
type layoutGolden struct {
	Genesis  json.RawMessage `json:"genesis"`
	Blocks   [][][]byte      `json:"blocks"`
	Codes    [][]uint32      `json:"codes"`
	AppHash  [][]byte        `json:"appHash"`
	InitHash []byte          `json:"initHash"`
}

const layoutGoldenFile = "testdata/layout1-golden.json"

// TestLayout1GoldenChain: a chain whose genesis says nothing of the state
// layout (every chain started before it existed) is run in layout 1 and
// gives, block by block, the codes and app hashes the software of before
// gave. Run with -update-layout-golden only on a build whose layout 1 is
// known to be the one of before.
func TestLayout1GoldenChain(t *testing.T) {
	if *updateLayoutGolden {
		writeLayoutGolden(t)
	}
	raw, err := os.ReadFile(layoutGoldenFile)
	if err != nil {
		t.Fatal(err)
	}
	var g layoutGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	h := &harness{tb: t, dir: t.TempDir()}
	h.open()
	resp, err := h.app.InitChain(context.Background(), &abci.RequestInitChain{AppStateBytes: g.Genesis, InitialHeight: 1, Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	if !sameBytes(resp.AppHash, g.InitHash) {
		t.Fatalf("genesis app hash %X, recorded %X", resp.AppHash, g.InitHash)
	}
	for i, b := range g.Blocks {
		r := h.finalize(b...)
		for j, x := range r.TxResults {
			if x.Code != g.Codes[i][j] {
				t.Errorf("block %d tx %d: code %d (%s), recorded %d", i+1, j, x.Code, x.Log, g.Codes[i][j])
			}
		}
		if !sameBytes(r.AppHash, g.AppHash[i]) {
			t.Fatalf("block %d: app hash %X, recorded %X", i+1, r.AppHash, g.AppHash[i])
		}
		h.commit()
	}
}

// writeLayoutGolden records the replay sequence (and a block of further
// updates) with the running build.
func writeLayoutGolden(t *testing.T) {
	h := newHarness(t)
	gen, err := (&Genesis{Governance: []string{h.govDID}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g := layoutGolden{Genesis: gen}
	// A fresh App for the recording, from the genesis bytes recorded.
	r := &harness{tb: t, dir: t.TempDir(), gov: h.gov, govDID: h.govDID}
	r.open()
	resp, err := r.app.InitChain(context.Background(), &abci.RequestInitChain{AppStateBytes: gen, InitialHeight: 1, Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	g.InitHash = resp.AppHash
	blocks := replayBlocks(r)
	// Block 4: more versions (a third update of one DID, a deactivation
	// after updates) so that version history beyond 2 is in the chain.
	id := newIdentity(t, 120)
	blocks = append(blocks, [][]byte{r.createTx(id)})
	blocks = append(blocks, [][]byte{r.updateTx(id, id.keys, []int{0}, "1", id.keys[0], id.kid(0))})
	blocks = append(blocks, [][]byte{r.updateTx(id, id.keys, []int{0}, "2", id.keys[0], id.kid(0))})
	blocks = append(blocks, [][]byte{r.sign(r.must(tx.NewDIDDeactivate(id.did, "3")), id.keys[0], id.kid(0))})
	for _, b := range blocks {
		resp := r.finalize(b...)
		var codes []uint32
		for _, x := range resp.TxResults {
			codes = append(codes, x.Code)
		}
		g.Blocks = append(g.Blocks, b)
		g.Codes = append(g.Codes, codes)
		g.AppHash = append(g.AppHash, resp.AppHash)
		r.commit()
	}
	out, err := json.MarshalIndent(g, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(layoutGoldenFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(layoutGoldenFile, out, 0o644); err != nil {
		t.Fatal(err)
	}
}
