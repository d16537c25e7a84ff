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

// TestOpenIDRegistryScripts runs testdata/openid_registry/*.txtar, the
// OpenID4VCI/OpenID4VP flows against a complete registry started in-process
// (a CometBFT node, the registry app, its HTTP API on a loopback port): a
// did:medid hospital, accredited, runs the issuer service with a status list
// on the ledger; a verifier service checks presentations through the
// registry; revocation on the ledger is seen by the verifier. Scripts get
// $MEDID_REGISTRY, $WORK/governance.jwk and "capture VAR REGEXP".
func TestOpenIDRegistryScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry node; skipped with -short")
	}
	stack := nodetest.Start(t, nodetest.Options{})
	gov, err := os.ReadFile(filepath.Join(stack.Home, node.GovernanceKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "openid_registry"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("MEDID_REGISTRY", stack.URL)
			return os.WriteFile(filepath.Join(env.WorkDir, "governance.jwk"), gov, 0o600)
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
