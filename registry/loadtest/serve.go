package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/types"

	"github.com/medid/medid/internal/httpserver"
	"github.com/medid/medid/registry/api"
	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/node"
)

// ErrReadOnly: the API served by [Serve] has no node behind it, so
// submitting, proofs and ledger queries are refused.
var ErrReadOnly = errors.New("loadtest: read-only registry (no node): submit and proofs are unavailable")

// readOnlyLedger is the api.Ledger of a state served without a node: the
// resolution path (GET /1.0/identifiers/{did} without ?proof) reads only
// the application state, which is what the resolution benchmark measures.
type readOnlyLedger struct{ a *machine.App }

func (l readOnlyLedger) Submit(context.Context, []byte) (*node.TxResult, error) {
	return nil, ErrReadOnly
}

func (l readOnlyLedger) Query(context.Context, string, []byte, int64, bool) (*abci.ResponseQuery, error) {
	return nil, ErrReadOnly
}

func (l readOnlyLedger) SignedHeader(context.Context, int64) (*types.SignedHeader, *types.ValidatorSet, error) {
	return nil, nil, ErrReadOnly
}

func (l readOnlyLedger) Status(context.Context) (node.Status, error) {
	h, hash := l.a.LastCommit()
	return node.Status{ChainID: "medid-loadtest", Height: h, AppHash: fmt.Sprintf("%X", hash)}, nil
}

func (l readOnlyLedger) Height() int64 { h, _ := l.a.LastCommit(); return h }

func (l readOnlyLedger) Header(int64) *types.Header { return nil }

// Server is a running HTTP server on a loopback port.
type Server struct {
	URL string // http://127.0.0.1:port
	srv *http.Server
	ln  net.Listener
	a   *machine.App
	// stop ends a server started by [Server.Hardened] (srv is nil then).
	stop func()
}

// Close stops the server and closes the state it serves (if any).
func (s *Server) Close() error {
	if s.stop != nil {
		s.stop()
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if s.a != nil {
		err = errors.Join(err, s.a.Close())
	}
	return err
}

// Hardened serves s's handler a second time, on another loopback port,
// through internal/httpserver as registryd serves it (timeouts on every
// phase, connection cap planned from the descriptor limit, per-address
// share and eviction bookkeeping, body limit): the issue 11 comparison of
// the same handler with and without the hardened server. Close it before
// s; it does not close s's state.
func (s *Server) Hardened() (*Server, error) {
	hs, err := httpserver.New(httpserver.Config{Addr: "127.0.0.1:0", Handler: s.srv.Handler, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ctx) }()
	return &Server{URL: hs.URL(), stop: func() { cancel(); <-done }}, nil
}

func serveHandler(h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &Server{URL: "http://" + ln.Addr().String(), srv: srv, ln: ln}, nil
}

// Serve opens the state in dir and serves the registry API (registry/api,
// the handler registryd serves) over it on 127.0.0.1, read-only (see
// [ErrReadOnly]). cacheNodes is the application's IAVL node cache
// (machine.Config.NodeCacheSize; 0 = the application default, what registryd
// runs with).
func Serve(dir string, cacheNodes int) (*Server, error) {
	a, err := machine.New(machine.Config{Dir: dir, NodeCacheSize: cacheNodes})
	if err != nil {
		return nil, err
	}
	h, err := api.New(api.Config{State: a, Ledger: readOnlyLedger{a}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		a.Close()
		return nil, err
	}
	s, err := serveHandler(h)
	if err != nil {
		a.Close()
		return nil, err
	}
	s.a = a
	return s, nil
}

// ServeStatic serves body with content type ct for every request: the
// baseline, a bare net/http handler.
func ServeStatic(ct string, body []byte) (*Server, error) {
	return serveHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(body)
	}))
}

// Fetch GETs u and returns the content type and body; a status other than
// 200 is an error.
func Fetch(u string) (string, []byte, error) {
	resp, err := http.Get(u)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return "", nil, fmt.Errorf("GET %s: status %d: %.200s", u, resp.StatusCode, body)
	}
	return resp.Header.Get("Content-Type"), body, nil
}

// LoadResult is one HTTP load run.
type LoadResult struct {
	Requests int64
	Duration time.Duration
	RPS      float64
	P50, P99 time.Duration
	Errors   int64 // socket errors and non-2xx answers
	Raw      string
}

// WrkConfig configures [Wrk].
type WrkConfig struct {
	Binary      string        // "" = /usr/bin/wrk
	URL         string        // base URL (http://127.0.0.1:port)
	DIDListFile string        // one DID per line: each request GETs /1.0/identifiers/<random DID>
	Threads     int           // 0 = 2
	Connections int           // 0 = 32
	Duration    time.Duration // 0 = 8 s
	CPUs        string        // "" = any; else wrk runs under taskset -c CPUs
}

// wrkScript picks a random DID from the list for every request. Each wrk
// thread loads the list into its own Lua state.
const wrkScript = `
local dids = {}
for line in io.lines(%q) do dids[#dids + 1] = line end
local seed = 0
setup = function(thread) seed = seed + 1; thread:set("seed", seed) end
init = function(args) math.randomseed(os.time() * 1000 + (seed or 0)) end
request = function()
  return wrk.format("GET", "/1.0/identifiers/" .. dids[math.random(#dids)])
end
`

var (
	reReq   = regexp.MustCompile(`(\d+) requests in ([\d.]+)(\w+),`)
	reRPS   = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	reLat   = regexp.MustCompile(`\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\b`)
	reErr   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reSock  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	unitDur = map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute}
)

// Wrk runs wrk against c.URL with random DIDs from c.DIDListFile and parses
// its report (requests/s, p50, p99 from --latency, errors).
func Wrk(ctx context.Context, c WrkConfig) (*LoadResult, error) {
	if c.Binary == "" {
		c.Binary = "/usr/bin/wrk"
	}
	if c.Threads <= 0 {
		c.Threads = 2
	}
	if c.Connections <= 0 {
		c.Connections = 32
	}
	if c.Duration <= 0 {
		c.Duration = 8 * time.Second
	}
	f, err := os.CreateTemp("", "medid-wrk-*.lua")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := fmt.Fprintf(f, wrkScript, c.DIDListFile); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	secs := max(1, int(c.Duration.Round(time.Second)/time.Second))
	ctx, cancel := context.WithTimeout(ctx, c.Duration+30*time.Second)
	defer cancel()
	cmd := Pinned(exec.CommandContext(ctx, c.Binary, "-t", strconv.Itoa(c.Threads), "-c", strconv.Itoa(c.Connections),
		"-d", fmt.Sprintf("%ds", secs), "--latency", "-s", f.Name(), c.URL), c.CPUs)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("wrk: %w: %s", err, out)
	}
	return parseWrk(string(out))
}

func parseWrk(out string) (*LoadResult, error) {
	r := &LoadResult{Raw: out}
	m := reReq.FindStringSubmatch(out)
	rps := reRPS.FindStringSubmatch(out)
	if m == nil || rps == nil {
		return nil, fmt.Errorf("wrk output not understood:\n%s", out)
	}
	r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	d, _ := strconv.ParseFloat(m[2], 64)
	r.Duration = time.Duration(d * float64(unitDur[m[3]]))
	r.RPS, _ = strconv.ParseFloat(rps[1], 64)
	for _, l := range reLat.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(l[2], 64)
		dur := time.Duration(v * float64(unitDur[l[3]]))
		if l[1] == "50" {
			r.P50 = dur
		} else {
			r.P99 = dur
		}
	}
	if e := reErr.FindStringSubmatch(out); e != nil {
		n, _ := strconv.ParseInt(e[1], 10, 64)
		r.Errors += n
	}
	if e := reSock.FindStringSubmatch(out); e != nil {
		for _, s := range e[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.Errors += n
		}
	}
	return r, nil
}

// ReadDIDList reads a DID list file (one per line).
func ReadDIDList(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// GoLoad is the Go-client variant of [Wrk]: conns goroutines GET random
// DIDs from dids over keep-alive connections for d, recording each
// request's latency.
func GoLoad(ctx context.Context, base string, dids []string, conns int, d time.Duration) (*LoadResult, error) {
	hc := keepAliveClient(conns)
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var errs int64
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			var mine []time.Duration
			var bad int64
			for ctx.Err() == nil {
				t0 := time.Now()
				resp, err := hc.Get(base + "/1.0/identifiers/" + dids[r.IntN(len(dids))])
				if err != nil {
					if ctx.Err() == nil {
						bad++
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if len(lat) == 0 {
		return nil, fmt.Errorf("no successful request (%d errors)", errs)
	}
	return loadResult(lat, el, errs), nil
}

// keepAliveClient is the HTTP client of a load over conns keep-alive
// connections.
func keepAliveClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}, Timeout: 10 * time.Second}
}

// loadResult summarises the latencies of a load's successful requests
// (sorted in place; at least one) over el with errs failures.
func loadResult(lat []time.Duration, el time.Duration, errs int64) *LoadResult {
	slices.Sort(lat)
	return &LoadResult{
		Requests: int64(len(lat)), Duration: el, RPS: float64(len(lat)) / el.Seconds(),
		P50: lat[len(lat)/2], P99: lat[min(len(lat)-1, len(lat)*99/100)], Errors: errs,
	}
}

// writeFile writes data to a new file at path (mode 0600).
func writeFile(path string, data []byte) error {
	return os.WriteFile(path, data, 0o600)
}

// Warm GETs every DID of dids once, from conns goroutines, so that a
// measurement that follows sees a server that has been up for a while (its
// caches hold what a uniform random load reads) rather than one just
// started. It returns the first error.
func Warm(ctx context.Context, base string, dids []string, conns int) error {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	next := make(chan string)
	errc := make(chan error, conns)
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range next {
				resp, err := hc.Get(base + "/1.0/identifiers/" + d)
				if err != nil {
					errc <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errc <- fmt.Errorf("warm-up GET %s: status %d", d, resp.StatusCode)
					return
				}
			}
		}()
	}
	var err error
feed:
	for _, d := range dids {
		select {
		case next <- d:
		case err = <-errc:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return err
}

// ServerLatency is the registry's own account of how long its handler took
// for one route, from the request-duration histogram of its /metrics.
type ServerLatency struct {
	Count     float64 // requests
	Within5ms float64 // requests whose handler finished within 5 ms
}

// ReadServerLatency reads route's counts from the /metrics of the registry
// at base. The difference of two readings describes the requests between
// them, so a load generator's tail can be told apart from the server's.
func ReadServerLatency(base, route string) (ServerLatency, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return ServerLatency{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return ServerLatency{}, err
	}
	const metric = "medid_registry_api_request_duration_seconds"
	lbl := `route="` + route + `"`
	var out ServerLatency
	var found bool
	for _, l := range strings.Split(string(body), "\n") {
		name, rest, ok := strings.Cut(l, "{")
		if !ok || !strings.Contains(rest, lbl) {
			continue
		}
		_, val, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch {
		case name == metric+"_count":
			out.Count, found = v, true
		case name == metric+"_bucket" && strings.Contains(rest, `le="0.005"`):
			out.Within5ms = v
		}
	}
	if !found {
		return out, fmt.Errorf("%s has no %s for route %s", base+"/metrics", metric, route)
	}
	return out, nil
}
