package node

import (
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/cometbft/cometbft/blocksync"
	cs "github.com/cometbft/cometbft/consensus"
	mempl "github.com/cometbft/cometbft/mempool"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	bcproto "github.com/cometbft/cometbft/proto/tendermint/blocksync"
	"github.com/cometbft/cometbft/proxy"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/statesync"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/go-kit/kit/metrics"
)

const (
	// peerHeightsEvery is about how often a catching-up node asks its
	// peers for their heights (docs/design/0021, state sync); each wait
	// is drawn between 0.8 and 1.2 times it.
	peerHeightsEvery = 250 * time.Millisecond
	// nearTipBlocks: a node whose newest block is at most this many
	// blocks below its peers' stops asking for holdNearTip, so that block
	// sync reaches the heights it knows and hands over to consensus.
	nearTipBlocks = 8
	// holdNearTip is longer than block sync's check for the handover
	// (once a second) plus the fetch of the few blocks it still needs.
	holdNearTip = 1500 * time.Millisecond
)

// followCatchUp runs while the node catches up with the network (state
// sync, then block sync) and logs when it follows the chain by consensus.
//
// CometBFT's block sync learns its peers' heights when they connect and
// then only every 10 s, and hands over to consensus as soon as it reaches
// the highest height it knows (v0.38.26 and v0.39.4 alike:
// blocksync/reactor.go AddPeer and defaultIntervalStatusUpdate,
// blocksync/pool.go IsCaughtUp). A node that joined by state sync connected
// before its restore, so it knew the heights of then: it block-synced a
// few blocks and caught up the rest by consensus, one height at a time
// through vote gossip (about 20 small blocks/s against block sync's
// hundreds). Asking for the peers' heights every peerHeightsEvery keeps
// block sync going until it is near the network; then the node stops
// asking (catchUpPacer) so that block sync can finish and hand over.
// The answers are the peers' block store heights, checked like any
// others: block sync verifies every block it fetches against the next
// block's commit.
func (n *Node) followCatchUp() {
	if !n.CatchingUp() {
		return
	}
	var pace catchUpPacer
	for {
		wait := time.Duration(float64(peerHeightsEvery) * (0.8 + 0.4*rand.Float64()))
		select {
		case <-n.quit:
			return
		case <-time.After(wait):
		}
		if !n.CatchingUp() {
			n.log.Info("caught up with the network: following the chain by consensus")
			return
		}
		if pace.ask(time.Now(), n.cmt.BlockStore().Height(), n.peerHeights()) {
			n.askPeerHeights()
		}
	}
}

// askPeerHeights sends every peer block sync's status request; each
// answers on the block sync channel with its block store's base and
// height, which the node's block sync takes in as from its own asking.
// CometBFT v0.38 had a method for it (blocksync.Reactor's
// BroadcastStatusRequest), which v0.39 dropped: looked up by its name at
// run time, its absence silently left a joining node to catch up by
// consensus (1.9-3.2 s of a 100,000-DID join instead of 0.2 s:
// BENCHMARKS.md, issue 19, "Twelfth round"). Built from the channel and
// the message, a change of either fails the build instead.
func (n *Node) askPeerHeights() {
	n.catchUp.asks.Add(1)
	n.cmt.Switch().BroadcastAsync(p2p.Envelope{
		ChannelID: blocksync.BlocksyncChannel,
		Message:   &bcproto.StatusRequest{},
	})
}

// peerHeights are the heights the node's peers announce in consensus
// (the height each is deciding: its newest block plus one), which they
// send even to a node that is still block-syncing.
func (n *Node) peerHeights() []int64 {
	var hs []int64
	for _, p := range n.cmt.Switch().Peers().Copy() {
		if ps, ok := p.Get(cmttypes.PeerStateKey).(interface{ GetHeight() int64 }); ok {
			if h := ps.GetHeight(); h > 0 {
				hs = append(hs, h)
			}
		}
	}
	return hs
}

// catchUpPacer decides when a catching-up node asks its peers for their
// heights. Block sync hands over to consensus only when, at its check
// once a second (defaultIntervalSwitchToConsensus), it holds the highest
// block it knows of but one. Asked
// every 250 ms on a chain that makes blocks as fast as block sync applies
// them (10 a second in the state sync test), the answer kept landing just
// before that check, and block sync followed the chain a block or two
// short of it for ten minutes instead of handing over (CI, 2026-12-05).
// So near the network the node stops asking for holdNearTip: block sync
// reaches the heights it knows, hands over within a second, and
// consensus fetches the few blocks made meanwhile. The waits are drawn
// at random, so the asking cannot lock onto the check's phase either.
type catchUpPacer struct{ holdUntil time.Time }

// ask reports whether to ask the peers for their heights now, with the
// node's newest block at ours and its peers' consensus heights: it does
// while the node is more than nearTipBlocks behind the median peer (one
// peer announcing a false height moves nothing), and not for holdNearTip
// once it is within them. Without peer heights it asks.
func (p *catchUpPacer) ask(now time.Time, ours int64, peers []int64) bool {
	if now.Before(p.holdUntil) {
		return false
	}
	if len(peers) == 0 {
		return true
	}
	hs := slices.Clone(peers)
	slices.Sort(hs)
	network := hs[(len(hs)-1)/2] - 1 // the lower median's newest block
	if network-ours <= nearTipBlocks {
		p.holdUntil = now.Add(holdNearTip)
		return false
	}
	return true
}

// catchUpCounts are the catch-up's counters, exported as
// medid_node_catchup_asks_total and medid_node_catchup_answers_total.
type catchUpCounts struct {
	// asks counts askPeerHeights' calls (each asks every peer).
	asks atomic.Uint64
	// answers counts the block sync status responses received from peers:
	// answers to the asking, to block sync's own asking (every 10 s while
	// it runs) and the one each peer sends when it connects.
	answers atomic.Uint64
}

// statusResponseLabel is the message_type label CometBFT's switch gives a
// received block sync StatusResponse in its byte counts (p2p/metrics.go's
// ValueToMetricLabel: the Go package and type names of the message).
const statusResponseLabel = "blocksync_StatusResponse"

// countStatusAnswers is p with the block sync status responses the node
// receives also counted in n. CometBFT's switch counts every received
// message's bytes by message type just before its reactor takes the
// message in; CometBFT's own metric (Prometheus or discarded) still
// receives every increment. TestAskPeerHeightsReachesBlockSync checks
// the count rises when block sync learns a peer's height, so a change of
// CometBFT's labels fails there rather than leaving the count at zero.
func countStatusAnswers(p nm.MetricsProvider, n *atomic.Uint64) nm.MetricsProvider {
	return func(chainID string) (*cs.Metrics, *p2p.Metrics, *mempl.Metrics, *sm.Metrics, *proxy.Metrics, *blocksync.Metrics, *statesync.Metrics) {
		c, pm, m, s, px, bs, ss := p(chainID)
		counted := *pm
		counted.MessageReceiveBytesTotal = messageCounter{Counter: pm.MessageReceiveBytesTotal, messageType: statusResponseLabel, n: n}
		return c, &counted, m, s, px, bs, ss
	}
}

// messageCounter is a byte counter labelled by message_type that also
// adds one to n for each message of messageType.
type messageCounter struct {
	metrics.Counter
	messageType string
	n           *atomic.Uint64
	matched     bool // the labels say messageType
}

func (c messageCounter) With(labelValues ...string) metrics.Counter {
	matched := c.matched
	for i := 0; i+1 < len(labelValues); i += 2 {
		if labelValues[i] == "message_type" {
			matched = labelValues[i+1] == c.messageType
		}
	}
	return messageCounter{Counter: c.Counter.With(labelValues...), messageType: c.messageType, n: c.n, matched: matched}
}

func (c messageCounter) Add(delta float64) {
	if c.matched {
		c.n.Add(1)
	}
	c.Counter.Add(delta)
}
