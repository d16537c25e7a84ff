package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/p2p"
)

// TestClassicP2POnly: CometBFT v0.39's experimental go-libp2p transport and
// its experimental adaptive block sync are off, and the mempool is
// CometBFT's own (flood, not v0.39's application-side one), in every
// configuration the registry builds (a single node, a test network's
// validators, a node joining by state sync); the first two also in the
// config.toml written beside them; and a started node runs CometBFT's
// classic switch.
func TestClassicP2POnly(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Settings
	}{
		{name: "single node", s: Settings{P2PAddr: "127.0.0.1:26656", BlockTime: "100ms"}},
		{name: "validator with peers", s: Settings{P2PAddr: "127.0.0.1:26656", BlockTime: "100ms", PersistentPeers: "0123456789abcdef0123456789abcdef01234567@127.0.0.1:26666"}},
		{name: "flood relay", s: Settings{P2PAddr: "127.0.0.1:26656", BlockTime: "100ms", MempoolRelay: RelayFlood, GossipPeers: 2}},
		{name: "no peer exchange", s: Settings{P2PAddr: "127.0.0.1:26656", BlockTime: "100ms", PersistentPeers: "0123456789abcdef0123456789abcdef01234567@127.0.0.1:26666", NoPeerExchange: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := buildCometConfig(t.TempDir(), tc.s)
			if err != nil {
				t.Fatal(err)
			}
			if c.P2P.LibP2PEnabled() {
				t.Errorf("p2p.libp2p.enabled = true, want false")
			}
			if c.BlockSync.AdaptiveSync {
				t.Errorf("blocksync.adaptive_sync = true, want false")
			}
			if c.Mempool.Type != "flood" {
				t.Errorf("mempool.type = %q, want flood", c.Mempool.Type)
			}
		})
	}

	out := t.TempDir()
	if _, err := Testnet(TestnetConfig{Validators: 2, OutDir: out, BasePort: 30100}); err != nil {
		t.Fatal(err)
	}
	single := t.TempDir()
	if _, err := Init(InitConfig{Home: single}); err != nil {
		t.Fatal(err)
	}
	for _, home := range []string{single, filepath.Join(out, "node0"), filepath.Join(out, "node1")} {
		data, err := os.ReadFile(filepath.Join(home, "config", "config.toml"))
		if err != nil {
			t.Fatal(err)
		}
		if got := tomlLine(string(data), "[p2p.libp2p]", "enabled"); got != "enabled = false" {
			t.Errorf("%s: [p2p.libp2p] says %q, want %q", home, got, "enabled = false")
		}
		if got := tomlLine(string(data), "[blocksync]", "adaptive_sync"); got != "adaptive_sync = false" {
			t.Errorf("%s: [blocksync] says %q, want %q", home, got, "adaptive_sync = false")
		}
	}

	n, _ := startKV(t, t.TempDir())
	if _, ok := n.cmt.Switch().(*p2p.Switch); !ok {
		t.Errorf("started node's switch is %T, want *p2p.Switch", n.cmt.Switch())
	}
}

// tomlLine returns the first line of config.toml's table (e.g.
// "[p2p.libp2p]") that sets key ("" if there is none).
func tomlLine(toml, table, key string) string {
	in := false
	for _, l := range strings.Split(toml, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") {
			in = l == table
			continue
		}
		if in && (strings.HasPrefix(l, key+" ") || strings.HasPrefix(l, key+"=")) {
			return l
		}
	}
	return ""
}
