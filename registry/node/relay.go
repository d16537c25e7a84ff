package node

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	cstypes "github.com/cometbft/cometbft/consensus/types"
	mempl "github.com/cometbft/cometbft/mempool"
	"github.com/cometbft/cometbft/p2p"
	protomem "github.com/cometbft/cometbft/proto/tendermint/mempool"
	"github.com/cometbft/cometbft/types"
)

// Mempool relay modes (Settings.MempoolRelay).
const (
	// RelayDirect: the node sends each transaction its own API accepted to
	// every connected peer, once, and relays nothing it received from a
	// peer (CometBFT's mempool gossip is off). In a network whose
	// validators all peer with each other, as `registryd testnet` and
	// `registryd join` write them, every validator then receives each
	// transaction exactly once. The default.
	RelayDirect = "direct"
	// RelayFlood: CometBFT's mempool gossip: every node sends every
	// transaction of its mempool to every peer that has not sent it (each
	// validator of a full mesh receives each transaction from up to all
	// its peers), optionally limited by Settings.GossipPeers.
	RelayFlood = "flood"
)

// relayStallAfter is how long transactions may wait in a node's mempool
// without a block before the relay sends them to every peer again (see
// txRelay.nudge).
const relayStallAfter = 2 * time.Second

// relayNudgeTxs bounds how many of the oldest waiting transactions one
// nudge sends: one transaction reaching the height's proposer is enough to
// get blocks going again; the rest follow in later blocks.
const relayNudgeTxs = 100

// relayBatchBytes bounds the transactions sent in one mempool message: in
// practice one did.create (~800 bytes) per message, as CometBFT's gossip
// sends them. The receiving node checks a message's transactions one after
// the other on the connection's receive routine, before it reads the
// connection's next message (votes and block parts included): 64 KiB
// batches (~80 transactions) held consensus messages up long enough that
// commit latency's p99 grew from ~3 s to 6-17 s under a closed loop of
// 1,024 submitters, and one run ended in a 504 (BENCHMARKS.md, issue 19).
const relayBatchBytes = 1 << 10

// relayQueueTxs bounds the transactions queued for one peer; beyond it
// new ones are dropped for that peer (it gets them in blocks, and a nudge
// sends what is still waiting).
const relayQueueTxs = 50_000

// txRelay is the p2p reactor behind RelayDirect. It has no channel of its
// own: it sends CometBFT's mempool message on the mempool channel, which
// CometBFT's mempool reactor of the receiving node handles as gossip (it
// checks each transaction and, with its own broadcast off, relays
// nothing). A node running RelayFlood accepts these messages too.
//
// Why not CometBFT's gossip: in a full mesh of N validators, it sends
// every transaction over about (N-1)² links, and each validator receives
// it from up to N-1 peers, hashing, decrypting and looking up every copy
// (BENCHMARKS.md, issue 19). Why not CometBFT's gossip limits
// (experimental_max_gossip_connections_*): with blocks made only when
// there are transactions, a validator starts a round only when its own
// mempool holds one, and a limited gossip left lone transactions held by
// neither the proposer nor two thirds of the validators (docs/design/0022).
// Here every peer of the submitting node receives the transaction at once,
// a peer that connects later receives everything still waiting, and
// transactions waiting without a block (a node that reaches the
// validators through others, a message lost with a dropped connection)
// are sent to every peer again after relayStallAfter.
type txRelay struct {
	p2p.BaseReactor
	log *slog.Logger

	mu    sync.Mutex // guards peers and pending
	peers map[p2p.ID]*relayPeer
	// pending holds the transactions of broadcast still queued for some
	// peer, so a block that commits one can mark it: a peer's queue then
	// skips it (under load a queue can hold transactions for longer than
	// they take to commit; sending them would only delay fresh ones).
	pending map[types.TxKey]*relayTx
	// mempool is set by New before the node starts.
	mempool mempl.Mempool
}

// relayTx is a transaction queued for one or more peers.
type relayTx struct {
	tx  []byte
	key types.TxKey
	// left counts the peer queues still holding it (tracked items only).
	left atomic.Int32
	// committed: a block carried it; queues drop it.
	committed atomic.Bool
	tracked   bool
}

// relayPeer is one peer's send queue.
type relayPeer struct {
	peer  p2p.Peer
	mu    sync.Mutex // guards queue
	queue []*relayTx
	wake  chan struct{} // capacity 1
}

func newTxRelay(log *slog.Logger) *txRelay {
	r := &txRelay{log: log, peers: map[p2p.ID]*relayPeer{}, pending: map[types.TxKey]*relayTx{}}
	r.BaseReactor = *p2p.NewBaseReactor("MedidTxRelay", r)
	return r
}

// GetChannels implements p2p.Reactor: none (the mempool reactor owns the
// mempool channel this relay sends on).
func (r *txRelay) GetChannels() []*p2p.ChannelDescriptor { return nil }

// AddPeer implements p2p.Reactor: the peer gets every transaction waiting
// in this node's mempool now, then each new one this node's API accepts.
func (r *txRelay) AddPeer(peer p2p.Peer) {
	rp := &relayPeer{peer: peer, wake: make(chan struct{}, 1)}
	r.mu.Lock()
	r.peers[peer.ID()] = rp
	r.mu.Unlock()
	go r.sendRoutine(rp, true)
}

// RemovePeer implements p2p.Reactor.
func (r *txRelay) RemovePeer(peer p2p.Peer, _ any) {
	r.mu.Lock()
	// Only this connection's entry: a reconnected peer has a new one.
	if p, ok := r.peers[peer.ID()]; ok && p.peer == peer {
		delete(r.peers, peer.ID())
	}
	r.mu.Unlock()
}

// Receive implements p2p.Reactor; the relay has no channel, so nothing
// arrives here.
func (r *txRelay) Receive(p2p.Envelope) {}

// broadcast queues tx (whose key is key) for every connected peer.
func (r *txRelay) broadcast(tx []byte, key types.TxKey) {
	item := &relayTx{tx: tx, key: key, tracked: true}
	r.mu.Lock()
	peers := r.peerList()
	if len(peers) > 0 {
		item.left.Store(int32(len(peers)))
		r.pending[key] = item
	}
	r.mu.Unlock()
	for _, p := range peers {
		if !p.push(item) {
			r.sent(item)
		}
	}
}

// resend queues txs for every connected peer, untracked (they are sent
// even if a block carries them meanwhile).
func (r *txRelay) resend(txs types.Txs) {
	r.mu.Lock()
	peers := r.peerList()
	r.mu.Unlock()
	items := untracked(txs)
	for _, p := range peers {
		for _, it := range items {
			p.push(it)
		}
	}
}

func untracked(txs types.Txs) []*relayTx {
	items := make([]*relayTx, len(txs))
	for i, t := range txs {
		items[i] = &relayTx{tx: t}
	}
	return items
}

// peerList returns the connected peers; r.mu must be held.
func (r *txRelay) peerList() []*relayPeer {
	peers := make([]*relayPeer, 0, len(r.peers))
	for _, p := range r.peers {
		peers = append(peers, p)
	}
	return peers
}

// committedTx is committed for a transaction of a block, hashing it only
// if some transaction is still waiting to be sent: usually every peer has
// been sent a transaction long before its block, and the commit watcher
// then needs no SHA-256 of it.
func (r *txRelay) committedTx(tx types.Tx) {
	r.mu.Lock()
	waiting := len(r.pending) > 0
	r.mu.Unlock()
	if waiting {
		r.committed(tx.Key())
	}
}

// committed marks the transaction with key as carried by a block: peer
// queues drop it.
func (r *txRelay) committed(key types.TxKey) {
	r.mu.Lock()
	item, ok := r.pending[key]
	if ok {
		delete(r.pending, key)
	}
	r.mu.Unlock()
	if ok {
		item.committed.Store(true)
	}
}

// sent notes that one peer queue is done with item.
func (r *txRelay) sent(item *relayTx) {
	if !item.tracked || item.left.Add(-1) > 0 {
		return
	}
	r.mu.Lock()
	if r.pending[item.key] == item {
		delete(r.pending, item.key)
	}
	r.mu.Unlock()
}

// push queues item for the peer and wakes its send routine; false when the
// queue is full (relayQueueTxs): the peer gets it in a block, or from a
// resend.
func (p *relayPeer) push(item *relayTx) bool {
	p.mu.Lock()
	ok := len(p.queue) < relayQueueTxs
	if ok {
		p.queue = append(p.queue, item)
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return ok
}

// sendRoutine sends the peer's queue in batches until the peer or the
// relay stops; with catchUp it first queues the mempool's waiting
// transactions.
func (r *txRelay) sendRoutine(p *relayPeer, catchUp bool) {
	defer func() {
		// The peer is gone: release what its queue still held.
		p.mu.Lock()
		queue := p.queue
		p.queue = nil
		p.mu.Unlock()
		for _, it := range queue {
			r.sent(it)
		}
	}()
	if ni, ok := p.peer.NodeInfo().(p2p.DefaultNodeInfo); ok && !ni.HasChannel(mempl.MempoolChannel) {
		// A peer without a mempool (a seed node): nothing to send it.
		r.RemovePeer(p.peer, nil)
		return
	}
	if catchUp && r.mempool != nil {
		for _, it := range untracked(r.mempool.ReapMaxTxs(-1)) {
			p.push(it)
		}
	}
	var batch [][]byte
	var items []*relayTx
	for {
		select {
		case <-p.wake:
		case <-p.peer.Quit():
			return
		case <-r.Quit():
			return
		}
		p.mu.Lock()
		queue := p.queue
		p.queue = nil
		p.mu.Unlock()
		for len(queue) > 0 {
			batch, items = batch[:0], items[:0]
			size, n := 0, 0
			for ; n < len(queue); n++ {
				it := queue[n]
				if it.committed.Load() {
					r.sent(it) // a block carried it: not sent
					continue
				}
				if len(batch) > 0 && size+len(it.tx) > relayBatchBytes {
					break
				}
				batch, items = append(batch, it.tx), append(items, it)
				size += len(it.tx)
			}
			queue = queue[n:]
			if len(batch) == 0 {
				continue
			}
			// Send waits while the connection's send queue is full (up to
			// CometBFT's send timeout of 10 s); a batch it gives up on is
			// sent again while the peer is connected, as CometBFT's gossip
			// does.
			for !p.peer.Send(p2p.Envelope{ChannelID: mempl.MempoolChannel, Message: &protomem.Txs{Txs: batch}}) {
				select {
				case <-p.peer.Quit():
				case <-r.Quit():
				case <-time.After(100 * time.Millisecond):
					continue
				}
				for _, it := range append(items, queue...) {
					r.sent(it)
				}
				return
			}
			for _, it := range items {
				r.sent(it)
			}
		}
	}
}

// nudge sends the oldest waiting transactions to every peer again when
// this node holds transactions, no block came for relayStallAfter and
// consensus is still in round 0 of the height, no further than its
// prevote: the state of a validator whose transactions reached neither the
// height's proposer nor two thirds of the validators (who start a round
// only for transactions of their own mempool), which would otherwise wait
// for the empty-block interval. A height that is slow for another reason
// (a loaded network whose rounds time out) has moved past round 0 or
// prevote, and resending there only adds load: resending on every 2 s
// without a block kept a loaded four-validator network at one height for
// 16 s. It runs until quit closes; lastBlock returns when the node last
// committed a block, round the height's round and step.
func (r *txRelay) nudge(quit <-chan struct{}, lastBlock func() time.Time, round func() (int32, cstypes.RoundStepType)) {
	t := time.NewTicker(relayStallAfter / 4)
	defer t.Stop()
	var waitingSince, lastNudge time.Time
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		if r.mempool.Size() == 0 {
			waitingSince = time.Time{}
			continue
		}
		now := time.Now()
		if waitingSince.IsZero() {
			waitingSince = now
		}
		ref := waitingSince
		for _, t := range []time.Time{lastBlock(), lastNudge} {
			if t.After(ref) {
				ref = t
			}
		}
		if now.Sub(ref) < relayStallAfter {
			continue
		}
		if rnd, step := round(); rnd > 0 || step > cstypes.RoundStepPrevote {
			continue
		}
		txs := r.mempool.ReapMaxTxs(relayNudgeTxs)
		if len(txs) == 0 {
			continue
		}
		r.log.Warn("transactions waited without a block in round 0: sending them to every peer again", "txs", len(txs), "waited", now.Sub(ref).Round(time.Millisecond))
		r.resend(txs)
		lastNudge = now
	}
}
