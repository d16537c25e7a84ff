package machine

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	cmttypes "github.com/cometbft/cometbft/types"
)

// governanceGolden is what a golden governance chain test records of a
// release: the codes, app hashes and (from protocol 3's test on) results
// hashes of its blocks, and the CheckTx codes of some transactions.
type governanceGolden struct {
	// Check holds CheckTx codes of transactions a test checks on their
	// own (protocol 3's: those carrying a member protocol 3 does not know).
	Check  []uint32   `json:"check"`
	Codes  [][]uint32 `json:"codes"`
	Hashes []string   `json:"hashes"`
	// Results holds each block's LastResultsHash (CometBFT's hash of the
	// results' codes, data and gas: the receipts of accepted
	// transactions). The protocol 2 file, recorded before this field
	// existed, has none.
	Results []string `json:"results,omitempty"`
}

// playGolden executes blocks on n and records each one's codes, app hash
// and results hash into g.
func (g *governanceGolden) playGolden(n *netHarness, blocks [][][]byte) {
	for _, txs := range blocks {
		res := n.block(txs...)
		g.Results = append(g.Results, hex.EncodeToString(cmttypes.NewResults(res).Hash()))
		codes := []uint32{}
		for _, r := range res {
			codes = append(codes, r.Code)
		}
		g.Codes = append(g.Codes, codes)
		g.Hashes = append(g.Hashes, hex.EncodeToString(n.hash()))
	}
}

// matchGolden compares got with the golden file (recorded by release,
// as the failure message names it), or writes the file when update is
// set: only with the release that recorded it, never since. Results are
// compared when the file has them (all but protocol 2's, which must not).
func matchGolden(t *testing.T, file string, update bool, got governanceGolden, release string, withResults bool) {
	t.Helper()
	if update {
		b, _ := json.MarshalIndent(got, "", " ")
		if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", file)
		return
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want governanceGolden
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if withResults != (len(want.Results) > 0) || (withResults && len(want.Results) != len(want.Hashes)) {
		t.Fatalf("%s holds %d results hashes for %d blocks (want them: %v)", file, len(want.Results), len(want.Hashes), withResults)
	}
	if fmt.Sprint(got.Check) != fmt.Sprint(want.Check) {
		t.Fatalf("CheckTx codes %v; %s gave %v", got.Check, release, want.Check)
	}
	if len(want.Hashes) != len(got.Hashes) {
		t.Fatalf("%d blocks, the golden chain has %d", len(got.Hashes), len(want.Hashes))
	}
	for i := range want.Hashes {
		if fmt.Sprint(got.Codes[i]) != fmt.Sprint(want.Codes[i]) || got.Hashes[i] != want.Hashes[i] {
			t.Fatalf("block %d: codes %v, app hash %s; %s gave %v, %s", i, got.Codes[i], got.Hashes[i], release, want.Codes[i], want.Hashes[i])
		}
		if withResults && got.Results[i] != want.Results[i] {
			t.Fatalf("block %d: results hash %s; %s gave %s", i, got.Results[i], release, want.Results[i])
		}
	}
}
