package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/blocksync"
	cs "github.com/cometbft/cometbft/consensus"
	mempl "github.com/cometbft/cometbft/mempool"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/proxy"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/statesync"
	"github.com/cometbft/cometbft/types"
	"github.com/go-kit/kit/metrics"

	"github.com/medid/medid/registry/ledger"
)

// Errors of [Node.Submit].
var (
	// ErrMempoolFull: the mempool stayed full for Config.SubmitRetry;
	// retry later (HTTP 503 with Retry-After).
	ErrMempoolFull = errors.New("mempool is full: retry later")
	// ErrTxTooLarge: the transaction exceeds the mempool's max_tx_bytes.
	ErrTxTooLarge = errors.New("transaction too large")
	// ErrDuplicate: the same transaction bytes were seen recently (in the
	// mempool or its cache); a resubmission is not executed twice.
	ErrDuplicate = errors.New("transaction already submitted")
	// ErrRejected: the application refused the transaction; the
	// [*RejectedError] carries its code and log.
	ErrRejected = errors.New("transaction rejected")
	// ErrStopped: the node stopped before the transaction was committed.
	ErrStopped = errors.New("node stopped")
)

// TxResult is the outcome of a committed transaction.
type TxResult struct {
	Height    int64    `json:"height"`
	Hash      string   `json:"hash"` // SHA-256 of the tx bytes, upper-case hex (as CometBFT)
	Code      uint32   `json:"code"` // 0 = success
	Codespace string   `json:"codespace,omitempty"`
	Log       string   `json:"log"`
	Data      []byte   `json:"data,omitempty"`
	Events    []string `json:"-"`
}

// RejectedError is a transaction the application refused, in CheckTx
// (Height 0, nothing was written), when the mempool re-checked it after a
// block (it was dropped, nothing was written) or in FinalizeBlock (the tx
// is in block Height but changed nothing). It wraps ErrRejected and, for a
// code of the registry's codespace, that code's registry/ledger sentinel
// (ledger.ErrExists, ledger.ErrReplay, …), so callers branch with
// errors.Is.
type RejectedError struct {
	Stage     string // "check", "recheck" or "deliver"
	Height    int64
	Hash      string
	Code      uint32
	Codespace string
	Log       string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("transaction rejected at %s with code %d: %s", e.Stage, e.Code, e.Log)
}

func (e *RejectedError) Unwrap() []error {
	if e.Codespace == ledger.Codespace && e.Code != 0 {
		return []error{ErrRejected, ledger.ErrorOf(e.Code)}
	}
	return []error{ErrRejected}
}

// waiters maps transactions to the submitters waiting for their commit.
// They are keyed by a maphash of the bytes (per-process seed), and each
// waiter keeps the bytes it waits for, so a key collision never delivers
// one transaction's result to another's waiter: the commit watcher looks
// every committed transaction up without a SHA-256 of it (Submit takes
// the one SHA-256 a transaction needs, for its hash).
type waiters struct {
	seed   maphash.Seed
	mu     sync.Mutex // guards m and closed
	m      map[uint64][]waiter
	closed error
	// mempoolRejected counts the transactions CometBFT's mempool turned
	// away for its limits or as already held (its RejectedTxs metric; see
	// countRejections): [Node.checkTx] reads it to tell whether an
	// accepted transaction may have been dropped.
	mempoolRejected atomic.Uint64
}

// waiter is one submitter waiting for the commit of tx.
type waiter struct {
	tx []byte
	ch chan commitEvent
}

type commitEvent struct {
	height int64
	res    *abci.ExecTxResult
	err    error
}

func newWaiters() *waiters {
	return &waiters{seed: maphash.MakeSeed(), m: make(map[uint64][]waiter)}
}

func (w *waiters) key(tx []byte) uint64 { return maphash.Bytes(w.seed, tx) }

// add registers a waiter for tx, whose bytes must not change while it
// waits.
func (w *waiters) add(tx []byte) (chan commitEvent, error) {
	ch := make(chan commitEvent, 1)
	k := w.key(tx)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed != nil {
		return nil, w.closed
	}
	w.m[k] = append(w.m[k], waiter{tx: tx, ch: ch})
	return ch, nil
}

func (w *waiters) remove(tx []byte, ch chan commitEvent) {
	k := w.key(tx)
	w.mu.Lock()
	defer w.mu.Unlock()
	list := w.m[k]
	for i, c := range list {
		if c.ch == ch {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(w.m, k)
	} else {
		w.m[k] = list
	}
}

// deliver sends ev to every waiter for tx (the same bytes) and forgets
// them; waiters for other transactions under the same key stay.
func (w *waiters) deliver(tx []byte, ev commitEvent) {
	k := w.key(tx)
	var found []chan commitEvent
	w.mu.Lock()
	list := w.m[k]
	kept := list[:0]
	for _, c := range list {
		if bytes.Equal(c.tx, tx) {
			found = append(found, c.ch)
		} else {
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 {
		delete(w.m, k)
	} else {
		clear(list[len(kept):])
		w.m[k] = kept
	}
	w.mu.Unlock()
	for _, ch := range found {
		ch <- ev // buffered 1, one delivery per waiter
	}
}

func (w *waiters) closeAll(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = err
	for k, list := range w.m {
		for _, c := range list {
			c.ch <- commitEvent{err: err}
		}
		delete(w.m, k)
	}
}

// newBlockQuery matches exactly what types.EventQueryNewBlock
// (tm.event='NewBlock') matches, by a look-up in the flattened events.
// The event bus matches every event it publishes (each transaction's Tx
// event among them) against every subscription's query, and CometBFT's
// compiled query first expands the flattened events into a slice of
// events (pubsub/query.ExpandEvents: ~1 KB and a dozen allocations per
// transaction) to test one attribute. TestNewBlockQueryMatchesCometBFTs
// compares the two.
type newBlockQuery struct{}

func (newBlockQuery) Matches(events map[string][]string) (bool, error) {
	return slices.Contains(events[types.EventTypeKey], types.EventNewBlock), nil
}

func (newBlockQuery) String() string { return types.EventQueryNewBlock.String() }

// watch delivers each committed block's tx results to the waiters.
func (n *Node) watch(sub types.Subscription) {
	for {
		select {
		case msg := <-sub.Out():
			ev, ok := msg.Data().(types.EventDataNewBlock)
			if !ok || ev.Block == nil {
				continue
			}
			for i, tx := range ev.Block.Txs {
				if i >= len(ev.ResultFinalizeBlock.TxResults) {
					break
				}
				if n.relay != nil {
					n.relay.committedTx(tx)
				}
				n.waiters.deliver(tx, commitEvent{height: ev.Block.Height, res: ev.ResultFinalizeBlock.TxResults[i]})
			}
			n.blockCommitted()
			n.observeBlock(ev.Block.Time)
		case <-sub.Canceled():
			if err := sub.Err(); err != nil && !errors.Is(err, context.Canceled) && n.cmt.IsRunning() {
				n.log.Error("commit watcher stopped", "err", err)
			}
			n.waiters.closeAll(ErrStopped)
			return
		}
	}
}

// Submit puts tx into the local mempool (CheckTx), waits until it is
// committed in a block and returns its result. Errors: ErrMempoolFull when
// the mempool stayed full, ErrTxTooLarge, ErrDuplicate, a *RejectedError
// (wrapping ErrRejected) when CheckTx or FinalizeBlock refused it (the
// TxResult is returned too when it was committed), ErrStopped, or ctx's
// error (the tx may still commit later).
func (n *Node) Submit(ctx context.Context, tx []byte) (*TxResult, error) {
	t := types.Tx(tx)
	k := t.Key()
	hash := upperHex(k) // t.Hash(): the same SHA-256, not computed twice
	ch, err := n.waiters.add(tx)
	if err != nil {
		return nil, err
	}
	defer n.waiters.remove(tx, ch)

	check, err := n.checkTx(ctx, t)
	if err != nil {
		return nil, err
	}
	if check.Code != abci.CodeTypeOK {
		return nil, &RejectedError{Stage: "check", Hash: hash, Code: check.Code, Codespace: check.Codespace, Log: check.Log}
	}
	if n.relay != nil {
		n.relay.broadcast(tx, k)
	}
	select {
	case ev := <-ch:
		if ev.err != nil {
			return nil, ev.err
		}
		r := &TxResult{Height: ev.height, Hash: hash, Code: ev.res.Code, Codespace: ev.res.Codespace, Log: ev.res.Log, Data: ev.res.Data}
		if r.Code != abci.CodeTypeOK {
			return r, &RejectedError{Stage: "deliver", Height: r.Height, Hash: hash, Code: r.Code, Codespace: r.Codespace, Log: r.Log}
		}
		return r, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for commit of tx %s: %w", hash, ctx.Err())
	}
}

// upperHex is fmt.Sprintf("%X", k[:]) (CometBFT's form of a transaction
// hash) in one allocation, the string, where fmt boxes the slice too.
func upperHex(k [32]byte) string {
	const digits = "0123456789ABCDEF"
	var b [64]byte
	for i, c := range k {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&0x0f]
	}
	return string(b[:])
}

// checkTx runs CheckTx through the mempool, retrying while it is full.
func (n *Node) checkTx(ctx context.Context, tx types.Tx) (*abci.ResponseCheckTx, error) {
	deadline := time.Now().Add(n.submitRetry)
	backoff := 5 * time.Millisecond
	probe := false // the last CheckTx was a probe of an accepted tx
	for {
		rejected := n.waiters.mempoolRejected.Load()
		resCh := make(chan *abci.ResponseCheckTx, 1)
		err := n.cmt.Mempool().CheckTx(tx, func(r *abci.ResponseCheckTx) { resCh <- r }, mempl.TxInfo{})
		var full mempl.ErrMempoolIsFull
		var tooLarge mempl.ErrTxTooLarge
		switch {
		case err == nil:
			var r *abci.ResponseCheckTx
			select {
			case r = <-resCh:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if r.Code != abci.CodeTypeOK {
				return r, nil
			}
			// CometBFT drops a transaction the app accepted if the mempool
			// filled up meanwhile (concurrent CheckTx calls), yet reports
			// the app's OK. It counts every such drop (and every
			// transaction it turns away as full or as already held) in its
			// RejectedTxs metric before it calls back, so if the count did
			// not move during this CheckTx, the transaction is in the
			// mempool. Otherwise submitting the same bytes again tells the
			// cases apart: CometBFT forgets a dropped transaction in its
			// cache, so "in cache" means it is in the mempool (or already
			// committed); anything else is a retry.
			if n.waiters.mempoolRejected.Load() == rejected {
				return r, nil
			}
			if probe && time.Now().After(deadline) {
				return nil, fmt.Errorf("%w: the transaction keeps being dropped", ErrMempoolFull)
			}
			probe = true
			continue
		case probe && errors.Is(err, mempl.ErrTxInCache):
			return &abci.ResponseCheckTx{Code: abci.CodeTypeOK}, nil
		case errors.As(err, &full) || errors.Is(err, mempl.ErrRecheckFull):
			probe = false
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("%w: %v", ErrMempoolFull, err)
			}
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			backoff = min(2*backoff, 100*time.Millisecond)
		case errors.As(err, &tooLarge):
			return nil, fmt.Errorf("%w: %v", ErrTxTooLarge, err)
		case errors.Is(err, mempl.ErrTxInCache):
			return nil, fmt.Errorf("%w: %v", ErrDuplicate, err)
		default:
			return nil, fmt.Errorf("mempool: %w", err)
		}
	}
}

// observedApp passes every ABCI call to the application and watches one
// thing: a transaction the mempool re-checks after a block and the
// application now rejects is dropped from the mempool and will never be
// committed (say, a second update of the same DID version). Its waiter is
// told at once instead of waiting for a commit that cannot come.
type observedApp struct {
	abci.Application
	waiters *waiters
}

func (o *observedApp) CheckTx(ctx context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	res, err := o.Application.CheckTx(ctx, req)
	if err == nil && res != nil && res.Code != abci.CodeTypeOK && req.Type == abci.CheckTxType_Recheck {
		t := types.Tx(req.Tx)
		o.waiters.deliver(t, commitEvent{err: &RejectedError{
			Stage: "recheck", Hash: fmt.Sprintf("%X", t.Hash()), Code: res.Code, Codespace: res.Codespace, Log: res.Log,
		}})
	}
	return res, err
}

// countRejections is p with the mempool's RejectedTxs metric also counted
// in n (CometBFT's own metric, Prometheus or discarded, still receives
// every increment).
func countRejections(p nm.MetricsProvider, n *atomic.Uint64) nm.MetricsProvider {
	return func(chainID string) (*cs.Metrics, *p2p.Metrics, *mempl.Metrics, *sm.Metrics, *proxy.Metrics, *blocksync.Metrics, *statesync.Metrics) {
		c, pm, m, s, px, bs, ss := p(chainID)
		counted := *m
		counted.RejectedTxs = countingCounter{Counter: m.RejectedTxs, n: n}
		return c, pm, &counted, s, px, bs, ss
	}
}

// countingCounter is a metrics.Counter that also adds to n.
type countingCounter struct {
	metrics.Counter
	n *atomic.Uint64
}

func (c countingCounter) With(labelValues ...string) metrics.Counter {
	return countingCounter{Counter: c.Counter.With(labelValues...), n: c.n}
}

func (c countingCounter) Add(delta float64) {
	c.n.Add(uint64(delta))
	c.Counter.Add(delta)
}
