package node

import (
	"strings"
	"testing"
)

// TestGossipPeersSetting: Settings.GossipPeers reaches CometBFT's two
// experimental gossip limits (0 leaves gossip to every peer), and a
// negative value is refused with a message naming the setting.
func TestGossipPeersSetting(t *testing.T) {
	for _, c := range []struct {
		peers   int
		wantErr bool
	}{{0, false}, {2, false}, {-1, true}} {
		s := Settings{P2PAddr: "127.0.0.1:26656", BlockTime: "100ms", GossipPeers: c.peers}
		cc, err := buildCometConfig(t.TempDir(), s)
		if c.wantErr {
			if err == nil || !strings.Contains(err.Error(), "gossipPeers") {
				t.Errorf("gossipPeers %d: err %v, want one naming gossipPeers", c.peers, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("gossipPeers %d: %v", c.peers, err)
		}
		if got := cc.Mempool.ExperimentalMaxGossipConnectionsToPersistentPeers; got != c.peers {
			t.Errorf("gossipPeers %d: persistent limit %d", c.peers, got)
		}
		if got := cc.Mempool.ExperimentalMaxGossipConnectionsToNonPersistentPeers; got != c.peers {
			t.Errorf("gossipPeers %d: non-persistent limit %d", c.peers, got)
		}
	}
}
