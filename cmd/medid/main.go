// Command medid is the command line for hospitals, verifiers, patients'
// scripts and operators: keys, DIDs, credentials, presentations, status
// lists, the registry and the wallet.
//
// Each command group lives in its own file and registers itself in
// [commands] from an init function; main only dispatches.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/medid/medid/wallet"
)

// Exit codes shared by every command.
const (
	exitOK      = 0 // success; for a verification, valid
	exitInvalid = 1 // the command ran and the answer is "no" (invalid, revoked, ...) or an operation failed
	exitUsage   = 2 // bad usage or unreadable input: nothing was done
	// exitUnchecked: a check could not be made because the registry (or a
	// status list's host) did not answer; nothing was found wrong. For
	// vc verify, vp verify, wallet receive and wallet refresh.
	exitUnchecked = 3
)

// env is what a command may touch of the outside world, so tests can run
// commands in-process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string

	// tls holds --ca, --client-cert and --client-key (every command's
	// flag set has them); hc is the HTTP client built from them once.
	tls tlsClientFlags
	hc  *http.Client

	// now is the clock of the commands that date what they make (nil =
	// time.Now); the script tests move it to let a child come of age.
	now func() time.Time
	// kdf, when set, is the key derivation of wallets the commands create
	// (the scripts' cheap one); zero means wallet.DefaultKDF.
	kdf wallet.KDFParams
}

// clock returns the time now by e's clock.
func (e *env) clock() time.Time {
	if e.now != nil {
		return e.now()
	}
	return time.Now()
}

// command is one top-level command group, e.g. "vc" or "wallet".
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands is filled by init functions in this package's files.
var commands = map[string]command{}

// usageError marks an error caused by how the command was called; it exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitError carries a specific exit code with an optional message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "medid: unknown command %q\n\n", args[0])
		printUsage(e.stderr)
		return exitUsage
	}
	err := c.run(ctx, e, args[1:])
	if err == nil {
		return exitOK
	}
	var ue *usageError
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintf(e.stderr, "medid %s: %v\n", args[0], ee.err)
		}
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "medid %s: %v\n", args[0], err)
		return exitUsage
	default:
		fmt.Fprintf(e.stderr, "medid %s: %v\n", args[0], err)
		return exitInvalid
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: medid <command> [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'medid <command> -h' for a command's usage.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "exit status:")
	fmt.Fprintln(w, "  0  success; for a verification: valid")
	fmt.Fprintln(w, "  1  the answer is no (invalid, revoked, refused) or the operation failed")
	fmt.Fprintln(w, "  2  bad usage or unreadable input: nothing was done")
	fmt.Fprintln(w, "  3  could not check right now: the registry (or a status list's host) did not")
	fmt.Fprintln(w, "     answer; nothing was found wrong (vc verify, vp verify, wallet receive, refresh)")
}
