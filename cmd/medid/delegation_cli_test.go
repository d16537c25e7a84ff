package main

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medid/medid/registry/hospital/vault/vaulttest"
)

// TestDelegationScripts runs testdata/delegation/*.txtar (acting for
// someone else, issue 17) against a registry and a vault of their own, whose
// clock the scripts move: besides what TestVaultScripts gives ($VAULT,
// $MEDID_REGISTRY, $WORK/hospital.jwk, "capture", "flush"), each gets
// $WORK/governance.jwk (to accredit a birth registry) and the command
// "clock DURATION", which moves the vault's clock, and the medid commands'
// ($MEDID_TEST_CLOCK), that far ahead of the wall clock. Scripts here share
// that clock: each must leave it where it found it or be the only one to
// move it.
func TestDelegationScripts(t *testing.T) {
	stack := startRegistry(t)
	clk := &scriptClock{}
	vs := vaulttest.Start(t, vaulttest.Options{Registry: stack, Now: clk.now, BatchInterval: 50 * time.Millisecond})
	hjwk, err := vs.Key.MarshalPrivateJWK()
	if err != nil {
		t.Fatal(err)
	}
	gov := governanceKey(t, stack)
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "delegation"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("MEDID_REGISTRY", vs.URL)
			env.Setenv("VAULT", vs.URL)
			env.Setenv("MEDID_TEST_FAST_KDF", "1")
			if err := os.WriteFile(filepath.Join(env.WorkDir, "governance.jwk"), gov, 0o600); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(env.WorkDir, "hospital.jwk"), hjwk, 0o600)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"capture": captureCmd,
			"flush":   flushCmd(vs.Vault),
			"clock": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: clock DURATION (how far ahead of the wall clock, e.g. 745h)")
				}
				d, err := time.ParseDuration(args[0])
				ts.Check(err)
				clk.set(d)
				ts.Setenv("MEDID_TEST_CLOCK", args[0])
			},
		},
	})
}

// scriptClock is the wall clock moved ahead by a settable offset.
type scriptClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *scriptClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *scriptClock) set(d time.Duration) {
	c.mu.Lock()
	c.off = d
	c.mu.Unlock()
}
