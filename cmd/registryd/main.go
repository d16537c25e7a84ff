// Command registryd runs a medid registry node: a CometBFT validator with
// the registry application in-process, and the registry HTTP API.
//
//	registryd [--home DIR] [--http ADDR] [--p2p ADDR] [--rpc ADDR] [--block-time 100ms] [--vault DIR [--vault-writers DID,…] [--vault-staff DID,…] [--fhir-clients FILE [--fhir-base URL]]]
//	          [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]] [--max-conns N] [--ready-stall 15s] [--cpuprofile FILE] [--memprofile FILE]
//	registryd testnet --validators 4 --out DIR [--base-port 26600|auto] [--chain-id ID] [--state-layout 2|1] [--protocol 5|4|3|2]
//
// On first run it initialises the home folder (keys, genesis naming this
// validator and a governance key) and prints where things are. SIGINT and
// SIGTERM shut it down cleanly; a restart from the same home loses nothing.
//
// The HTTP server (internal/httpserver) has timeouts on every phase and a
// connection cap planned from the file-descriptor limit after reserving
// what the consensus engine and the databases need; registryd refuses to
// start when the limit is too small. /healthz is liveness, /readyz
// readiness (consensus progressing, state database sound, peers, trail
// backlog). docs/design/0014-http-hardening-and-tls.md has the policy.
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
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/medid/medid/internal/httpserver"
	"github.com/medid/medid/internal/tlsfiles"
	"github.com/medid/medid/registry/api"
	"github.com/medid/medid/registry/hospital/vault"
	"github.com/medid/medid/registry/ledger"
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
	if len(args) > 0 && args[0] == "join" {
		return runJoin(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "validator-key" {
		return runValidatorKey(args[1:], stdout, stderr)
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
	logoMirrors := fs.String("logo-mirrors", "", "comma-separated base URLs of other registries of the network to fetch directory logos from when they were not uploaded here (checked against the ledger's hash)")
	vaultURL := fs.String("vault-url", "", "the vault's base URL as wallets reach it, for OpenID4VP licence presentations (default http(s)://ADDR)")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate chain (reloaded when the file changes)")
	tlsKey := fs.String("tls-key", "", "the certificate's PEM private key, mode 0600 (reloaded when the file changes)")
	tlsClientCA := fs.String("tls-client-ca", "", "mutual TLS: PEM CA whose client certificates the hospital-to-hospital and admin routes require")
	maxConns := fs.Int("max-conns", 0, "cap on open HTTP connections (default: planned from the file-descriptor limit, at most 4096)")
	stall := fs.Duration("ready-stall", node.DefaultStallAfter, "/readyz fails when transactions have waited this long without a new block")
	trailBacklog := fs.Int("ready-trail-backlog", defaultTrailBacklog, "with --vault: /readyz fails when more trail entries than this wait to be anchored")
	fhirClients := fs.String("fhir-clients", "", "serve the vault's FHIR R4 API (/fhir, SMART Backend Services, CDS Hooks) to the clients registered in this JSON file: {\"did:…\": {\"scopes\": [\"system/*.rs\"], \"purpose\": \"TREAT\", \"name\": \"…\"}}")
	fhirBase := fs.String("fhir-base", "", "the FHIR base URL as clients reach it (default http://ADDR/fhir)")
	store := storeFlags(fs)
	minFree := fs.Int64("min-free-disk", 512<<20, "bytes: /readyz fails when the home's file system has less free space")
	stopFree := fs.Int64("stop-free-disk", 128<<20, "bytes: the node stops cleanly when less is free, before the disk fills (0: never)")
	diskQuota := fs.Int64("disk-quota", 0, "bytes: count the home as a file system of this size holding only it (0: the real file system)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (go tool pprof) of the whole run to this file, completed at shutdown")
	cpuProfileFor := fs.Duration("cpuprofile-for", 0, "with --cpuprofile: end the profile this long after the start (e.g. the first minute of a state sync join) instead of at shutdown")
	memProfile := fs.String("memprofile", "", "write a heap profile (go tool pprof; allocations since the start and what is live) to this file at shutdown")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: registryd [flags]\n       registryd testnet --validators N --out DIR [--base-port N|auto]\n       registryd join --home DIR --from URL[,URL…]\n       registryd validator-key --home DIR")
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
	// Every line names the node and its height (docs/operations.md).
	logHandler := node.NewLogHandler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}), filepath.Base(*home))
	logger := slog.New(logHandler)
	// A soft memory limit under the node's memory, so GOGC 400's headroom
	// cannot outgrow the machine as the caches fill (docs/operations.md).
	if _, err := node.SetMemoryDefault(logger); err != nil {
		return err
	}
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		var once sync.Once
		stop := func() { once.Do(stopProfile) }
		if *cpuProfileFor > 0 {
			t := time.AfterFunc(*cpuProfileFor, stop)
			defer t.Stop()
		}
		defer stop()
	} else if *cpuProfileFor != 0 {
		return usageError{errors.New("--cpuprofile-for needs --cpuprofile")}
	}
	if *memProfile != "" {
		// Created now, so a bad path fails the start, not the shutdown.
		f, err := os.Create(*memProfile)
		if err != nil {
			return fmt.Errorf("--memprofile: %w", err)
		}
		defer func() {
			// The heap as of the last collection: run one, so what is
			// live is current.
			runtime.GC()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				logger.Warn("writing the heap profile", "err", err)
			}
			f.Close()
		}()
	}

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
	tlsFiles := tlsfiles.Server{Cert: *tlsCert, Key: *tlsKey, ClientCA: *tlsClientCA, Logger: logger.With("component", "tls")}
	if tlsFiles.Enabled() {
		// Checked now, before the node opens anything; the server loads
		// them again (and reloads them on change).
		if _, err := tlsFiles.Config(); err != nil {
			return usageError{err}
		}
	}
	nodeCfg := node.Config{Home: *home, ConcurrentApp: true, P2PAddr: *p2pAddr, RPCAddr: *rpcAddr, BlockTime: *blockTime, Logger: logger, StallAfter: *stall}
	limits := httpserver.Limits{MaxConns: *maxConns}
	var budget httpserver.Budget
	if *maxConns <= 0 {
		// HTTP connections get what is left of the descriptor limit once
		// the node, its databases and the vault have their share: an HTTP
		// flood can then never make CometBFT's WAL or LevelDB fail to open
		// a file.
		reserve, err := descriptorReserve(nodeCfg, *vaultDir != "")
		if err != nil {
			return err
		}
		if budget, err = httpserver.PlanConns(reserve, httpserver.DefaultMaxConns); err != nil {
			return err
		}
		limits.MaxConns = budget.Conns
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("HTTP API: %w", err)
	}
	defer ln.Close()

	if settings.Moniker != "" {
		logHandler.SetName(settings.Moniker)
	}
	a, err := machine.New(store.config(settings.App, filepath.Join(*home, "data", "registry"), logger.With("component", "app"), debug.SetMemoryLimit(-1)))
	if err != nil {
		return err
	}
	defer a.Close()
	nodeCfg.App = a
	n, err := node.New(nodeCfg)
	if err != nil {
		return err
	}
	logHandler.SetHeight(n.Height)
	// A node catching up replays old blocks: it snapshots once it follows
	// the chain (docs/design/0021, state sync).
	a.PauseSnapshotsWhile(n.CatchingUp)
	// A state sync restore writes the latest-DID index while it imports,
	// in the form of the layout the genesis names (the restored state's
	// own layout is checked; an invalid app_state fails at InitChain).
	if g, err := machine.ParseGenesis(n.Genesis().AppState); err == nil {
		a.ExpectLayout(g.StateLayout)
	}
	var v *vault.Vault // set below with --vault; the trail backlog metric reads it
	reg := prometheus.NewRegistry()
	if err := n.RegisterMetrics(reg, node.MetricSources{Rejections: a.Rejections, LastSnapshot: a.LastSnapshot,
		Protocol: func() uint64 { return a.Protocol().Version }, UpgradePending: a.UpgradePending, TrailBacklog: func() (int, error) {
			if v == nil {
				return 0, nil
			}
			return v.Backlog()
		}}); err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		return err
	}
	defer n.Stop()
	checks := api.NodeChecks(n, a)
	disk := &node.DiskGuard{Path: *home, MinFree: *minFree, StopBelow: *stopFree, Quota: *diskQuota}
	checks = append(checks, api.Check{Name: "disk", Run: disk.Check}, api.Check{Name: "protocol", Run: a.CheckProtocol})
	ctx, stopForDisk := context.WithCancel(ctx)
	defer stopForDisk()
	go disk.Watch(ctx, time.Second, func(reason string) {
		logger.Error("stopping: disk almost full", "reason", reason)
		stopForDisk()
	})
	if *vaultDir != "" {
		// The vault's backlog check refers to v, opened below.
		checks = append(checks, api.Check{Name: "trail", Run: func(context.Context) error {
			b, err := v.Backlog()
			if err != nil {
				return fmt.Errorf("%d trail entries wait to be anchored: %w", b, err)
			}
			if b > *trailBacklog {
				return fmt.Errorf("%d trail entries wait to be anchored (more than %d): anchoring is falling behind", b, *trailBacklog)
			}
			return nil
		}})
	}
	var srv *httpserver.Server // set below; the metrics read it once serving
	if err := registerHTTPMetrics(reg, func() *httpserver.Server { return srv }); err != nil {
		return err
	}
	mirrors, err := urlList("--logo-mirrors", *logoMirrors)
	if err != nil {
		return usageError{err}
	}
	h, err := api.New(api.Config{State: a, Ledger: n, Logger: logger.With("component", "api"), Checks: checks, Registry: reg, LogoMirrors: mirrors})
	if err != nil {
		return err
	}
	var handler http.Handler = h
	stopVault := func() {}
	if *vaultDir != "" {
		pub := *vaultURL
		if pub == "" {
			pub = listenURL(ln, tlsFiles.Enabled())
		}
		v, err = openVault(*vaultDir, *vaultWriters, *vaultStaff, pub, h, n, a, logger.With("component", "vault"))
		if err != nil {
			return err
		}
		vctx, vcancel := context.WithCancel(context.Background())
		vdone := runVault(vctx, v)
		stopVault = func() { vcancel(); <-vdone }
		defer func() { stopVault() }() // a no-op once the shutdown path has stopped it
		handler = vault.Mount(h, v)
		fmt.Fprintf(stdout, "registryd: record vault %s at /1.0/vault (DID %s)\n", *vaultDir, v.DID())
		if *fhirClients != "" {
			base := *fhirBase
			if base == "" {
				base = listenURL(ln, tlsFiles.Enabled()) + "/fhir"
			}
			f, err := openFHIR(v, *fhirClients, base)
			if err != nil {
				return err
			}
			defer f.Close()
			handler = vault.MountFHIR(handler, f)
			fmt.Fprintf(stdout, "registryd: FHIR R4 API at %s (SMART token %s/token, CDS Hooks /cds-services)\n", base, base)
		}
	} else if *fhirClients != "" || *fhirBase != "" || *vaultURL != "" {
		return usageError{errors.New("--fhir-clients, --fhir-base and --vault-url need --vault DIR")}
	}
	srv, err = httpserver.New(httpserver.Config{Listener: ln, Handler: handler, TLS: tlsFiles, Limits: limits, Logger: logger.With("component", "http")})
	if err != nil {
		return err
	}
	sctx, stopServing := context.WithCancel(context.Background())
	defer stopServing()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(sctx) }()
	fmt.Fprintf(stdout, "registryd: serving the registry API on %s (chain %s, height %d, home %s)\n",
		srv.URL(), n.ChainID(), n.Height(), *home)
	fmt.Fprintf(stdout, "registryd: HTTP %s%s\n", srv.Describe(), describeBudget(budget))

	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("HTTP API: %w", err)
	}
	logger.Info("shutting down")
	stopServing()
	<-errc
	stopVault() // flushes the trail while the node still commits
	stopVault = func() {}
	if err := n.Stop(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "registryd: stopped")
	return nil
}

// urlList parses a comma-separated list of http(s) base URLs given to flag.
func urlList(flag, list string) ([]string, error) {
	var out []string
	for _, u := range strings.Split(list, ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("%s: %.128q is not an http(s) URL of a registry", flag, u)
		}
		out = append(out, strings.TrimRight(u, "/"))
	}
	return out, nil
}

// listenURL is the base URL of listener ln: http, or https with TLS.
func listenURL(ln net.Listener, tls bool) string {
	if tls {
		return "https://" + ln.Addr().String()
	}
	return "http://" + ln.Addr().String()
}

// startCPUProfile profiles the process's CPU into path until the returned
// function is called (the benchmarks of docs/design/0022 profile each
// validator process this way).
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// defaultTrailBacklog is /readyz's default bound on unanchored trail
// entries: four full batches (the trail anchors up to 8,192 entries per
// batch, every second).
const defaultTrailBacklog = 4 * 8192

// vaultDescriptors is what a mounted vault may hold open: the trail's
// write-ahead file, a batch file being written, record files being read or
// written, the master key.
const vaultDescriptors = 32

// descriptorReserve lists what registryd keeps of its file descriptors
// besides HTTP connections.
func descriptorReserve(c node.Config, withVault bool) ([]httpserver.Reserve, error) {
	r := []httpserver.Reserve{httpserver.ProcessReserve}
	nr, err := node.Descriptors(c)
	if err != nil {
		return nil, err
	}
	r = append(r, nr...)
	r = append(r, httpserver.Reserve{What: fmt.Sprintf("registry state database (%d + %d)", machine.DefaultOpenFiles, machine.DescriptorsPerDB), N: machine.DefaultOpenFiles + machine.DescriptorsPerDB})
	if withVault {
		r = append(r, httpserver.Reserve{What: "record vault and trail files", N: vaultDescriptors})
	}
	return r, nil
}

// registerHTTPMetrics exports the HTTP server's connection counts: open,
// the cap, and connections refused or evicted at the cap.
func registerHTTPMetrics(reg *prometheus.Registry, srv func() *httpserver.Server) error {
	val := func(f func(*httpserver.Server) float64) func() float64 {
		return func() float64 {
			if s := srv(); s != nil {
				return f(s)
			}
			return 0
		}
	}
	opts := func(name, help string) prometheus.GaugeOpts {
		return prometheus.GaugeOpts{Namespace: "medid", Subsystem: "http", Name: name, Help: help}
	}
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(opts("open_connections", "Open HTTP connections."), val(func(s *httpserver.Server) float64 { return float64(s.Open()) })),
		prometheus.NewGaugeFunc(opts("max_connections", "The HTTP connection cap."), val(func(s *httpserver.Server) float64 { return float64(s.Limits().MaxConns) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts(opts("refused_connections_total", "Connections closed at accept: over the client address's share, or every connection busy.")), val(func(s *httpserver.Server) float64 { return float64(s.Refused()) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts(opts("evicted_connections_total", "Waiting connections closed to make room at the cap.")), val(func(s *httpserver.Server) float64 { return float64(s.Evicted()) })),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// describeBudget says where the descriptor plan came from.
func describeBudget(b httpserver.Budget) string {
	if b.Limit == 0 {
		return " (set by --max-conns)"
	}
	return fmt.Sprintf("; file descriptors: limit %d, %d reserved for the node, its databases and peers", b.Limit, b.Reserved())
}

func runTestnet(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("registryd testnet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("validators", 4, "number of validators")
	fs.IntVar(n, "n", 4, "shorthand for --validators")
	out := fs.String("out", "", "output folder for the node homes (required)")
	basePort := fs.String("base-port", "26600", "node i uses p2p port base+10i, HTTP port base+10i+1 and RPC port base+10i+2;\n"+
		"auto picks a base whose ports are free on loopback for the validators and one node more (base+10n, for a node\n"+
		"joining later), so two testnets on one machine do not collide. The base is written to OUT/base-port")
	chainID := fs.String("chain-id", "medid-testnet", "chain id")
	blockTime := fs.Duration("block-time", node.DefaultBlockTime, "pause after each commit")
	layout := fs.Int("state-layout", int(ledger.CurrentLayout), "the chain's state layout: 2 (each record once), or 1 (every version under didv/, as chains\n"+
		"started before layout 2; to rehearse 'medid network layout schedule')")
	protocol := fs.Uint64("protocol", ledger.CurrentProtocol, fmt.Sprintf("the protocol the chain starts at: %d, or an older one from %d (as chains started by earlier\n"+
		"releases; to rehearse 'medid network upgrade schedule --protocol %d')", ledger.CurrentProtocol, ledger.BaseProtocol, ledger.CurrentProtocol))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if *out == "" {
		return usageError{errors.New("testnet: --out DIR is required")}
	}
	if *protocol < ledger.BaseProtocol || *protocol > ledger.CurrentProtocol {
		return usageError{fmt.Errorf("testnet: --protocol %d: want %d to %d", *protocol, ledger.BaseProtocol, ledger.CurrentProtocol)}
	}
	if !ledger.StateLayout(*layout).Valid() {
		return usageError{fmt.Errorf("testnet: --state-layout %d: want 1 or 2", *layout)}
	}
	var base int
	if *basePort == "auto" {
		if *n < 1 {
			return usageError{fmt.Errorf("testnet: --validators %d: want at least 1", *n)}
		}
		b, err := node.FreeBasePort(*n + 1)
		if err != nil {
			return err
		}
		base = b
	} else {
		b, err := strconv.Atoi(*basePort)
		if err != nil {
			return usageError{fmt.Errorf("testnet: --base-port %.32q: want a port number or auto", *basePort)}
		}
		base = b
	}
	res, err := node.Testnet(node.TestnetConfig{Validators: *n, OutDir: *out, BasePort: base, ChainID: *chainID, BlockTime: *blockTime, StateLayout: ledger.StateLayout(*layout), Protocol: *protocol})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "base-port"), []byte(strconv.Itoa(base)+"\n"), 0o644); err != nil {
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
	fmt.Fprintf(stdout, "base port: %d (in %s)\n", base, filepath.Join(*out, "base-port"))
	return nil
}
