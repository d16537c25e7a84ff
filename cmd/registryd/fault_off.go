//go:build !faultinject

package main

// trailFault returns the vault's trail fault hook: none in a normal build.
// A build with -tags faultinject (crash tests only) kills the process at a
// chosen step of a trail flush; see fault_on.go.
func trailFault() func(step string) { return nil }

// trailCompactAbove returns the vault's trail compaction threshold: the
// default in a normal build.
func trailCompactAbove() int64 { return 0 }
