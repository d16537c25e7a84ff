package main

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medid/medid/wallet"
)

func TestMain(m *testing.M) {
	// testscript.RunMain never returns (it calls os.Exit once the tests are
	// done), so what must happen after the tests runs inside Run.
	testscript.RunMain(removeBuiltAfter{m}, map[string]func() int{
		"medid": func() int {
			// Wallets made by the scripts use the cheapest Argon2id and
			// scrypt the wallet accepts: the scripts test behaviour, and
			// the defaults cost seconds per wallet command on a loaded
			// 2-core machine (wallet's own tests cover the defaults).
			walletKDF = wallet.KDFParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}
			backupWorkFactor = 10
			return run(context.Background(), &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: testClock(), kdf: testKDF()}, os.Args[1:])
		},
	})
}

// removeBuiltAfter runs the tests, then removes the registryd built for
// the scripts (buildRegistryd, ~100 MB) once every test that shares it is
// done, whichever of them ran. (Removing it after testscript.RunMain, as
// before, never happened: RunMain exits the process, and every test run
// left one in the temporary folder.)
type removeBuiltAfter struct{ m *testing.M }

func (r removeBuiltAfter) Run() int {
	code := r.m.Run()
	if registrydDir != "" {
		os.RemoveAll(registrydDir)
	}
	return code
}

// testKDF is a cheap key derivation for the wallets a script creates when
// it sets $MEDID_TEST_FAST_KDF (Argon2id, one pass over 8 MiB, about 10 ms
// instead of 0.5 s): scripts that open wallets dozens of times stay fast.
// Only the test binary reads it.
func testKDF() wallet.KDFParams {
	if os.Getenv("MEDID_TEST_FAST_KDF") == "" {
		return wallet.KDFParams{}
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	return wallet.KDFParams{Salt: salt, Time: 1, MemoryKiB: 8 * 1024, Threads: 1}
}

// testClock is the scripts' clock: the wall clock moved forward by
// $MEDID_TEST_CLOCK (a Go duration, set by the scripts' "clock" command),
// so a script can let years pass. Only the test binary reads it: the medid
// command has no way to change its clock.
func testClock() func() time.Time {
	off, err := time.ParseDuration(os.Getenv("MEDID_TEST_CLOCK"))
	if err != nil || off == 0 {
		return nil
	}
	return func() time.Time { return time.Now().Add(off) }
}

// TestScripts runs the end-to-end scripts in testdata/*.txtar against the
// real medid binary logic.
func TestScripts(t *testing.T) {
	t.Parallel() // independent of the other top-level tests: its own registry (if any) and work dirs
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: false,
		Cmds:                map[string]func(ts *testscript.TestScript, neg bool, args []string){"capture": captureCmd},
	})
}
