package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestVaultMounted: with --vault DIR the registry's HTTP server also serves
// the record vault; its key and master key are created 0600, and the vault
// DID is stable across restarts.
func TestVaultMounted(t *testing.T) {
	home, vdir := t.TempDir(), filepath.Join(t.TempDir(), "vault")
	httpAddr := freeAddr(t)
	p := start(t, httpAddr, "--home", home, "--http", httpAddr, "--p2p", freeAddr(t), "--block-time", "20ms", "--vault", vdir)
	p.waitHealthy(20 * time.Second)
	vaultDID := func() string {
		resp, body := get(t, p.url+"/1.0/vault", "application/json")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /1.0/vault: %d %s", resp.StatusCode, body)
		}
		var info struct {
			DID string `json:"did"`
		}
		if err := json.Unmarshal(body, &info); err != nil || !strings.HasPrefix(info.DID, "did:key:z6Mk") {
			t.Fatalf("vault info %s: %v", body, err)
		}
		return info.DID
	}
	first := vaultDID()
	if !strings.Contains(p.out.String(), "record vault "+vdir) {
		t.Errorf("startup output does not mention the vault:\n%s", p.out.String())
	}
	for _, f := range []string{VaultKeyFile, "master.key"} {
		if st, err := os.Stat(filepath.Join(vdir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", f, err)
		}
	}
	// The registry API is still served next to it.
	if resp, _ := get(t, p.url+"/healthz", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d", resp.StatusCode)
	}
	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p = start(t, httpAddr, "--home", home, "--http", httpAddr, "--vault", vdir)
	p.waitHealthy(20 * time.Second)
	if got := vaultDID(); got != first {
		t.Errorf("vault DID after restart = %s, want %s", got, first)
	}
	_ = p.stop(syscall.SIGTERM)
}
