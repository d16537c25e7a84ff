package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	abcitypes "github.com/cometbft/cometbft/abci/types"
)

// gatedApp is the kvstore app whose FinalizeBlock can be held (a node
// stuck on a slow or wedged disk) or made to fail (a storage error).
type gatedApp struct {
	*kvstore.Application
	mu   sync.Mutex // guards gate, fail
	gate chan struct{}
	fail bool
}

func (a *gatedApp) FinalizeBlock(ctx context.Context, req *abcitypes.RequestFinalizeBlock) (*abcitypes.ResponseFinalizeBlock, error) {
	a.mu.Lock()
	gate, fail := a.gate, a.fail
	a.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if fail {
		return nil, errors.New("write state: disk failure")
	}
	return a.Application.FinalizeBlock(ctx, req)
}

func startGated(t *testing.T, stall time.Duration) (*Node, *gatedApp) {
	t.Helper()
	home := t.TempDir()
	if _, err := Init(InitConfig{Home: home}); err != nil {
		t.Fatal(err)
	}
	app := &gatedApp{Application: kvstore.NewPersistentApplication(filepath.Join(home, "data", "kvstore"))}
	p2p, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Config{Home: home, App: app, P2PAddr: p2p, BlockTime: 20 * time.Millisecond, Logger: quietLogger(), StallAfter: stall, SubmitRetry: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		app.mu.Lock()
		if app.gate != nil {
			close(app.gate)
			app.gate = nil
		}
		app.mu.Unlock()
		_ = n.Stop()
		_ = app.Close()
	})
	waitFor(t, 10*time.Second, func() error { return n.Progress() })
	return n, app
}

// waitFor polls cond until it returns nil.
func waitFor(t *testing.T, d time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestProgressStall: transactions waiting longer than the stall window
// without a block make Progress fail, naming the wait; progress resumes
// once the block commits; an empty mempool is never a stall.
func TestProgressStall(t *testing.T) {
	n, app := startGated(t, 500*time.Millisecond)
	if _, err := n.Submit(context.Background(), []byte("a=1")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // idle: nothing to do is not a stall
	if err := n.Progress(); err != nil {
		t.Fatalf("idle node: %v", err)
	}
	gate := make(chan struct{})
	app.mu.Lock()
	app.gate = gate
	app.mu.Unlock()
	for i := 0; i < 3; i++ {
		go n.Submit(context.Background(), []byte(fmt.Sprintf("b%d=%d", i, i)))
	}
	waitFor(t, 10*time.Second, func() error {
		if err := n.Progress(); err != nil {
			if !errors.Is(err, ErrNoProgress) || !strings.Contains(err.Error(), "without a new block") {
				return fmt.Errorf("unexpected error: %v", err)
			}
			return nil
		}
		return errors.New("no stall reported yet")
	})
	app.mu.Lock()
	app.gate = nil
	app.mu.Unlock()
	close(gate)
	waitFor(t, 10*time.Second, func() error { return n.Progress() })
}

// TestProgressHalted: a block the application fails to execute stops
// CometBFT's consensus engine for good (the process stays up); Progress
// says so from then on.
func TestProgressHalted(t *testing.T) {
	n, app := startGated(t, time.Hour)
	app.mu.Lock()
	app.fail = true
	app.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _ = n.Submit(ctx, []byte("c=1"))
	waitFor(t, 10*time.Second, func() error {
		err := n.Progress()
		if err != nil && strings.Contains(err.Error(), "stopped after a failure") {
			return nil
		}
		return fmt.Errorf("Progress = %v, want the engine-stopped error", err)
	})
}

// TestPeersNeeded: a single validator needs no peer.
func TestPeersNeeded(t *testing.T) {
	n, _ := startGated(t, time.Hour)
	if have, need := n.Peers(); have != 0 || need != 0 {
		t.Errorf("Peers() = %d, %d; want 0, 0", have, need)
	}
}

// TestDescriptors: the reservation counts peers, databases and the RPC
// connections when the RPC is on.
func TestDescriptors(t *testing.T) {
	home := t.TempDir()
	if _, err := Init(InitConfig{Home: home}); err != nil {
		t.Fatal(err)
	}
	sum := func(c Config) int {
		r, err := Descriptors(c)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, x := range r {
			n += x.N
		}
		return n
	}
	off := sum(Config{Home: home})
	if want := 3*(DBOpenFiles+8) + 8 + 40 + 10; off != want {
		t.Errorf("reserved %d, want %d", off, want)
	}
	if on := sum(Config{Home: home, RPCAddr: "127.0.0.1:26657"}); on != off+rpcMaxConns {
		t.Errorf("with RPC: %d, want %d", on, off+rpcMaxConns)
	}
}
