package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/types"

	"github.com/medid/medid/registry/ledger"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startKV initialises (if needed) and starts a node over the persistent
// kvstore example app, stopping it at test end. Each opt adjusts the
// node's Config before New.
func startKV(t testing.TB, home string, opts ...func(*Config)) (*Node, func()) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(home, "config", "genesis.json")); err != nil {
		if _, err := Init(InitConfig{Home: home}); err != nil {
			t.Fatalf("Init: %v", err)
		}
	}
	app := kvstore.NewPersistentApplication(filepath.Join(home, "data", "kvstore"))
	var n *Node
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		p2pAddr, ferr := FreeAddr()
		if ferr != nil {
			t.Fatal(ferr)
		}
		c := Config{Home: home, App: app, P2PAddr: p2pAddr, BlockTime: 20 * time.Millisecond, Logger: quietLogger()}
		for _, o := range opts {
			o(&c)
		}
		n, err = New(c)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if err = n.Start(); err == nil {
			break
		}
		_ = n.Stop()
	}
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	var once bool
	stop := func() {
		if !once {
			once = true
			_ = n.Stop()
			_ = app.Close()
		}
	}
	t.Cleanup(stop)
	return n, stop
}

func TestInitWritesKeysAndGenesis(t *testing.T) {
	home := t.TempDir()
	res, err := Init(InitConfig{Home: home, ChainID: "medid-test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config/priv_validator_key.json", "config/node_key.json", GovernanceKeyFile} {
		st, err := os.Stat(filepath.Join(home, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got := st.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode = %o, want 600", f, got)
		}
	}
	data, err := os.ReadFile(filepath.Join(home, "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gen types.GenesisDoc
	if err := cmtjson.Unmarshal(data, &gen); err != nil {
		t.Fatal(err)
	}
	if gen.ChainID != "medid-test" || len(gen.Validators) != 1 {
		t.Errorf("genesis chain %q with %d validators, want medid-test with 1", gen.ChainID, len(gen.Validators))
	}
	var st AppState
	if err := json.Unmarshal(gen.AppState, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Governance) != 1 || st.Governance[0] != res.GovernanceDID {
		t.Errorf("app_state governance = %v, want [%s]", st.Governance, res.GovernanceDID)
	}
	// New chains name organisations and accredit issuers by the
	// governance quorum (one key here: its quorum is itself).
	if st.Network == nil || !st.Network.DirectoryQuorum {
		t.Errorf("app_state network = %+v, want directoryQuorum on", st.Network)
	}
	// New chains start at this release's protocol (3: proposals under
	// their content's id, a cap on one key's open proposals).
	if v := gen.ConsensusParams.Version.App; v != ledger.CurrentProtocol {
		t.Errorf("genesis consensus_params.version.app = %d, want %d", v, ledger.CurrentProtocol)
	}
	if _, err := Init(InitConfig{Home: home}); !errors.Is(err, ErrAlreadyInitialised) {
		t.Errorf("second Init error = %v, want ErrAlreadyInitialised", err)
	}
	if _, err := New(Config{Home: t.TempDir(), App: kvstore.NewInMemoryApplication()}); !errors.Is(err, ErrNotInitialised) {
		t.Errorf("New on empty home error = %v, want ErrNotInitialised", err)
	}
}

func TestSubmitCommitRestart(t *testing.T) {
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	n, stop := startKV(t, home)
	var last int64
	for i := 0; i < 5; i++ {
		res, err := n.Submit(ctx, []byte(fmt.Sprintf("k%d=v%d", i, i)))
		if err != nil {
			t.Fatalf("Submit %d: %v", i, err)
		}
		if res.Code != 0 || res.Height <= 0 {
			t.Fatalf("Submit %d: code %d height %d", i, res.Code, res.Height)
		}
		last = res.Height
	}
	// kvstore rejects a tx without '=' in CheckTx.
	_, err := n.Submit(ctx, []byte("=bad"))
	var rej *RejectedError
	if !errors.As(err, &rej) || rej.Stage != "check" {
		t.Fatalf("Submit(invalid) error = %v, want a check-stage RejectedError", err)
	}
	if _, err := n.Submit(ctx, []byte("k0=v0")); err == nil {
		t.Errorf("resubmitting committed bytes succeeded; want a duplicate error")
	}
	st, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stop()

	n2, _ := startKV(t, home)
	if got := n2.Height(); got < last {
		t.Fatalf("height after restart = %d, want >= %d", got, last)
	}
	st2, err := n2.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st2.AppHash != st.AppHash || st2.Height != st.Height {
		t.Errorf("after restart app hash %s at %d, want %s at %d", st2.AppHash, st2.Height, st.AppHash, st.Height)
	}
	q, err := n2.Query(ctx, "", []byte("k3"), 0, false)
	if err != nil || string(q.Value) != "v3" {
		t.Fatalf("query k3 after restart = %q, %v; want v3", q.GetValue(), err)
	}
	if _, err := n2.Submit(ctx, []byte("k9=v9")); err != nil {
		t.Fatalf("Submit after restart: %v", err)
	}
	sh, vals, err := n2.SignedHeader(ctx, n2.Height())
	if err != nil {
		t.Fatal(err)
	}
	if err := vals.VerifyCommitLight(n2.ChainID(), sh.Commit.BlockID, sh.Height, sh.Commit); err != nil {
		t.Errorf("commit of latest block does not verify: %v", err)
	}
}

func TestTestnetLayout(t *testing.T) {
	out := t.TempDir()
	res, err := Testnet(TestnetConfig{Validators: 4, OutDir: out, BasePort: 30000})
	if err != nil {
		t.Fatal(err)
	}
	var first []byte
	for i, r := range res {
		data, err := os.ReadFile(filepath.Join(out, fmt.Sprintf("node%d", i), "config", "genesis.json"))
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = data
		} else if string(first) != string(data) {
			t.Errorf("node%d genesis differs from node0's", i)
		}
		s, err := LoadSettings(r.Home)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("127.0.0.1:%d", 30000+10*i); s.P2PAddr != want {
			t.Errorf("node%d p2p = %s, want %s", i, s.P2PAddr, want)
		}
	}
	var gen types.GenesisDoc
	if err := cmtjson.Unmarshal(first, &gen); err != nil {
		t.Fatal(err)
	}
	if len(gen.Validators) != 4 {
		t.Errorf("genesis has %d validators, want 4", len(gen.Validators))
	}
}

// rejectingApp fails every re-check.
type rejectingApp struct{ *kvstore.Application }

func (r rejectingApp) CheckTx(ctx context.Context, req *abcitypes.RequestCheckTx) (*abcitypes.ResponseCheckTx, error) {
	if req.Type == abcitypes.CheckTxType_Recheck {
		return &abcitypes.ResponseCheckTx{Code: 6, Log: "stale"}, nil
	}
	return r.Application.CheckTx(ctx, req)
}

func TestRecheckRejectionWakesWaiter(t *testing.T) {
	w := newWaiters()
	o := &observedApp{Application: rejectingApp{kvstore.NewInMemoryApplication()}, waiters: w}
	tx := types.Tx("k=v")
	ch, err := w.add(tx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.CheckTx(context.Background(), &abcitypes.RequestCheckTx{Tx: tx, Type: abcitypes.CheckTxType_New}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-ch:
		t.Fatalf("first check woke the waiter: %+v", ev)
	default:
	}
	if _, err := o.CheckTx(context.Background(), &abcitypes.RequestCheckTx{Tx: tx, Type: abcitypes.CheckTxType_Recheck}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-ch:
		var rej *RejectedError
		if !errors.As(ev.err, &rej) || rej.Stage != "recheck" || rej.Code != 6 {
			t.Errorf("waiter got %v, want a recheck RejectedError with code 6", ev.err)
		}
	case <-time.After(time.Second):
		t.Fatal("a failed re-check did not wake the waiter")
	}
}

func TestMempoolFull(t *testing.T) {
	home := t.TempDir()
	if _, err := Init(InitConfig{Home: home}); err != nil {
		t.Fatal(err)
	}
	p2p, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Config{Home: home, App: kvstore.NewInMemoryApplication(), P2PAddr: p2p, BlockTime: 300 * time.Millisecond,
		MempoolSize: 5, SubmitRetry: 20 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		go func(i int) {
			_, err := n.Submit(ctx, []byte(fmt.Sprintf("full-%d=v", i)))
			errs <- err
		}(i)
	}
	var ok, full int
	for i := 0; i < 100; i++ {
		err := <-errs
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrMempoolFull):
			full++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok == 0 || full == 0 {
		t.Errorf("%d committed, %d refused as mempool-full; want some of each", ok, full)
	}
}
