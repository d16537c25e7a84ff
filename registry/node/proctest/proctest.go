// Package proctest runs a registry network as separate registryd
// processes on loopback, for tests and benchmarks that need real processes:
// kill and restart nodes, cut and slow their links, fill their disks, join
// new nodes (by state sync), put a steady write load on the network, and
// check afterwards that it stayed consistent.
//
// # Links
//
// Nodes do not dial each other directly. Each ordered pair of nodes (i, j)
// has a [Link]: a TCP proxy in the test process, on loopback, that node i's
// persistent peer entry for j points at and that forwards to j's p2p port.
// Peer exchange is off, so these are the only paths between nodes.
// [Network.Partition] cuts every link of a node (open connections are
// closed, new ones refused) and [Network.Heal] restores them;
// [Network.Delay] holds every byte on a node's links for a while (latency,
// not a bandwidth cap). Proxies need no privileges and keep all traffic on
// loopback; network namespaces would need root and a veth pair per node.
//
// # Disks
//
// With Config.DiskLimits a node's home is a file system of that size: a
// tmpfs the harness mounts when it may (root with CAP_SYS_ADMIN), else
// registryd's --disk-quota, which counts the home's bytes against the same
// limit. [Network.FillDisk] writes a ballast file until only the given
// space is left; registryd's disk guard (--min-free-disk, --stop-free-disk)
// then fails /readyz and stops the node cleanly. [Network.FreeDisk]
// removes the ballast.
//
// # Building on it
//
// The four-process throughput benchmark (issue 19) uses [Start] with no
// faults and [Network.StartLoad] (or its own submitters through
// [Node.Client]); the validator-process benchmarks of registry/node set
// Config.Direct (no proxy in the benchmark process between validators),
// give each node its own flags (Config.NodeArgs, e.g. a CPU profile) and
// read each validator's CPU through [Node.Pid]. Everything here is bounded
// by the contexts it is given and stops with [Network.Close].
//
// It is the project's one harness for registryd processes: what it starts
// is exactly what an operator starts (the registryd binary, its flags, a
// home written by [node.Testnet]).
package proctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node"
)

// Config describes a network for [Start].
type Config struct {
	// Dir holds the nodes' homes. Required (e.g. t.TempDir()).
	Dir string
	// Validators is the number of genesis validators (0 = 4).
	Validators int
	// BlockTime is every node's pause after a commit (0 = 100 ms).
	BlockTime time.Duration
	// App sets the state's snapshots and pruning on every node.
	App node.AppSettings
	// Quotas is the genesis write quota policy (nil: the defaults, which
	// allow 1,000 self-made did.create per hour network-wide; a load of
	// new DIDs needs more, e.g. nodetest.UnlimitedCreates()).
	Quotas *ledger.QuotaPolicy
	// GossipPeers is every node's Settings.GossipPeers (0: mempool gossip
	// to every peer, the default).
	GossipPeers int
	// MempoolRelay is every node's Settings.MempoolRelay ("": the
	// default, node.RelayDirect; GossipPeers needs node.RelayFlood).
	MempoolRelay string
	// DiskLimits gives node i a file system of DiskLimits[i] bytes.
	DiskLimits map[int]int64
	// Binary is the registryd to run ("" = $MEDID_REGISTRYD, else built
	// once per process with go build).
	Binary string
	// Args are extra registryd flags for every node.
	Args []string
	// NodeArgs, if not nil, returns further flags for genesis node i
	// (after Args), e.g. a --cpuprofile of its own.
	NodeArgs func(i int) []string
	// JoinArgs, if not nil, returns further flags for a node added by
	// [Network.Join] (e.g. a CPU profile of the joining node).
	JoinArgs func(name string) []string
	// LogLevel is every node's --log-level ("" = info; benchmarks use
	// warn so logging does not count in a validator's CPU).
	LogLevel string
	// Direct makes the nodes dial each other's p2p ports directly, as
	// `registryd testnet` writes them, instead of through [Link]s: no
	// proxy runs in the test process (whose CPU a benchmark measures
	// apart), and Partition, Heal and Delay do nothing.
	Direct bool
	// ReadyTimeout bounds Start's wait for every node's first block
	// (0 = 2 minutes). A node that exits before (a port taken since it
	// was chosen) makes Start retry on other ports, up to 5 times.
	ReadyTimeout time.Duration
	// Logf reports progress (nil: silent). Node output goes to
	// <home>/registryd.log.
	Logf func(format string, args ...any)
	// Seed, if set, is a folder [Network.SaveTo] wrote: every node's home
	// (keys, chain, state, genesis) is copied from it instead of written
	// fresh, and the network carries on that chain on new ports, as
	// operators restore nodes from backups. Validators must match the
	// saved network's size. A large state is built once this way and
	// reused by later runs.
	Seed string
}

// Network is a running network. Its methods are safe for concurrent use.
type Network struct {
	cfg     Config
	bin     string
	Nodes   []*Node
	ChainID string
	Genesis []byte

	mu    sync.Mutex // guards links and Nodes' growth
	links map[[2]int]*Link

	transportOnce sync.Once
	pool          *http.Transport
}

// transport is the network's shared HTTP connection pool.
func (nw *Network) transport() *http.Transport {
	nw.transportOnce.Do(func() {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 0, 1024
		nw.pool = t
	})
	return nw.pool
}

// Node is one registryd process of a network.
type Node struct {
	Index int
	Name  string
	Home  string
	// URL is the registry API's base URL.
	URL string
	// P2P and RPC are the node's own listen addresses (peers reach it
	// through Links).
	P2P, RPC string
	ID       string
	// DiskLimit is the node's file system size (0: unlimited).
	DiskLimit int64
	tmpfs     bool

	net  *Network
	mu   sync.Mutex // guards cmd, done and log
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
	// extra are the flags of this node beyond the network's.
	extra []string
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// Binary returns a registryd binary: $MEDID_REGISTRYD when set, else one
// built once per process from this module's cmd/registryd (with the go
// command on PATH, in this package's source folder, so a test binary run
// from elsewhere — go test -c — builds the same module).
func Binary() (string, error) {
	if b := os.Getenv("MEDID_REGISTRYD"); b != "" {
		return b, nil
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "proctest-registryd-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "registryd")
		cmd := exec.Command("go", "build", "-o", builtBin, "github.com/medid/medid/cmd/registryd")
		_, self, _, _ := runtime.Caller(0)
		cmd.Dir = filepath.Dir(self)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build github.com/medid/medid/cmd/registryd: %v\n%s", err, out)
		}
	})
	return builtBin, buildErr
}

// RemoveBuilt removes the registryd that Binary built (~80 MB in the
// temporary folder), if it built one: a test binary's TestMain calls it
// once its tests are done.
func RemoveBuilt() {
	if builtBin != "" {
		_ = os.RemoveAll(filepath.Dir(builtBin))
	}
}

func (c *Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// Start writes the network's homes, starts every node as its own process
// and waits until every node has committed the first block. On error
// everything started is stopped.
func Start(ctx context.Context, cfg Config) (*Network, error) {
	if cfg.Dir == "" {
		return nil, errors.New("proctest.Config.Dir is required")
	}
	if cfg.Validators == 0 {
		cfg.Validators = 4
	}
	if cfg.BlockTime == 0 {
		cfg.BlockTime = 100 * time.Millisecond
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 2 * time.Minute
	}
	bin := cfg.Binary
	if bin == "" {
		var err error
		if bin, err = Binary(); err != nil {
			return nil, err
		}
	}
	dir := cfg.Dir
	var lastErr error
	for attempt := range 5 {
		if attempt > 0 {
			// The failed attempt's homes stay for its logs.
			cfg.Dir = filepath.Join(dir, fmt.Sprintf("retry%d", attempt))
			cfg.logf("%v: retrying on other ports", lastErr)
		}
		nw, err := start(ctx, cfg, bin)
		if err == nil {
			return nw, nil
		}
		lastErr = err
		if ctx.Err() != nil || !errors.Is(err, errPortTaken) {
			break
		}
	}
	return nil, lastErr
}

// errPortTaken: a node exited before its first block because a port chosen
// by node.FreeBasePort was taken in the meantime.
var errPortTaken = errors.New("a port of the network was taken")

func start(ctx context.Context, cfg Config, bin string) (*Network, error) {
	nw := &Network{cfg: cfg, bin: bin, links: map[[2]int]*Link{}}
	ok := false
	defer func() {
		if !ok {
			nw.Close()
		}
	}()
	base, err := node.FreeBasePort(cfg.Validators)
	if err != nil {
		return nil, err
	}
	for i := range cfg.Validators {
		home := filepath.Join(cfg.Dir, fmt.Sprintf("node%d", i))
		nd := &Node{Index: i, Name: fmt.Sprintf("node%d", i), Home: home, net: nw, DiskLimit: cfg.DiskLimits[i]}
		if err := os.MkdirAll(home, 0o700); err != nil {
			return nil, err
		}
		if nd.DiskLimit > 0 {
			nd.tmpfs = mountTmpfs(home, nd.DiskLimit) == nil
			cfg.logf("node%d: a %d MiB file system (%s)", i, nd.DiskLimit>>20, map[bool]string{true: "tmpfs", false: "registryd --disk-quota"}[nd.tmpfs])
		}
		nw.Nodes = append(nw.Nodes, nd)
	}
	if cfg.Seed != "" {
		if err := nw.fromSeed(base); err != nil {
			return nil, err
		}
	} else {
		res, err := node.Testnet(node.TestnetConfig{Validators: cfg.Validators, OutDir: cfg.Dir, BasePort: base, BlockTime: cfg.BlockTime, ChainID: "medid-proctest", Quotas: cfg.Quotas})
		if err != nil {
			return nil, err
		}
		nw.ChainID = res[0].ChainID
		if nw.Genesis, err = os.ReadFile(filepath.Join(res[0].Home, "config", "genesis.json")); err != nil {
			return nil, err
		}
		for i, r := range res {
			nd := nw.Nodes[i]
			s, err := node.LoadSettings(r.Home)
			if err != nil {
				return nil, err
			}
			nd.ID, nd.P2P, nd.RPC, nd.URL = r.NodeID, s.P2PAddr, s.RPCAddr, "http://"+s.HTTPAddr
		}
	}
	for _, nd := range nw.Nodes {
		if err := nw.wire(nd); err != nil {
			return nil, err
		}
	}
	for _, nd := range nw.Nodes {
		if err := nd.Start(); err != nil {
			return nil, err
		}
	}
	rctx, cancel := context.WithTimeout(ctx, cfg.ReadyTimeout)
	defer cancel()
	for _, nd := range nw.Nodes {
		if err := nd.waitFirstBlock(rctx); err != nil {
			return nil, err
		}
	}
	cfg.logf("network of %d registryd processes up (chain %s)", len(nw.Nodes), nw.ChainID)
	ok = true
	return nw, nil
}

// wire points nd's persistent peers at links to every other node (unless
// Config.Direct) and writes its storage settings.
func (nw *Network) wire(nd *Node) error {
	s, err := node.LoadSettings(nd.Home)
	if err != nil {
		return err
	}
	var peers []string
	for _, o := range nw.Nodes {
		if o == nd {
			continue
		}
		if nw.cfg.Direct {
			// The others' own ports (a network from a Seed has new ones).
			peers = append(peers, o.ID+"@"+o.P2P)
			continue
		}
		l, err := nw.link(nd.Index, o.Index)
		if err != nil {
			return err
		}
		peers = append(peers, o.ID+"@"+l.Addr())
	}
	s.PersistentPeers = strings.Join(peers, ",")
	s.NoPeerExchange = !nw.cfg.Direct
	s.App = nw.cfg.App
	s.GossipPeers = nw.cfg.GossipPeers
	s.MempoolRelay = nw.cfg.MempoolRelay
	return node.WriteSettings(nd.Home, s)
}

// link returns the link from node i to node j, creating it.
func (nw *Network) link(i, j int) (*Link, error) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if l, ok := nw.links[[2]int{i, j}]; ok {
		return l, nil
	}
	l, err := newLink(nw.Nodes[j].P2P)
	if err != nil {
		return nil, err
	}
	nw.links[[2]int{i, j}] = l
	return l, nil
}

// linksOf returns every link from or to node i.
func (nw *Network) linksOf(i int) []*Link {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	var out []*Link
	for k, l := range nw.links {
		if k[0] == i || k[1] == i {
			out = append(out, l)
		}
	}
	return out
}

// Traffic returns the bytes node i's links forwarded so far, to and
// from it together (0 with Config.Direct): what its peer-to-peer traffic
// cost, e.g. a state sync's snapshot chunks and blocks.
func (nw *Network) Traffic(i int) int64 {
	var n int64
	for _, l := range nw.linksOf(i) {
		n += l.Bytes()
	}
	return n
}

// Partition cuts node i off from every other node (not with Config.Direct).
func (nw *Network) Partition(i int) {
	for _, l := range nw.linksOf(i) {
		l.Cut()
	}
}

// Heal restores node i's links.
func (nw *Network) Heal(i int) {
	for _, l := range nw.linksOf(i) {
		l.Restore()
	}
}

// Delay makes every link of node i hold each byte for d (0: no delay).
func (nw *Network) Delay(i int, d time.Duration) {
	for _, l := range nw.linksOf(i) {
		l.SetDelay(d)
	}
}

// Close stops every node, closes the links and unmounts the file systems
// the harness mounted.
func (nw *Network) Close() {
	var wg sync.WaitGroup
	for _, nd := range nw.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = nd.Stop()
		}()
	}
	wg.Wait()
	nw.transport().CloseIdleConnections()
	nw.mu.Lock()
	for _, l := range nw.links {
		l.Close()
	}
	nw.mu.Unlock()
	for _, nd := range nw.Nodes {
		if nd.tmpfs {
			_ = syscall.Unmount(nd.Home, syscall.MNT_DETACH)
		}
	}
}

// args are nd's registryd flags.
func (nd *Node) args() []string {
	level := nd.net.cfg.LogLevel
	if level == "" {
		level = "info"
	}
	a := []string{"--home", nd.Home, "--log-level", level}
	if nd.DiskLimit > 0 {
		// The guard's thresholds scale with the small test file system.
		a = append(a, "--min-free-disk", strconv.FormatInt(nd.DiskLimit/4, 10), "--stop-free-disk", strconv.FormatInt(nd.DiskLimit/8, 10))
		if !nd.tmpfs {
			a = append(a, "--disk-quota", strconv.FormatInt(nd.DiskLimit, 10))
		}
	}
	a = append(a, nd.net.cfg.Args...)
	if nd.net.cfg.NodeArgs != nil && nd.Index < nd.net.cfg.Validators {
		a = append(a, nd.net.cfg.NodeArgs(nd.Index)...)
	}
	return append(a, nd.extra...)
}

// Start starts the node's process (again, after Kill or Stop).
func (nd *Node) Start() error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd != nil {
		return fmt.Errorf("%s is running", nd.Name)
	}
	f, err := os.OpenFile(filepath.Join(nd.Home, "registryd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		// A full disk: log to the network folder instead.
		if f, err = os.OpenFile(filepath.Join(nd.net.cfg.Dir, nd.Name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
			return err
		}
	}
	cmd := exec.Command(nd.net.bin, nd.args()...)
	cmd.Stdout, cmd.Stderr = f, f
	// A test process that dies (a panic, a timeout) takes its nodes with
	// it instead of leaving them running. Their own process group: a
	// Ctrl-C to the test's group does not reach them before Close's
	// SIGTERM, so a node's CPU profile is written completely.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", nd.Name, err)
	}
	done := make(chan struct{})
	nd.cmd, nd.done, nd.log = cmd, done, f
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}()
	return nil
}

// Pid returns the process id of the node's current process (0 when it
// is not running).
func (nd *Node) Pid() int {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd == nil || nd.cmd.Process == nil {
		return 0
	}
	return nd.cmd.Process.Pid
}

// Running reports whether the node's process is running.
func (nd *Node) Running() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd == nil {
		return false
	}
	select {
	case <-nd.done:
		return false
	default:
		return true
	}
}

// Kill kills the process with SIGKILL (a crash) and waits for it.
func (nd *Node) Kill() error { return nd.signal(syscall.SIGKILL, 10*time.Second) }

// Stop stops the process with SIGTERM (a clean shutdown), killing it if it
// has not stopped within 20 s.
func (nd *Node) Stop() error {
	if err := nd.signal(syscall.SIGTERM, 20*time.Second); err != nil {
		return nd.Kill()
	}
	return nil
}

// Exited waits up to d for the process to end by itself (e.g. the disk
// guard stopped it) and reports whether it did.
func (nd *Node) Exited(d time.Duration) bool {
	nd.mu.Lock()
	done := nd.done
	nd.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		nd.mu.Lock()
		nd.cmd = nil
		nd.mu.Unlock()
		return true
	case <-time.After(d):
		return false
	}
}

func (nd *Node) signal(sig syscall.Signal, wait time.Duration) error {
	nd.mu.Lock()
	cmd, done := nd.cmd, nd.done
	nd.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(wait):
		return fmt.Errorf("%s did not exit within %s of %v", nd.Name, wait, sig)
	}
	nd.mu.Lock()
	nd.cmd = nil
	nd.mu.Unlock()
	return nil
}

// Client returns a plain (unverified) client of the node's API. Clients
// of one network share a connection pool that keeps up to 1,024 idle
// connections per node, so many concurrent submitters reuse connections
// instead of opening one per request (and meeting registryd's cap of
// connections per client address).
func (nd *Node) Client() *client.Client {
	c, err := client.New(client.Config{URL: nd.URL, HTTPClient: &http.Client{Timeout: 5 * time.Second, Transport: nd.net.transport()}})
	if err != nil {
		panic(err) // the URL is ours
	}
	return c
}

// Height returns the height of the node's latest block.
func (nd *Node) Height(ctx context.Context) (int64, error) {
	lb, err := nd.Client().LightBlock(ctx, 0)
	if err != nil {
		return 0, err
	}
	return lb.Height(), nil
}

// WaitHeight waits until the node's latest block is at least h.
func (nd *Node) WaitHeight(ctx context.Context, h int64) error {
	for {
		if got, err := nd.Height(ctx); err == nil && got >= h {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not reach height %d: %w (log: %s)", nd.Name, h, ctx.Err(), nd.LogTail(2000))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitCaughtUpWith waits until the node's latest block is at least the
// latest block of other (read just before), and returns that height: the
// node serves what the network serves, even while the chain moves on.
func (nd *Node) WaitCaughtUpWith(ctx context.Context, other *Node) (int64, error) {
	for {
		top, err := other.Height(ctx)
		if err == nil {
			if got, err := nd.Height(ctx); err == nil && got >= top {
				return top, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%s did not catch up with %s: %w (log: %s)", nd.Name, other.Name, ctx.Err(), nd.LogTail(2000))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitFirstBlock is WaitHeight(ctx, 1) that gives up when the process
// exits first (errPortTaken when its log says a port was in use).
func (nd *Node) waitFirstBlock(ctx context.Context) error {
	nd.mu.Lock()
	done := nd.done
	nd.mu.Unlock()
	for {
		if got, err := nd.Height(ctx); err == nil && got >= 1 {
			return nil
		}
		select {
		case <-done:
			tail := nd.LogTail(2000)
			if strings.Contains(tail, "address already in use") {
				return fmt.Errorf("%w: %s exited (log: %s)", errPortTaken, nd.Name, tail)
			}
			return fmt.Errorf("%s exited before its first block (log: %s)", nd.Name, tail)
		case <-ctx.Done():
			return fmt.Errorf("%s did not reach height 1: %w (log: %s)", nd.Name, ctx.Err(), nd.LogTail(2000))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// LogTail returns the last n bytes of the node's log.
func (nd *Node) LogTail(n int) string {
	for _, p := range []string{filepath.Join(nd.Home, "registryd.log"), filepath.Join(nd.net.cfg.Dir, nd.Name+".log")} {
		b, err := os.ReadFile(p)
		if err == nil && len(b) > 0 {
			if len(b) > n {
				b = b[len(b)-n:]
			}
			return string(b)
		}
	}
	return ""
}

// Join adds a node to the running network with `registryd join` (from the
// first two nodes, with state sync when stateSync is set) and starts it. It
// takes part through links like the others, but validates only once
// governance adds its key.
func (nw *Network) Join(ctx context.Context, name string, stateSync bool) (*Node, error) {
	p2p, err := node.FreeAddr()
	if err != nil {
		return nil, err
	}
	httpAddr, err := node.FreeAddr()
	if err != nil {
		return nil, err
	}
	rpc, err := node.FreeAddr()
	if err != nil {
		return nil, err
	}
	nw.mu.Lock()
	nd := &Node{Index: len(nw.Nodes), Name: name, Home: filepath.Join(nw.cfg.Dir, name), net: nw,
		URL: "http://" + httpAddr, P2P: p2p, RPC: rpc}
	nw.Nodes = append(nw.Nodes, nd)
	nw.mu.Unlock()
	mode := "off"
	if stateSync {
		mode = "on"
	}
	from := nw.Nodes[0].URL + "," + nw.Nodes[1].URL
	out, err := exec.CommandContext(ctx, nw.bin, "join", "--home", nd.Home, "--from", from, "--moniker", name,
		"--p2p", p2p, "--http", httpAddr, "--rpc", rpc, "--state-sync", mode).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("registryd join: %v\n%s", err, out)
	}
	nw.cfg.logf("%s", bytes.TrimSpace(out))
	s, err := node.LoadSettings(nd.Home)
	if err != nil {
		return nil, err
	}
	// The new node reaches the others, and they it, through links.
	var peers []string
	for _, o := range nw.Nodes[:nd.Index] {
		l, err := nw.link(nd.Index, o.Index)
		if err != nil {
			return nil, err
		}
		peers = append(peers, o.ID+"@"+l.Addr())
	}
	s.PersistentPeers = strings.Join(peers, ",")
	s.NoPeerExchange = true
	s.App = nw.cfg.App
	s.GossipPeers = nw.cfg.GossipPeers
	s.MempoolRelay = nw.cfg.MempoolRelay
	if err := node.WriteSettings(nd.Home, s); err != nil {
		return nil, err
	}
	if nd.ID, err = node.NodeID(nd.Home); err != nil {
		return nil, err
	}
	if nw.cfg.JoinArgs != nil {
		nd.extra = append(nd.extra, nw.cfg.JoinArgs(name)...)
	}
	if err := nd.Start(); err != nil {
		return nil, err
	}
	return nd, nil
}

// FillDisk writes a ballast file in node i's home until only leave bytes
// are free.
func (nw *Network) FillDisk(i int, leave int64) error {
	nd := nw.Nodes[i]
	g := &node.DiskGuard{Path: nd.Home}
	if !nd.tmpfs {
		g.Quota = nd.DiskLimit
	}
	free, err := g.Free()
	if err != nil {
		return err
	}
	n := free - leave
	if n <= 0 {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(nd.Home, "ballast"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := f.Write(buf[:k]); err != nil {
			return fmt.Errorf("fill %s: %w", nd.Name, err)
		}
		n -= k
	}
	return f.Sync()
}

// FreeDisk removes the ballast FillDisk wrote.
func (nw *Network) FreeDisk(i int) error {
	err := os.Remove(filepath.Join(nw.Nodes[i].Home, "ballast"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// mountTmpfs mounts a tmpfs of size bytes on dir (root with mount rights
// only).
func mountTmpfs(dir string, size int64) error {
	return syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.FormatInt(size, 10)+",mode=0700")
}
