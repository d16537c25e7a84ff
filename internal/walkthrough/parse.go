package walkthrough

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// Block kinds: what the walkthrough does with a fenced block.
const (
	KindScript     = "script"     // ```sh or ```bash: every command runs, none may fail
	KindTranscript = "transcript" // ```console: "$ command" lines run, the lines after each are its expected output
	KindShown      = "shown"      // anything else (```text, no language): shown to readers, not run
)

// Directives, written as an HTML comment on a line of its own before a
// fenced block: <!-- walkthrough: DIRECTIVE [reason] -->. GitHub does not
// render them, so readers never see them.
const (
	// DirectiveSkip: do not run the next block (say why after the word).
	DirectiveSkip = "skip"
	// DirectiveMakeRunOutput: the next block (of any kind) shows what
	// `make run` prints; check it against the output of the make run the
	// walkthrough started.
	DirectiveMakeRunOutput = "make-run-output"
	// DirectiveStopMakeRun: before the next block, stop `make run` as a
	// reader does with Ctrl-C in its terminal (SIGINT to its process group)
	// and wait until it has exited.
	DirectiveStopMakeRun = "stop-make-run"
	// DirectiveFreshShell: run the next block in a shell of its own, started
	// in the repository root with the fresh environment and stopped (with
	// its background jobs) after the block: for a block written to be run
	// on its own, whose exports, cd and jobs must not reach the rest.
	DirectiveFreshShell = "fresh-shell"
)

// Document is a parsed Markdown file: its fenced blocks in order.
type Document struct {
	Blocks []Block
}

// Block is one fenced code block.
type Block struct {
	// Line is the 1-based line of the opening fence.
	Line int
	// Lang is the first word of the info string ("sh", "console", "text", "").
	Lang string
	// Kind is KindScript, KindTranscript or KindShown.
	Kind string
	// Directive is the walkthrough directive before the block ("" if none),
	// and Reason the rest of its text.
	Directive, Reason string
	// Body is the block's lines, without the fences.
	Body []string
	// Units are the commands of a script or transcript block, in order.
	Units []Unit
}

// Unit is one command the walkthrough runs, with what it must print.
type Unit struct {
	// Line is the 1-based README line the command starts on.
	Line int
	// Command is the command text as written (continuation lines and
	// here-documents included), without the "$ " prompt.
	Command string
	// Expected are the output lines the README shows after the command
	// (transcripts only), "..." lines included.
	Expected []string
	// WantExit is the exit status the command must have: 0, or the N of a
	// trailing "# exit N" comment.
	WantExit int
	// Background reports whether the command ends in "&": the walkthrough
	// then waits for its expected output instead of for its exit.
	Background bool
}

var (
	directiveRe = regexp.MustCompile(`^<!--\s*walkthrough:\s*([a-z-]+)\s*(.*?)\s*-->\s*$`)
	// "# exit 1" or "# exit 1: revoked" at the end of a command.
	exitRe    = regexp.MustCompile(`#\s*exit\s+([0-9]{1,3})(?:\s*$|\s*[:;,(—-].*$)`)
	heredocRe = regexp.MustCompile(`<<(-?)\s*(?:'([A-Za-z_][A-Za-z0-9_]*)'|"([A-Za-z_][A-Za-z0-9_]*)"|([A-Za-z_][A-Za-z0-9_]*))`)
)

// Parse reads a Markdown document and splits every script and transcript
// block into commands. It fails on what would make a walkthrough
// meaningless: an unclosed fence, a directive not followed by a block, an
// unknown directive, a transcript line before its first "$ " command, a
// block shown only (```text) that holds "$ " commands, or a
// command that is not complete shell syntax (checked with `bash -n`).
func Parse(md []byte) (*Document, error) {
	doc := &Document{}
	sc := bufio.NewScanner(bytes.NewReader(md))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var (
		lineNo                 int
		in                     *Block
		fence                  string
		pendingDir, pendingWhy string
		pendingLine            int
	)
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), " \t\r")
		if in != nil {
			if strings.HasPrefix(line, fence) && strings.TrimLeft(line, "`~") == "" {
				if err := in.shownCommands(); err != nil {
					return nil, err
				}
				if err := in.split(); err != nil {
					return nil, err
				}
				doc.Blocks = append(doc.Blocks, *in)
				in = nil
				continue
			}
			in.Body = append(in.Body, line)
			continue
		}
		if m := directiveRe.FindStringSubmatch(line); m != nil {
			if pendingDir != "" {
				return nil, fmt.Errorf("line %d: walkthrough directive %q while the one of line %d has no block yet", lineNo, m[1], pendingLine)
			}
			switch m[1] {
			case DirectiveSkip, DirectiveMakeRunOutput, DirectiveStopMakeRun, DirectiveFreshShell:
			default:
				return nil, fmt.Errorf("line %d: unknown walkthrough directive %q (want %s, %s, %s or %s)", lineNo, m[1], DirectiveSkip, DirectiveMakeRunOutput, DirectiveStopMakeRun, DirectiveFreshShell)
			}
			pendingDir, pendingWhy, pendingLine = m[1], m[2], lineNo
			continue
		}
		if f, info, ok := openFence(line); ok {
			lang, _, _ := strings.Cut(strings.TrimSpace(info), " ")
			in = &Block{Line: lineNo, Lang: lang, Kind: kindOf(lang), Directive: pendingDir, Reason: pendingWhy}
			fence = f
			pendingDir, pendingWhy = "", ""
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if in != nil {
		return nil, fmt.Errorf("line %d: the fenced block is never closed", in.Line)
	}
	if pendingDir != "" {
		return nil, fmt.Errorf("line %d: walkthrough directive %q is not followed by a fenced block", pendingLine, pendingDir)
	}
	return doc, nil
}

// shownCommands refuses a block that shows commands ("$ " lines) but
// would not run: a reader types them, so the walkthrough must too. Such a
// block is a console transcript, or says why it cannot run with a skip
// directive.
func (b *Block) shownCommands() error {
	if b.Kind != KindShown || b.Directive != "" {
		return nil
	}
	for i, l := range b.Body {
		if strings.HasPrefix(l, "$ ") {
			return fmt.Errorf("line %d: a ```%s block shows the command %.60q that nothing runs: make the block ```console so the walkthrough runs it, or put <!-- walkthrough: skip REASON --> before it", b.Line+1+i, b.Lang, strings.TrimPrefix(l, "$ "))
		}
	}
	return nil
}

// openFence reports whether line opens a fenced block (``` or ~~~, at
// least three, at the start of the line) and returns the fence and the
// info string.
func openFence(line string) (fence, info string, ok bool) {
	for _, c := range []string{"`", "~"} {
		n := 0
		for n < len(line) && line[n] == c[0] {
			n++
		}
		if n >= 3 {
			return line[:n], line[n:], true
		}
	}
	return "", "", false
}

func kindOf(lang string) string {
	switch lang {
	case "sh", "bash", "shell":
		return KindScript
	case "console", "shell-session":
		return KindTranscript
	}
	return KindShown
}

// split fills b.Units from b.Body.
func (b *Block) split() error {
	if b.Kind == KindShown {
		return nil
	}
	lines := b.Body
	for i := 0; i < len(lines); {
		lineNo := b.Line + 1 + i
		line := lines[i]
		var cmd string
		switch b.Kind {
		case KindTranscript:
			if strings.TrimSpace(line) == "" {
				i++
				continue
			}
			c, ok := strings.CutPrefix(line, "$ ")
			if !ok {
				return fmt.Errorf("line %d: a console block must start with a \"$ \" command, found %q", lineNo, line)
			}
			cmd = c
		case KindScript:
			t := strings.TrimSpace(line)
			if t == "" || strings.HasPrefix(t, "#") {
				i++
				continue
			}
			cmd = line
		}
		i++
		// Continuation lines: a trailing backslash, a here-document, or
		// syntax bash says is unfinished (an open quote, if without fi).
		var err error
		cmd, i, err = complete(cmd, lines, i, lineNo)
		if err != nil {
			return err
		}
		u := Unit{Line: lineNo, Command: cmd}
		last := cmd[strings.LastIndexByte(cmd, '\n')+1:]
		if m := exitRe.FindStringSubmatch(last); m != nil {
			u.WantExit, _ = strconv.Atoi(m[1])
		}
		u.Background = strings.HasSuffix(strings.TrimSpace(stripComment(last)), "&") && !strings.HasSuffix(strings.TrimSpace(stripComment(last)), "&&")
		if b.Kind == KindTranscript {
			for i < len(lines) && !strings.HasPrefix(lines[i], "$ ") {
				u.Expected = append(u.Expected, lines[i])
				i++
			}
		}
		b.Units = append(b.Units, u)
	}
	return nil
}

// complete appends continuation lines to cmd (starting at lines[i]) until
// it is a complete command, and returns it and the next line's index.
func complete(cmd string, lines []string, i, lineNo int) (string, int, error) {
	for {
		switch {
		case strings.HasSuffix(cmd, `\`):
			if i >= len(lines) {
				return "", 0, fmt.Errorf("line %d: the command ends with a backslash but the block ends", lineNo)
			}
			cmd += "\n" + lines[i]
			i++
			continue
		}
		// Here-documents: their bodies follow the command line.
		if ms := heredocRe.FindAllStringSubmatch(lastLogicalLine(cmd), -1); ms != nil {
			for _, m := range ms {
				delim := m[2] + m[3] + m[4]
				for {
					if i >= len(lines) {
						return "", 0, fmt.Errorf("line %d: here-document %s is never closed", lineNo, delim)
					}
					l := lines[i]
					cmd += "\n" + l
					i++
					if l == delim || (m[1] == "-" && strings.TrimLeft(l, "\t") == delim) {
						break
					}
				}
			}
		}
		ok, err := syntaxComplete(cmd)
		if err != nil {
			return "", 0, fmt.Errorf("line %d: %v", lineNo, err)
		}
		if ok {
			return cmd, i, nil
		}
		if i >= len(lines) {
			return "", 0, fmt.Errorf("line %d: the command is not complete shell syntax when the block ends", lineNo)
		}
		cmd += "\n" + lines[i]
		i++
	}
}

// lastLogicalLine is the text after the last here-document body of cmd,
// i.e. the line a new here-document operator would be on.
func lastLogicalLine(cmd string) string {
	return cmd[strings.LastIndexByte(cmd, '\n')+1:]
}

// stripComment drops a trailing shell comment (a # after a space, outside
// quotes) from one line.
func stripComment(line string) string {
	var q byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '\'' || c == '"':
			q = c
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i]
		}
	}
	return line
}

// syntaxComplete asks bash whether cmd parses: true if it does, false if
// bash only lacks more input, an error for any other syntax error.
func syntaxComplete(cmd string) (bool, error) {
	c := exec.Command("bash", "-n")
	c.Stdin = strings.NewReader(cmd + "\n")
	var stderr bytes.Buffer
	c.Stderr = &stderr
	err := c.Run()
	if err == nil {
		return true, nil
	}
	msg := stderr.String()
	if strings.Contains(msg, "unexpected end of file") || strings.Contains(msg, "unexpected EOF") {
		return false, nil
	}
	if _, ok := err.(*exec.ExitError); !ok {
		return false, fmt.Errorf("bash -n: %v", err)
	}
	return false, fmt.Errorf("shell syntax error: %s", strings.TrimSpace(msg))
}
