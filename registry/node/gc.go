package node

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
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

// DefaultMemoryRatio is the share of the node's memory (its cgroup's limit,
// else the machine's) that registryd gives the Go runtime as a soft limit
// (GOMEMLIMIT) unless GOMEMLIMIT or AUTOMEMLIMIT is set. GOGC 400 lets the
// heap reach five times what is live; as the caches fill (LevelDB's blocks,
// the node cache) that can exceed the machine, and the kernel would kill
// the validator. Under the limit the collector runs more often instead.
// The rest is for what the runtime does not count: the leaf cache when it
// lives outside the Go heap, thread stacks, the page cache LevelDB reads
// through (docs/operations.md, "Memory").
const DefaultMemoryRatio = 0.75

// SetMemoryDefault sets the Go runtime's soft memory limit to
// DefaultMemoryRatio of the memory the node may use (its cgroup's limit,
// else the machine's), unless the operator set GOMEMLIMIT (a size) or
// AUTOMEMLIMIT ("off", or a ratio in (0, 1] that replaces the default);
// it logs the limit it set and returns it (0: none set by it).
func SetMemoryDefault(log *slog.Logger) (int64, error) {
	if os.Getenv("GOMEMLIMIT") != "" || os.Getenv("AUTOMEMLIMIT") == "off" {
		return 0, nil
	}
	limit, err := memlimit.Set(
		memlimit.WithRatio(DefaultMemoryRatio),
		memlimit.WithProvider(memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem)),
	)
	if err != nil {
		return 0, fmt.Errorf("set the Go runtime's memory limit (AUTOMEMLIMIT must be off or a ratio in (0, 1], or set GOMEMLIMIT to a size such as 6GiB): %w", err)
	}
	if limit <= 0 || limit == math.MaxInt64 {
		return 0, nil
	}
	log.Info("memory limit for the Go runtime (set GOMEMLIMIT to a size, or AUTOMEMLIMIT to a ratio or off, to choose)", "MiB", limit>>20)
	return limit, nil
}
