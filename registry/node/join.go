package node

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/types"
)

// StateSyncSettings make a node whose state is empty join by state sync:
// it fetches a recent snapshot of the application state from its peers
// instead of replaying every block since genesis, and checks it against a
// header its light client verified from the trusted height and hash
// (CometBFT's state sync). Once the node has a state these settings are
// ignored.
type StateSyncSettings struct {
	// RPCServers are the CometBFT RPC addresses (host:port) of at least two
	// nodes the light client reads headers from.
	RPCServers []string `json:"rpcServers"`
	// TrustHeight and TrustHash (hex) name a header the operator trusts,
	// e.g. read from GET /1.0/light/latest of a node they run, and checked
	// with another hospital.
	TrustHeight int64  `json:"trustHeight"`
	TrustHash   string `json:"trustHash"`
	// TrustPeriod bounds how old the trusted header may be (Go duration;
	// "" = 168h).
	TrustPeriod string `json:"trustPeriod,omitempty"`
}

func (s *StateSyncSettings) apply(c *cfg.StateSyncConfig) error {
	if len(s.RPCServers) < 2 {
		return fmt.Errorf("state sync needs the CometBFT RPC addresses of at least two nodes, got %d", len(s.RPCServers))
	}
	c.Enable = true
	c.RPCServers = nil
	for _, a := range s.RPCServers {
		if _, _, err := net.SplitHostPort(strings.TrimPrefix(a, "tcp://")); err != nil {
			return fmt.Errorf("state sync RPC server %q: want host:port", a)
		}
		c.RPCServers = append(c.RPCServers, "tcp://"+strings.TrimPrefix(a, "tcp://"))
	}
	c.TrustHeight = s.TrustHeight
	c.TrustHash = s.TrustHash
	c.TrustPeriod = 168 * time.Hour
	if s.TrustPeriod != "" {
		d, err := time.ParseDuration(s.TrustPeriod)
		if err != nil || d <= 0 {
			return fmt.Errorf("state sync trust period %q: want a Go duration such as 168h", s.TrustPeriod)
		}
		c.TrustPeriod = d
	}
	// Snapshots are offered at once by peers that have them; waiting the
	// default 15 s for more offers only delays the join.
	c.DiscoveryTime = 5 * time.Second
	c.ChunkRequestTimeout = 10 * time.Second
	c.ChunkFetchers = 4
	return nil
}

// JoinConfig says how to initialise the home folder of a node that joins
// an existing network (a hospital's new node).
type JoinConfig struct {
	Home    string // required
	Moniker string // "" = "medid-node"
	// Genesis is the network's genesis.json, byte for byte. Required.
	Genesis []byte
	// PersistentPeers is CometBFT's "id@host:port,…" list of nodes of the
	// network to connect to. Required.
	PersistentPeers string
	// P2PAddr, RPCAddr, HTTPAddr and BlockTime go into the settings file
	// (see [Settings]); BlockTime must be the network's.
	P2PAddr   string
	RPCAddr   string
	HTTPAddr  string
	BlockTime time.Duration
	// StateSync, if set, makes the first start join by state sync.
	StateSync *StateSyncSettings
}

// Join initialises a home folder for a node of an existing network: its
// own validator key, node key and governance key (the network adds them by
// governance: see docs/design/0021), the network's genesis, and settings
// that connect it to c.PersistentPeers. Until governance adds its
// validator key, the node follows the chain without voting. It returns
// ErrAlreadyInitialised (wrapped) if the home has a genesis.
func Join(c JoinConfig) (InitResult, error) {
	if len(bytes.TrimSpace(c.Genesis)) == 0 {
		return InitResult{}, errors.New("join: the network's genesis.json is required")
	}
	gen, err := types.GenesisDocFromJSON(c.Genesis)
	if err != nil {
		return InitResult{}, fmt.Errorf("join: genesis: %w", err)
	}
	if strings.TrimSpace(c.PersistentPeers) == "" {
		return InitResult{}, errors.New("join: name at least one node of the network to connect to (id@host:port)")
	}
	if c.Moniker == "" {
		c.Moniker = "medid-node"
	}
	m, err := genMember(c.Home, c.Moniker)
	if err != nil {
		return InitResult{}, err
	}
	s := Settings{
		Moniker:         c.Moniker,
		P2PAddr:         orDefault(c.P2PAddr, DefaultP2PAddr),
		RPCAddr:         c.RPCAddr,
		HTTPAddr:        orDefault(c.HTTPAddr, DefaultHTTPAddr),
		PersistentPeers: c.PersistentPeers,
		BlockTime:       durOrDefault(c.BlockTime, DefaultBlockTime).String(),
		StateSync:       c.StateSync,
	}
	if err := finishHome(c.Home, s); err != nil {
		return InitResult{}, err
	}
	// The genesis goes last: its presence marks the home as initialised.
	if err := os.WriteFile(cometConfig(c.Home).GenesisFile(), c.Genesis, 0o644); err != nil {
		return InitResult{}, err
	}
	return m.result(gen.ChainID), nil
}

// ValidatorKey returns the public consensus key of the node in home, as
// standard base64 (what a validator.add proposal names), and its address.
func ValidatorKey(home string) (pubKey, address string, err error) {
	c := cometConfig(home)
	if _, err := os.Stat(c.PrivValidatorKeyFile()); err != nil {
		return "", "", fmt.Errorf("%w: %s", ErrNotInitialised, home)
	}
	// Only the public half is read (privval.LoadFilePV exits the process
	// on a bad file).
	data, err := os.ReadFile(c.PrivValidatorKeyFile())
	if err != nil {
		return "", "", err
	}
	var f struct {
		PubKey struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"pub_key"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return "", "", fmt.Errorf("%s: %w", c.PrivValidatorKeyFile(), err)
	}
	raw, err := base64.StdEncoding.DecodeString(f.PubKey.Value)
	if err != nil || f.PubKey.Type != ed25519.PubKeyName || len(raw) != ed25519.PubKeySize {
		return "", "", fmt.Errorf("%s: the validator key is not an Ed25519 key", c.PrivValidatorKeyFile())
	}
	return f.PubKey.Value, ed25519.PubKey(raw).Address().String(), nil
}

// WriteSettings replaces the settings file of an initialised home (and
// rewrites config.toml from it). The node reads it at its next start.
func WriteSettings(home string, s Settings) error {
	if _, err := buildCometConfig(home, s); err != nil {
		return err
	}
	return finishHome(home, s)
}

// NodeID returns the p2p node id of the node in home (what a persistent
// peer entry names: ID@host:port).
func NodeID(home string) (string, error) {
	nk, err := p2p.LoadNodeKey(cometConfig(home).NodeKeyFile())
	if err != nil {
		return "", fmt.Errorf("node key of %s: %w", home, err)
	}
	return string(nk.ID()), nil
}
