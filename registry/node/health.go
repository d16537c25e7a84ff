package node

import (
	"errors"
	"fmt"
	"strings"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	cfg "github.com/cometbft/cometbft/config"
	cstypes "github.com/cometbft/cometbft/consensus/types"
	"github.com/cometbft/cometbft/privval"
	"github.com/syndtr/goleveldb/leveldb/opt"

	"github.com/medid/medid/internal/httpserver"
)

// DefaultStallAfter is how long transactions may wait in the mempool
// without a new block before [Node.Progress] reports consensus as stalled.
// Blocks are made only when there are transactions, so an empty mempool is
// never a stall.
const DefaultStallAfter = 15 * time.Second

// DBOpenFiles bounds the table files each of CometBFT's databases (block
// store, state, evidence) keeps open. LevelDB's default, 500 each, would
// reserve 1,500 descriptors for files a validator rarely reads (old blocks
// are read only when a peer syncs from this node).
const DBOpenFiles = 64

// rpcMaxConns caps CometBFT's own JSON-RPC connections when it is enabled
// (its default, 900, assumes the process has nothing else to serve).
const rpcMaxConns = 100

// cometDBs are the LevelDB databases a node opens: block store, state and
// evidence (the transaction indexer is off).
const cometDBs = 3

// ErrNoProgress is returned (wrapped) by [Node.Progress] when consensus is
// not making progress.
var ErrNoProgress = errors.New("consensus is not making progress")

// dbProvider opens CometBFT's databases with a bounded open-file cache.
func dbProvider(ctx *cfg.DBContext) (dbm.DB, error) {
	if dbm.BackendType(ctx.Config.DBBackend) != dbm.GoLevelDBBackend {
		return cfg.DefaultDBProvider(ctx)
	}
	return dbm.NewGoLevelDBWithOpts(ctx.ID, ctx.Config.DBDir(), &opt.Options{OpenFilesCacheCapacity: DBOpenFiles})
}

// Descriptors lists the file descriptors a node started with c (its home's
// settings, overridden by c's addresses) may hold at most: peer
// connections, CometBFT's RPC connections when enabled, its databases and
// its WAL. registryd reserves them before planning its HTTP connection
// cap, so HTTP clients can never take the descriptors consensus needs.
func Descriptors(c Config) ([]httpserver.Reserve, error) {
	s, err := LoadSettings(c.Home)
	if err != nil {
		return nil, err
	}
	if c.RPCAddr != "" {
		s.RPCAddr = c.RPCAddr
	}
	if c.P2PAddr != "" {
		s.P2PAddr = c.P2PAddr
	}
	cc, err := buildCometConfig(c.Home, s)
	if err != nil {
		return nil, err
	}
	persistent := 0
	for _, p := range strings.Split(cc.P2P.PersistentPeers, ",") {
		if strings.TrimSpace(p) != "" {
			persistent++
		}
	}
	peers := cc.P2P.MaxNumInboundPeers + cc.P2P.MaxNumOutboundPeers + persistent
	r := []httpserver.Reserve{
		{What: fmt.Sprintf("CometBFT databases (%d × %d)", cometDBs, DBOpenFiles+8), N: cometDBs * (DBOpenFiles + 8)},
		{What: "consensus WAL, validator state, address book", N: 8},
		{What: fmt.Sprintf("p2p peers (%d in, %d out, %d persistent)", cc.P2P.MaxNumInboundPeers, cc.P2P.MaxNumOutboundPeers, persistent), N: peers},
	}
	if cc.RPC.ListenAddress != "" {
		r = append(r, httpserver.Reserve{What: "CometBFT RPC connections", N: cc.RPC.MaxOpenConnections})
	}
	return r, nil
}

// trackProgress starts the watchers behind [Node.Progress]; they stop with
// the node.
func (n *Node) trackProgress() error {
	n.lastBlock.Store(time.Now().UnixNano())
	// CometBFT exposes its consensus state and state store only through
	// the RPC environment (which the local client builds too).
	env, err := n.cmt.ConfigureRPC()
	if err != nil {
		return fmt.Errorf("consensus state: %w", err)
	}
	n.stateStore = env.StateStore
	cs, ok := env.ConsensusState.(interface {
		Wait()
		GetRoundState() *cstypes.RoundState
	})
	if !ok {
		return errors.New("consensus state: CometBFT's consensus state cannot be waited on")
	}
	n.roundStep = func() (int32, cstypes.RoundStepType) {
		rs := cs.GetRoundState()
		return rs.Round, rs.Step
	}
	go func() {
		// The consensus state machine's routine ends on Stop, or when it
		// recovered a panic ("CONSENSUS FAILURE!!!", e.g. the application
		// failed to write its state): the node then stays up but never
		// commits again.
		cs.Wait()
		if !n.stopping.Load() {
			n.halted.Store(true)
			n.log.Error("consensus stopped after a failure it cannot recover from: the node commits no more blocks until it is restarted (see the CometBFT error above)")
		}
	}()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-n.quit:
				return
			case <-t.C:
				n.sampleMempool()
			}
		}
	}()
	return nil
}

// sampleMempool notes since when transactions have been waiting.
func (n *Node) sampleMempool() {
	if n.cmt.Mempool().Size() == 0 {
		n.waitingSince.Store(0)
		return
	}
	n.waitingSince.CompareAndSwap(0, time.Now().UnixNano())
}

// blockCommitted restarts the wait clock: progress was made.
func (n *Node) blockCommitted() {
	now := time.Now().UnixNano()
	n.lastBlock.Store(now)
	if n.cmt.Mempool().Size() == 0 {
		n.waitingSince.Store(0)
	} else {
		n.waitingSince.Store(now)
	}
}

// Progress reports whether consensus is making progress: nil when the node
// has caught up, has committed a block and either has nothing to do (an
// empty mempool) or committed a block within the stall window
// (Config.StallAfter) since transactions started waiting. Otherwise it
// returns ErrNoProgress wrapped with what is wrong: the consensus engine
// stopped after a failure, the node is still catching up, no block yet, or
// how many transactions have waited how long. It never blocks on the
// consensus engine. Safe for concurrent use.
func (n *Node) Progress() error {
	if n.halted.Load() {
		return fmt.Errorf("%w: the consensus engine stopped after a failure (see the node's log); restart the node once the cause is fixed", ErrNoProgress)
	}
	h := n.Height()
	if n.CatchingUp() {
		return fmt.Errorf("%w: catching up with the network (at height %d)", ErrNoProgress, h)
	}
	if h < 1 {
		return fmt.Errorf("%w: no block committed yet", ErrNoProgress)
	}
	since := n.waitingSince.Load()
	if since == 0 {
		return nil
	}
	waited := time.Since(time.Unix(0, since))
	if waited <= n.stallAfter {
		return nil
	}
	last := time.Since(time.Unix(0, n.lastBlock.Load()))
	return fmt.Errorf("%w: %d transactions have waited %s without a new block (height %d, last block %s ago)",
		ErrNoProgress, n.cmt.Mempool().Size(), waited.Round(time.Second), h, last.Round(time.Second))
}

// Peers returns how many peers the node is connected to and how many it
// needs: enough that, counting itself if it is a validator, more than two
// thirds of the current validators can be reached (validators counted
// alike, whatever their power). A single-validator network needs none.
func (n *Node) Peers() (have, need int) {
	have = n.cmt.Switch().Peers().Size()
	vals, err := n.stateStore.LoadValidators(n.Height() + 1)
	if err != nil || vals == nil {
		g := n.cmt.GenesisDoc().Validators
		quorum := len(g)*2/3 + 1
		return have, max(quorum-1, 0)
	}
	quorum := vals.Size()*2/3 + 1
	self := 0
	if pv, ok := n.cmt.PrivValidator().(*privval.FilePV); ok && vals.HasAddress(pv.GetAddress()) {
		self = 1
	}
	return have, max(quorum-self, 0)
}
