//go:build faultinject

package main

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// trailFault, in a crash-test build only, reads MEDID_TRAIL_KILL_AT=STEP:N
// and kills this process with SIGKILL the Nth time a trail flush reaches
// STEP ("cut", "anchored", "confirmed", "truncated"): the crash lands
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
