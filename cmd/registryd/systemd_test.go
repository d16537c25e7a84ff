package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit checks docs/systemd/registryd.service: the hardening
// the operations guide promises is in it, and, where systemd-analyze is
// installed, systemd accepts the unit (`systemd-analyze verify`, with
// ExecStart pointing at a registryd built from this tree, so the command
// line it names is one registryd takes).
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join("..", "..", "docs", "systemd", "registryd.service"))
	if err != nil {
		t.Fatal(err)
	}
	const exec0 = "ExecStart=/usr/local/bin/registryd "
	for _, want := range []string{
		"User=medid", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
		"ReadWritePaths=/var/lib/medid", "CapabilityBoundingSet=\n", "KillSignal=SIGTERM", exec0,
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(want))
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	bin := registryd(t)
	// The flags of ExecStart are ones registryd knows: --help lists them.
	line := string(unit)[strings.Index(string(unit), exec0)+len(exec0):]
	line = line[:strings.IndexByte(line, '\n')]
	help, _ := exec.Command(bin, "--help").CombinedOutput()
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "--") && !strings.Contains(string(help), "-"+strings.TrimLeft(f, "-")+" ") {
			t.Errorf("ExecStart flag %s is not one registryd --help lists", f)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "registryd.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/registryd", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
