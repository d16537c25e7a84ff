// Package procnet runs a registry validator network the way hospitals run
// one: every validator a separate registryd process with its own home
// folder, talking CometBFT p2p over loopback, each serving its own HTTP
// API. Benchmarks use it to measure each validator's CPU apart
// (/proc/<pid>/stat) and with a heap and a garbage collector of its own;
// fault tests use it to stop, kill and restart single validators.
//
// It drives the registryd binary only (`registryd testnet` writes the
// homes, `registryd --home` runs a validator), so it imports nothing of the
// registry: what it starts is exactly what an operator starts.
package procnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config configures [Start].
type Config struct {
	// Binary is the registryd executable (see [Build]). Required.
	Binary string
	// Validators is the number of validator processes (at least 1).
	Validators int
	// Dir is the folder for the node homes (Dir/net/node<i>) and their
	// logs (Dir/node<i>.log). Required; it should be empty.
	Dir string
	// BlockTime is passed to `registryd testnet --block-time` (0: the
	// registryd default).
	BlockTime time.Duration
	// Env is added to every process's environment (GOGC=..., GOMAXPROCS=...).
	Env []string
	// Args returns extra registryd flags for node i (nil: none), e.g.
	// --cpuprofile.
	Args func(i int) []string
	// ReadyTimeout bounds the wait for every node's /readyz after start
	// (0: 60 s).
	ReadyTimeout time.Duration
	// Prepare, if not nil, is called with each node's home folder after
	// `registryd testnet` wrote it and before the node starts (e.g. to
	// change the genesis app state, the same way on every node). An error
	// stops Start.
	Prepare func(home string) error
}

// Network is a running validator network. Its methods are safe for
// concurrent use.
type Network struct {
	cfg   Config
	Nodes []*Node
}

// Node is one validator process.
type Node struct {
	// Index is the node's position (node<Index>).
	Index int
	// Home is its registryd home folder.
	Home string
	// URL is its HTTP API base URL (http://127.0.0.1:port).
	URL string
	// Log is the file its stdout and stderr go to.
	Log string

	cfg  *Config
	addr string // HTTP host:port

	mu   sync.Mutex // guards cmd and done
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Build compiles registryd (github.com/medid/medid/cmd/registryd) into dir
// with go build and the given build tags, and returns the executable's
// path. The go command must be on PATH; it runs in module, a folder of the
// medid module ("" = the working directory).
func Build(ctx context.Context, module, dir string, tags ...string) (string, error) {
	out := filepath.Join(dir, "registryd")
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	args = append(args, "github.com/medid/medid/cmd/registryd")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = module
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build registryd: %v\n%s", err, msg)
	}
	return out, nil
}

// Start writes a fresh network of cfg.Validators validators under cfg.Dir
// with `registryd testnet`, starts one registryd per validator and waits
// until every node's /readyz answers 200. On error, whatever was started
// is stopped.
func Start(ctx context.Context, cfg Config) (*Network, error) {
	if cfg.Binary == "" || cfg.Dir == "" {
		return nil, errors.New("procnet: Config.Binary and Config.Dir are required")
	}
	if cfg.Validators < 1 {
		return nil, fmt.Errorf("procnet: %d validators: want at least 1", cfg.Validators)
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 60 * time.Second
	}
	var lastErr error
	for attempt := range 5 {
		n, err := start(ctx, cfg, attempt)
		if err == nil {
			return n, nil
		}
		lastErr = err
		if ctx.Err() != nil || !errors.Is(err, errPortTaken) {
			break
		}
	}
	return nil, lastErr
}

var errPortTaken = errors.New("a port of the network was taken")

func start(ctx context.Context, cfg Config, attempt int) (*Network, error) {
	base, err := freeBase(cfg.Validators)
	if err != nil {
		return nil, err
	}
	out := filepath.Join(cfg.Dir, "net")
	if attempt > 0 {
		out = filepath.Join(cfg.Dir, fmt.Sprintf("net%d", attempt))
	}
	args := []string{"testnet", "--validators", strconv.Itoa(cfg.Validators), "--out", out, "--base-port", strconv.Itoa(base)}
	if cfg.BlockTime > 0 {
		args = append(args, "--block-time", cfg.BlockTime.String())
	}
	if msg, err := exec.CommandContext(ctx, cfg.Binary, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("registryd testnet: %v\n%s", err, msg)
	}
	n := &Network{cfg: cfg}
	for i := range cfg.Validators {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(base+10*i+1))
		n.Nodes = append(n.Nodes, &Node{
			Index: i, Home: filepath.Join(out, fmt.Sprintf("node%d", i)), URL: "http://" + addr, addr: addr,
			Log: filepath.Join(cfg.Dir, fmt.Sprintf("node%d-%d.log", i, attempt)), cfg: &n.cfg,
		})
	}
	if cfg.Prepare != nil {
		for _, nd := range n.Nodes {
			if err := cfg.Prepare(nd.Home); err != nil {
				return nil, fmt.Errorf("procnet: prepare node %d: %w", nd.Index, err)
			}
		}
	}
	for _, nd := range n.Nodes {
		if err := nd.Start(); err != nil {
			n.Stop(context.Background())
			return nil, err
		}
	}
	rctx, cancel := context.WithTimeout(ctx, cfg.ReadyTimeout)
	defer cancel()
	for _, nd := range n.Nodes {
		if err := nd.WaitReady(rctx); err != nil {
			n.Stop(context.Background())
			if strings.Contains(nd.LogTail(4096), "address already in use") {
				return nil, fmt.Errorf("%w: %v", errPortTaken, err)
			}
			return nil, err
		}
	}
	return n, nil
}

// freeBase picks a base port whose p2p (base+10i) and HTTP (base+10i+1)
// ports were free a moment ago.
func freeBase(n int) (int, error) {
	for range 100 {
		base := 20000 + 10*rand.IntN(3000)
		if base+10*n > 65000 {
			continue
		}
		ok := true
		for i := 0; i < n && ok; i++ {
			for _, p := range []int{base + 10*i, base + 10*i + 1} {
				l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
				if err != nil {
					ok = false
					break
				}
				l.Close()
			}
		}
		if ok {
			return base, nil
		}
	}
	return 0, errors.New("procnet: no free range of ports on loopback")
}

// Start starts the node's process (again, after Stop or Kill). It returns
// once the process is running, not when it is ready (see WaitReady).
func (nd *Node) Start() error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd != nil {
		select {
		case <-nd.done:
		default:
			return fmt.Errorf("procnet: node %d is already running", nd.Index)
		}
	}
	logf, err := os.OpenFile(nd.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	args := []string{"--home", nd.Home, "--log-level", "warn"}
	if nd.cfg.Args != nil {
		args = append(args, nd.cfg.Args(nd.Index)...)
	}
	cmd := exec.Command(nd.cfg.Binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), nd.cfg.Env...)
	// Its own process group: a signal to the benchmark's group (Ctrl-C)
	// does not reach it before Stop does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("procnet: start node %d: %w", nd.Index, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	nd.cmd, nd.done = cmd, done
	return nil
}

// Pid returns the process id of the node's current process (0 if it was
// never started).
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

// WaitReady polls the node's /readyz until it answers 200, the process
// exits or ctx ends.
func (nd *Node) WaitReady(ctx context.Context) error {
	nd.mu.Lock()
	done := nd.done
	nd.mu.Unlock()
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, nd.URL+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("/readyz %d %s", resp.StatusCode, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		select {
		case <-done:
			return fmt.Errorf("procnet: node %d exited before it was ready; its log ends:\n%s", nd.Index, nd.LogTail(2048))
		case <-ctx.Done():
			return fmt.Errorf("procnet: node %d not ready (%s): %w; its log ends:\n%s", nd.Index, last, ctx.Err(), nd.LogTail(2048))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop sends the node SIGTERM and waits for it to exit (a clean shutdown:
// the profile, if any, is written); after ctx ends it sends SIGKILL. A
// node that is not running is left alone.
func (nd *Node) Stop(ctx context.Context) error {
	return nd.signal(ctx, syscall.SIGTERM)
}

// Kill ends the node with SIGKILL (a crash: nothing is flushed) and waits
// for the process to be gone.
func (nd *Node) Kill() error {
	return nd.signal(context.Background(), syscall.SIGKILL)
}

func (nd *Node) signal(ctx context.Context, sig syscall.Signal) error {
	nd.mu.Lock()
	cmd, done := nd.cmd, nd.done
	nd.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("procnet: node %d did not stop in time: killed", nd.Index)
	}
}

// LogTail returns up to the last max bytes of the node's log.
func (nd *Node) LogTail(max int) string {
	b, err := os.ReadFile(nd.Log)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// Stop stops every node (SIGTERM, then SIGKILL for any still running
// after 30 s or when ctx ends) and returns the first error.
func (n *Network) Stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	errs := make([]error, len(n.Nodes))
	var wg sync.WaitGroup
	for i, nd := range n.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = nd.Stop(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
