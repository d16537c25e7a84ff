package node

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

// TestCometLoggerWithIsLazyAndUnchanged: a CometBFT logger derived with
// With writes exactly the line slog's own With would (attributes in the
// same order, Stringers as their strings), loggers derived from one parent
// do not share attributes, and a record below the level formats nothing
// (a Stringer of a With is not called).
func TestCometLoggerWithIsLazyAndUnchanged(t *testing.T) {
	var got, want bytes.Buffer
	opts := &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	cl := newCometLogger(slog.New(slog.NewTextHandler(&got, opts)))
	base := cl.With("module", "consensus", "peer", stringer{"abc@1.2.3.4"})
	a := base.With("height", 7)
	b := base.With("height", 8, 3, "odd key")
	a.Info("entering", "round", 0)
	b.Error("failed", "err", fmt.Errorf("boom"))

	ref := slog.New(slog.NewTextHandler(&want, opts)).With("component", "cometbft").With("module", "consensus", "peer", "abc@1.2.3.4")
	ref.With("height", 7).Debug("entering", "round", 0)
	ref.With("height", 8, "3", "odd key").Warn("failed", "err", "boom")
	if got.String() != want.String() {
		t.Errorf("log lines differ:\ngot:\n%s\nwant:\n%s", got.String(), want.String())
	}

	// Below the level: no formatting at all.
	var quiet bytes.Buffer
	called := false
	ql := newCometLogger(slog.New(slog.NewTextHandler(&quiet, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ql.With("peer", panicStringer{&called}).Info("ignored")
	if called || quiet.Len() != 0 {
		t.Errorf("a record below the level formatted a With attribute (called %v) or wrote %q", called, quiet.String())
	}
	if !strings.Contains(got.String(), "level=WARN msg=failed") {
		t.Errorf("CometBFT's Error should log at slog Warn: %s", got.String())
	}
}

type panicStringer struct{ called *bool }

func (p panicStringer) String() string { *p.called = true; return "x" }
