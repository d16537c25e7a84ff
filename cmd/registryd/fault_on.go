//go:build faultinject

package main

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// trailCompactAbove, in a crash-test build only, reads
// MEDID_TRAIL_COMPACT_ABOVE (bytes): a low value makes the trail compact its
// write-ahead file at almost every flush, so that a short test reaches the
// compaction's steps.
func trailCompactAbove() int64 {
	n, _ := strconv.ParseInt(os.Getenv("MEDID_TRAIL_COMPACT_ABOVE"), 10, 64)
	return max(n, 0)
}

// trailFault, in a crash-test build only, reads MEDID_TRAIL_KILL_AT=STEP:N
// and kills this process with SIGKILL the Nth time a trail flush reaches
// STEP ("cut", "anchored", "confirmed", "truncated", "compact-written",
// "compacted"): the crash lands
// exactly between two writes, as no timer could place it.
func trailFault() func(step string) {
	spec := os.Getenv("MEDID_TRAIL_KILL_AT")
	step, ns, ok := strings.Cut(spec, ":")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil || n < 1 {
		return nil
	}
	var mu sync.Mutex
	seen := 0
	return func(s string) {
		if s != step {
			return
		}
		mu.Lock()
		seen++
		hit := seen == n
		mu.Unlock()
		if hit {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // never returns: the kernel ends the process
		}
	}
}
