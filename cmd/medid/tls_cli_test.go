package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medid/medid/internal/tlsfiles"
	"github.com/medid/medid/registry/node"
)

var (
	registrydOnce sync.Once
	registrydDir  string
	registrydErr  error
)

// buildRegistryd builds the real registryd binary once per test run and
// returns the folder holding it (TestMain removes it at the end).
func buildRegistryd(t *testing.T) string {
	t.Helper()
	registrydOnce.Do(func() {
		registrydDir, registrydErr = os.MkdirTemp("", "medid-registryd")
		if registrydErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(registrydDir, "registryd"), "../registryd").CombinedOutput()
		if err != nil {
			registrydErr = fmt.Errorf("go build registryd: %v\n%s", err, out)
		}
	})
	if registrydErr != nil {
		t.Fatal(registrydErr)
	}
	return registrydDir
}

// TestTLSScripts runs testdata/tls/*.txtar: the real medid against the real
// registryd binary (on PATH) over TLS with a throwaway CA made by "medid
// tls dev-cert". Each script gets $HTTPADDR and $P2PADDR (free loopback
// addresses for registryd), the command "waitready URL CAFILE [CERT KEY]",
// which polls URL/readyz over TLS until it answers 200, and
// "waitready_file FILE", which waits for a service's --url-file.
func TestTLSScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs registryd; skipped with -short")
	}
	bin := buildRegistryd(t)
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "tls"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
			for _, v := range []string{"HTTPADDR", "P2PADDR"} {
				a, err := node.FreeAddr()
				if err != nil {
					return err
				}
				env.Setenv(v, a)
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"capture":        captureCmd,
			"waitready":      waitReadyCmd,
			"waitready_file": waitFileCmd,
		},
	})
}

// waitFileCmd is "waitready_file FILE": it waits until a service started
// in the background has written FILE (its --url-file).
func waitFileCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitready_file FILE")
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(ts.MkAbs(args[0])); err == nil && len(b) > 0 {
			return
		}
	}
	ts.Fatalf("%s not written after 60s", args[0])
}

// waitReadyCmd is "waitready URL CAFILE [CERT KEY]".
func waitReadyCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || (len(args) != 2 && len(args) != 4) {
		ts.Fatalf("usage: waitready URL CAFILE [CERT KEY]")
	}
	c := tlsfiles.Client{CA: ts.MkAbs(args[1])}
	if len(args) == 4 {
		c.Cert, c.Key = ts.MkAbs(args[2]), ts.MkAbs(args[3])
	}
	cfg, err := c.Config()
	ts.Check(err)
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var last string
	for ctx.Err() == nil {
		resp, err := hc.Get(args[0] + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	ts.Fatalf("%s/readyz not ready after 60s: %s", args[0], last)
}
