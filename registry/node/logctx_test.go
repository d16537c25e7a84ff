package node

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLogHandlerAddsNodeAndHeight(t *testing.T) {
	var buf bytes.Buffer
	h := NewLogHandler(slog.NewTextHandler(&buf, nil), "node2")
	l := slog.New(h).With("component", "app")
	l.Info("before the node exists")
	height := int64(41)
	h.SetHeight(func() int64 { return height })
	height++
	l.Info("a block")
	l.Info("rejected", "height", 7)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	for i, want := range []string{"node=node2 height=0", "node=node2 height=42", "height=7 node=node2"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d %q lacks %q", i, lines[i], want)
		}
	}
	if strings.Count(lines[2], "height=") != 1 {
		t.Errorf("a record with its own height got a second one: %q", lines[2])
	}
}
