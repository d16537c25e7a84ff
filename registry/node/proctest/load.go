package proctest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Load is a steady stream of did.create transactions spread over the
// network's running nodes. A transaction is acknowledged when a node
// answered that it committed (or, after a lost answer, that its DID
// exists). Stop it with [Load.Stop].
type Load struct {
	nw     *Network
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex // guards acked and by
	acked []string
	by    map[string]string // DID -> which node acknowledged it, at what height

	Submitted atomic.Int64
	Failed    atomic.Int64
}

// StartLoad submits rate did.create transactions per second from workers
// goroutines until Stop (or ctx ends). Each goes to a random running node;
// when a node fails, the same transaction is retried on another.
func (nw *Network) StartLoad(ctx context.Context, rate float64, workers int) *Load {
	ctx, cancel := context.WithCancel(ctx)
	l := &Load{nw: nw, cancel: cancel, by: map[string]string{}}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	jobs := make(chan struct{})
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer tick.Stop()
		defer close(jobs)
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				select {
				case jobs <- struct{}{}:
				default: // every worker busy: the network is behind, skip a beat
				}
			}
		}
	}()
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for range jobs {
				l.one(ctx, w)
			}
		}()
	}
	return l
}

// one submits one fresh did.create until a node acknowledges it or ctx ends.
func (l *Load) one(ctx context.Context, worker int) {
	var seed [32]byte
	_, _ = rand.Read(seed[:])
	k, err := key.NewEd25519FromSeed(seed[:])
	if err != nil {
		return
	}
	p, kid, err := tx.NewKeyDIDCreate(k.Public())
	if err != nil {
		return
	}
	raw, err := tx.Sign(p, k, kid)
	if err != nil {
		return
	}
	l.Submitted.Add(1)
	for attempt := 0; ctx.Err() == nil; attempt++ {
		nd := l.nw.pick(worker + attempt)
		if nd == nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		res, err := nd.Client().Submit(sctx, raw)
		cancel()
		if err == nil || errors.Is(err, ledger.ErrExists) {
			how := "exists"
			if err == nil {
				how = fmt.Sprintf("committed at height %d", res.Height)
			}
			l.mu.Lock()
			l.acked = append(l.acked, p.DID)
			l.by[p.DID] = fmt.Sprintf("%s: %s (attempt %d)", nd.Name, how, attempt+1)
			l.mu.Unlock()
			return
		}
		l.Failed.Add(1)
		if duplicate(err) && l.committed(ctx, nd, p.DID) {
			// A node had the transaction already (an earlier attempt
			// whose answer was lost): its mempool cache refuses it again
			// even once committed, so ask whether the DID exists.
			l.mu.Lock()
			l.acked = append(l.acked, p.DID)
			l.by[p.DID] = fmt.Sprintf("%s: exists after a duplicate (attempt %d)", nd.Name, attempt+1)
			l.mu.Unlock()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// duplicate reports whether err is a node's answer that it has the
// transaction already (HTTP 409, problem type …/duplicate).
func duplicate(err error) bool {
	var pe *client.ProblemError
	return errors.As(err, &pe) && pe.Status == http.StatusConflict && strings.HasSuffix(pe.Type, "/duplicate")
}

// committed waits up to lateCommit for did to resolve on nd.
func (l *Load) committed(ctx context.Context, nd *Node, did string) bool {
	c := nd.Client()
	for deadline := time.Now().Add(lateCommit); ctx.Err() == nil && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err := c.Resolve(ctx, did); err == nil {
			return true
		}
	}
	return false
}

// pick returns the i-th running node, round robin (nil: none runs).
func (nw *Network) pick(i int) *Node {
	nw.mu.Lock()
	nodes := append([]*Node(nil), nw.Nodes...)
	nw.mu.Unlock()
	for k := range nodes {
		nd := nodes[(i+k)%len(nodes)]
		if nd.Running() {
			return nd
		}
	}
	return nil
}

// Acked returns the DIDs acknowledged so far.
func (l *Load) Acked() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.acked...)
}

// AckedBy says which node acknowledged did, and how ("" if none did).
func (l *Load) AckedBy(did string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.by[did]
}

// Stop stops the load and waits for in-flight submissions.
func (l *Load) Stop() {
	l.cancel()
	l.wg.Wait()
}

// WaitCaughtUp waits until every running node has reached the highest
// height any of them had when called, and returns how long it took.
func (nw *Network) WaitCaughtUp(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	var top int64
	for _, nd := range nw.Nodes {
		if !nd.Running() {
			continue
		}
		if h, err := nd.Height(ctx); err == nil && h > top {
			top = h
		}
	}
	for _, nd := range nw.Nodes {
		if !nd.Running() {
			continue
		}
		if err := nd.WaitHeight(ctx, top); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// lateCommit is how long Check waits for an acknowledged DID that a
// caught-up node does not resolve yet.
const lateCommit = 5 * time.Second

// MissingError is an acknowledged DID a running node does not resolve.
type MissingError struct {
	Node   string
	DID    string
	Height int64 // the node's height when asked
	Err    error
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s (at height %d) does not have acknowledged %s: %v", e.Node, e.Height, e.DID, e.Err)
}

func (e *MissingError) Unwrap() error { return e.Err }

// Check verifies the network is consistent: every running node resolves
// every DID in acked, and every pair of running nodes has the same block
// (hence the same app hash) at every height both keep. It returns the
// heights compared.
func (nw *Network) Check(ctx context.Context, acked []string) (int64, error) {
	var running []*Node
	for _, nd := range nw.Nodes {
		if nd.Running() {
			running = append(running, nd)
		}
	}
	if len(running) == 0 {
		return 0, errors.New("no node is running")
	}
	for _, nd := range running {
		c := nd.Client()
		for _, d := range acked {
			// A node's latest block (what WaitCaughtUp waited for) is
			// stored just before the application commits it: give the
			// commit a moment before calling a DID missing.
			var err error
			for deadline := time.Now().Add(lateCommit); ; time.Sleep(50 * time.Millisecond) {
				if _, err = c.Resolve(ctx, d); err == nil || time.Now().After(deadline) || !errors.Is(err, ledger.ErrNotFound) {
					break
				}
			}
			if err != nil {
				h, _ := nd.Height(ctx)
				return 0, &MissingError{Node: nd.Name, DID: d, Height: h, Err: err}
			}
		}
	}
	// Heights every running node has: from the highest base (a node that
	// joined by state sync starts at its snapshot) to the lowest tip.
	lo, hi := int64(1), int64(1)<<62
	for _, nd := range running {
		h, err := nd.Height(ctx)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", nd.Name, err)
		}
		hi = min(hi, h)
		lo = max(lo, nd.base(ctx))
	}
	var compared int64
	for h := lo; h <= hi; h++ {
		var ref []byte
		var refNode string
		for _, nd := range running {
			lb, err := nd.Client().LightBlock(ctx, h)
			if err != nil {
				if errors.Is(err, ledger.ErrNotFound) {
					continue // pruned or before its snapshot
				}
				return compared, fmt.Errorf("%s block %d: %w", nd.Name, h, err)
			}
			hash := lb.Hash()
			if ref == nil {
				ref, refNode = hash, nd.Name
			} else if !bytes.Equal(ref, hash) {
				return compared, fmt.Errorf("block %d differs: %X on %s, %X on %s (app hash %X)", h, ref, refNode, hash, nd.Name, lb.AppHash())
			}
		}
		compared++
	}
	return compared, nil
}

// base is the lowest height whose block the node serves (1, or its
// snapshot height after a state sync).
func (nd *Node) base(ctx context.Context) int64 {
	c := nd.Client()
	lo, hi := int64(1), int64(1)
	if h, err := nd.Height(ctx); err == nil {
		hi = h
	}
	if _, err := c.LightBlock(ctx, 1); err == nil {
		return 1
	}
	for lo < hi { // the first height served, by bisection
		mid := (lo + hi) / 2
		if _, err := c.LightBlock(ctx, mid); err == nil {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// CreateDIDs registers n fresh did:medid identifiers through the running
// nodes with workers concurrent submitters, and returns them once every one
// is acknowledged (or ctx ends).
func (nw *Network) CreateDIDs(ctx context.Context, n, workers int) ([]string, error) {
	l := &Load{nw: nw, by: map[string]string{}}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				l.one(ctx, w)
			}
		}()
	}
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	acked := l.Acked()
	if len(acked) < n {
		return acked, fmt.Errorf("%d of %d DIDs acknowledged: %w", len(acked), n, ctx.Err())
	}
	return acked, nil
}
