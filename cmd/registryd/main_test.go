package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/internal/logbuf"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	if limit := os.Getenv(rlimitEnv); limit != "" {
		execWithNoFile(limit) // the launcher of startLimited; never returns
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// registryd builds the real binary once per test run.
func registryd(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the registryd binary; skipped with -short")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "registryd-test")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "registryd")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a running registryd.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *logbuf.Buffer
	done chan error
	url  string
	hc   *http.Client // nil: http.DefaultClient
}

func start(t *testing.T, httpAddr string, args ...string) *proc {
	t.Helper()
	return launch(t, exec.Command(registryd(t), args...), httpAddr)
}

// launch starts cmd (a registryd serving HTTP on httpAddr), collecting its
// output; it is killed at the end of the test if still running.
func launch(t *testing.T, cmd *exec.Cmd, httpAddr string) *proc {
	t.Helper()
	out := &logbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, out: out, done: make(chan error, 1), url: "http://" + httpAddr}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitHealthy polls /readyz until 200: the node is usable.
func (p *proc) waitHealthy(timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.t.Fatalf("registryd exited early: %v\n%s", err, p.out)
		default:
		}
		resp, err := p.client().Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("registryd at %s not ready after %s\n%s", p.url, timeout, p.out)
}

// client is the HTTP client for p (trusting its test CA when it serves
// TLS).
func (p *proc) client() *http.Client {
	if p.hc != nil {
		return p.hc
	}
	return http.DefaultClient
}

// stop sends sig and waits for the exit.
func (p *proc) stop(sig os.Signal) error {
	p.t.Helper()
	_ = p.cmd.Process.Signal(sig)
	select {
	case err := <-p.done:
		return err
	case <-time.After(20 * time.Second):
		p.t.Fatalf("registryd did not exit after %v\n%s", sig, p.out)
		return nil
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	a, err := node.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func post(t *testing.T, base string, body []byte) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(base+"/1.0/transactions", "application/jose", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func get(t *testing.T, u, accept string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestEndToEnd(t *testing.T) {
	home := t.TempDir()
	httpAddr := freeAddr(t)
	p := start(t, httpAddr, "--home", home, "--http", httpAddr, "--p2p", freeAddr(t), "--block-time", "20ms")
	p.waitHealthy(20 * time.Second)
	if out := p.out.String(); !strings.Contains(out, "governance DID: did:key:z6Mk") || !strings.Contains(out, "http://"+httpAddr) {
		t.Errorf("first-run output lacks the governance DID or the HTTP address:\n%s", out)
	}
	for _, f := range []string{node.GovernanceKeyFile, "config/priv_validator_key.json"} {
		if st, err := os.Stat(filepath.Join(home, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, st.Mode().Perm())
		}
	}

	id := nodetest.NewIdentity(t, "e2e-alice")
	code, body := post(t, p.url, id.CreateTx(t))
	if code != http.StatusOK || body["code"] != float64(0) || body["height"].(float64) < 1 {
		t.Fatalf("POST did.create: %d %v", code, body)
	}
	base := p.url + "/1.0/identifiers/"
	for _, tc := range []struct {
		accept, wantType string
		full             bool
	}{
		{"", "application/did-resolution", true},
		{"application/did-resolution", "application/did-resolution", true},
		{`application/ld+json;profile="https://w3id.org/did-resolution"`, `application/ld+json;profile="https://w3id.org/did-resolution"`, true},
		{"application/did+json", "application/did+json", false},
		{"application/did+ld+json", "application/did+ld+json", false},
		{"text/html, application/did+json;q=0.5", "application/did+json", false},
	} {
		t.Run("accept "+tc.accept, func(t *testing.T) {
			resp, b := get(t, base+id.DID, tc.accept)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.wantType {
				t.Fatalf("status %d type %q, want 200 %q", resp.StatusCode, resp.Header.Get("Content-Type"), tc.wantType)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			docJSON := b
			if tc.full {
				docJSON = m["didDocument"]
				var md map[string]any
				_ = json.Unmarshal(m["didDocumentMetadata"], &md)
				if md["versionId"] != "1" || md["created"] == nil {
					t.Errorf("didDocumentMetadata = %v", md)
				}
				if _, ok := m["didResolutionMetadata"]; !ok {
					t.Errorf("no didResolutionMetadata")
				}
			}
			doc, err := did.ParseDocument(docJSON)
			if err != nil || doc.ID != id.DID {
				t.Errorf("document: %v (id %v)", err, doc)
			}
		})
	}
	const problemAccept = "application/did-resolution, application/problem+json"
	problems := []struct {
		name, path, accept string
		status             int
		errType            string
	}{
		// A client that lists application/problem+json gets RFC 9457
		// problems; one that does not gets a resolution result whose
		// didResolutionMetadata.error says the same (registry/api's
		// resolution_test covers that side).
		{"invalid DID", "not-a-did", problemAccept, 400, "INVALID_DID"},
		{"invalid did:medid", "did:medid:", problemAccept, 400, "INVALID_DID"},
		{"not found", "did:medid:3yQeRFsFSo4NMpqWqrJGkg", problemAccept, 404, "NOT_FOUND"},
		{"not acceptable", id.DID, "text/html", 406, "REPRESENTATION_NOT_SUPPORTED"},
		{"method not supported", "did:web:example.com", problemAccept, 501, "METHOD_NOT_SUPPORTED"},
	}
	for _, tc := range problems {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := get(t, base+tc.path, tc.accept)
			var pr map[string]any
			_ = json.Unmarshal(b, &pr)
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/problem+json" ||
				pr["type"] != "https://www.w3.org/ns/did#"+tc.errType || pr["status"] != float64(tc.status) || pr["title"] == "" {
				t.Errorf("got %d %s %v, want %d problem %s", resp.StatusCode, resp.Header.Get("Content-Type"), pr, tc.status, tc.errType)
			}
		})
	}
	// did:key resolves too.
	if resp, _ := get(t, base+"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", ""); resp.StatusCode != 200 {
		t.Errorf("did:key: status %d", resp.StatusCode)
	}
	// A wrong-key transaction is a 4xx problem naming the reason.
	mallory := nodetest.NewIdentity(t, "e2e-mallory")
	forged := nodetest.Sign(t, nodetest.Must(t)(tx.NewDIDDeactivate(id.DID, "1")), mallory.Key, id.KID())
	if code, pr := post(t, p.url, forged); code != 400 || pr["type"] != "https://medid.dev/problems/bad-signature" {
		t.Errorf("forged deactivate: %d %v, want 400 bad-signature", code, pr)
	}
	// Deactivate: 410 with metadata.
	if code, b := post(t, p.url, id.DeactivateTx(t, "1")); code != 200 {
		t.Fatalf("deactivate: %d %v", code, b)
	}
	resp, b := get(t, base+id.DID, "")
	var res struct {
		Meta map[string]any `json:"didDocumentMetadata"`
	}
	_ = json.Unmarshal(b, &res)
	if resp.StatusCode != http.StatusGone || res.Meta["deactivated"] != true {
		t.Errorf("deactivated DID: %d %s, want 410 with deactivated:true", resp.StatusCode, b)
	}
	if resp, b := get(t, base+id.DID+"?versionId=1", ""); resp.StatusCode != 200 || !strings.Contains(string(b), `"nextVersionId":"2"`) {
		t.Errorf("versionId=1: %d %s", resp.StatusCode, b)
	}
	if resp, b := get(t, p.url+"/metrics", ""); resp.StatusCode != 200 ||
		!strings.Contains(string(b), "medid_registry_committed_height") ||
		!strings.Contains(string(b), `medid_registry_api_requests_total{code="410",route="identifiers"}`) {
		t.Errorf("/metrics lacks height or request counts:\n%.2000s", b)
	}
	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.out)
	}
	if !strings.Contains(p.out.String(), "registryd: stopped") {
		t.Errorf("no clean stop message:\n%s", p.out)
	}
}

// TestCrashRecovery kills registryd with SIGKILL in the middle of a write
// load, restarts it on the same home and checks that every transaction it
// acknowledged as committed is still there and proven against the signed
// headers of the genesis validators, and that the node keeps committing.
func TestCrashRecovery(t *testing.T) {
	home := t.TempDir()
	httpAddr, p2pAddr := freeAddr(t), freeAddr(t)
	args := []string{"--home", home, "--http", httpAddr, "--p2p", p2pAddr, "--block-time", "20ms"}
	p := start(t, httpAddr, args...)
	p.waitHealthy(20 * time.Second)

	var mu sync.Mutex
	var acked []string
	var maxHeight float64
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			hc := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ctx.Err() == nil; i++ {
				id := nodetest.NewIdentity(t, fmt.Sprintf("crash-%d-%d", w, i))
				resp, err := hc.Post(p.url+"/1.0/transactions", "application/jose", bytes.NewReader(id.CreateTx(t)))
				if err != nil {
					return // the node died
				}
				var r map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&r)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					acked = append(acked, id.DID)
					maxHeight = max(maxHeight, r["height"].(float64))
					mu.Unlock()
				}
			}
		}(w)
	}
	// Kill mid-load once enough writes were acknowledged (or after 15 s
	// on a very busy machine).
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 100 {
			break
		}
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
	cancel()
	wg.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d transactions acknowledged before the kill\n%s", len(acked), p.out)
	}
	t.Logf("%d did.create acknowledged before SIGKILL, last at height %.0f", len(acked), maxHeight)

	p = start(t, httpAddr, args...)
	p.waitHealthy(30 * time.Second)
	genesis, err := os.ReadFile(filepath.Join(home, "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	chainID, vals, err := client.TrustFromGenesis(genesis)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := client.New(client.Config{URL: p.url})
	proving, _ := client.New(client.Config{URL: p.url, VerifyProofs: true, ChainID: chainID, TrustedValidators: vals})
	// The node keeps committing.
	if _, err := plain.Submit(context.Background(), nodetest.NewIdentity(t, "after-crash").CreateTx(t)); err != nil {
		t.Fatalf("submit after restart: %v", err)
	}
	var health struct {
		Node node.Status `json:"node"`
	}
	_, hb := get(t, p.url+"/readyz", "")
	_ = json.Unmarshal(hb, &health)
	if float64(health.Node.Height) < maxHeight || len(health.Node.AppHash) != 64 {
		t.Errorf("after restart: height %d app hash %q; want >= %.0f", health.Node.Height, health.Node.AppHash, maxHeight)
	}
	missing := 0
	for i, d := range acked {
		c := plain
		if i%10 == 0 {
			c = proving // the app state agrees with the signed headers
		}
		if _, err := c.Resolve(context.Background(), d); err != nil {
			missing++
			if missing < 5 {
				t.Errorf("acknowledged %s lost after SIGKILL: %v", d, err)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged transactions lost", missing, len(acked))
	}
	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Errorf("exit: %v", err)
	}
}

// TestTestnet runs the 4-validator network from `registryd testnet` as four
// processes: writes commit with one validator down, the validator catches
// up after a restart, and a wrongly signed transaction is refused by every
// node.
func TestTestnet(t *testing.T) {
	bin := registryd(t)
	out := t.TempDir()
	base, err := node.FreeBasePort(4)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := exec.Command(bin, "testnet", "--validators", "4", "--out", out, "--base-port", strconv.Itoa(base), "--block-time", "50ms").CombinedOutput()
	if err != nil {
		t.Fatalf("registryd testnet: %v\n%s", err, msg)
	}
	procs := make([]*proc, 4)
	startNode := func(i int) {
		httpAddr := "127.0.0.1:" + strconv.Itoa(base+10*i+1)
		procs[i] = start(t, httpAddr, "--home", filepath.Join(out, fmt.Sprintf("node%d", i)), "--ready-stall", "2s")
	}
	for i := range procs {
		startNode(i)
	}
	for _, p := range procs {
		p.waitHealthy(40 * time.Second)
	}
	ctx := context.Background()
	clients := make([]*client.Client, 4)
	for i, p := range procs {
		clients[i], _ = client.New(client.Config{URL: p.url})
	}
	waitResolvable := func(c *client.Client, d string, timeout time.Duration) error {
		deadline := time.Now().Add(timeout)
		for {
			_, err := c.Resolve(ctx, d)
			if err == nil || time.Now().After(deadline) {
				return err
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	a := nodetest.NewIdentity(t, "net-a")
	if _, err := clients[0].Submit(ctx, a.CreateTx(t)); err != nil {
		t.Fatalf("submit to node0: %v", err)
	}
	if err := waitResolvable(clients[3], a.DID, 10*time.Second); err != nil {
		t.Fatalf("node3 does not see node0's write: %v", err)
	}

	if err := procs[3].stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping node3: %v", err)
	}
	var down []string
	for i := 0; i < 3; i++ {
		id := nodetest.NewIdentity(t, fmt.Sprintf("net-down-%d", i))
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		_, err := clients[1+i%2].Submit(sctx, id.CreateTx(t))
		cancel()
		if err != nil {
			t.Fatalf("write with one validator down: %v", err)
		}
		down = append(down, id.DID)
	}
	startNode(3)
	procs[3].waitHealthy(40 * time.Second)
	for _, d := range down {
		if err := waitResolvable(clients[3], d, 20*time.Second); err != nil {
			t.Errorf("restarted node3 did not catch up with %s: %v", d, err)
		}
	}
	mallory := nodetest.NewIdentity(t, "net-mallory")
	forged := nodetest.Sign(t, nodetest.Must(t)(tx.NewDIDDeactivate(a.DID, "1")), mallory.Key, a.KID())
	for i, c := range clients {
		_, err := c.Submit(ctx, forged)
		var pe *client.ProblemError
		if !errors.As(err, &pe) || pe.Status != 400 || !strings.HasSuffix(pe.Type, "bad-signature") {
			t.Errorf("node%d accepted or misreported a wrongly signed tx: %v", i, err)
		}
	}
	for i, c := range clients {
		if r, err := c.Resolve(ctx, a.DID); err != nil || r.Metadata.Deactivated {
			t.Errorf("node%d: %s after the forged deactivate: %v, %v", i, a.DID, r, err)
		}
	}
	// A halted network: with two of four validators down there is no
	// quorum. The remaining nodes stay live (/healthz) but not ready: a
	// transaction waits without a block, and too few peers are connected.
	for _, i := range []int{2, 3} {
		if err := procs[i].stop(syscall.SIGTERM); err != nil {
			t.Fatalf("stopping node%d: %v", i, err)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	if _, err := clients[0].Submit(sctx, nodetest.NewIdentity(t, "net-halted").CreateTx(t)); err == nil {
		t.Error("a write committed with two of four validators down")
	}
	cancel()
	var ready Readiness
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, body := get(t, procs[0].url+"/readyz", "")
		ready = Readiness{}
		_ = json.Unmarshal(body, &ready)
		if resp.StatusCode == http.StatusServiceUnavailable && slices.Contains(ready.Failing, "consensus") && slices.Contains(ready.Failing, "peers") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz of a halted node: %d %s; want 503 naming consensus and peers", resp.StatusCode, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, c := range ready.Checks {
		if !c.OK {
			t.Logf("/readyz of node0 with two validators down: %s: %s", c.Name, c.Detail)
		}
	}
	if resp, _ := get(t, procs[0].url+"/healthz", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz of a halted but running node: %d, want 200", resp.StatusCode)
	}
	for _, p := range procs[:2] {
		if err := p.stop(syscall.SIGTERM); err != nil {
			t.Errorf("stop: %v", err)
		}
	}
}

// Readiness is the /readyz body (api.Readiness, decoded without importing
// the server package).
type Readiness struct {
	Status  string   `json:"status"`
	Failing []string `json:"failing"`
	Checks  []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	} `json:"checks"`
}

// TestTestnetBasePort: `--base-port auto` picks ports free on loopback for
// the validators and one joining node, lays the homes out from it and
// writes it to OUT/base-port, where a shell reads it back (the README's
// join walkthrough does); a base that is neither a number nor auto is a
// usage error that writes nothing.
func TestTestnetBasePort(t *testing.T) {
	for _, c := range []struct {
		name, base string
		validators string
		wantErr    string
	}{
		{"auto", "auto", "4", ""},
		{"number", "", "2", ""}, // a free number, filled in below
		{"not a port", "twenty", "4", "want a port number or auto"},
		{"auto without validators", "auto", "0", "want at least 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "net")
			base := c.base
			if base == "" {
				b, err := node.FreeBasePort(2)
				if err != nil {
					t.Fatal(err)
				}
				base = strconv.Itoa(b)
			}
			var stdout, stderr strings.Builder
			err := run(context.Background(), []string{"testnet", "--validators", c.validators, "--out", out, "--base-port", base}, &stdout, &stderr)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, c.wantErr)
				}
				if _, err := os.Stat(out); err == nil {
					t.Errorf("a refused testnet wrote %s", out)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			b, err := os.ReadFile(filepath.Join(out, "base-port"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil || (c.base != "auto" && strconv.Itoa(got) != base) || got < 1024 || got > 65535 {
				t.Fatalf("base-port file %q (flag %s)", b, base)
			}
			if !strings.Contains(stdout.String(), fmt.Sprintf("base port: %d", got)) {
				t.Errorf("the base is not printed:\n%s", stdout.String())
			}
			n, _ := strconv.Atoi(c.validators)
			for i := range n {
				s, err := node.LoadSettings(filepath.Join(out, fmt.Sprintf("node%d", i)))
				if err != nil {
					t.Fatal(err)
				}
				if want := "127.0.0.1:" + strconv.Itoa(got+10*i); s.P2PAddr != want {
					t.Errorf("node%d p2p %s, want %s", i, s.P2PAddr, want)
				}
				if want := "127.0.0.1:" + strconv.Itoa(got+10*i+1); s.HTTPAddr != want {
					t.Errorf("node%d http %s, want %s", i, s.HTTPAddr, want)
				}
			}
		})
	}
}

// TestMemoryLimit: registryd gives the Go runtime a soft memory limit and
// says so in its log; an AUTOMEMLIMIT it cannot read stops it before it
// writes anything, with an error that says what to set.
func TestMemoryLimit(t *testing.T) {
	bin := registryd(t)
	home := filepath.Join(t.TempDir(), "node")
	cmd := exec.Command(bin, "--home", home, "--http", freeAddr(t), "--p2p", freeAddr(t))
	cmd.Env = append(os.Environ(), "AUTOMEMLIMIT=half")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 || !strings.Contains(string(out), "AUTOMEMLIMIT must be off or a ratio") {
		t.Fatalf("registryd with AUTOMEMLIMIT=half: %v\n%s", err, out)
	}
	if _, err := os.Stat(home); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("registryd refused to start but wrote %s: %v", home, err)
	}

	if os.Getenv("GOMEMLIMIT") != "" || os.Getenv("AUTOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT or AUTOMEMLIMIT is set for this test run: the default is not used")
	}
	httpAddr := freeAddr(t)
	p := start(t, httpAddr, "--home", t.TempDir(), "--http", httpAddr, "--p2p", freeAddr(t), "--block-time", "20ms")
	p.waitHealthy(20 * time.Second)
	if !strings.Contains(p.out.String(), "memory limit for the Go runtime") {
		t.Fatalf("registryd's log does not give its memory limit:\n%s", p.out)
	}
}
