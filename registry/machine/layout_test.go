package machine

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"strconv"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/registry/ledger"
)

var updateLayoutGolden = flag.Bool("update-layout-golden", false, "rewrite testdata/layout2-apphash.json (the layout 2 app hashes of the recorded chain) with this build")

// layoutGolden is a fixed chain recorded by the software of before the
// state layouts (commit 46d163f, whose writeLayoutGolden built it from
// replayBlocks and four more blocks of updates and a deactivation): the
// genesis app_state bytes as they were written then (no stateLayout
// member), every block's transactions, and the code of each and the app
// hash after each block.
type layoutGolden struct {
	Genesis  json.RawMessage `json:"genesis"`
	Blocks   [][][]byte      `json:"blocks"`
	Codes    [][]uint32      `json:"codes"`
	AppHash  [][]byte        `json:"appHash"`
	InitHash []byte          `json:"initHash"`
}

const (
	layoutGoldenFile  = "testdata/layout1-golden.json"
	layout2HashesFile = "testdata/layout2-apphash.json"
)

// TestLayout1GoldenChain: a chain whose genesis says nothing of the state
// layout (every chain started before it existed) is run in layout 1 and
// gives, block by block, the codes and app hashes the software of before
// gave.
func TestLayout1GoldenChain(t *testing.T) {
	g := loadLayoutGolden(t)
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

// TestLayout2GoldenChain: the recorded chain in layout 2 gives the app
// hashes recorded when layout 2 was made, so a later change of what layout
// 2 writes cannot pass unnoticed (it would fork every chain started in it).
// Rewrite them (-update-layout-golden) only for a new layout number.
func TestLayout2GoldenChain(t *testing.T) {
	g := loadLayoutGolden(t)
	_, hashes := runGolden(t, g, ledger.LayoutRecordsOnce)
	if *updateLayoutGolden {
		out, err := json.MarshalIndent(hashes, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(layout2HashesFile, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(layout2HashesFile)
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(hashes) {
		t.Fatalf("%d blocks, %d recorded", len(hashes), len(want))
	}
	for i := range hashes {
		if !sameBytes(hashes[i], want[i]) {
			t.Fatalf("block %d: app hash %X, recorded %X", i+1, hashes[i], want[i])
		}
	}
}

// loadLayoutGolden reads the recorded chain.
func loadLayoutGolden(t *testing.T) *layoutGolden {
	t.Helper()
	raw, err := os.ReadFile(layoutGoldenFile)
	if err != nil {
		t.Fatal(err)
	}
	var g layoutGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// runGolden runs the recorded chain's blocks through a new App whose
// genesis is the recorded one in layout l (LayoutEveryVersion: the
// recorded bytes as they are), and returns it with its app hashes.
func runGolden(t *testing.T, g *layoutGolden, l ledger.StateLayout) (*harness, [][]byte) {
	t.Helper()
	gen := []byte(g.Genesis)
	if l != ledger.LayoutEveryVersion {
		pg, err := ParseGenesis(gen)
		if err != nil {
			t.Fatal(err)
		}
		pg.StateLayout = l
		if gen, err = pg.Marshal(); err != nil {
			t.Fatal(err)
		}
	}
	h := &harness{tb: t, dir: t.TempDir()}
	h.open()
	if _, err := h.app.InitChain(context.Background(), &abci.RequestInitChain{AppStateBytes: gen, InitialHeight: 1, Time: t0}); err != nil {
		t.Fatal(err)
	}
	var hashes [][]byte
	for i, b := range g.Blocks {
		r := h.finalize(b...)
		for j, x := range r.TxResults {
			if x.Code != g.Codes[i][j] {
				t.Fatalf("layout %d block %d tx %d: code %d (%s), the recorded chain %d", l, i+1, j, x.Code, x.Log, g.Codes[i][j])
			}
		}
		hashes = append(hashes, r.AppHash)
		h.commit()
	}
	return h, hashes
}

// didVersions lists every DID of a state with its current version.
func didVersions(t *testing.T, a *App) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := a.Scan(ledger.PrefixDID, func(k, v []byte) error {
		var r ledger.DIDRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		n, err := strconv.ParseInt(r.Metadata.VersionID, 10, 64)
		out[string(k[len(ledger.PrefixDID):])] = n
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// resolved is a read's outcome in comparable form: the record's JSON and
// the error's kind.
func resolved(rec *ledger.DIDRecord, err error) string {
	kind := "ok"
	switch {
	case errors.Is(err, ledger.ErrDeactivated):
		kind = "deactivated"
	case errors.Is(err, ledger.ErrNotFound):
		kind = "not found"
	case err != nil:
		kind = "error " + err.Error()
	}
	if rec == nil {
		return kind
	}
	b, _ := json.Marshal(rec)
	return kind + " " + string(b)
}

// provenVersion proves version n of did as the API does (the current
// record, or the superseded version's own key when the current record is
// newer), checks the Merkle proof against the state's app hash, and
// returns what ledger.DIDVersionProof makes of it.
func provenVersion(t *testing.T, a *App, did string, n int64) (*ledger.DIDRecord, error) {
	t.Helper()
	_, root := a.LastCommit()
	prove := func(k []byte) ([]byte, []byte) {
		resp, err := a.Query(context.Background(), &abci.RequestQuery{Path: ledger.QueryKey, Data: k, Prove: true})
		if err != nil {
			t.Fatal(err)
		}
		var v []byte
		if resp.Code == 0 {
			v = resp.Value
		}
		if err := ledger.VerifyProof(root, k, v, resp.ProofOps); err != nil {
			t.Fatalf("proof of %s: %v", k, err)
		}
		return k, v
	}
	k, v := prove(ledger.DIDKey(did))
	rec, err := ledger.DIDVersionProof(did, n, k, v)
	if errors.Is(err, ledger.ErrProof) {
		k, v = prove(ledger.DIDVersionKey(did, n))
		rec, err = ledger.DIDVersionProof(did, n, k, v)
	}
	if err == nil && rec.Metadata.Deactivated {
		err = ledger.ErrDeactivated // as ResolveDID and the API say it
	}
	return rec, err
}

// TestLayoutsReadTheSame runs the recorded chain in both layouts: every
// transaction gets the same code, and every read (current, each versionId
// up to two past the current one, versionTime at every minute of the
// chain, and each version proven and checked as a client does) returns the
// same record, while the state holds each record once in layout 2 (the
// current one at did/ only, superseded versions under didv/ with
// nextVersionId) and twice in layout 1.
func TestLayoutsReadTheSame(t *testing.T) {
	g := loadLayoutGolden(t)
	one, oneHashes := runGolden(t, g, ledger.LayoutEveryVersion)
	two, twoHashes := runGolden(t, g, ledger.LayoutRecordsOnce)
	if sameBytes(oneHashes[0], twoHashes[0]) {
		t.Errorf("the two layouts give the same app hash: layout 2 wrote nothing of its own")
	}
	if one.app.layout != ledger.LayoutEveryVersion || two.app.layout != ledger.LayoutRecordsOnce {
		t.Fatalf("layouts %d and %d", one.app.layout, two.app.layout)
	}
	dids := didVersions(t, one.app)
	if got := didVersions(t, two.app); len(got) != len(dids) {
		t.Fatalf("layout 2 has %d DIDs, layout 1 %d", len(got), len(dids))
	}
	multi := 0
	for d, m := range dids {
		if m > 1 {
			multi++
		}
		for _, h := range []*harness{one, two} {
			for n := int64(1); n <= m; n++ {
				view, _ := h.app.view()
				dv, _ := view.Get(ledger.DIDVersionKey(d, n))
				wantDV := n < m || h.app.layout == ledger.LayoutEveryVersion
				if (dv != nil) != wantDV {
					t.Errorf("layout %d: %s version %d of %d under didv/: %v, want %v", h.app.layout, d, n, m, dv != nil, wantDV)
				}
				if dv != nil && n < m {
					var r ledger.DIDRecord
					if err := json.Unmarshal(dv, &r); err != nil || r.Metadata.NextVersionID != strconv.FormatInt(n+1, 10) {
						t.Errorf("layout %d: %s version %d: nextVersionId %q (%v), want %d", h.app.layout, d, n, r.Metadata.NextVersionID, err, n+1)
					}
				}
			}
		}
		read := func(h *harness, o ledger.ResolveOptions) string { return resolved(h.app.ResolveDID(d, o)) }
		if a, b := read(one, ledger.ResolveOptions{}), read(two, ledger.ResolveOptions{}); a != b {
			t.Errorf("%s current: layout 1 %s, layout 2 %s", d, a, b)
		}
		for n := int64(0); n <= m+2; n++ {
			o := ledger.ResolveOptions{VersionID: strconv.FormatInt(n, 10)}
			a, b := read(one, o), read(two, o)
			if a != b {
				t.Errorf("%s versionId %d: layout 1 %s, layout 2 %s", d, n, a, b)
			}
			if n < 1 {
				continue
			}
			p1, p2 := resolved(provenVersion(t, one.app, d, n)), resolved(provenVersion(t, two.app, d, n))
			if p1 != a || p2 != a {
				t.Errorf("%s versionId %d proven: layout 1 %s, layout 2 %s; the plain read %s", d, n, p1, p2, a)
			}
		}
		for min := int64(0); min <= int64(len(g.Blocks))+1; min++ {
			for _, off := range []time.Duration{-time.Second, 0, time.Second} {
				at := blockTime(min).Add(off)
				o := ledger.ResolveOptions{VersionTime: &at}
				if a, b := read(one, o), read(two, o); a != b {
					t.Errorf("%s versionTime %s: layout 1 %s, layout 2 %s", d, at.Format(time.RFC3339), a, b)
				}
			}
		}
	}
	if multi < 4 {
		t.Errorf("only %d DIDs with more than one version in the recorded chain", multi)
	}
}

// TestGenesisStateLayout: which layout a genesis gives a chain.
func TestGenesisStateLayout(t *testing.T) {
	gov := `"governance":["did:key:z6MkqDUMRvFbzKzDYqvgSkxH9a9ktWfFrsUTakKqcKyhFU1r"]`
	for _, tc := range []struct {
		name, appState string
		want           ledger.StateLayout // 0: refused
	}{
		{"empty app_state (a chain of before)", ``, ledger.LayoutEveryVersion},
		{"no stateLayout (a chain of before)", `{` + gov + `}`, ledger.LayoutEveryVersion},
		{"stateLayout 1", `{` + gov + `,"stateLayout":1}`, ledger.LayoutEveryVersion},
		{"stateLayout 2", `{` + gov + `,"stateLayout":2}`, ledger.LayoutRecordsOnce},
		{"stateLayout 3 (unknown)", `{` + gov + `,"stateLayout":3}`, 0},
		{"stateLayout -1", `{` + gov + `,"stateLayout":-1}`, 0},
		{"stateLayout as a string", `{` + gov + `,"stateLayout":"2"}`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := ParseGenesis([]byte(tc.appState))
			if tc.want == 0 {
				if err == nil {
					t.Fatalf("accepted, layout %d", g.StateLayout)
				}
				return
			}
			if err != nil || g.StateLayout != tc.want {
				t.Fatalf("layout %v (%v), want %d", g, err, tc.want)
			}
			// The App runs the chain in that layout, and only layout 2
			// writes it into the state.
			a, err := New(Config{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{AppStateBytes: []byte(tc.appState), InitialHeight: 1, Time: t0}); err != nil {
				t.Fatal(err)
			}
			if a.layout != tc.want {
				t.Errorf("App layout %d, want %d", a.layout, tc.want)
			}
			v, _ := a.tree.Get([]byte(ledger.KeyStateLayout))
			if (v != nil) != (tc.want == ledger.LayoutRecordsOnce) {
				t.Errorf("%s in the state: %q", ledger.KeyStateLayout, v)
			}
		})
	}
	// A genesis built in Go without a layout is a new chain: the current
	// layout.
	b, err := (&Genesis{}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if g, err := ParseGenesis(b); err != nil || g.StateLayout != ledger.CurrentLayout {
		t.Errorf("Marshal of a Genesis without a layout: %s parses to %v (%v)", b, g, err)
	}
}
