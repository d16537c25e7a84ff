package node

import (
	"context"
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/types"
)

// barrierApp holds its first two CheckTx calls until both have arrived, so
// that both pass the mempool's size check while it is empty; then it
// answers the first, and answers the second only once the first is in the
// mempool, which is then full (a mempool of one), so CometBFT drops the
// second although the application accepted it.
type barrierApp struct {
	*kvstore.Application
	mu          sync.Mutex
	arrived     int
	both        chan struct{}
	mempoolSize func() int // set before the node starts
}

func (a *barrierApp) CheckTx(ctx context.Context, req *abcitypes.RequestCheckTx) (*abcitypes.ResponseCheckTx, error) {
	a.mu.Lock()
	a.arrived++
	k := a.arrived
	if k == 2 {
		close(a.both)
	}
	a.mu.Unlock()
	if k <= 2 {
		<-a.both
	}
	if k == 2 {
		for deadline := time.Now().Add(5 * time.Second); a.mempoolSize() < 1 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	return a.Application.CheckTx(ctx, req)
}

// TestAcceptedButDroppedTxCommits: CometBFT drops a transaction the
// application accepted when the mempool filled up while it was being
// checked, and still reports the application's OK. Submit must notice
// (the mempool's rejection count moved during its CheckTx) and submit it
// again, not wait for a commit that cannot come; and a transaction that
// did enter the mempool returns without a second CheckTx.
func TestAcceptedButDroppedTxCommits(t *testing.T) {
	const concurrent = 2
	if runtime.NumCPU() < concurrent {
		t.Skipf("needs %d CheckTx calls at once (ConcurrentApp runs NumCPU)", concurrent)
	}
	home := t.TempDir()
	if _, err := Init(InitConfig{Home: home}); err != nil {
		t.Fatal(err)
	}
	p2p, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	app := &barrierApp{Application: kvstore.NewInMemoryApplication(), both: make(chan struct{})}
	n, err := New(Config{Home: home, App: app, ConcurrentApp: true, P2PAddr: p2p, BlockTime: 200 * time.Millisecond,
		MempoolSize: 1, SubmitRetry: 10 * time.Second, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	app.mempoolSize = n.cmt.Mempool().Size
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	errs := make(chan error, concurrent)
	for i := range concurrent {
		go func() {
			_, err := n.Submit(ctx, []byte(fmt.Sprintf("dropped-%d=v", i)))
			errs <- err
		}()
	}
	for range concurrent {
		if err := <-errs; err != nil {
			t.Errorf("submit: %v", err)
		}
	}
	// The mempool of one transaction took the first and dropped the
	// second (and turned its retries away as full until a block made
	// room): what this test is about happened.
	if got := n.waiters.mempoolRejected.Load(); got == 0 {
		t.Errorf("the mempool rejected nothing: the drop this test needs did not happen")
	}
	// Later submissions find room and enter at their first CheckTx.
	before := n.waiters.mempoolRejected.Load()
	if _, err := n.Submit(ctx, []byte("alone=v")); err != nil {
		t.Fatal(err)
	}
	if got := n.waiters.mempoolRejected.Load(); got != before {
		t.Errorf("mempool rejections went from %d to %d for a transaction submitted alone", before, got)
	}
}

// TestWaitersConfirmBytes: waiters are keyed by a maphash of the
// transaction; a waiter for other bytes under the same key (a collision,
// planted here) is neither woken nor dropped by another transaction's
// commit.
func TestWaitersConfirmBytes(t *testing.T) {
	w := newWaiters()
	a, b := []byte("a=1"), []byte("b=2")
	chA, err := w.add(a)
	if err != nil {
		t.Fatal(err)
	}
	chB := make(chan commitEvent, 1)
	k := w.key(a)
	w.m[k] = append(w.m[k], waiter{tx: b, ch: chB})

	w.deliver(a, commitEvent{height: 7})
	select {
	case ev := <-chA:
		if ev.height != 7 {
			t.Errorf("waiter for a got height %d, want 7", ev.height)
		}
	default:
		t.Fatal("the commit of a did not wake its waiter")
	}
	select {
	case ev := <-chB:
		t.Fatalf("the commit of a woke the waiter for b (same key): %+v", ev)
	default:
	}
	if got := w.m[k]; len(got) != 1 || string(got[0].tx) != "b=2" {
		t.Fatalf("after a's commit the key holds %v, want b's waiter only", got)
	}
	w.deliver(b, commitEvent{height: 8}) // b's own key: its planted waiter is not there
	w.m[w.key(b)] = w.m[k]
	delete(w.m, k)
	w.deliver(b, commitEvent{height: 9})
	if ev := <-chB; ev.height != 9 {
		t.Errorf("waiter for b got height %d, want 9", ev.height)
	}
	if len(w.m) != 0 {
		t.Errorf("waiters left: %v", w.m)
	}
}

// TestNewBlockQueryMatchesCometBFTs: the commit watcher's query answers
// as CometBFT's compiled tm.event='NewBlock' does for flattened events of
// every kind the event bus publishes and for near misses, and allocates
// nothing.
func TestNewBlockQueryMatchesCometBFTs(t *testing.T) {
	tests := []struct {
		name   string
		events map[string][]string
	}{
		{"nil", nil},
		{"empty", map[string][]string{}},
		{"new block", map[string][]string{"tm.event": {"NewBlock"}}},
		{"new block with app events", map[string][]string{"tm.event": {"NewBlock"}, "medid.type": {"did.create"}, "medid.did": {"did:medid:x"}}},
		{"tx", map[string][]string{"tm.event": {"Tx"}, "tx.hash": {"AB"}, "tx.height": {"3"}, "medid.type": {"did.create"}, "medid.did": {"did:medid:x"}}},
		{"tx with an app event named like the key", map[string][]string{"tm.event": {"Tx", "NewBlock"}, "tx.hash": {"AB"}}},
		{"header", map[string][]string{"tm.event": {"NewBlockHeader"}}},
		{"block events", map[string][]string{"tm.event": {"NewBlockEvents"}}},
		{"vote", map[string][]string{"tm.event": {"Vote"}}},
		{"case", map[string][]string{"tm.event": {"newblock"}}},
		{"empty value", map[string][]string{"tm.event": {""}}},
		{"no values", map[string][]string{"tm.event": {}}},
		{"type only", map[string][]string{"tm": {"NewBlock"}}},
		{"longer key", map[string][]string{"tm.event.x": {"NewBlock"}}},
		{"prefixed key", map[string][]string{"x.tm.event": {"NewBlock"}}},
		{"no dot", map[string][]string{"event": {"NewBlock"}}},
		{"leading dot", map[string][]string{".tm.event": {"NewBlock"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := types.EventQueryNewBlock.Matches(tc.events)
			if err != nil {
				t.Fatal(err)
			}
			got, err := newBlockQuery{}.Matches(tc.events)
			if err != nil || got != want {
				t.Errorf("got %v, %v; CometBFT's query: %v", got, err, want)
			}
		})
	}
	if got, want := (newBlockQuery{}).String(), types.EventQueryNewBlock.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	tx := map[string][]string{"tm.event": {"Tx"}, "tx.hash": {"AB"}, "tx.height": {"3"}, "medid.type": {"did.create"}, "medid.did": {"did:medid:x"}}
	if a := testing.AllocsPerRun(100, func() { _, _ = newBlockQuery{}.Matches(tx) }); a != 0 {
		t.Errorf("Matches: %v allocations, want 0", a)
	}
}

// TestUpperHex: a transaction's hash is written as fmt's %X writes it.
func TestUpperHex(t *testing.T) {
	for _, k := range [][32]byte{{}, {0x01, 0xab, 0xff}, sha256.Sum256([]byte("tx"))} {
		if got, want := upperHex(k), fmt.Sprintf("%X", k[:]); got != want {
			t.Errorf("upperHex(%x) = %s, want %s", k, got, want)
		}
	}
}
