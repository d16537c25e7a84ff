package node

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cometbft/cometbft/blocksync"
	"github.com/cometbft/cometbft/p2p"
	bcproto "github.com/cometbft/cometbft/proto/tendermint/blocksync"
	cmttypes "github.com/cometbft/cometbft/types"
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
// the highest height it knows. A node that joined by state sync connected
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
// once a second, it holds the highest block it knows of but one. Asked
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
