package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/atomicfile"
)

// flagSet wraps flag.FlagSet for the hospital and verifier commands: it
// accepts flags before and after positional arguments ("medid vc verify
// cred.jwt --status-list l.jwt"), reports bad flags as usage errors (exit 2)
// and prints the command's usage on -h.
type flagSet struct {
	*flag.FlagSet
	usage string // one line: "medid vc verify FILE [--status-list FILE]..."
	out   io.Writer
}

// errHelp is returned by parse when -h was given; the command returns nil
// after the usage was printed.
var errHelp = errors.New("help requested")

func newFlagSet(e *env, name, usage string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &flagSet{FlagSet: fs, usage: usage, out: e.stderr}
	// Every command may reach an https service behind a private CA.
	e.tls.register(f)
	return f
}

// parse parses args, allowing flags and positional arguments in any order
// ("--" ends flags). It returns the positional arguments. A bad flag is a
// usageError; -h prints usage and returns errHelp.
func (f *flagSet) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.FlagSet.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printUsage()
				return nil, errHelp
			}
			return nil, usagef("%v\nusage: %s", err, f.usage)
		}
		rest := f.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag stops at "--" and at the first non-flag; which one it was
		// is visible in args just before rest.
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// quiet registers --quiet (and -q): print only the identifier the command
// makes or finds, so that a script can write X=$(medid ...).
func (f *flagSet) quiet(what string) *bool {
	q := f.Bool("quiet", false, "print only "+what+", for scripts: X=$(medid ...)")
	f.BoolVar(q, "q", false, "shorthand for --quiet")
	return q
}

// parseNone parses args for a command that takes flags only: a positional
// argument is a usage error naming it. Like parse, -h returns errHelp.
func (f *flagSet) parseNone(args []string) error {
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q\nusage: %s", pos[0], f.usage)
	}
	return nil
}

// parseOne parses args for a command that takes exactly one positional
// argument and returns it. Any other count is a usage error saying want
// ("want exactly one credential file"). Like parse, -h returns errHelp.
func (f *flagSet) parseOne(args []string, want string) (string, error) {
	pos, err := f.parse(args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", usagef("%s\nusage: %s", want, f.usage)
	}
	return pos[0], nil
}

func (f *flagSet) printUsage() {
	fmt.Fprintf(f.out, "usage: %s\n", f.usage)
	var b strings.Builder
	f.FlagSet.SetOutput(&b)
	f.FlagSet.PrintDefaults()
	f.FlagSet.SetOutput(io.Discard)
	if b.Len() > 0 {
		fmt.Fprintf(f.out, "\nflags:\n%s", b.String())
	}
}

// required returns a usage error naming the first of the given flags that
// was left empty.
func (f *flagSet) required(names ...string) error {
	for _, n := range names {
		fl := f.Lookup(n)
		if fl == nil {
			continue
		}
		if fl.Value.String() == "" {
			return usagef("missing --%s\nusage: %s", n, f.usage)
		}
	}
	return nil
}

// stringList is a repeatable string flag: --status-list a --status-list b.
type stringList []string

func (s *stringList) String() string {
	if s == nil || len(*s) == 0 {
		return ""
	}
	return strings.Join(*s, ",")
}

func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// subcommand dispatches args[0] to one of subs, printing the group's usage
// for -h or an unknown name.
func subcommand(e *env, group string, subs map[string]func([]string) error, order []string, args []string) error {
	usage := func() string {
		var b strings.Builder
		fmt.Fprintf(&b, "usage: medid %s <%s> [arguments]", group, strings.Join(order, "|"))
		return b.String()
	}
	if len(args) == 0 {
		return usagef("missing subcommand\n%s", usage())
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, usage())
		fmt.Fprintf(e.stderr, "Run 'medid %s <subcommand> -h' for its flags.\n", group)
		return nil
	}
	run, ok := subs[args[0]]
	if !ok {
		return usagef("unknown subcommand %q\n%s", args[0], usage())
	}
	err := run(args[1:])
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// loadKey reads a private key file. Any failure is a usage error: nothing
// was done and the caller must fix the path or the file's mode.
func loadKey(path string) (*key.PrivateKey, error) {
	k, err := key.LoadFile(path)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return k, nil
}

// readInput reads a file given on the command line ("-" is not supported on
// purpose: credentials are files). A missing or unreadable file is a usage
// error.
func readInput(path, what string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usagef("%s file %s does not exist", what, path)
		}
		return nil, usagef("cannot read %s file: %v", what, err)
	}
	return data, nil
}

// readToken reads a compact JWS from a file, trimming surrounding white space.
func readToken(path, what string) (string, error) {
	data, err := readInput(path, what)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}

// outputFree refuses an --out path that exists, before any work is done
// (createOutput refuses it again at the end, atomically).
func outputFree(path string) error {
	if _, err := os.Stat(path); err == nil {
		return errOutputExists(path)
	}
	return nil
}

// errOutputExists is the usage error for an --out path that exists.
func errOutputExists(path string) error {
	return usagef("output file %s already exists: choose another --out or delete it first", path)
}

// createOutput writes data to a new file at path with the given mode and
// refuses to overwrite an existing file (atomicfile.Create: synced and
// linked into place, so a crash leaves no half-written credential).
func createOutput(path string, data []byte, mode os.FileMode) error {
	if err := atomicfile.Create(path, data, mode); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return errOutputExists(path)
		}
		return usagef("cannot create output file: %v", err)
	}
	return nil
}
