package node

import (
	"context"
	"runtime"
	"sync"

	abcicli "github.com/cometbft/cometbft/abci/client"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/proxy"
)

// parallelCheckCreator is the ClientCreator used for a ConcurrentApp: like
// CometBFT's connection-synchronised local creator (one mutex per ABCI
// connection), except that CheckTx takes no mutex at all, so mempool
// admissions run on every core at once instead of one at a time.
//
// Why it is safe: CometBFT calls CheckTx only on the mempool connection.
// The mempool holds its update lock (read side) around each CheckTx and
// takes it exclusively for Update/recheck after a block, so no CheckTx
// overlaps a mempool update; its first-time callback (resCbFirstTime) uses
// only concurrency-safe structures (the locked cache, a sync.Map, a locked
// clist, atomics). The application must be safe for concurrent CheckTx, as
// [Config.ConcurrentApp] already requires. Measured with
// BenchmarkCommitDIDCreate (see docs/design and BENCHMARKS.md): CheckTx was
// the serial bottleneck of the node (one core busy, the other idle).
//
// Two refinements keep block execution from being starved by admissions
// (measured: with 2,048 submitters and unbounded parallel CheckTx, a
// 238-transaction FinalizeBlock took 2.6 s instead of ~30 ms, because the
// consensus goroutine competed with hundreds of runnable CheckTx calls):
// at most NumCPU CheckTx calls run at a time, and FinalizeBlock takes one of
// those NumCPU slots for itself, so while a block executes it has a core of
// its own and admissions go on on the others (on one core, admissions pause
// while a block executes). The slot is released when FinalizeBlock returns,
// before CometBFT locks the mempool for Commit and Update, so the two never
// wait on each other. (An earlier version paused all admissions during
// FinalizeBlock; with 2 cores that left one core idle for the whole block:
// see BENCHMARKS.md.)
//
// The application's CheckTx runs on NumCPU long-lived worker goroutines
// (started by the first CheckTx), not on the caller's: a submitter is often a goroutine
// made for one transaction (the batch endpoint starts one per transaction,
// HTTP one per connection), and CheckTx (the signature check's scalar
// multiplication, decoding) needs a deeper stack than a new goroutine
// starts with, so the caller's stack was grown and copied, frame by frame,
// at its first CheckTx. A worker's stack grows once. The caller still
// holds its slot and waits for the answer, so the mempool's lock is held
// around the whole check as before.
type parallelCheckCreator struct {
	app abci.Application
	sem chan struct{} // NumCPU slots: CheckTx calls and FinalizeBlock
}

func newParallelCheckCreator(app abci.Application) parallelCheckCreator {
	return parallelCheckCreator{app: app, sem: make(chan struct{}, runtime.NumCPU())}
}

func (c parallelCheckCreator) NewABCIClient() (abcicli.Client, error) {
	return &parallelCheckClient{Client: abcicli.NewLocalClient(nil, c.app), app: c.app, sem: c.sem,
		jobs: make(chan *checkJob), quit: make(chan struct{})}, nil
}

// checkJob is one CheckTx handed to a worker.
type checkJob struct {
	ctx  context.Context
	req  *abci.RequestCheckTx
	res  *abci.ResponseCheckTx
	err  error
	done chan struct{} // buffered 1
}

var checkJobs = sync.Pool{New: func() any { return &checkJob{done: make(chan struct{}, 1)} }}

var _ proxy.ClientCreator = parallelCheckCreator{}

// parallelCheckClient is a local client whose CheckTx (sync and async)
// bypasses the connection mutex; everything else goes through the embedded
// connection-synchronised client.
type parallelCheckClient struct {
	abcicli.Client
	app   abci.Application
	sem   chan struct{}
	jobs  chan *checkJob
	quit  chan struct{} // closed by Stop: the workers end
	start sync.Once     // the workers start at the first CheckTx (only the mempool's connection has any)
	stop  sync.Once

	mu sync.RWMutex // guards cb
	cb abcicli.Callback
}

// checkTx runs the application's CheckTx within the concurrency bound, on
// a worker (on the caller's goroutine once the client is stopped).
func (c *parallelCheckClient) checkTx(ctx context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	c.start.Do(func() {
		for range cap(c.sem) {
			go c.worker()
		}
	})
	c.sem <- struct{}{}
	defer func() { <-c.sem }()
	j := checkJobs.Get().(*checkJob)
	j.ctx, j.req = ctx, req
	select {
	case c.jobs <- j:
		<-j.done
	case <-c.quit:
		j.res, j.err = c.app.CheckTx(ctx, req)
	}
	res, err := j.res, j.err
	*j = checkJob{done: j.done}
	checkJobs.Put(j)
	return res, err
}

// worker runs CheckTx calls until the client stops.
func (c *parallelCheckClient) worker() {
	for {
		select {
		case j := <-c.jobs:
			j.res, j.err = c.app.CheckTx(j.ctx, j.req)
			j.done <- struct{}{}
		case <-c.quit:
			return
		}
	}
}

// Stop ends the workers and stops the embedded client.
func (c *parallelCheckClient) Stop() error {
	c.stop.Do(func() { close(c.quit) })
	return c.Client.Stop()
}

// FinalizeBlock executes a block in one of the CheckTx slots (see
// parallelCheckCreator).
func (c *parallelCheckClient) FinalizeBlock(ctx context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	c.sem <- struct{}{}
	defer func() { <-c.sem }()
	return c.Client.FinalizeBlock(ctx, req)
}

// SetResponseCallback records the global response callback (the mempool's)
// for the unlocked CheckTx path and passes it on.
func (c *parallelCheckClient) SetResponseCallback(cb abcicli.Callback) {
	c.mu.Lock()
	c.cb = cb
	c.mu.Unlock()
	c.Client.SetResponseCallback(cb)
}

// CheckTx calls the application directly, without the connection mutex.
func (c *parallelCheckClient) CheckTx(ctx context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	return c.checkTx(ctx, req)
}

// CheckTxAsync calls the application directly and returns a completed
// request, as CometBFT's local client does (global callback first, then the
// request's own callback when the mempool sets it).
func (c *parallelCheckClient) CheckTxAsync(ctx context.Context, req *abci.RequestCheckTx) (*abcicli.ReqRes, error) {
	res, err := c.checkTx(ctx, req)
	if err != nil {
		return nil, err
	}
	q, r := abci.ToRequestCheckTx(req), abci.ToResponseCheckTx(res)
	c.mu.RLock()
	cb := c.cb
	c.mu.RUnlock()
	if cb != nil {
		cb(q, r)
	}
	rr := abcicli.NewReqRes(q)
	rr.Response = r
	rr.InvokeCallback() // no callback yet: marks it done, so SetCallback runs its callback at once
	return rr, nil
}
