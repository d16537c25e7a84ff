package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/store"
)

// setKeepBlockResults initialises home (if needed) and writes
// Settings.KeepBlockResults = keep into its settings file.
func setKeepBlockResults(t *testing.T, home string, keep bool) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(home, SettingsFile)); err != nil {
		if _, err := Init(InitConfig{Home: home}); err != nil {
			t.Fatalf("Init: %v", err)
		}
	}
	s, err := LoadSettings(home)
	if err != nil {
		t.Fatal(err)
	}
	s.KeepBlockResults = keep
	if err := writeSettings(home, s); err != nil {
		t.Fatal(err)
	}
}

func TestBlockResultsSetting(t *testing.T) {
	for _, tc := range []struct {
		name        string
		settings    string // registryd.json members besides p2pAddr and blockTime
		wantDiscard bool
		wantErr     string
	}{
		{name: "default discards", settings: ``, wantDiscard: true},
		{name: "false discards", settings: `,"keepBlockResults":false`, wantDiscard: true},
		{name: "true keeps", settings: `,"keepBlockResults":true`, wantDiscard: false},
		{name: "a string is refused", settings: `,"keepBlockResults":"yes"`, wantErr: "keepBlockResults"},
		{name: "a number is refused", settings: `,"keepBlockResults":1`, wantErr: "keepBlockResults"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			text := `{"p2pAddr":"127.0.0.1:26656","blockTime":"100ms"` + tc.settings + `}`
			if err := os.WriteFile(filepath.Join(home, SettingsFile), []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := LoadSettings(home)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), SettingsFile) {
					t.Fatalf("LoadSettings error = %v, want one naming %s and %s", err, tc.wantErr, SettingsFile)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := buildCometConfig(home, s)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Storage.DiscardABCIResponses; got != tc.wantDiscard {
				t.Errorf("discard_abci_responses = %v, want %v", got, tc.wantDiscard)
			}
		})
	}
}

// blockResults asks CometBFT's JSON-RPC at addr for the results of the
// block at height and returns the number of transaction results, or the
// RPC's error text.
func blockResults(t *testing.T, addr string, height int64) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/block_results?height=%d", addr, height), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Result *struct {
			Height     string            `json:"height"`
			TxsResults []json.RawMessage `json:"txs_results"`
		} `json:"result"`
		Error *struct {
			Message string `json:"message"`
			Data    string `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("block_results answer %q: %v", body, err)
	}
	if r.Error != nil {
		return 0, r.Error.Message + ": " + r.Error.Data
	}
	if r.Result == nil || r.Result.Height != fmt.Sprint(height) {
		t.Fatalf("block_results answer %q: want the results of height %d", body, height)
	}
	return len(r.Result.TxsResults), ""
}

// TestBlockResultsKeptOnlyWhenAsked runs a node with CometBFT's JSON-RPC on
// and asks /block_results for the height of an old transaction: by default
// the node does not store block results and says so; with
// keepBlockResults it answers with the block's transaction results.
func TestBlockResultsKeptOnlyWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		name    string
		keep    bool
		wantErr string // "" = the results answer
	}{
		{name: "default", keep: false, wantErr: "not persisting finalize block responses"},
		{name: "keepBlockResults", keep: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			setKeepBlockResults(t, home, tc.keep)
			var rpc string
			n, _ := startKV(t, home, func(c *Config) {
				addr, err := FreeAddr()
				if err != nil {
					t.Fatal(err)
				}
				c.RPCAddr, rpc = addr, addr
			})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			first, err := n.Submit(ctx, []byte("old=1"))
			if err != nil {
				t.Fatal(err)
			}
			// Later blocks, so the first one is history.
			for i := range 3 {
				if _, err := n.Submit(ctx, []byte(fmt.Sprintf("later%d=1", i))); err != nil {
					t.Fatal(err)
				}
			}
			if n.Height() <= first.Height {
				t.Fatalf("height %d, want above the first transaction's %d", n.Height(), first.Height)
			}
			got, errText := blockResults(t, rpc, first.Height)
			if tc.wantErr != "" {
				if !strings.Contains(errText, tc.wantErr) {
					t.Fatalf("block_results of height %d = %d results, error %q; want an error saying %q", first.Height, got, errText, tc.wantErr)
				}
				return
			}
			if errText != "" || got != 1 {
				t.Fatalf("block_results of height %d = %d results, error %q; want 1 result", first.Height, got, errText)
			}
		})
	}
}

// TestCrashAfterCommitReplaysWithDiscardedResults puts a node, which
// discards block results (the default), where a crash between the
// application's Commit and CometBFT's saving of its state leaves it: the
// application and the block store at height H, CometBFT's state at H-1
// (CometBFT's own rollback of the state, keeping the block). On restart
// CometBFT replays block H against the response it kept for the newest
// height; the node must come back at the same height and app hash and keep
// committing.
func TestCrashAfterCommitReplaysWithDiscardedResults(t *testing.T) {
	home := t.TempDir()
	n, stop := startKV(t, home)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 4 {
		if _, err := n.Submit(ctx, []byte(fmt.Sprintf("k%d=v%d", i, i))); err != nil {
			t.Fatal(err)
		}
	}
	before, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stop()

	dir := cometConfig(home).DBDir()
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
	h := bs.Height()
	// What the node stored: no results for an older height, the newest
	// height's response (what the replay below needs).
	if _, err := ss.LoadFinalizeBlockResponse(h - 1); !errors.Is(err, sm.ErrFinalizeBlockResponsesNotPersisted) {
		t.Fatalf("results of height %d: error %v, want %v", h-1, err, sm.ErrFinalizeBlockResponsesNotPersisted)
	}
	// Read the raw database too: the store's option alone would hide
	// results that were written.
	var kept int
	it, err := stateDB.Iterator(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for ; it.Valid(); it.Next() {
		if strings.HasPrefix(string(it.Key()), "abciResponsesKey:") {
			kept++
		}
	}
	it.Close()
	if kept != 0 {
		t.Fatalf("state.db holds %d per-height block results, want 0", kept)
	}
	if _, err := ss.LoadLastFinalizeBlockResponse(h); err != nil {
		t.Fatalf("newest response (height %d): %v", h, err)
	}
	saved, err := ss.Load()
	if err != nil {
		t.Fatal(err)
	}
	rolled, _, err := sm.Rollback(bs, ss, false)
	if err != nil {
		t.Fatal(err)
	}
	if rolled != h-1 {
		t.Fatalf("state rolled back to %d, want %d", rolled, h-1)
	}
	// Rollback takes the app version from the consensus parameters
	// (state/rollback.go, identical in v0.38.26 and v0.39.4); the
	// state the node had saved at H-1 carried the application's own (what
	// block H's header names).
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

	n2, _ := startKV(t, home)
	after, err := n2.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Height != before.Height || after.AppHash != before.AppHash {
		t.Fatalf("after the replay: height %d app hash %s, want %d and %s", after.Height, after.AppHash, before.Height, before.AppHash)
	}
	if _, err := n2.Submit(ctx, []byte("after=crash")); err != nil {
		t.Fatalf("Submit after the replay: %v", err)
	}
}
