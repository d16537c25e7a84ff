package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/node"
)

// TestNetworkScripts runs testdata/network/*.txtar: a testnet of real
// registryd processes (on PATH) that scripts start, govern with medid
// network, join and stop. Each script gets $NETBASE (a base port whose
// node.Testnet ports are free: node i serves HTTP on NETBASE+10i+1, as
// $HTTP0…$HTTP3), $P2P4, $HTTP4 and $RPC4 (free addresses for a joining
// node), and the commands "eq A B" (the same string), "waitup URL"
// (polls URL/readyz until 200) and "waitvalidators URL N" (until the
// latest block is signed by a set of N), and $WORK/logo.png, a small PNG.
func TestNetworkScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs registryd; skipped with -short")
	}
	bin := buildRegistryd(t)
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "network"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
			base, err := node.FreeBasePort(5)
			if err != nil {
				return err
			}
			env.Setenv("NETBASE", strconv.Itoa(base))
			for i := range 4 {
				env.Setenv(fmt.Sprintf("HTTP%d", i), strconv.Itoa(base+10*i+1))
			}
			// The joining node takes the fifth node's slot of the scheme.
			env.Setenv("P2P4", net.JoinHostPort("127.0.0.1", strconv.Itoa(base+40)))
			env.Setenv("HTTP4", strconv.Itoa(base+41))
			env.Setenv("RPC4", net.JoinHostPort("127.0.0.1", strconv.Itoa(base+42)))
			return writeLogo(filepath.Join(env.WorkDir, "logo.png"))
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"capture":        captureCmd,
			"eq":             eqCmd,
			"waitup":         waitUpCmd,
			"waitvalidators": waitValidatorsCmd,
		},
	})
}

// eqCmd is "eq A B": it fails unless A and B are the same string (where a
// regexp match would misread base64's '+' and '/').
func eqCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: eq A B")
	}
	if (args[0] == args[1]) == neg {
		ts.Fatalf("eq %q %q: want them %s", args[0], args[1], map[bool]string{false: "equal", true: "different"}[neg])
	}
}

// waitUpCmd is "waitup URL": it polls URL/readyz until it answers 200.
func waitUpCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitup URL")
	}
	var last string
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(args[0] + "/readyz")
		if err != nil {
			last = err.Error()
			continue
		}
		var r struct {
			Failing []string `json:"failing"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
		last = fmt.Sprintf("%s %v", resp.Status, r.Failing)
	}
	ts.Fatalf("%s/readyz not 200 after 90s: %s", args[0], last)
}

// waitValidatorsCmd is "waitvalidators URL N".
func waitValidatorsCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitvalidators URL N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	c, err := client.New(client.Config{URL: args[0]})
	ts.Check(err)
	got := -1
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		lb, err := c.LightBlock(context.Background(), 0)
		if err == nil {
			if got = lb.Validators.Size(); got == want {
				return
			}
		}
	}
	ts.Fatalf("the latest block of %s is signed by a set of %d, want %d", args[0], got, want)
}
