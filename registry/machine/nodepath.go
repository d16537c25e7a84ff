package machine

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/registry/ledger"
)

// RunNodePath runs txs through a as one validator runs a block on the
// common path, without consensus or network: each transaction through
// CheckTx (mempool admission), in order, then FinalizeBlock of all of them
// at height with block time t, then Commit. It is the one definition of "a
// validator's work per transaction" that BenchmarkNodePathDIDCreate and
// registry/loadtest's write probe both measure (docs/design/0022). It
// returns the block's results (a transaction FinalizeBlock rejected has a
// non-zero code there); it fails if CheckTx refuses a transaction or
// FinalizeBlock or Commit fails. Like the ABCI methods it calls, it must
// not run concurrently with another block on the same App.
func RunNodePath(ctx context.Context, a *App, height int64, t time.Time, txs [][]byte) ([]*abci.ExecTxResult, error) {
	for i, raw := range txs {
		r, err := a.CheckTx(ctx, &abci.RequestCheckTx{Tx: raw})
		if err != nil {
			return nil, fmt.Errorf("CheckTx of tx %d: %w", i, err)
		}
		if r.Code != 0 {
			return nil, fmt.Errorf("CheckTx refused tx %d: code %d: %s", i, r.Code, r.Log)
		}
	}
	fb, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: height, Time: t, Txs: txs, Hash: nodePathBlockHash(height, t)})
	if err != nil {
		return nil, fmt.Errorf("FinalizeBlock %d: %w", height, err)
	}
	if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
		return nil, fmt.Errorf("Commit %d: %w", height, err)
	}
	return fb.TxResults, nil
}

// nodePathBlockHash is the block hash RunNodePath passes: one per height
// and time, as CometBFT's differs from block to block (from protocol 5 on
// the App refuses a block without one: it names the filings made in it).
// It does not hash the transactions, whose cost is not a validator's per
// transaction work (CometBFT hashes them, not the App).
func nodePathBlockHash(height int64, t time.Time) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(height))
	binary.BigEndian.PutUint64(b[8:], uint64(t.UnixNano()))
	h := sha256.Sum256(b[:])
	return h[:]
}

// StateLayout returns the layout of the chain's state (see
// ledger.StateLayout): what its genesis named, or what a state opened
// from disk says; ledger.LayoutEveryVersion before InitChain.
func (a *App) StateLayout() ledger.StateLayout {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	return a.layout
}
