package node

import (
	"strings"
	"testing"
)

// TestMempoolRelaySettings: Settings.MempoolRelay turns CometBFT's mempool
// gossip off ("" and "direct": the registry's relay sends what the API
// accepted) or on ("flood"); Settings.GossipPeers reaches CometBFT's two
// experimental gossip limits with "flood" only; contradictory or unknown
// values are refused with a message naming the setting.
func TestMempoolRelaySettings(t *testing.T) {
	for _, c := range []struct {
		relay     string
		peers     int
		broadcast bool
		wantErr   string
	}{
		{relay: "", broadcast: false},
		{relay: RelayDirect, broadcast: false},
		{relay: RelayFlood, broadcast: true},
		{relay: RelayFlood, peers: 2, broadcast: true},
		{relay: "", peers: 2, wantErr: "gossipPeers"},
		{relay: RelayDirect, peers: 1, wantErr: "gossipPeers"},
		{relay: RelayFlood, peers: -1, wantErr: "gossipPeers"},
		{relay: "gossip", wantErr: "mempoolRelay"},
		{relay: "Direct", wantErr: "mempoolRelay"},
	} {
		s := Settings{P2PAddr: "127.0.0.1:26656", BlockTime: "100ms", MempoolRelay: c.relay, GossipPeers: c.peers}
		cc, err := buildCometConfig(t.TempDir(), s)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("relay %q, gossipPeers %d: err %v, want one naming %s", c.relay, c.peers, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("relay %q, gossipPeers %d: %v", c.relay, c.peers, err)
		}
		if cc.Mempool.Broadcast != c.broadcast {
			t.Errorf("relay %q: CometBFT broadcast %v, want %v", c.relay, cc.Mempool.Broadcast, c.broadcast)
		}
		if got := cc.Mempool.ExperimentalMaxGossipConnectionsToPersistentPeers; got != c.peers {
			t.Errorf("relay %q, gossipPeers %d: persistent limit %d", c.relay, c.peers, got)
		}
		if got := cc.Mempool.ExperimentalMaxGossipConnectionsToNonPersistentPeers; got != c.peers {
			t.Errorf("relay %q, gossipPeers %d: non-persistent limit %d", c.relay, c.peers, got)
		}
	}
}
