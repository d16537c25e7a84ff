//go:build !linux

package verify

import "time"

// threadCPU is unavailable here; benchmarks report wall-clock ratios only.
func threadCPU() (time.Duration, bool) { return 0, false }

func lockThread() func() { return func() {} }
