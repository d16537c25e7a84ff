package node

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	abcitypes "github.com/cometbft/cometbft/abci/types"
)

// TestParallelCheckWorkers: a concurrent app's CheckTx runs on the
// client's workers and answers as the application does; Stop ends the
// workers, and a CheckTx after Stop still answers (on the caller's
// goroutine) instead of waiting for a worker that is gone.
func TestParallelCheckWorkers(t *testing.T) {
	before := runtime.NumGoroutine()
	app := kvstore.NewInMemoryApplication()
	cl, err := newParallelCheckCreator(app).NewABCIClient()
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Start(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func(tx string) uint32 {
		t.Helper()
		res, err := cl.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: []byte(tx), Type: abcitypes.CheckTxType_New})
		if err != nil {
			t.Fatal(err)
		}
		want, err := app.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: []byte(tx), Type: abcitypes.CheckTxType_New})
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != want.Code || res.Log != want.Log {
			t.Fatalf("CheckTx(%q) = %d %q, the application says %d %q", tx, res.Code, res.Log, want.Code, want.Log)
		}
		return res.Code
	}
	if check("k=v") != 0 {
		t.Error("a valid kvstore transaction was refused")
	}
	if check("not a pair") == 0 {
		t.Error("an invalid kvstore transaction was accepted")
	}
	if got := runtime.NumGoroutine() - before; got < runtime.NumCPU() {
		t.Errorf("%d goroutines more than before, want at least the %d workers", got, runtime.NumCPU())
	}
	if err := cl.Stop(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check("after=stop")
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("CheckTx after Stop did not answer")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Stop, %d before: the workers did not end", n, before)
	}
}
