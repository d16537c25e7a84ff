package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestOpenIDRegistryScripts runs testdata/openid_registry/*.txtar, the
// OpenID4VCI/OpenID4VP flows against a complete registry started in-process
// (a CometBFT node, the registry app, its HTTP API on a loopback port): a
// did:medid hospital, accredited, runs the issuer service with a status list
// on the ledger; a verifier service checks presentations through the
// registry; revocation on the ledger is seen by the verifier. Scripts get
// $MEDID_REGISTRY, $WORK/governance.jwk and "capture VAR REGEXP".
func TestOpenIDRegistryScripts(t *testing.T) {
	t.Parallel() // independent of the other top-level tests: its own registry (if any) and work dirs
	stack := startRegistry(t)
	gov := governanceKey(t, stack)
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "openid_registry"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("MEDID_REGISTRY", stack.URL)
			return os.WriteFile(filepath.Join(env.WorkDir, "governance.jwk"), gov, 0o600)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"capture": captureCmd,
		},
	})
}
