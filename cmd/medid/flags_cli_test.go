package main

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func TestFlagSetParse(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantPos   []string
		wantOut   string
		wantLists []string
		wantErr   bool
	}{
		{name: "flags first", args: []string{"--out", "o", "file"}, wantPos: []string{"file"}, wantOut: "o"},
		{name: "flags after positional", args: []string{"file", "--out", "o"}, wantPos: []string{"file"}, wantOut: "o"},
		{name: "interleaved and repeated", args: []string{"a", "--list", "x", "b", "-list=y"}, wantPos: []string{"a", "b"}, wantLists: []string{"x", "y"}},
		{name: "double dash ends flags", args: []string{"--out", "o", "--", "--list", "z"}, wantPos: []string{"--list", "z"}, wantOut: "o"},
		{name: "none", args: nil},
		{name: "unknown flag", args: []string{"file", "--bogus"}, wantErr: true},
		{name: "missing value", args: []string{"--out"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			fs := newFlagSet(&env{stderr: &stderr}, "x", "medid x")
			out := fs.String("out", "", "")
			var lists stringList
			fs.Var(&lists, "list", "")
			pos, err := fs.parse(tt.args)
			if tt.wantErr {
				var ue *usageError
				if !errors.As(err, &ue) {
					t.Fatalf("parse(%q) error = %v, want a usage error", tt.args, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse(%q): %v", tt.args, err)
			}
			if !slices.Equal(pos, tt.wantPos) {
				t.Errorf("positional = %q, want %q", pos, tt.wantPos)
			}
			if *out != tt.wantOut {
				t.Errorf("--out = %q, want %q", *out, tt.wantOut)
			}
			if !slices.Equal(lists, tt.wantLists) {
				t.Errorf("--list = %q, want %q", []string(lists), tt.wantLists)
			}
		})
	}
}

func TestFlagSetHelp(t *testing.T) {
	var stderr bytes.Buffer
	fs := newFlagSet(&env{stderr: &stderr}, "x", "medid x --out FILE")
	fs.String("out", "", "where to write")
	if _, err := fs.parse([]string{"-h"}); !errors.Is(err, errHelp) {
		t.Fatalf("parse(-h) = %v, want errHelp", err)
	}
	if got := stderr.String(); !bytes.Contains([]byte(got), []byte("usage: medid x --out FILE")) || !bytes.Contains([]byte(got), []byte("where to write")) {
		t.Errorf("help output = %q, want the usage line and flag descriptions", got)
	}
}

func TestFlagSetParseNone(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantErr  string // "" for no error
		wantHelp bool
	}{
		{name: "flags only", args: []string{"--out", "o"}},
		{name: "nothing", args: nil},
		{name: "positional", args: []string{"--out", "o", "stray"}, wantErr: "unexpected argument \"stray\"\nusage: medid x --out FILE"},
		{name: "after double dash", args: []string{"--", "--out"}, wantErr: "unexpected argument \"--out\"\nusage: medid x --out FILE"},
		{name: "bad flag", args: []string{"--bogus"}, wantErr: "flag provided but not defined: -bogus\nusage: medid x --out FILE"},
		{name: "help", args: []string{"-h"}, wantHelp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			fs := newFlagSet(&env{stderr: &stderr}, "x", "medid x --out FILE")
			fs.String("out", "", "")
			err := fs.parseNone(tt.args)
			switch {
			case tt.wantHelp:
				if !errors.Is(err, errHelp) {
					t.Errorf("parseNone(%q) = %v, want errHelp", tt.args, err)
				}
			case tt.wantErr == "":
				if err != nil {
					t.Errorf("parseNone(%q) = %v, want nil", tt.args, err)
				}
			default:
				var ue *usageError
				if !errors.As(err, &ue) || err.Error() != tt.wantErr {
					t.Errorf("parseNone(%q) = %v, want the usage error %q", tt.args, err, tt.wantErr)
				}
			}
		})
	}
}

func TestFlagSetParseOne(t *testing.T) {
	const want = "want exactly one file\nusage: medid x FILE [--out FILE]"
	tests := []struct {
		name    string
		args    []string
		wantArg string
		wantErr string // "" for no error
	}{
		{name: "one", args: []string{"f", "--out", "o"}, wantArg: "f"},
		{name: "one after flags", args: []string{"--out", "o", "f"}, wantArg: "f"},
		{name: "none", args: []string{"--out", "o"}, wantErr: want},
		{name: "two", args: []string{"f", "g"}, wantErr: want},
		{name: "bad flag", args: []string{"f", "--bogus"}, wantErr: "flag provided but not defined: -bogus\nusage: medid x FILE [--out FILE]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			fs := newFlagSet(&env{stderr: &stderr}, "x", "medid x FILE [--out FILE]")
			fs.String("out", "", "")
			arg, err := fs.parseOne(tt.args, "want exactly one file")
			if tt.wantErr == "" {
				if err != nil || arg != tt.wantArg {
					t.Errorf("parseOne(%q) = %q, %v; want %q, nil", tt.args, arg, err, tt.wantArg)
				}
				return
			}
			var ue *usageError
			if !errors.As(err, &ue) || err.Error() != tt.wantErr {
				t.Errorf("parseOne(%q) error = %v, want the usage error %q", tt.args, err, tt.wantErr)
			}
		})
	}
	var stderr bytes.Buffer
	fs := newFlagSet(&env{stderr: &stderr}, "x", "medid x FILE")
	if _, err := fs.parseOne([]string{"-h"}, "want exactly one file"); !errors.Is(err, errHelp) {
		t.Errorf("parseOne(-h) error = %v, want errHelp", err)
	}
}
