package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestRegistryScripts runs testdata/registry/*.txtar against a complete
// registry started in-process (CometBFT node, registry app, HTTP API on a
// loopback port). Each script gets:
//
//	$MEDID_REGISTRY         the registry's URL (the medid default)
//	$WORK/governance.jwk    the network's governance key (mode 0600)
//	$WORK/genesis.json      the network's genesis, for --proof
//
// and the command "capture VAR REGEXP", which sets VAR to the first
// submatch of REGEXP in the previous command's stdout, so a script can use a
// DID that a command printed.
func TestRegistryScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry node; skipped with -short")
	}
	stack := nodetest.Start(t, nodetest.Options{})
	gov, err := os.ReadFile(filepath.Join(stack.Home, node.GovernanceKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "registry"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("MEDID_REGISTRY", stack.URL)
			env.Setenv("GOVERNANCE_DID", stack.GovernanceDID)
			if err := os.WriteFile(filepath.Join(env.WorkDir, "governance.jwk"), gov, 0o600); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(env.WorkDir, "genesis.json"), stack.Genesis, 0o644)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"capture": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: capture VAR REGEXP")
				}
				re, err := regexp.Compile("(?m)" + args[1])
				ts.Check(err)
				m := re.FindStringSubmatch(ts.ReadFile("stdout"))
				if len(m) < 2 {
					ts.Fatalf("capture: no match for %q in stdout", args[1])
				}
				ts.Setenv(args[0], m[1])
			},
		},
	})
}
