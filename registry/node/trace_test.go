package node_test

import (
	"context"
	"fmt"
	"os"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
)

// timedApp prints when each block's ABCI calls happen and how long
// FinalizeBlock and Commit take, to stderr. The commit benchmarks wrap
// their registry apps in it when MEDID_BENCH_TRACE is set (diagnosis only;
// it is how the block-execution starvation behind parallelCheckCreator's
// gate was found).
type timedApp struct {
	abci.Application
	name string
}

func (t timedApp) FinalizeBlock(ctx context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	s := time.Now()
	r, err := t.Application.FinalizeBlock(ctx, req)
	fmt.Fprintf(os.Stderr, "%s %s FinalizeBlock h=%d txs=%d took %v (block time %s)\n", time.Now().Format("15:04:05.000"), t.name, req.Height, len(req.Txs), time.Since(s), req.Time.Format("15:04:05.000"))
	return r, err
}

func (t timedApp) Commit(ctx context.Context, req *abci.RequestCommit) (*abci.ResponseCommit, error) {
	s := time.Now()
	r, err := t.Application.Commit(ctx, req)
	fmt.Fprintf(os.Stderr, "%s %s Commit took %v\n", time.Now().Format("15:04:05.000"), t.name, time.Since(s))
	return r, err
}

func (t timedApp) PrepareProposal(ctx context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	fmt.Fprintf(os.Stderr, "%s %s PrepareProposal h=%d txs=%d\n", time.Now().Format("15:04:05.000"), t.name, req.Height, len(req.Txs))
	return t.Application.PrepareProposal(ctx, req)
}

func (t timedApp) ProcessProposal(ctx context.Context, req *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	fmt.Fprintf(os.Stderr, "%s %s ProcessProposal h=%d txs=%d\n", time.Now().Format("15:04:05.000"), t.name, req.Height, len(req.Txs))
	return t.Application.ProcessProposal(ctx, req)
}
