package node

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// LogHandler puts the node's name and its latest committed height on every
// log line (node=… height=…), so the lines of several hospitals' nodes can
// be merged and read against the chain. A record that carries its own
// height (a rejected transaction names the block it was in) keeps it.
// Safe for concurrent use.
type LogHandler struct {
	next   slog.Handler
	node   *atomic.Pointer[string]
	height *atomic.Pointer[func() int64]
}

// NewLogHandler wraps next for the node called name. Until
// [LogHandler.SetHeight] is called the height is 0.
func NewLogHandler(next slog.Handler, name string) *LogHandler {
	h := &LogHandler{next: next, node: new(atomic.Pointer[string]), height: new(atomic.Pointer[func() int64])}
	h.SetName(name)
	return h
}

// SetName renames the node on the lines logged from now on (every handler
// derived from h).
func (h *LogHandler) SetName(name string) { h.node.Store(&name) }

// SetHeight sets where the height comes from (e.g. Node.Height once the
// node exists); it applies to every handler derived from h.
func (h *LogHandler) SetHeight(f func() int64) { h.height.Store(&f) }

// Enabled reports whether the wrapped handler handles level.
func (h *LogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds node and height to r and passes it on.
func (h *LogHandler) Handle(ctx context.Context, r slog.Record) error {
	var height int64
	if f := h.height.Load(); f != nil {
		height = (*f)()
	}
	own := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "height" {
			own = true
			return false
		}
		return true
	})
	r = r.Clone()
	name := *h.node.Load()
	if own {
		r.AddAttrs(slog.String("node", name))
	} else {
		r.AddAttrs(slog.String("node", name), slog.Int64("height", height))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a handler that also adds attrs.
func (h *LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &LogHandler{next: h.next.WithAttrs(attrs), node: h.node, height: h.height}
}

// WithGroup returns a handler that nests what follows in group name.
func (h *LogHandler) WithGroup(name string) slog.Handler {
	return &LogHandler{next: h.next.WithGroup(name), node: h.node, height: h.height}
}
