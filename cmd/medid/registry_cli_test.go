package main

import (
	"os"
	"path/filepath"
	"testing"

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
	t.Parallel() // independent of the other top-level tests: its own registry (if any) and work dirs
	stack := startRegistry(t)
	gov := governanceKey(t, stack)
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
			"capture": captureCmd,
		},
	})
}
