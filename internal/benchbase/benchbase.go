// Package benchbase measures the baselines that medid's benchmarks report
// their ratios against, in the same run, so the ratio stays meaningful on a
// shared machine whose absolute speed drifts.
package benchbase

import (
	"crypto/ed25519"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Ed25519VerifyRate returns how many ed25519.Verify calls per second this
// machine does right now, using every CPU (GOMAXPROCS goroutines) for about
// d. Benchmarks that use all CPUs divide their own rate by this one.
func Ed25519VerifyRate(d time.Duration) float64 {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 600) // about the signing input of a small vc+jwt
	sig := ed25519.Sign(priv, msg)
	var n atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if !ed25519.Verify(pub, msg, sig) {
					panic("benchbase: baseline signature did not verify")
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}
