// Package loadtest measures the registry at scale on one machine: it
// bulk-loads a registry state with many real signed did.create
// transactions by driving registry/machine directly (InitChain, FinalizeBlock
// with large blocks, Commit; no CometBFT, so no consensus cost), serves the
// registry HTTP API from that state, and drives HTTP load with wrk (or a Go
// client) against it and against a bare net/http handler serving a static
// DID document in the same run, so figures are reported as ratios.
//
// Everything listens on 127.0.0.1 ephemeral ports and stops when the
// function returns; durations are bounded by the caller's config.
// cmd/medid-loadtest is the command-line front end (see its doc for the
// reproducible procedure).
package loadtest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"runtime"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/benchbase"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/tx"
)

// Identity returns the DID and the signed did.create transaction of test
// identity n: an Ed25519 key derived from n (SHA-256 of "medid-loadtest"
// and n), the one-key did:medid the wallet and the CLI register
// (tx.NewKeyDIDCreate). The
// same n always gives the same DID (the transaction's nonce is fixed too,
// so a state loaded twice with the same range rejects the replays).
func Identity(n uint64) (did string, raw []byte, err error) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	seed := sha256.Sum256(append([]byte("medid-loadtest"), b[:]...))
	k, err := key.NewEd25519FromSeed(seed[:])
	if err != nil {
		return "", nil, err
	}
	p, kid, err := tx.NewKeyDIDCreate(k.Public())
	if err != nil {
		return "", nil, err
	}
	p.Nonce = fmt.Sprintf("loadtest-%d", n) // fixed: a reload of the same range is a replay
	raw, err = tx.Sign(p, k, kid)
	return p.DID, raw, err
}

// loadGenesis is the genesis app_state of a load-test chain in state
// layout l: a million self-made did.create in minutes is far past a real
// network's write budget (docs/design/0005, "Write quotas"), so that budget
// is lifted; every quota check still runs.
func loadGenesis(l ledger.StateLayout) []byte {
	layout := ""
	if l != ledger.LayoutEveryVersion {
		layout = fmt.Sprintf(`,"stateLayout":%d`, l)
	}
	return []byte(`{"governance":[],"quotas":{"selfMade":{"types":{"did.create":{"total":{"txs":-1,"bytes":-1}}}}}` + layout + `}`)
}

// BulkConfig configures [BulkLoad].
type BulkConfig struct {
	// Dir is the registry/machine state folder (created if missing). A state
	// already holding blocks is extended: identities First… are appended.
	Dir string
	// First is the number of the first identity (see [Identity]); DIDs is
	// how many to create.
	First, DIDs uint64
	// BlockTxs is the number of transactions per block (0 = 5,000).
	BlockTxs int
	// Workers build and sign transactions in parallel (0 = NumCPU). The
	// application verifies each block's signatures with its own workers.
	Workers int
	// DIDList, if not nil, receives one DID per line for every
	// ListEvery-th identity (0 = every one), for wrk's request script.
	DIDList   io.Writer
	ListEvery uint64
	// Progress, if not nil, is told about every block.
	Progress *slog.Logger
	// NodeCacheSize is the application's IAVL node cache (0 = 4,000,000
	// nodes, ~1 GB: with the app default of 100,000 a state of 200,000 DIDs
	// already spends its time re-reading LevelDB, ~1 GB/s of read syscalls,
	// and block execution falls to ~350 tx/s).
	NodeCacheSize int
	// StateLayout is the layout of a new state (0 = ledger.CurrentLayout,
	// what `registryd init` writes for new chains; docs/design/0021). A
	// state already holding blocks keeps its own.
	StateLayout ledger.StateLayout
}

// BulkResult is what [BulkLoad] measured.
type BulkResult struct {
	DIDs        uint64        // DIDs created by this run
	Blocks      int64         // blocks finalized and committed
	Height      int64         // state height at the end
	Elapsed     time.Duration // wall time of FinalizeBlock+Commit only (generation excluded)
	Total       time.Duration // wall time including transaction generation
	AppCPU      time.Duration // process CPU while blocks executed (includes generation running alongside)
	TxPerSec    float64       // DIDs / Elapsed
	DiskBytes   int64         // size of Dir after the run (all state versions, LevelDB)
	BytesPerDID float64       // DiskBytes / all DIDs in the state (this run's plus earlier)
	StateDIDs   uint64        // First + DIDs (identities assumed to start at 0)
}

// BulkLoad creates cfg.DIDs identities in the state in cfg.Dir through the
// application's ABCI methods with real signed transactions, block after
// block, and fails if any transaction is rejected.
func BulkLoad(ctx context.Context, cfg BulkConfig) (*BulkResult, error) {
	if cfg.Dir == "" || cfg.DIDs == 0 {
		return nil, errors.New("loadtest.BulkConfig needs Dir and DIDs > 0")
	}
	if cfg.BlockTxs <= 0 {
		cfg.BlockTxs = 5000
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.NodeCacheSize <= 0 {
		cfg.NodeCacheSize = 4_000_000
	}
	a, err := machine.New(machine.Config{Dir: cfg.Dir, NodeCacheSize: cfg.NodeCacheSize})
	if err != nil {
		return nil, err
	}
	closed := false
	defer func() {
		if !closed {
			_ = a.Close()
		}
	}()
	height, _ := a.LastCommit()
	if height == 0 {
		if _, err := a.InitChain(ctx, &abci.RequestInitChain{ChainId: "medid-loadtest", InitialHeight: 1, AppStateBytes: loadGenesis(cmp.Or(cfg.StateLayout, ledger.CurrentLayout))}); err != nil {
			return nil, err
		}
	}

	type block struct {
		txs  [][]byte
		dids []string
		err  error
	}
	blocks := make(chan block, 2) // generation runs ahead of execution
	genCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(blocks)
		for start := cfg.First; start < cfg.First+cfg.DIDs; start += uint64(cfg.BlockTxs) {
			n := min(uint64(cfg.BlockTxs), cfg.First+cfg.DIDs-start)
			var b block
			b.txs, b.dids, b.err = signIdentities(start, int(n), cfg.Workers)
			select {
			case blocks <- b:
			case <-genCtx.Done():
				return
			}
		}
	}()

	res := &BulkResult{}
	t0 := time.Now()
	cpu0 := benchbase.ProcessCPU()
	bt := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(height) * time.Second)
	idx := cfg.First
	for b := range blocks {
		if b.err != nil {
			return nil, b.err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		height++
		bt = bt.Add(time.Second)
		s := time.Now()
		fb, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: height, Time: bt, Txs: b.txs})
		if err != nil {
			return nil, fmt.Errorf("FinalizeBlock %d: %w", height, err)
		}
		for i, r := range fb.TxResults {
			if r.Code != 0 {
				return nil, fmt.Errorf("block %d tx %d (%s) rejected: code %d: %s", height, i, b.dids[i], r.Code, r.Log)
			}
		}
		if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
			return nil, fmt.Errorf("Commit %d: %w", height, err)
		}
		res.Elapsed += time.Since(s)
		res.Blocks++
		res.DIDs += uint64(len(b.txs))
		if cfg.DIDList != nil {
			for _, d := range b.dids {
				if cfg.ListEvery <= 1 || idx%cfg.ListEvery == 0 {
					if _, err := io.WriteString(cfg.DIDList, d+"\n"); err != nil {
						return nil, err
					}
				}
				idx++
			}
		}
		if cfg.Progress != nil {
			cfg.Progress.Info("block", "height", height, "dids", res.DIDs, "tx/s", float64(res.DIDs)/res.Elapsed.Seconds())
		}
	}
	res.Total = time.Since(t0)
	res.AppCPU = benchbase.ProcessCPU() - cpu0
	res.Height = height
	res.TxPerSec = float64(res.DIDs) / res.Elapsed.Seconds()
	closed = true
	if err := a.Close(); err != nil {
		return nil, err
	}
	res.DiskBytes = DirSize(cfg.Dir)
	res.StateDIDs = cfg.First + cfg.DIDs
	res.BytesPerDID = float64(res.DiskBytes) / float64(res.StateDIDs)
	return res, nil
}

// DirSize is the total size of the regular files under dir (files that
// vanish while it walks, as LevelDB compacts, are skipped).
func DirSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if info, err := e.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

// Height returns the committed height of the state in dir (0 for none).
func Height(dir string) (int64, error) {
	a, err := machine.New(machine.Config{Dir: dir})
	if err != nil {
		return 0, err
	}
	defer a.Close()
	h, _ := a.LastCommit()
	return h, nil
}
