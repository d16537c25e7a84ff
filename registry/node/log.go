package node

import (
	"context"
	"fmt"
	"log/slog"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// cometLogger routes CometBFT's logs to slog one level down: CometBFT logs
// every block and peer event at Info and many benign conditions (a peer
// hanging up) at Error, so its Info becomes slog Debug and its Error slog
// Warn. The operator's slog level then decides what is shown.
//
// With does not format anything: CometBFT derives loggers all the time
// (per peer, per vote, per consensus step) and nearly all of them only
// ever log below the operator's level. Formatting each With eagerly
// (slog's handlers pre-format attributes, and peers and votes were turned
// into strings) cost about 1.4% of a loaded validator's CPU
// (BENCHMARKS.md, issue 19). The attributes are kept as given and formatted
// only for a record that is emitted, in the order slog's own With would
// put them.
type cometLogger struct {
	l *slog.Logger
	// with holds the key/value pairs of the With calls since l, in order.
	with []any
}

func newCometLogger(l *slog.Logger) cmtlog.Logger {
	return cometLogger{l: l.With("component", "cometbft")}
}

func (c cometLogger) log(level slog.Level, msg string, keyvals []any) {
	ctx := context.Background()
	if !c.l.Enabled(ctx, level) {
		return
	}
	l := c.l
	if len(c.with) > 0 {
		l = l.With(attrs(c.with)...)
	}
	l.Log(ctx, level, msg, attrs(keyvals)...)
}

func (c cometLogger) Debug(msg string, keyvals ...any) { c.log(slog.LevelDebug-4, msg, keyvals) }
func (c cometLogger) Info(msg string, keyvals ...any)  { c.log(slog.LevelDebug, msg, keyvals) }
func (c cometLogger) Warn(msg string, keyvals ...any)  { c.log(slog.LevelWarn, msg, keyvals) }
func (c cometLogger) Error(msg string, keyvals ...any) { c.log(slog.LevelWarn, msg, keyvals) }

func (c cometLogger) With(keyvals ...any) cmtlog.Logger {
	// A new slice: loggers derived from c must not share appends.
	with := make([]any, 0, len(c.with)+len(keyvals))
	return cometLogger{l: c.l, with: append(append(with, c.with...), keyvals...)}
}

// attrs turns CometBFT's alternating key/value list into slog attributes;
// values are formatted lazily by slog only when the record is emitted.
func attrs(keyvals []any) []any {
	out := make([]any, 0, len(keyvals)/2)
	for i := 0; i+1 < len(keyvals); i += 2 {
		k, ok := keyvals[i].(string)
		if !ok {
			k = fmt.Sprint(keyvals[i])
		}
		v := keyvals[i+1]
		if s, ok := v.(fmt.Stringer); ok {
			v = s.String()
		}
		out = append(out, slog.Any(k, v))
	}
	return out
}
