// Package node runs the registry's CometBFT node in-process: it initialises
// a home folder (keys, genesis, config), starts a validator that executes an
// ABCI application through a local (in-memory) connection, submits
// transactions through the local mempool and waits for their commit, and
// serves state queries and the signed headers that prove them.
//
// # Home folder
//
//	home/config/{config.toml,genesis.json,node_key.json,priv_validator_key.json}
//	home/data/...            CometBFT block store, state and WAL; the app's data
//	home/governance.jwk      governance key (private JWK, 0600)
//	home/registryd.json      listen addresses and block time ([Settings])
//
// A node restarts from the same home with nothing lost: CometBFT replays any
// block the application had not persisted before a crash.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	abci "github.com/cometbft/cometbft/abci/types"
	cfg "github.com/cometbft/cometbft/config"
	cstypes "github.com/cometbft/cometbft/consensus/types"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"github.com/cometbft/cometbft/rpc/client/local"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/types"

	"github.com/medid/medid/registry/ledger"
)

// Config configures [New]. Zero fields take the value from the home
// folder's settings file, then the package default.
type Config struct {
	// Home is the initialised home folder (see [Init]). Required.
	Home string
	// App is the ABCI application the node executes. Required. The node
	// does not close it; the caller does after [Node.Run] returns.
	App abci.Application
	// ConcurrentApp declares that App is safe for concurrent use across
	// CometBFT's four ABCI connections (consensus, mempool, query,
	// snapshot), as registry/machine is. The node then locks each connection
	// separately, so CheckTx and queries run while a block executes;
	// otherwise one mutex serialises every ABCI call. CheckTx then takes no
	// mutex at all (see SerialCheckTx): App.CheckTx must be safe to call
	// concurrently with itself.
	ConcurrentApp bool
	// P2PAddr, RPCAddr: host:port to listen on. RPCAddr "" keeps CometBFT's
	// JSON-RPC off unless the settings file enables it.
	P2PAddr string
	RPCAddr string
	// BlockTime is the pause after a commit before the next block
	// (CometBFT timeout_commit); it bounds commit latency from below.
	BlockTime time.Duration
	// Logger receives the node's logs; CometBFT's Info logs arrive at
	// slog Debug, its Error logs at Warn. nil = slog.Default().
	Logger *slog.Logger
	// MempoolSize is the number of transactions the mempool holds before it
	// refuses more (0 = 50,000).
	MempoolSize int
	// MempoolRecheck re-validates every waiting transaction after each
	// block, so stale ones leave the mempool early (their submitters get a
	// "recheck" RejectedError) instead of being rejected in a block. Off by
	// default: it costs a full CheckTx per waiting tx per block.
	MempoolRecheck bool
	// SerialCheckTx keeps a ConcurrentApp's CheckTx calls one at a time
	// (under the mempool connection's mutex), as before parallel CheckTx;
	// for comparison benchmarks. By default a ConcurrentApp's CheckTx runs
	// concurrently on all cores.
	SerialCheckTx bool
	// SubmitRetry bounds how long [Node.Submit] retries a full mempool
	// before it returns ErrMempoolFull (0 = 2 s).
	SubmitRetry time.Duration
	// StallAfter is how long transactions may wait without a new block
	// before [Node.Progress] reports a stall (0 = DefaultStallAfter).
	StallAfter time.Duration
}

// Node is a running (or runnable) CometBFT node. Its methods are safe for
// concurrent use once [Node.Start] has returned.
type Node struct {
	// blocks holds the block metrics once registered (see RegisterMetrics).
	blocks      atomic.Pointer[blockMetrics]
	cmt         *nm.Node
	rpc         *local.Local
	log         *slog.Logger
	home        string
	submitRetry time.Duration
	waiters     *waiters
	stallAfter  time.Duration
	// relay sends transactions the node's API accepted to every peer
	// (nil with Settings.MempoolRelay "flood": CometBFT's gossip).
	relay *txRelay

	// Progress tracking (health.go): unix nanoseconds of the last block and
	// of the moment transactions started waiting (0: none waiting), and
	// whether the consensus engine stopped on its own.
	lastBlock    atomic.Int64
	waitingSince atomic.Int64
	halted       atomic.Bool
	stopping     atomic.Bool
	quit         chan struct{}
	stateStore   sm.Store
	// roundStep returns consensus's round and step in the current height
	// (set by trackProgress).
	roundStep func() (int32, cstypes.RoundStepType)
	// catchUp counts the catch-up's asks and the peers' answers (catchup.go).
	catchUp *catchUpCounts

	stopOnce sync.Once
}

// cometConfig is CometBFT's default configuration rooted at home.
func cometConfig(home string) *cfg.Config {
	c := cfg.DefaultConfig()
	c.SetRoot(home)
	return c
}

// buildCometConfig applies the registry's choices to CometBFT's defaults.
func buildCometConfig(home string, s Settings) (*cfg.Config, error) {
	c := cometConfig(home)
	if s.Moniker != "" {
		c.Moniker = s.Moniker
	}
	bt, err := time.ParseDuration(orDefault(s.BlockTime, DefaultBlockTime.String()))
	if err != nil || bt <= 0 {
		return nil, fmt.Errorf("block time %q in %s: want a positive Go duration such as 100ms", s.BlockTime, SettingsFile)
	}
	if _, _, err := net.SplitHostPort(s.P2PAddr); err != nil {
		return nil, fmt.Errorf("p2p address %q: want host:port: %w", s.P2PAddr, err)
	}
	c.P2P.ListenAddress = "tcp://" + s.P2PAddr
	c.P2P.PersistentPeers = s.PersistentPeers
	// Validators of a test network share one host; real deployments name
	// their peers explicitly in persistent_peers.
	c.P2P.AddrBookStrict = false
	c.P2P.AllowDuplicateIP = true
	c.P2P.PexReactor = s.PersistentPeers != "" && !s.NoPeerExchange
	// CometBFT's own p2p (SecretConnection, persistent peers, PEX), never
	// the experimental go-libp2p transport that CometBFT v0.39's node
	// package links: the registry's relay, catch-up and health read the
	// classic switch, and the go-libp2p modules are raised above the
	// versions upstream tested only for their vulnerability fixes
	// (docs/design/0001). Off is CometBFT's default; it is set here so that
	// no change of default turns it on, and New refuses any other switch.
	c.P2P.LibP2PConfig.Enabled = false
	// Block sync stops once the node has caught up and consensus takes
	// over: CometBFT v0.39's experimental adaptive sync (block sync kept
	// running beside consensus) is off by default and upstream documents
	// an equivocation risk for validators that turn it on (cometbft#5953);
	// set here so that no change of default turns it on.
	c.BlockSync.AdaptiveSync = false
	// CometBFT's own (flood) mempool, fed through CheckTx: the application
	// answers v0.39's application-side mempool calls (InsertTx, ReapTxs)
	// with an error (docs/design/0024 studies that mode).
	c.Mempool.Type = cfg.MempoolTypeFlood
	c.RPC.ListenAddress = ""
	if s.RPCAddr != "" {
		if _, _, err := net.SplitHostPort(s.RPCAddr); err != nil {
			return nil, fmt.Errorf("rpc address %q: want host:port: %w", s.RPCAddr, err)
		}
		c.RPC.ListenAddress = "tcp://" + s.RPCAddr
		// Counted in the process's descriptor budget (see Descriptors).
		c.RPC.MaxOpenConnections = rpcMaxConns
	}
	// Commit latency: blocks are made only when there are transactions (plus
	// the proof block CometBFT adds after an app hash change), and the
	// pause after a commit is the configured block time.
	c.Consensus.TimeoutCommit = bt
	// Blocks when transactions arrive, plus one empty block after
	// EmptyBlocks of silence (CometBFT makes blocks only for transactions
	// when create_empty_blocks_interval is set and waits that long
	// otherwise).
	eb, err := time.ParseDuration(orDefault(s.EmptyBlocks, DefaultEmptyBlocks.String()))
	if err != nil || eb < time.Second {
		return nil, fmt.Errorf("empty block interval %q in %s: want a Go duration of at least 1s such as 1h", s.EmptyBlocks, SettingsFile)
	}
	c.Consensus.CreateEmptyBlocks = true
	c.Consensus.CreateEmptyBlocksInterval = eb
	c.Consensus.TimeoutPropose = time.Second
	c.Consensus.PeerGossipSleepDuration = 10 * time.Millisecond
	// Validators are a few hospitals on good links, not an open network:
	// flush peer connections every 10 ms instead of 100 (each step of a
	// round waited for a flush: a block reached the other validators 100-300
	// ms after it was proposed), and allow 20 MB/s per connection instead of
	// 5 (a block of 2,000 did.create is ~2 MB, sent to every peer next to the
	// same transactions' mempool gossip). Measured with
	// BenchmarkCommitDIDCreate4Nodes, see BENCHMARKS.md.
	c.P2P.FlushThrottleTimeout = 10 * time.Millisecond
	c.P2P.SendRate = 20 << 20
	c.P2P.RecvRate = 20 << 20
	// Throughput: a larger mempool and cache; transactions are found through
	// the event bus, not the tx indexer.
	c.Mempool.Size = 50_000
	c.Mempool.CacheSize = 100_000
	// No re-check of the whole mempool after every block: FinalizeBlock
	// validates every transaction again anyway (a stale one is rejected in
	// its block with a code and changes nothing), and re-checking the
	// waiting transactions after each block cost more than the blocks
	// themselves under load (420 vs 1,000-1,400 did.create/s, see 0006).
	c.Mempool.Recheck = false
	if s.GossipPeers < 0 {
		return nil, fmt.Errorf("gossipPeers %d in %s: want 0 (every peer) or a positive number of peers", s.GossipPeers, SettingsFile)
	}
	// Mempool relay (relay.go): by default CometBFT's gossip is off and
	// the node sends what its API accepted to every peer itself.
	switch s.MempoolRelay {
	case "", RelayDirect:
		if s.GossipPeers > 0 {
			return nil, fmt.Errorf("gossipPeers %d in %s limits CometBFT's gossip, which mempoolRelay %q does not use: set mempoolRelay to %q or remove gossipPeers", s.GossipPeers, SettingsFile, RelayDirect, RelayFlood)
		}
		c.Mempool.Broadcast = false
	case RelayFlood:
		c.Mempool.Broadcast = true
	default:
		return nil, fmt.Errorf("mempoolRelay %q in %s: want %q (the default) or %q", s.MempoolRelay, SettingsFile, RelayDirect, RelayFlood)
	}
	c.Mempool.ExperimentalMaxGossipConnectionsToPersistentPeers = s.GossipPeers
	c.Mempool.ExperimentalMaxGossipConnectionsToNonPersistentPeers = s.GossipPeers
	c.TxIndex.Indexer = "null"
	// Block results: CometBFT stores every block's FinalizeBlock response
	// only for its /block_results RPC (and its reindex-event command), which
	// the registry never reads; the newest height's response, which crash
	// recovery replays into a restarted node, is kept either way.
	c.Storage.DiscardABCIResponses = !s.KeepBlockResults
	if s.StateSync != nil {
		if err := s.StateSync.apply(c.StateSync); err != nil {
			return nil, err
		}
	}
	c.Instrumentation.Prometheus = false
	return c, c.ValidateBasic()
}

// New loads the node from an initialised home folder; it does not start it.
// It returns ErrNotInitialised (wrapped) for a home without genesis.
func New(c Config) (*Node, error) {
	if c.Home == "" {
		return nil, errors.New("node home folder is empty: set Config.Home")
	}
	if c.App == nil {
		return nil, errors.New("node has no application: set Config.App")
	}
	s, err := LoadSettings(c.Home)
	if err != nil {
		return nil, err
	}
	if c.P2PAddr != "" {
		s.P2PAddr = c.P2PAddr
	}
	if c.RPCAddr != "" {
		s.RPCAddr = c.RPCAddr
	}
	if c.BlockTime > 0 {
		s.BlockTime = c.BlockTime.String()
	}
	cc, err := buildCometConfig(c.Home, s)
	if err != nil {
		return nil, err
	}
	cc.Mempool.Recheck = c.MempoolRecheck
	if c.MempoolSize > 0 {
		cc.Mempool.Size = c.MempoolSize
		cc.Mempool.CacheSize = 2 * c.MempoolSize
	}
	if _, err := os.Stat(cc.GenesisFile()); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotInitialised, c.Home)
	}
	logger := c.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if err := os.MkdirAll(filepath.Join(c.Home, "data"), 0o700); err != nil {
		return nil, err
	}
	pv := privval.LoadOrGenFilePV(cc.PrivValidatorKeyFile(), cc.PrivValidatorStateFile())
	nk, err := p2p.LoadOrGenNodeKey(cc.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	w := newWaiters()
	app := &observedApp{Application: c.App, waiters: w}
	creator := proxy.NewLocalClientCreator(app)
	if c.ConcurrentApp {
		creator = newParallelCheckCreator(app)
		if c.SerialCheckTx {
			creator = proxy.NewConnSyncLocalClientCreator(app)
		}
	}
	var relay *txRelay
	var opts []nm.Option
	if !cc.Mempool.Broadcast {
		relay = newTxRelay(logger)
		opts = append(opts, nm.CustomReactors(map[string]p2p.Reactor{"MEDIDRELAY": relay}))
	}
	// CometBFT leaves the databases it opened open when NewNode fails
	// (its handshake replaying a block the application refuses, as a
	// release that cannot make a protocol upgrade does): they are closed
	// here, so the home can be opened again without a new process.
	var opened []dbm.DB
	catchUp := &catchUpCounts{}
	provider := func(ctx *cfg.DBContext) (dbm.DB, error) {
		db, err := dbProvider(ctx)
		if err == nil {
			opened = append(opened, db)
		}
		return db, err
	}
	cn, err := nm.NewNode(cc, pv, nk,
		creator,
		nm.DefaultGenesisDocProviderFunc(cc),
		provider,
		countStatusAnswers(countRejections(nm.DefaultMetricsProvider(cc.Instrumentation), &w.mempoolRejected), &catchUp.answers),
		newCometLogger(logger),
		opts...,
	)
	if err != nil {
		for _, db := range opened {
			_ = db.Close()
		}
		return nil, fmt.Errorf("starting cometbft node in %s: %w", c.Home, err)
	}
	if _, ok := cn.Switch().(*p2p.Switch); !ok {
		for _, db := range opened {
			_ = db.Close()
		}
		return nil, fmt.Errorf("starting cometbft node in %s: its p2p switch is %T, not CometBFT's classic p2p: the registry never runs the go-libp2p transport", c.Home, cn.Switch())
	}
	if relay != nil {
		relay.mempool = cn.Mempool()
		relay.SetLogger(cn.Switch().Log().With("module", "medidrelay"))
	}
	retry := c.SubmitRetry
	if retry <= 0 {
		retry = 2 * time.Second
	}
	stall := c.StallAfter
	if stall <= 0 {
		stall = DefaultStallAfter
	}
	return &Node{cmt: cn, log: logger, home: c.Home, submitRetry: retry, waiters: w, stallAfter: stall, relay: relay, catchUp: catchUp, quit: make(chan struct{})}, nil
}

// Start starts consensus, networking and the commit watcher. Call
// [Node.Stop] (or cancel the context given to [Node.Run]) to shut down.
func (n *Node) Start() error {
	if err := n.cmt.Start(); err != nil {
		return fmt.Errorf("starting node: %w", err)
	}
	n.rpc = local.New(n.cmt)
	// An unbuffered subscription: the event bus waits for the watcher, so
	// no committed block is missed; the watcher only does map lookups and
	// non-blocking sends, so consensus is not held up.
	sub, err := n.cmt.EventBus().SubscribeUnbuffered(context.Background(), "registry-node-submitter", newBlockQuery{})
	if err != nil {
		_ = n.cmt.Stop()
		return fmt.Errorf("subscribing to new blocks: %w", err)
	}
	go n.watch(sub)
	if err := n.trackProgress(); err != nil {
		_ = n.Stop()
		return err
	}
	go n.followCatchUp()
	if n.relay != nil {
		go n.relay.nudge(n.quit, func() time.Time { return time.Unix(0, n.lastBlock.Load()) }, n.roundStep)
	}
	n.log.Info("registry node started",
		"home", n.home, "chain_id", n.cmt.GenesisDoc().ChainID,
		"p2p", n.cmt.Config().P2P.ListenAddress, "height", n.Height())
	return nil
}

// Stop stops the node and waits for it; safe to call more than once.
func (n *Node) Stop() error {
	var err error
	n.stopOnce.Do(func() {
		n.stopping.Store(true)
		close(n.quit)
		if n.cmt.IsRunning() {
			err = n.cmt.Stop()
			n.cmt.Wait()
		}
		n.waiters.closeAll(ErrStopped)
	})
	return err
}

// Run starts the node, blocks until ctx is cancelled, then stops it.
func (n *Node) Run(ctx context.Context) error {
	if err := n.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	return n.Stop()
}

// ChainID is the chain id from the genesis.
func (n *Node) ChainID() string { return n.cmt.GenesisDoc().ChainID }

// Genesis is the genesis document the node runs.
func (n *Node) Genesis() *types.GenesisDoc { return n.cmt.GenesisDoc() }

// Block returns the committed block at height from the node's block store
// (nil if it has none), for audits of what the chain carries.
func (n *Node) Block(height int64) *types.Block { return n.cmt.BlockStore().LoadBlock(height) }

// Height is the height of the latest committed block (0 before the first).
func (n *Node) Height() int64 { return n.cmt.BlockStore().Height() }

// CatchingUp reports whether the node is still syncing blocks from peers.
func (n *Node) CatchingUp() bool { return n.cmt.ConsensusReactor().WaitSync() }

// Status is a short summary of the node for health checks.
type Status struct {
	ChainID    string `json:"chainId"`
	Height     int64  `json:"height"`
	AppHash    string `json:"appHash"` // app hash after the latest block, hex
	CatchingUp bool   `json:"catchingUp"`
	Peers      int    `json:"peers"`
	Validator  string `json:"validator"` // this node's validator address, hex
}

// Status reports the node's height, app hash and sync state.
func (n *Node) Status(ctx context.Context) (Status, error) {
	info, err := n.cmt.ProxyApp().Query().Info(ctx, proxy.RequestInfo)
	if err != nil {
		return Status{}, fmt.Errorf("app info: %w", err)
	}
	return Status{
		ChainID:    n.ChainID(),
		Height:     info.LastBlockHeight,
		AppHash:    fmt.Sprintf("%X", info.LastBlockAppHash),
		CatchingUp: n.CatchingUp(),
		Peers:      n.cmt.Switch().Peers().Size(),
		Validator:  n.cmt.PrivValidator().(*privval.FilePV).GetAddress().String(),
	}, nil
}

// Query runs an ABCI query against the application's state at height
// (0 = latest), with a Merkle proof when prove is set.
func (n *Node) Query(ctx context.Context, path string, data []byte, height int64, prove bool) (*abci.ResponseQuery, error) {
	return n.cmt.ProxyApp().Query().Query(ctx, &abci.RequestQuery{Path: path, Data: data, Height: height, Prove: prove})
}

// SignedHeader returns the header and commit of the block at height with the
// validator set that signed it: what a light client needs to trust the app
// hash in that header (the state after block height-1).
func (n *Node) SignedHeader(ctx context.Context, height int64) (*types.SignedHeader, *types.ValidatorSet, error) {
	h := height
	rc, err := n.rpc.Commit(ctx, &h)
	if err != nil {
		return nil, nil, fmt.Errorf("commit at height %d: %w", height, err)
	}
	vals, err := n.validators(ctx, height)
	if err != nil {
		return nil, nil, err
	}
	return &rc.SignedHeader, vals, nil
}

func (n *Node) validators(ctx context.Context, height int64) (*types.ValidatorSet, error) {
	var all []*types.Validator
	perPage := 100
	for page := 1; ; page++ {
		h, p := height, page
		rv, err := n.rpc.Validators(ctx, &h, &p, &perPage)
		if err != nil {
			return nil, fmt.Errorf("validators at height %d: %w", height, err)
		}
		all = append(all, rv.Validators...)
		if len(all) >= rv.Total || len(rv.Validators) == 0 {
			break
		}
	}
	return types.NewValidatorSet(all), nil
}

// Header returns the header of the committed block at height, or nil.
func (n *Node) Header(height int64) *types.Header {
	m := n.cmt.BlockStore().LoadBlockMeta(height)
	if m == nil {
		return nil
	}
	return &m.Header
}

// Base is the lowest height whose block the node stores: 1 (the initial
// height) unless blocks were pruned or the node joined by state sync.
func (n *Node) Base() int64 { return n.cmt.BlockStore().Base() }

// Info says how to reach this node: its id, name, p2p and RPC listen
// addresses (host:port, without the tcp:// scheme) and validator address.
func (n *Node) Info() ledger.NodeInfo {
	ni := n.cmt.NodeInfo()
	out := ledger.NodeInfo{
		ID:        string(ni.ID()),
		Moniker:   n.cmt.Config().Moniker,
		P2P:       strings.TrimPrefix(n.cmt.Config().P2P.ListenAddress, "tcp://"),
		RPC:       strings.TrimPrefix(n.cmt.Config().RPC.ListenAddress, "tcp://"),
		Validator: n.cmt.PrivValidator().(*privval.FilePV).GetAddress().String(),
		BlockTime: n.cmt.Config().Consensus.TimeoutCommit.String(),
	}
	return out
}

// GenesisJSON returns the genesis file the node runs, byte for byte (a
// joining node must use exactly it: its hash is part of the chain).
func (n *Node) GenesisJSON() ([]byte, error) {
	return os.ReadFile(n.cmt.Config().GenesisFile())
}
