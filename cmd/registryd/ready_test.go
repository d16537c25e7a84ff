package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medid/medid/registry/machine/machinetest"
	"github.com/medid/medid/registry/node/nodetest"
)

// TestReadinessCorruptState is issue 11's attack 8: the registry's state
// table goes bad under a running node. Reads and writes that meet it fail;
// /healthz still answers (the process serves) but /readyz answers 503
// naming the state check with the corruption, instead of "ok".
func TestReadinessCorruptState(t *testing.T) {
	home := t.TempDir()
	httpAddr := freeAddr(t)
	args := []string{"--home", home, "--http", httpAddr, "--p2p", freeAddr(t), "--block-time", "20ms"}
	p := start(t, httpAddr, args...)
	p.waitHealthy(30 * time.Second)
	var mu sync.Mutex
	var dids []string
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				id := nodetest.NewIdentity(t, fmt.Sprintf("corrupt-%d-%d", w, i))
				resp, err := http.Post(p.url+"/1.0/transactions", "application/jose", bytes.NewReader(id.CreateTx(t)))
				if err != nil {
					return
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					dids = append(dids, id.DID)
					mu.Unlock()
				}
			}
		}(w)
	}
	wg.Wait()
	if len(dids) < 100 {
		t.Fatalf("only %d DIDs registered", len(dids))
	}
	// Restart: LevelDB writes its journal into a table file on open.
	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p = start(t, httpAddr, args...)
	p.waitHealthy(30 * time.Second)
	if n := machinetest.CorruptTables(t, filepath.Join(home, "data", "registry")); n == 0 {
		t.Fatal("no table file to corrupt")
	}
	failedReads := 0
	for _, d := range dids {
		if resp, _ := get(t, p.url+"/1.0/identifiers/"+d, ""); resp.StatusCode != http.StatusOK {
			failedReads++
		}
	}
	code, _ := post(t, p.url, nodetest.NewIdentity(t, "after-corruption").CreateTx(t))
	t.Logf("after the corruption: %d of %d reads failed; a new registration answered %d", failedReads, len(dids), code)
	if failedReads == 0 {
		t.Fatal("no read met the corrupt table")
	}
	if resp, _ := get(t, p.url+"/healthz", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d: the process still serves", resp.StatusCode)
	}
	resp, body := get(t, p.url+"/readyz", "")
	var ready Readiness
	if err := json.Unmarshal(body, &ready); err != nil {
		t.Fatalf("/readyz body %s: %v", body, err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || ready.Status != "not-ready" || !slices.Contains(ready.Failing, "state") {
		t.Fatalf("/readyz = %d %s, want 503 naming the state check", resp.StatusCode, body)
	}
	for _, c := range ready.Checks {
		if c.Name == "state" && !strings.Contains(c.Detail, "corrupt") {
			t.Errorf("state check detail %q does not name the corruption", c.Detail)
		}
		if !c.OK {
			t.Logf("/readyz: %s: %s", c.Name, c.Detail)
		}
	}
}
