// Command registryd runs a medid registry node: a CometBFT validator with
// the registry application in-process, and the registry HTTP API.
//
//	registryd [--home DIR] [--http ADDR] [--p2p ADDR] [--rpc ADDR] [--block-time 100ms] [--vault DIR [--vault-writers DID,…] [--vault-staff DID,…]]
//	registryd testnet --validators 4 --out DIR [--base-port 26600] [--chain-id ID]
//
// On first run it initialises the home folder (keys, genesis naming this
// validator and a governance key) and prints where things are. SIGINT and
// SIGTERM shut it down cleanly; a restart from the same home loses nothing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/medid/medid/registry/api"
	"github.com/medid/medid/registry/hospital/vault"
	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/node"
)

func main() {
	node.SetGCDefault()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "registryd:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "testnet" {
		return runTestnet(args[1:], stdout, stderr)
	}
	return runNode(ctx, args, stdout, stderr)
}

func defaultHome() string {
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".medid", "registryd")
	}
	return "registryd-home"
}

func runNode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("registryd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	home := fs.String("home", defaultHome(), "node home folder (created and initialised on first run)")
	httpAddr := fs.String("http", "", "registry HTTP API listen address (default: from the home's settings, else 127.0.0.1:8080)")
	p2pAddr := fs.String("p2p", "", "CometBFT p2p listen address (default: from the home's settings, else 127.0.0.1:26656)")
	rpcAddr := fs.String("rpc", "", "CometBFT JSON-RPC listen address (default: off)")
	blockTime := fs.Duration("block-time", 0, "pause after each commit, CometBFT timeout_commit (default: from settings, else 100ms)")
	chainID := fs.String("chain-id", node.DefaultChainID, "chain id used when initialising a new home")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	vaultDir := fs.String("vault", "", "serve a record vault from this folder under /1.0/vault (created on first use)")
	vaultWriters := fs.String("vault-writers", "", "comma-separated DIDs allowed to store records in the vault (besides the vault's own DID)")
	vaultStaff := fs.String("vault-staff", "", "comma-separated DIDs of staff the hospital vouches for in an emergency: only they may read under a patient's standing break-glass permission")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: registryd [flags]\n       registryd testnet --validators N --out DIR [--base-port N]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", *logLevel)}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if _, err := os.Stat(filepath.Join(*home, "config", "genesis.json")); errors.Is(err, os.ErrNotExist) {
		res, err := node.Init(node.InitConfig{Home: *home, ChainID: *chainID, P2PAddr: *p2pAddr, RPCAddr: *rpcAddr, HTTPAddr: *httpAddr, BlockTime: *blockTime})
		if err != nil {
			return fmt.Errorf("initialising %s: %w", *home, err)
		}
		fmt.Fprintf(stdout, "registryd: initialised a new single-validator registry\n")
		fmt.Fprintf(stdout, "  home:           %s\n", res.Home)
		fmt.Fprintf(stdout, "  chain id:       %s\n", res.ChainID)
		fmt.Fprintf(stdout, "  governance DID: %s\n", res.GovernanceDID)
		fmt.Fprintf(stdout, "  governance key: %s (keep it safe: it accredits issuers)\n", filepath.Join(res.Home, node.GovernanceKeyFile))
	}
	settings, err := node.LoadSettings(*home)
	if err != nil {
		return err
	}
	addr := *httpAddr
	if addr == "" {
		addr = settings.HTTPAddr
	}
	if addr == "" {
		addr = node.DefaultHTTPAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("HTTP API: %w", err)
	}
	defer ln.Close()

	a, err := machine.New(machine.Config{Dir: filepath.Join(*home, "data", "registry"), Logger: logger.With("component", "app")})
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := node.New(node.Config{Home: *home, App: a, ConcurrentApp: true, P2PAddr: *p2pAddr, RPCAddr: *rpcAddr, BlockTime: *blockTime, Logger: logger})
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		return err
	}
	defer n.Stop()
	h, err := api.New(api.Config{State: a, Ledger: n, Logger: logger.With("component", "api")})
	if err != nil {
		return err
	}
	var handler http.Handler = h
	stopVault := func() {}
	if *vaultDir != "" {
		v, err := openVault(*vaultDir, *vaultWriters, *vaultStaff, "http://"+ln.Addr().String(), n, a, logger.With("component", "vault"))
		if err != nil {
			return err
		}
		vctx, vcancel := context.WithCancel(context.Background())
		vdone := runVault(vctx, v)
		stopVault = func() { vcancel(); <-vdone }
		defer func() { stopVault() }() // a no-op once the shutdown path has stopped it
		handler = vault.Mount(h, v)
		fmt.Fprintf(stdout, "registryd: record vault %s at /1.0/vault (DID %s)\n", *vaultDir, v.DID())
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "registryd: serving the registry API on http://%s (chain %s, height %d, home %s)\n",
		ln.Addr(), n.ChainID(), n.Height(), *home)

	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("HTTP API: %w", err)
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	stopVault() // flushes the trail while the node still commits
	stopVault = func() {}
	if err := n.Stop(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "registryd: stopped")
	return nil
}

func runTestnet(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("registryd testnet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("validators", 4, "number of validators")
	fs.IntVar(n, "n", 4, "shorthand for --validators")
	out := fs.String("out", "", "output folder for the node homes (required)")
	basePort := fs.Int("base-port", 26600, "node i uses p2p port base+10i and HTTP port base+10i+1")
	chainID := fs.String("chain-id", "medid-testnet", "chain id")
	blockTime := fs.Duration("block-time", node.DefaultBlockTime, "pause after each commit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if *out == "" {
		return usageError{errors.New("testnet: --out DIR is required")}
	}
	res, err := node.Testnet(node.TestnetConfig{Validators: *n, OutDir: *out, BasePort: *basePort, ChainID: *chainID, BlockTime: *blockTime})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "registryd: wrote a %d-validator network (chain %s) to %s\n", len(res), *chainID, *out)
	var govs []string
	for _, r := range res {
		s, err := node.LoadSettings(r.Home)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "  registryd --home %s --http %s\n", r.Home, s.HTTPAddr)
		govs = append(govs, r.GovernanceDID)
	}
	fmt.Fprintf(stdout, "governance DIDs: %s\n", strings.Join(govs, ", "))
	return nil
}
