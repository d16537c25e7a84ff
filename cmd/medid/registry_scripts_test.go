package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/node/nodetest"
)

// startRegistry starts a complete registry in-process for the script
// tests that need one (CometBFT node, registry app, HTTP API on a loopback
// port); it is stopped when t ends. Those tests are skipped with -short.
func startRegistry(t *testing.T) *nodetest.Stack {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a registry node; skipped with -short")
	}
	return nodetest.Start(t, nodetest.Options{})
}

// governanceKey returns the private JWK of stack's governance key, for the
// scripts to write to $WORK/governance.jwk.
func governanceKey(t *testing.T, stack *nodetest.Stack) []byte {
	t.Helper()
	gov, err := os.ReadFile(filepath.Join(stack.Home, node.GovernanceKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return gov
}

// captureCmd is the script command "capture VAR REGEXP": it sets VAR to the
// first submatch of REGEXP in the previous command's stdout, so a script
// can use a DID or an id that a command printed.
func captureCmd(ts *testscript.TestScript, neg bool, args []string) {
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
}
