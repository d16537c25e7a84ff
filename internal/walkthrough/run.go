package walkthrough

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ReadmeHome is the home folder the README's sample output shows; the
// walkthrough reads it as its own fresh HOME.
const ReadmeHome = "/home/you"

// RegistryPort is the port the README's registry listens on (`make run`'s
// default). The walkthrough gives its own `make run` a free port instead
// and rewrites 127.0.0.1:8080 to it everywhere.
const RegistryPort = "8080"

// MakeRunReady is the line `make run` prints once the demo is done and the
// node keeps running.
const MakeRunReady = "Ctrl-C stops it."

// Config says where the repository is and how patient to be.
type Config struct {
	// Repo is the repository root: the shell starts there, as a reader's
	// does after cloning, and `make run` runs there.
	Repo string
	// Log receives progress lines and, on failure, the evidence.
	Log io.Writer
	// CommandTimeout bounds each command (default 5 minutes).
	CommandTimeout time.Duration
	// MakeRunTimeout bounds the start of `make run`, build included
	// (default 20 minutes: a fresh machine builds everything first).
	MakeRunTimeout time.Duration
	// Keep keeps the walkthrough's folder (its HOME, outputs and logs)
	// even when every command passed.
	Keep bool
	// Verbose prints every command's output.
	Verbose bool
	// KeepGoing goes on after a command whose output no longer matches
	// (its exit status did), reporting each such command, so a README
	// author sees every drifted block in one run. The first one is still
	// the walkthrough's failure.
	KeepGoing bool
}

// Failure is a walkthrough command that failed or printed something else
// than the README shows. Its Error text has the evidence.
type Failure struct {
	Line    int
	Command string
	Reason  string
	Output  string
}

func (f *Failure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "README line %d: %s\n", f.Line, f.Reason)
	fmt.Fprintf(&b, "  command:\n    $ %s\n", strings.ReplaceAll(f.Command, "\n", "\n      "))
	if f.Output != "" {
		fmt.Fprintf(&b, "  output:\n%s\n", indent(strings.TrimRight(f.Output, "\n"), "    | "))
	} else {
		b.WriteString("  output: (none)\n")
	}
	return b.String()
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// loopbackRe finds the loopback addresses of services the README starts.
var loopbackRe = regexp.MustCompile(`\b(127\.0\.0\.1|localhost):([0-9]{2,5})\b`)

// Run runs doc's blocks in order as the walkthrough convention says (see
// the package documentation) and returns the first *Failure, or another
// error if the walkthrough itself could not run.
func Run(ctx context.Context, cfg Config, doc *Document) (err error) {
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = 5 * time.Minute
	}
	if cfg.MakeRunTimeout <= 0 {
		cfg.MakeRunTimeout = 20 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	root, err := os.MkdirTemp("", "medid-walkthrough-")
	if err != nil {
		return err
	}
	root, _ = filepath.EvalSymlinks(root)
	r := &runner{cfg: cfg, root: root, home: filepath.Join(root, "home"), state: filepath.Join(root, "state")}
	defer func() {
		r.stop()
		if err == nil && !cfg.Keep {
			os.RemoveAll(root)
			return
		}
		fmt.Fprintf(cfg.Log, "walkthrough: its HOME, outputs and logs are kept in %s\n", root)
	}()
	for _, d := range []string{r.home, r.state} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	if err := r.setup(doc); err != nil {
		return err
	}
	if err := r.startMakeRun(ctx); err != nil {
		return err
	}
	if r.shell, err = r.startShell("shell.log"); err != nil {
		return err
	}
	for i := range doc.Blocks {
		if err := r.block(ctx, &doc.Blocks[i]); err != nil {
			return err
		}
	}
	if len(r.mismatches) > 0 {
		fmt.Fprintf(cfg.Log, "walkthrough: %d commands no longer print what the README shows\n", len(r.mismatches))
		return r.mismatches[0]
	}
	fmt.Fprintf(cfg.Log, "walkthrough: every README command ran as written (%d commands)\n", r.ran)
	return nil
}

type runner struct {
	cfg               Config
	root, home, state string
	env               []string
	ports             map[string]string // README port -> the walkthrough's
	p2p               string

	makeRun  *exec.Cmd
	makeDone chan struct{}
	makeLog  string

	shell *shell // the walkthrough's one shell
	seq   int
	ran   int
	// mismatches are the output mismatches passed over with KeepGoing.
	mismatches []*Failure
}

// shell is a bash the walkthrough feeds commands to.
type shell struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	done *bufio.Reader // "N STATUS" lines from the shell's fd 3
	log  string
}

// setup picks free ports for every loopback port the README names and
// builds the environment of a fresh shell.
func (r *runner) setup(doc *Document) error {
	r.ports = map[string]string{}
	want := map[string]bool{RegistryPort: true}
	for _, b := range doc.Blocks {
		for _, u := range b.Units {
			for _, s := range append([]string{u.Command}, u.Expected...) {
				for _, m := range loopbackRe.FindAllStringSubmatch(s, -1) {
					want[m[2]] = true
				}
			}
		}
	}
	ports := make([]string, 0, len(want))
	for p := range want {
		ports = append(ports, p)
	}
	sort.Strings(ports)
	taken := map[string]bool{}
	for _, p := range ports {
		free, err := freePort(taken)
		if err != nil {
			return err
		}
		r.ports[p] = free
	}
	free, err := freePort(taken)
	if err != nil {
		return err
	}
	r.p2p = free
	r.env = freshEnv(r.home)
	return nil
}

// Ports the walkthrough hands out come from below Linux's default
// ephemeral range (32768-60999): a port the kernel picked for an
// outgoing connection or a listener on :0 (the registry's own internal
// ports) cannot then take a port the README's later command is about to
// listen on, which made a background server fail with "address already
// in use" and the walkthrough wait for it until its timeout. They are
// also below 20000, where `registryd testnet --base-port auto`
// (node.FreeBasePort) picks the README's testnet ports, so the two never
// meet.
const (
	portLow  = 10000
	portHigh = 20000
)

// freePort returns a loopback port in [portLow, portHigh) that nobody
// listens on now and that is not in taken, and adds it to taken.
func freePort(taken map[string]bool) (string, error) {
	var b [2]byte
	for range 1000 {
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		p := strconv.Itoa(portLow + int(binary.BigEndian.Uint16(b[:]))%(portHigh-portLow))
		if taken[p] {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+p)
		if err != nil {
			continue
		}
		ln.Close()
		taken[p] = true
		return p, nil
	}
	return "", fmt.Errorf("walkthrough: no free loopback port in %d-%d", portLow, portHigh)
}

// freshEnv is the environment of a new login on this machine with an
// empty HOME: PATH and the locale from here, nothing of medid's, and the
// Go caches of this machine (a fresh HOME would otherwise mean a cold
// build; the build is not what the walkthrough checks).
func freshEnv(home string) []string {
	env := []string{"HOME=" + home, "LANG=C.UTF-8", "TERM=dumb", "USER=you", "LOGNAME=you"}
	for _, k := range []string{"PATH", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY", "GOSUMDB", "GOFLAGS", "GOTOOLCHAIN", "GONOSUMDB", "GOPRIVATE").Output()
	if err == nil {
		names := []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY", "GOSUMDB", "GOFLAGS", "GOTOOLCHAIN", "GONOSUMDB", "GOPRIVATE"}
		for i, v := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			if i < len(names) && v != "" {
				env = append(env, names[i]+"="+v)
			}
		}
	}
	return env
}

// rewrite maps what the README shows to this run: its loopback ports to
// the free ports picked for them, and /home/you to the fresh HOME.
func (r *runner) rewrite(s string) string {
	s = loopbackRe.ReplaceAllStringFunc(s, func(m string) string {
		host, port, _ := strings.Cut(m, ":")
		if p, ok := r.ports[port]; ok {
			return host + ":" + p
		}
		return m
	})
	return strings.ReplaceAll(s, ReadmeHome, r.home)
}

// startMakeRun starts `make run` as a reader does in a second terminal,
// with the fresh HOME (so the node's home is ~/.medid/registryd) and free
// ports, and waits until the demo is done and the node serves.
func (r *runner) startMakeRun(ctx context.Context) error {
	r.makeLog = filepath.Join(r.state, "make-run.log")
	f, err := os.Create(r.makeLog)
	if err != nil {
		return err
	}
	c := exec.Command("make", "--no-print-directory", "run", "HTTP=127.0.0.1:"+r.ports[RegistryPort], "P2P=127.0.0.1:"+r.p2p)
	c.Dir, c.Env, c.Stdout, c.Stderr = r.cfg.Repo, r.env, f, f
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	fmt.Fprintf(r.cfg.Log, "walkthrough: make run (HOME=%s, registry on 127.0.0.1:%s for the README's :%s)\n", r.home, r.ports[RegistryPort], RegistryPort)
	start := time.Now()
	if err := c.Start(); err != nil {
		f.Close()
		return fmt.Errorf("make run: %w", err)
	}
	r.makeRun, r.makeDone = c, make(chan struct{})
	go func() { c.Wait(); f.Close(); close(r.makeDone) }()
	deadline := time.After(r.cfg.MakeRunTimeout)
	for {
		b, _ := os.ReadFile(r.makeLog)
		if strings.Contains(string(b), MakeRunReady) {
			fmt.Fprintf(r.cfg.Log, "walkthrough: make run is serving (%.1fs)\n", time.Since(start).Seconds())
			return nil
		}
		select {
		case <-r.makeDone:
			return fmt.Errorf("make run exited before it was ready:\n%s", indent(tail(string(b), 40), "    | "))
		case <-deadline:
			return fmt.Errorf("make run not ready after %s:\n%s", r.cfg.MakeRunTimeout, indent(tail(string(b), 40), "    | "))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// stopMakeRun does what Ctrl-C in make run's terminal does: SIGINT to its
// process group. It waits until make run has exited.
func (r *runner) stopMakeRun() error {
	if r.makeRun == nil {
		return errors.New("make run is not running")
	}
	select {
	case <-r.makeDone:
		return errors.New("make run had already exited")
	default:
	}
	syscall.Kill(-r.makeRun.Process.Pid, syscall.SIGINT)
	select {
	case <-r.makeDone:
		return nil
	case <-time.After(90 * time.Second):
		return errors.New("make run did not stop within 90s of Ctrl-C (SIGINT)")
	}
}

// startShell starts a bash in the repository root with the fresh
// environment, logging its own output to the state file logName. Each
// command's output goes to a file of its own; the shell reports each exit
// status on fd 3.
func (r *runner) startShell(logName string) (*shell, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(r.state, logName)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	c := exec.Command("bash", "--noprofile", "--norc")
	c.Dir, c.Env, c.Stdout, c.Stderr = r.cfg.Repo, r.env, logf, logf
	c.ExtraFiles = []*os.File{pw}
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := c.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("bash: %w", err)
	}
	pw.Close()
	logf.Close()
	return &shell{cmd: c, in: in, done: bufio.NewReader(pr), log: logPath}, nil
}

// stop ends the shell's process group (its background jobs too: services
// the README started with &): SIGTERM, then SIGKILL after 10 s.
func (sh *shell) stop() {
	sh.in.Close()
	pgid := sh.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	waited := make(chan struct{})
	go func() { sh.cmd.Wait(); close(waited) }()
	for i := 0; i < 100 && syscall.Kill(-pgid, 0) == nil; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	<-waited
}

// stop ends everything the walkthrough started: the shell, then make run.
func (r *runner) stop() {
	if r.shell != nil {
		r.shell.stop()
	}
	if r.makeRun != nil {
		select {
		case <-r.makeDone:
		default:
			r.stopMakeRun()
			syscall.Kill(-r.makeRun.Process.Pid, syscall.SIGKILL)
		}
	}
}

// block runs one fenced block.
func (r *runner) block(ctx context.Context, b *Block) error {
	if b.Directive == DirectiveStopMakeRun {
		fmt.Fprintf(r.cfg.Log, "line %d: Ctrl-C in make run's terminal\n", b.Line)
		if err := r.stopMakeRun(); err != nil {
			return &Failure{Line: b.Line, Command: "(Ctrl-C in make run's terminal)", Reason: err.Error(), Output: tail(r.readMakeLog(), 40)}
		}
	}
	sh := r.shell
	if b.Directive == DirectiveFreshShell && b.Kind != KindShown {
		fmt.Fprintf(r.cfg.Log, "line %d: a fresh shell for this block\n", b.Line)
		var err error
		if sh, err = r.startShell(fmt.Sprintf("shell-%d.log", b.Line)); err != nil {
			return err
		}
		defer sh.stop()
	}
	switch {
	case b.Directive == DirectiveSkip:
		fmt.Fprintf(r.cfg.Log, "line %d: skipped: %s\n", b.Line, strings.TrimSuffix(strings.TrimPrefix(b.Reason, "("), ")"))
		return nil
	case b.Directive == DirectiveMakeRunOutput:
		return r.checkMakeRun(b)
	case b.Kind == KindShown:
		return nil
	}
	for _, u := range b.Units {
		if err := r.unit(ctx, sh, u); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) readMakeLog() string {
	b, _ := os.ReadFile(r.makeLog)
	return string(b)
}

// checkMakeRun checks that make run printed what the block shows (all of
// it is there: make run was ready before the first block).
func (r *runner) checkMakeRun(b *Block) error {
	want := make([]string, len(b.Body))
	for i, l := range b.Body {
		want[i] = r.rewrite(l)
	}
	got := r.readMakeLog()
	if mm := match(want, got); mm != nil {
		return &Failure{Line: b.Line + 1 + mm.Index, Command: "make run", Reason: fmt.Sprintf("make run's output has no line like %q", strings.TrimSpace(b.Body[mm.Index])), Output: got}
	}
	fmt.Fprintf(r.cfg.Log, "line %d: make run printed what the README shows\n", b.Line)
	return nil
}

// unit runs one command in the shell and checks its exit status and output.
func (r *runner) unit(ctx context.Context, sh *shell, u Unit) error {
	r.seq++
	n := r.seq
	cmd := r.rewrite(u.Command)
	out := filepath.Join(r.state, fmt.Sprintf("out.%03d", n))
	// The braces run the command in the shell itself (so assignments,
	// exports and cd last) with its output in a file of its own; fd 3
	// stays with the shell, never with background jobs.
	script := fmt.Sprintf("{ %s\n} >%s 2>&1 </dev/null 3>&-; printf '%%d %%d\\n' %d \"$?\" >&3\n", cmd, shellQuote(out), n)
	start := time.Now()
	first, _, _ := strings.Cut(u.Command, "\n")
	fmt.Fprintf(r.cfg.Log, "line %d: $ %s", u.Line, first)
	if strings.Contains(u.Command, "\n") {
		fmt.Fprint(r.cfg.Log, " …")
	}
	if _, err := io.WriteString(sh.in, script); err != nil {
		return r.fail(u, cmd, "the shell is gone: "+err.Error(), out)
	}
	type result struct {
		status int
		err    error
	}
	resc := make(chan result, 1)
	go func() {
		line, err := sh.done.ReadString('\n')
		if err != nil {
			resc <- result{err: fmt.Errorf("the shell exited (a syntax error?): %v", err)}
			return
		}
		var got, status int
		if _, err := fmt.Sscanf(line, "%d %d", &got, &status); err != nil || got != n {
			resc <- result{err: fmt.Errorf("the shell reported %q for command %d", strings.TrimSpace(line), n)}
			return
		}
		resc <- result{status: status}
	}()
	var res result
	select {
	case res = <-resc:
	case <-time.After(r.cfg.CommandTimeout):
		fmt.Fprintln(r.cfg.Log)
		return r.fail(u, cmd, fmt.Sprintf("still running after %s", r.cfg.CommandTimeout), out)
	case <-ctx.Done():
		fmt.Fprintln(r.cfg.Log)
		return ctx.Err()
	}
	if res.err != nil {
		fmt.Fprintln(r.cfg.Log)
		return r.fail(u, cmd, res.err.Error()+"\n"+tail(readFile(sh.log), 20), out)
	}
	if res.status != u.WantExit {
		fmt.Fprintln(r.cfg.Log)
		why := fmt.Sprintf("exit status %d, want %d", res.status, u.WantExit)
		if u.WantExit == 0 {
			why += " (a command that is meant to fail says so with a trailing comment \"# exit N\")"
		}
		return r.fail(u, cmd, why, out)
	}
	want := make([]string, len(u.Expected))
	for i, l := range u.Expected {
		want[i] = r.rewrite(l)
	}
	// A background command's output comes while it runs: wait for it (the
	// README shows the line that says a service is ready).
	deadline := time.Now().Add(r.cfg.CommandTimeout)
	for {
		got := readFile(out)
		mm := match(want, got)
		if mm == nil {
			break
		}
		if !u.Background || time.Now().After(deadline) {
			fmt.Fprintln(r.cfg.Log)
			f := r.fail(u, cmd, fmt.Sprintf("the output has no line like %q (README line %d)", strings.TrimSpace(u.Expected[mm.Index]), u.Line+commandLines(u.Command)+mm.Index), out)
			if !r.cfg.KeepGoing {
				return f
			}
			fmt.Fprintf(r.cfg.Log, "MISMATCH at %s", f.Error())
			r.mismatches = append(r.mismatches, f.(*Failure))
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Fprintf(r.cfg.Log, "  (%.1fs)\n", time.Since(start).Seconds())
	if r.cfg.Verbose {
		if got := strings.TrimRight(readFile(out), "\n"); got != "" {
			fmt.Fprintln(r.cfg.Log, indent(got, "    | "))
		}
	}
	r.ran++
	return nil
}

func (r *runner) fail(u Unit, cmd, reason, out string) error {
	return &Failure{Line: u.Line, Command: cmd, Reason: reason, Output: readFile(out)}
}

func commandLines(cmd string) int { return strings.Count(cmd, "\n") + 1 }

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
