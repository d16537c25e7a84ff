package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/types"
	cmttime "github.com/cometbft/cometbft/types/time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/atomicfile"
	"github.com/medid/medid/registry/ledger"
)

// Files and defaults under a node's home folder.
const (
	// GovernanceKeyFile is the governance key (a private JWK, mode 0600)
	// relative to the home folder.
	GovernanceKeyFile = "governance.jwk"
	// SettingsFile holds the node's listen addresses and block time,
	// relative to the home folder.
	SettingsFile = "registryd.json"

	DefaultChainID   = "medid-local"
	DefaultP2PAddr   = "127.0.0.1:26656"
	DefaultHTTPAddr  = "127.0.0.1:8080"
	DefaultBlockTime = 100 * time.Millisecond
	// DefaultEmptyBlocks is the longest pause between blocks when no
	// transaction arrives (see Settings.EmptyBlocks).
	DefaultEmptyBlocks = time.Hour
)

// ErrAlreadyInitialised is returned by [Init] when the home folder already
// holds a genesis file; the node can be started from it as it is.
var ErrAlreadyInitialised = errors.New("node home is already initialised")

// ErrNotInitialised is returned by [New] when the home folder has no
// genesis file; run [Init] (or [Testnet]) first.
var ErrNotInitialised = errors.New("node home is not initialised: run Init first")

// Settings are the per-home node settings written at initialisation and
// read at every start; a non-zero field in [Config] overrides them.
type Settings struct {
	Moniker string `json:"moniker"`
	// P2PAddr is the host:port the peer-to-peer layer listens on.
	P2PAddr string `json:"p2pAddr"`
	// RPCAddr is the host:port of CometBFT's own JSON-RPC; "" disables it.
	RPCAddr string `json:"rpcAddr,omitempty"`
	// HTTPAddr is the suggested address of the registry HTTP API.
	HTTPAddr string `json:"httpAddr,omitempty"`
	// PersistentPeers is CometBFT's "id@host:port,…" list.
	PersistentPeers string `json:"persistentPeers,omitempty"`
	// NoPeerExchange turns CometBFT's peer exchange off: the node talks to
	// its persistent peers only (a network whose links are fixed, or a
	// test that routes them through proxies).
	NoPeerExchange bool `json:"noPeerExchange,omitempty"`
	// BlockTime is CometBFT's timeout_commit, as a Go duration string.
	BlockTime string `json:"blockTime"`
	// StateSync, if set, makes a node with an empty state join by state
	// sync (see [Join]).
	StateSync *StateSyncSettings `json:"stateSync,omitempty"`
	// EmptyBlocks is how long the chain may stay without a block when no
	// transaction arrives (a Go duration, "" = 1h): an empty block then
	// keeps the newest signed header fresh for light clients, whose trust
	// expires after their trusting period, and shows the network is alive.
	EmptyBlocks string `json:"emptyBlocks,omitempty"`
	// GossipPeers, when above 0, is how many peers the node relays each
	// mempool transaction to (CometBFT v0.38's
	// experimental_max_gossip_connections_to_persistent_peers and
	// _to_non_persistent_peers); 0 relays to every peer. Blocks and votes
	// still go to every peer. See docs/design/0022 for what it changed.
	GossipPeers int `json:"gossipPeers,omitempty"`
	// MempoolRelay is how transactions reach the other nodes' mempools:
	// RelayDirect ("direct", the default when empty) sends each
	// transaction the node's API accepted to every peer and relays
	// nothing; RelayFlood ("flood") is CometBFT's gossip of every
	// transaction to every peer, which GossipPeers may limit. See
	// docs/design/0022.
	MempoolRelay string `json:"mempoolRelay,omitempty"`
	// KeepBlockResults keeps every block's FinalizeBlock results (each
	// transaction's code, log and events) in CometBFT's state database, so
	// CometBFT's JSON-RPC answers /block_results for past heights. Off by
	// default: the registry never reads them back (its API, light clients,
	// the commit watcher, state sync and crash recovery do not need them;
	// CometBFT always keeps the newest height's, which crash recovery
	// replays), and they cost ~200 bytes per transaction as written (~40 after
	// LevelDB compacts them) on every validator. See
	// docs/design/0022 (decision 26).
	KeepBlockResults bool `json:"keepBlockResults,omitempty"`
	// App holds the application's snapshot and pruning settings, which
	// registryd passes to registry/machine.
	App AppSettings `json:"app,omitempty"`
}

// AppSettings are the state machine's storage settings kept in a node's
// settings file (see registry/machine.Config for their meaning); zero
// values take the machine's defaults.
type AppSettings struct {
	// SnapshotInterval: a snapshot of the state every this many blocks
	// (-1 disables snapshots).
	SnapshotInterval int64 `json:"snapshotInterval,omitempty"`
	// SnapshotKeep: how many recent snapshots to keep.
	SnapshotKeep int `json:"snapshotKeep,omitempty"`
	// KeepVersions: state versions kept for proofs at older heights
	// (-1 keeps every version).
	KeepVersions int64 `json:"keepVersions,omitempty"`
	// KeepBlocks: blocks the node keeps below its newest snapshot (0 keeps
	// every block).
	KeepBlocks int64 `json:"keepBlocks,omitempty"`
	// NodeCacheSize: state tree nodes kept in memory (machine.Config);
	// -1 sizes the cache of blocks' writes from the Go runtime's soft
	// memory limit (machine.NodeCacheFor; registryd --node-cache auto).
	NodeCacheSize int `json:"nodeCacheSize,omitempty"`
	// LeafCacheMB: MiB of DID records kept in memory for resolution in a
	// state of layout 2 (machine.Config.LeafCacheBytes); -1 disables it.
	LeafCacheMB int `json:"leafCacheMB,omitempty"`
}

// LoadSettings reads the settings of an initialised home folder.
func LoadSettings(home string) (Settings, error) {
	var s Settings
	data, err := os.ReadFile(filepath.Join(home, SettingsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return s, fmt.Errorf("%w: %s", ErrNotInitialised, home)
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("settings %s: %w", filepath.Join(home, SettingsFile), err)
	}
	return s, nil
}

func writeSettings(home string, s Settings) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(home, SettingsFile), append(data, '\n'), 0o644)
}

// InitConfig says how to initialise one home folder.
type InitConfig struct {
	Home    string // required
	ChainID string // "" = DefaultChainID
	Moniker string // "" = "medid-node"
	// P2PAddr, RPCAddr, HTTPAddr and BlockTime go into the settings file;
	// zero values select the defaults (RPC disabled).
	P2PAddr   string
	RPCAddr   string
	HTTPAddr  string
	BlockTime time.Duration
}

// InitResult describes a freshly initialised home folder. It holds no key
// material, only public identifiers.
type InitResult struct {
	Home             string
	ChainID          string
	GovernanceDID    string // did:key of the governance key
	ValidatorAddress string // hex
	NodeID           string // CometBFT p2p node id
}

// member is one node's keys while a genesis is being assembled.
type member struct {
	home    string
	pv      *privval.FilePV
	nodeKey *p2p.NodeKey
	govDID  string
	moniker string
}

// genMember creates the home folder layout and the three keys of one node:
// the validator key, the node key and the governance key.
func genMember(home, moniker string) (*member, error) {
	if home == "" {
		return nil, errors.New("node home folder is empty: set InitConfig.Home")
	}
	if _, err := os.Stat(filepath.Join(home, "config", "genesis.json")); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrAlreadyInitialised, home)
	}
	c := cometConfig(home)
	for _, d := range []string{home, filepath.Join(home, "config"), filepath.Join(home, "data")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	// LoadOrGenFilePV writes the key file with mode 0600 through an atomic
	// temp-file rename; it reuses a key left by an interrupted earlier Init.
	pv := privval.LoadOrGenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	nk, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	govPath := filepath.Join(home, GovernanceKeyFile)
	var gov *key.PrivateKey
	if _, err := os.Stat(govPath); err == nil {
		gov, err = key.LoadFile(govPath)
		if err != nil {
			return nil, fmt.Errorf("governance key: %w", err)
		}
	} else {
		gov, err = key.Generate(key.Ed25519)
		if err != nil {
			return nil, err
		}
		if err := key.WriteFile(govPath, gov); err != nil {
			return nil, fmt.Errorf("governance key: %w", err)
		}
	}
	govDID := "did:key:" + gov.Public().Multikey()
	gov.Destroy()
	return &member{home: home, pv: pv, nodeKey: nk, govDID: govDID, moniker: moniker}, nil
}

// AppState is the registry's genesis app_state.
type AppState struct {
	// Governance lists the did:key identifiers allowed to accredit issuers.
	Governance []string `json:"governance"`
	// Quotas is the write quota policy (nil: the defaults; see
	// machine.Genesis).
	Quotas *ledger.QuotaPolicy `json:"quotas,omitempty"`
	// StateLayout is the chain's state layout (machine.Genesis), for new
	// chains ledger.CurrentLayout.
	StateLayout ledger.StateLayout `json:"stateLayout,omitempty"`
	// Network is the governance rule (machine.Genesis; nil: the defaults,
	// with directory writes by one governance signature).
	Network *ledger.NetworkPolicy `json:"network,omitempty"`
}

// NewChainPolicy is the governance rule of the chains Init and Testnet
// write: the defaults, and directory writes and accreditations by the
// same quorum as validator changes (NetworkPolicy.DirectoryQuorum). A
// chain of one governance key sees no difference (one approval is its
// quorum) until it adds a second key; then the quorum applies at once,
// without a proposal someone might forget (docs/design/0019).
func NewChainPolicy() *ledger.NetworkPolicy {
	p := ledger.DefaultNetworkPolicy
	p.DirectoryQuorum = true
	return &p
}

func writeGenesis(chainID string, ms []*member, quotas *ledger.QuotaPolicy, layout ledger.StateLayout, protocol uint64) (*types.GenesisDoc, error) {
	if layout == 0 {
		layout = ledger.CurrentLayout
	}
	if protocol == 0 {
		protocol = ledger.CurrentProtocol
	}
	st := AppState{Quotas: quotas, StateLayout: layout, Network: NewChainPolicy()}
	gen := &types.GenesisDoc{
		GenesisTime:     cmttime.Now(),
		ChainID:         chainID,
		InitialHeight:   1,
		ConsensusParams: types.DefaultConsensusParams(),
	}
	// The protocol the chain starts at, in the header of every block until
	// an upgrade (docs/design/0021, "Protocol upgrades at a height").
	// New chains start at this release's protocol (protocol 3: proposals
	// under their content's id, a cap on one key's open proposals), as
	// they start with directoryQuorum.
	gen.ConsensusParams.Version.App = protocol
	for _, m := range ms {
		pub, err := m.pv.GetPubKey()
		if err != nil {
			return nil, err
		}
		gen.Validators = append(gen.Validators, types.GenesisValidator{
			Address: pub.Address(), PubKey: pub, Power: 10, Name: m.moniker,
		})
		st.Governance = append(st.Governance, m.govDID)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	gen.AppState = raw
	if err := gen.ValidateAndComplete(); err != nil {
		return nil, err
	}
	for _, m := range ms {
		if err := gen.SaveAs(cometConfig(m.home).GenesisFile()); err != nil {
			return nil, err
		}
	}
	return gen, nil
}

func (m *member) result(chainID string) InitResult {
	return InitResult{
		Home:             m.home,
		ChainID:          chainID,
		GovernanceDID:    m.govDID,
		ValidatorAddress: m.pv.GetAddress().String(),
		NodeID:           string(m.nodeKey.ID()),
	}
}

// Init initialises a single-validator home folder: validator key, node
// key, governance key (home/governance.jwk, 0600), a genesis naming this
// validator and the governance did:key, config.toml and the settings file.
// It returns ErrAlreadyInitialised (wrapped) if home already has a genesis.
func Init(c InitConfig) (InitResult, error) {
	if c.ChainID == "" {
		c.ChainID = DefaultChainID
	}
	if c.Moniker == "" {
		c.Moniker = "medid-node"
	}
	m, err := genMember(c.Home, c.Moniker)
	if err != nil {
		return InitResult{}, err
	}
	s := Settings{
		Moniker:   c.Moniker,
		P2PAddr:   orDefault(c.P2PAddr, DefaultP2PAddr),
		RPCAddr:   c.RPCAddr,
		HTTPAddr:  orDefault(c.HTTPAddr, DefaultHTTPAddr),
		BlockTime: durOrDefault(c.BlockTime, DefaultBlockTime).String(),
	}
	if err := finishHome(c.Home, s); err != nil {
		return InitResult{}, err
	}
	// The genesis goes last: its presence marks the home as initialised.
	if _, err := writeGenesis(c.ChainID, []*member{m}, nil, 0, 0); err != nil {
		return InitResult{}, err
	}
	return m.result(c.ChainID), nil
}

func finishHome(home string, s Settings) error {
	if err := writeSettings(home, s); err != nil {
		return err
	}
	c, err := buildCometConfig(home, s)
	if err != nil {
		return err
	}
	cfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), c)
	return nil
}

// TestnetConfig describes a validator network written by [Testnet].
type TestnetConfig struct {
	Validators int    // number of validators, >= 1
	OutDir     string // homes are OutDir/node0 … OutDir/node{N-1}
	// BasePort: node i listens for peers on BasePort+10*i, serves HTTP on
	// BasePort+10*i+1 (suggested in its settings) and CometBFT's RPC on
	// BasePort+10*i+2 (loopback; what a node joining by state sync reads
	// headers from). 0 = 26600.
	BasePort  int
	ChainID   string        // "" = "medid-testnet"
	BlockTime time.Duration // 0 = DefaultBlockTime
	// Quotas is the genesis write quota policy (nil: the defaults, e.g.
	// 1,000 self-made did.create per hour network-wide; load tests raise
	// it).
	Quotas *ledger.QuotaPolicy
	// StateLayout is the chain's state layout (0: ledger.CurrentLayout).
	// ledger.LayoutEveryVersion makes a chain such as those started before
	// layout 2, to rehearse moving it (docs/operations.md).
	StateLayout ledger.StateLayout
	// Protocol is the protocol the chain starts at (0:
	// ledger.CurrentProtocol). ledger.BaseProtocol makes a chain such as
	// those started before protocol 3, to rehearse upgrading it
	// (docs/operations.md).
	Protocol uint64
}

// Testnet writes N validator homes sharing one genesis (equal power, every
// validator's governance did:key listed) with persistent peers on loopback,
// so each can be started as its own process.
func Testnet(c TestnetConfig) ([]InitResult, error) {
	if c.Validators < 1 {
		return nil, fmt.Errorf("testnet needs at least 1 validator, got %d", c.Validators)
	}
	if c.OutDir == "" {
		return nil, errors.New("testnet output folder is empty: set TestnetConfig.OutDir")
	}
	if c.BasePort == 0 {
		c.BasePort = 26600
	}
	if c.StateLayout != 0 && !c.StateLayout.Valid() {
		return nil, fmt.Errorf("testnet state layout %d: want %d or %d", c.StateLayout, ledger.LayoutEveryVersion, ledger.LayoutRecordsOnce)
	}
	if c.Protocol != 0 && (c.Protocol < ledger.BaseProtocol || c.Protocol > ledger.CurrentProtocol) {
		return nil, fmt.Errorf("testnet protocol %d: want %d to %d", c.Protocol, ledger.BaseProtocol, ledger.CurrentProtocol)
	}
	if c.BasePort < 1024 || c.BasePort+10*c.Validators > 65535 {
		return nil, fmt.Errorf("testnet base port %d out of range 1024..%d", c.BasePort, 65535-10*c.Validators)
	}
	if c.ChainID == "" {
		c.ChainID = "medid-testnet"
	}
	ms := make([]*member, c.Validators)
	for i := range ms {
		m, err := genMember(filepath.Join(c.OutDir, fmt.Sprintf("node%d", i)), fmt.Sprintf("node%d", i))
		if err != nil {
			return nil, err
		}
		ms[i] = m
	}
	p2pAddr := func(i int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.BasePort+10*i)) }
	res := make([]InitResult, len(ms))
	for i, m := range ms {
		var peers []string
		for j, o := range ms {
			if j != i {
				peers = append(peers, string(o.nodeKey.ID())+"@"+p2pAddr(j))
			}
		}
		s := Settings{
			Moniker:         m.moniker,
			P2PAddr:         p2pAddr(i),
			HTTPAddr:        net.JoinHostPort("127.0.0.1", strconv.Itoa(c.BasePort+10*i+1)),
			RPCAddr:         net.JoinHostPort("127.0.0.1", strconv.Itoa(c.BasePort+10*i+2)),
			PersistentPeers: strings.Join(peers, ","),
			BlockTime:       durOrDefault(c.BlockTime, DefaultBlockTime).String(),
		}
		if err := finishHome(m.home, s); err != nil {
			return nil, err
		}
		res[i] = m.result(c.ChainID)
	}
	if _, err := writeGenesis(c.ChainID, ms, c.Quotas, c.StateLayout, c.Protocol); err != nil {
		return nil, err
	}
	return res, nil
}

// FreeAddr returns a loopback host:port that was free a moment ago, for
// tests: CometBFT cannot listen on port 0 and report the port it got, so
// callers pick a port by binding and closing. Another process may take the
// port in between; tests retry on a bind error.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// FreeBasePort returns a [TestnetConfig.BasePort] for n nodes whose peer,
// HTTP and RPC ports (BasePort+10i, +10i+1, +10i+2) were all free on
// loopback a moment ago, below Linux's ephemeral ports (32768 on), which
// outgoing connections take at random. The range is also reserved for the
// rest of the calling process's life (a lock file per node's slot, shared
// by every process on the machine), so two test networks started at once
// by callers of FreeBasePort, in one process or several, never get
// overlapping ranges (CI, 2026-12-05: one testnet's node found its HTTP
// port taken by another's). Like [FreeAddr] it is for tests and local
// networks: a process that does not call it may still take a port in
// between. It fails when n is out of 1..100 or no range is found in 100
// tries.
func FreeBasePort(n int) (int, error) {
	if n < 1 || n > 100 {
		return 0, fmt.Errorf("free base port for %d nodes: want 1 to 100", n)
	}
	slots := (32760 - 20000 - 10*n) / 10
	for range 100 {
		base := 20000 + 10*rand.IntN(slots)
		if !reserveSlots(base, n) {
			continue
		}
		if portsFree(base, n) {
			return base, nil
		}
	}
	return 0, errors.New("no free range of testnet ports on loopback")
}

// portsFree reports whether the n nodes' ports from base can be bound.
func portsFree(base, n int) bool {
	for i := range n {
		for off := range 3 {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(base+10*i+off)))
			if err != nil {
				return false
			}
			l.Close()
		}
	}
	return true
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func durOrDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
