package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/medid/medid/registry/node/nodetest"
)

// rlimitEnv makes the test binary a launcher: TestMain sets RLIMIT_NOFILE
// (soft and hard) to its value and execs its arguments, so registryd runs
// with a descriptor limit the test chooses, as under a tight systemd unit.
const rlimitEnv = "MEDID_TEST_RLIMIT_NOFILE"

// execWithNoFile is called by TestMain when rlimitEnv is set: it never
// returns.
func execWithNoFile(limit string) {
	n, err := strconv.ParseUint(limit, 10, 64)
	if err != nil || len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, "%s=%q: want a number and a program to run\n", rlimitEnv, limit)
		os.Exit(2)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
		fmt.Fprintf(os.Stderr, "setrlimit: %v\n", err)
		os.Exit(2)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, rlimitEnv+"=") {
			env = append(env, kv)
		}
	}
	err = syscall.Exec(os.Args[1], os.Args[1:], env)
	fmt.Fprintf(os.Stderr, "exec %s: %v\n", os.Args[1], err)
	os.Exit(2)
}

// startLimited starts registryd with RLIMIT_NOFILE set to limit.
func startLimited(t *testing.T, limit int, httpAddr string, args ...string) *proc {
	t.Helper()
	bin := registryd(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, append([]string{bin}, args...)...)
	cmd.Env = append(os.Environ(), rlimitEnv+"="+strconv.Itoa(limit))
	return launch(t, cmd, httpAddr)
}

// openFDs counts the open descriptors of process pid.
func openFDs(pid int) int {
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		return -1
	}
	return len(ents)
}

// TestTooFewDescriptors: with a descriptor limit that cannot hold the
// node's databases, WAL and peers plus a minimum of HTTP connections,
// registryd refuses to start, saying what it needs and how to raise it.
func TestTooFewDescriptors(t *testing.T) {
	httpAddr := freeAddr(t)
	p := startLimited(t, 256, httpAddr, "--home", t.TempDir(), "--http", httpAddr, "--p2p", freeAddr(t))
	select {
	case err := <-p.done:
		if err == nil {
			t.Fatalf("registryd started with 256 descriptors\n%s", p.out)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("registryd still running with 256 descriptors\n%s", p.out)
	}
	for _, want := range []string{"file-descriptor limit (RLIMIT_NOFILE) is 256, too small", "CometBFT databases", "ulimit -n", "LimitNOFILE="} {
		if !strings.Contains(p.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, p.out)
		}
	}
}

// attack is one run of the connection attacks against a registryd.
type attack struct {
	target        string        // host:port
	idle          int           // silent TCP connections held open (re-opened when closed)
	slowHeaders   int           // clients sending their headers one byte at a time
	slowBodies    int           // clients sending a transaction body one byte at a time
	sources       int           // attacker source addresses 127.0.1.1..
	duration      time.Duration // how long the attack lasts
	opened, reset atomic.Int64  // attacker connections opened; closed by the server
}

// run attacks until ctx ends or the duration is over; it returns once every
// attacker has stopped.
func (a *attack) run(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, a.duration)
	defer cancel()
	var wg sync.WaitGroup
	source := func(i int) *net.Dialer {
		return &net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(fmt.Sprintf("127.0.1.%d", 1+i%a.sources))}}
	}
	// One goroutine per attacker keeps its connection open, re-opening it
	// as soon as the server closes it.
	hold := func(i int, speak func(c net.Conn) error) {
		defer wg.Done()
		d := source(i)
		for ctx.Err() == nil {
			c, err := d.DialContext(ctx, "tcp", a.target)
			if err != nil {
				select {
				case <-ctx.Done():
				case <-time.After(50 * time.Millisecond):
				}
				continue
			}
			a.opened.Add(1)
			stop := context.AfterFunc(ctx, func() { c.Close() })
			if speak(c) != nil && ctx.Err() == nil {
				a.reset.Add(1)
			}
			stop()
			c.Close()
			// Re-open at once in spirit; the short pause only keeps this
			// process's own dialling from starving the machine's cores.
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	silent := func(c net.Conn) error {
		_, err := c.Read(make([]byte, 1)) // returns when the server closes it
		return err
	}
	trickle := func(prefix string, n int) func(c net.Conn) error {
		return func(c net.Conn) error {
			if _, err := io.WriteString(c, prefix); err != nil {
				return err
			}
			for i := 0; i < n; i++ {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(500 * time.Millisecond):
				}
				if _, err := c.Write([]byte("a")); err != nil {
					return err
				}
			}
			return nil
		}
	}
	for i := 0; i < a.idle; i++ {
		wg.Add(1)
		go hold(i, silent)
	}
	for i := 0; i < a.slowHeaders; i++ {
		wg.Add(1)
		go hold(i, trickle("GET /1.0/identifiers/did:key:z6Mk HTTP/1.1\r\nHost: x\r\nX-Slow: ", 1<<20))
	}
	for i := 0; i < a.slowBodies; i++ {
		wg.Add(1)
		go hold(i, trickle("POST /1.0/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/jose\r\nContent-Length: 60000\r\n\r\n", 60000))
	}
	wg.Wait()
}

// TestConnectionFlood is issue 11's attack 4 against the real binary: with
// registryd limited to 1,024 file descriptors, thousands of silent TCP
// connections and slow-header and slow-body clients from many addresses
// hold the HTTP server for the whole run, while a client on another
// address keeps registering DIDs and resolving them. Every registration
// must commit, every read must be served, the process must stay below its
// descriptor limit with nothing failing to open, and /readyz must be 200
// afterwards. Under `make soak` (MEDID_SOAK_DURATION) the attack is longer
// and three times larger.
func TestConnectionFlood(t *testing.T) {
	const limit = 1024
	duration, scale := soakDuration(8*time.Second), 1
	if duration > 8*time.Second {
		scale = 3
	}
	var own syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &own); err != nil {
		t.Fatal(err)
	}
	idle := 3000 * scale
	if room := int(own.Cur) - 500; idle+400*scale > room {
		idle = room - 400*scale
		if idle < 1500 {
			t.Skipf("this test process may open only %d files; the attack needs about 3,500", own.Cur)
		}
	}
	httpAddr := freeAddr(t)
	p := startLimited(t, limit, httpAddr, "--home", t.TempDir(), "--http", httpAddr, "--p2p", freeAddr(t), "--block-time", "20ms")
	p.waitHealthy(30 * time.Second)
	pid := p.cmd.Process.Pid
	t.Logf("registryd: %s", firstLine(p.out.String(), "registryd: HTTP"))

	a := &attack{target: httpAddr, idle: idle, slowHeaders: 200 * scale, slowBodies: 200 * scale, sources: 32, duration: duration}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	attackDone := make(chan struct{})
	go func() { a.run(ctx); close(attackDone) }()
	time.Sleep(time.Second) // let the attack fill the server

	// The real client: another address, a fresh connection per request
	// (as a CLI invocation or a wallet on another machine); one writer and
	// one reader, while the descriptors of registryd are watched.
	hc := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var (
		mu                                   sync.Mutex // guards the counters below
		writes, writeFails, reads, readFails int
		lastHeight                           float64
		latest                               string
		worstWrite, worstRead                time.Duration
		firstErr                             error
	)
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // writer
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-attackDone:
				return
			case <-time.After(100 * time.Millisecond):
			}
			id := nodetest.NewIdentity(t, fmt.Sprintf("flood-%d-%d", time.Now().UnixNano(), i))
			start := time.Now()
			resp, err := hc.Post(p.url+"/1.0/transactions", "application/jose", bytes.NewReader(id.CreateTx(t)))
			var r struct {
				Height float64 `json:"height"`
			}
			if err == nil {
				_ = json.NewDecoder(resp.Body).Decode(&r)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			d := time.Since(start)
			mu.Lock()
			writes++
			worstWrite = max(worstWrite, d)
			if err != nil || r.Height < lastHeight {
				writeFails++
				fail(fmt.Errorf("write: %v (height %v after %v)", err, r.Height, lastHeight))
			} else {
				lastHeight, latest = r.Height, id.DID
			}
			mu.Unlock()
		}
	}()
	go func() { // reader
		defer wg.Done()
		for {
			select {
			case <-attackDone:
				return
			case <-time.After(50 * time.Millisecond):
			}
			mu.Lock()
			d := latest
			mu.Unlock()
			if d == "" {
				continue
			}
			start := time.Now()
			resp, err := hc.Get(p.url + "/1.0/identifiers/" + d)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			took := time.Since(start)
			mu.Lock()
			reads++
			worstRead = max(worstRead, took)
			if err != nil {
				readFails++
				fail(fmt.Errorf("read: %v", err))
			}
			mu.Unlock()
		}
	}()
	maxFDs := 0
	for done := false; !done; {
		select {
		case <-attackDone:
			done = true
		case <-time.After(100 * time.Millisecond):
			maxFDs = max(maxFDs, openFDs(pid))
		}
	}
	wg.Wait()
	select {
	case err := <-p.done:
		t.Fatalf("registryd died during the attack: %v\n%s", err, tail(p.out.String(), 3000))
	default:
	}
	t.Logf("held: flood of %d attacker connections opened (%d closed by the server) over %v; registryd held at most %d of %d descriptors",
		a.opened.Load(), a.reset.Load(), duration, maxFDs, limit)
	t.Logf("held: real client %d/%d registrations committed (last height %.0f, slowest %v), %d/%d reads served (slowest %v)",
		writes-writeFails, writes, lastHeight, worstWrite.Round(time.Millisecond), reads-readFails, reads, worstRead.Round(time.Millisecond))
	if writeFails > 0 || readFails > 0 {
		t.Errorf("the real client failed during the attack (%d writes, %d reads): first: %v", writeFails, readFails, firstErr)
	}
	if writes < 3 || reads < 3 {
		t.Errorf("too few requests to judge: %d writes, %d reads", writes, reads)
	}
	if maxFDs >= limit-16 {
		t.Errorf("registryd reached %d of %d descriptors", maxFDs, limit)
	}
	for _, bad := range []string{"too many open files", "CONSENSUS FAILURE", "panic"} {
		if strings.Contains(strings.ToLower(p.out.String()), strings.ToLower(bad)) {
			t.Errorf("registryd logged %q:\n%s", bad, tail(p.out.String(), 3000))
		}
	}
	resp, body := get(t, p.url+"/readyz", "")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz after the attack: %d %s", resp.StatusCode, body)
	}
	_, metrics := get(t, p.url+"/metrics", "")
	for _, m := range []string{"medid_http_refused_connections_total", "medid_http_evicted_connections_total", "medid_http_max_connections"} {
		if v := metricValue(string(metrics), m); v == "" {
			t.Errorf("/metrics lacks %s", m)
		} else {
			t.Logf("%s %s", m, v)
		}
	}
	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, tail(p.out.String(), 2000))
	}
}

func firstLine(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func metricValue(text, name string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, name+" ") {
			return strings.TrimPrefix(l, name+" ")
		}
	}
	return ""
}
