// Command walkthrough runs the README's command blocks as written and
// fails on the first command that fails or no longer prints what the
// README shows. See package internal/walkthrough for the convention.
//
//	walkthrough [-list] [-keep] [-v] [-k] [-timeout 5m] [README.md]
//
// Run it from the repository root (make walkthrough does).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/medid/medid/internal/walkthrough"
)

func main() {
	list := flag.Bool("list", false, "print the commands the walkthrough would run, and stop")
	keep := flag.Bool("keep", false, "keep the walkthrough's HOME, outputs and logs even when it passes")
	verbose := flag.Bool("v", false, "print every command's output")
	timeout := flag.Duration("timeout", 5*time.Minute, "time limit of each command")
	keepGoing := flag.Bool("k", false, "keep going after output mismatches (not failed commands) and report them all")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: walkthrough [-list] [-keep] [-v] [-k] [-timeout 5m] [README.md]")
		flag.PrintDefaults()
	}
	flag.Parse()
	path := "README.md"
	if flag.NArg() == 1 {
		path = flag.Arg(0)
	} else if flag.NArg() > 1 {
		flag.Usage()
		os.Exit(2)
	}
	md, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "walkthrough:", err)
		os.Exit(2)
	}
	doc, err := walkthrough.Parse(md)
	if err != nil {
		fmt.Fprintf(os.Stderr, "walkthrough: %s: %v\n", path, err)
		os.Exit(1)
	}
	if *list {
		printList(doc)
		return
	}
	repo, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		fmt.Fprintln(os.Stderr, "walkthrough:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	err = walkthrough.Run(ctx, walkthrough.Config{Repo: repo, Log: os.Stdout, CommandTimeout: *timeout, Keep: *keep, Verbose: *verbose, KeepGoing: *keepGoing}, doc)
	var f *walkthrough.Failure
	switch {
	case errors.As(err, &f):
		fmt.Fprintf(os.Stderr, "\nwalkthrough FAILED after %s at %s", time.Since(start).Round(time.Second), f.Error())
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "walkthrough:", err)
		os.Exit(1)
	}
	fmt.Printf("walkthrough: passed in %s\n", time.Since(start).Round(time.Second))
}

func printList(doc *walkthrough.Document) {
	for _, b := range doc.Blocks {
		switch {
		case b.Directive != "":
			fmt.Printf("line %d: ```%s  [%s %s]\n", b.Line, b.Lang, b.Directive, b.Reason)
			if b.Directive == walkthrough.DirectiveSkip || b.Directive == walkthrough.DirectiveMakeRunOutput {
				continue
			}
		case b.Kind == walkthrough.KindShown:
			fmt.Printf("line %d: ```%s  [shown only]\n", b.Line, b.Lang)
			continue
		default:
			fmt.Printf("line %d: ```%s  [%s]\n", b.Line, b.Lang, b.Kind)
		}
		for _, u := range b.Units {
			extra := ""
			if u.WantExit != 0 {
				extra += fmt.Sprintf("  [exit %d]", u.WantExit)
			}
			if u.Background {
				extra += "  [background]"
			}
			if len(u.Expected) > 0 {
				extra += fmt.Sprintf("  [%d output lines]", len(u.Expected))
			}
			fmt.Printf("  %d: $ %s%s\n", u.Line, strings.ReplaceAll(u.Command, "\n", "\n      "), extra)
		}
	}
}
