package main

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medid/medid/wallet"
)

func TestMain(m *testing.M) {
	os.Exit(testscript.RunMain(m, map[string]func() int{
		"medid": func() int {
			// Wallets made by the scripts use the cheapest Argon2id and
			// scrypt the wallet accepts: the scripts test behaviour, and
			// the defaults cost seconds per wallet command on a loaded
			// 2-core machine (wallet's own tests cover the defaults).
			walletKDF = wallet.KDFParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}
			backupWorkFactor = 10
			return run(context.Background(), &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
		},
	}))
}

// TestScripts runs the end-to-end scripts in testdata/*.txtar against the
// real medid binary logic.
func TestScripts(t *testing.T) {
	t.Parallel() // independent of the other top-level tests: its own registry (if any) and work dirs
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: false,
	})
}
