package node

import (
	"os"
	"runtime/debug"
)

// DefaultGCPercent is the garbage collector target (GOGC) registryd runs
// with unless the GOGC environment variable is set. A node allocates a
// little for every transaction it checks and executes while its live heap
// (caches, mempool) stays small, so Go's default of 100 collects many
// times a second under load: 13% of a loaded node's CPU went to the
// collector (BENCHMARKS.md). At 400 the heap may grow to five times the live
// heap between collections (hundreds of MB for a busy node) in exchange.
const DefaultGCPercent = 400

// SetGCDefault applies DefaultGCPercent unless GOGC is set in the
// environment (an operator's choice wins). registryd calls it at start, and
// the node benchmarks do too, so they measure what registryd runs.
func SetGCDefault() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
	}
}
