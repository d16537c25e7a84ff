package node

import "time"

// peerHeightsEvery is how often a catching-up node asks its peers for
// their heights (docs/design/0021, state sync).
const peerHeightsEvery = 250 * time.Millisecond

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
// block sync going until it is within a block of the network. The answers
// are the peers' block store heights, checked like any others: block sync
// verifies every block it fetches against the next block's commit.
func (n *Node) followCatchUp() {
	if !n.CatchingUp() {
		return
	}
	bs, _ := n.cmt.Switch().Reactor("BLOCKSYNC").(interface{ BroadcastStatusRequest() })
	t := time.NewTicker(peerHeightsEvery)
	defer t.Stop()
	for {
		select {
		case <-n.quit:
			return
		case <-t.C:
		}
		if !n.CatchingUp() {
			n.log.Info("caught up with the network: following the chain by consensus")
			return
		}
		if bs != nil {
			bs.BroadcastStatusRequest()
		}
	}
}
