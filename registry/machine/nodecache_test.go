package machine

import (
	"math"
	"testing"
)

// TestNodeCacheFor: an automatically sized node cache is NodeCacheShare of
// the soft memory limit at NodeBytes per node, never below the
// fixed default, and the default when there is no limit.
func TestNodeCacheFor(t *testing.T) {
	const gib = 1 << 30
	for _, c := range []struct {
		name  string
		limit int64
		want  int
	}{
		{"no limit (MaxInt64)", math.MaxInt64, DefaultNodeCacheSize},
		{"no limit (0)", 0, DefaultNodeCacheSize},
		{"a small machine: the default is the floor", 512 << 20, DefaultNodeCacheSize},
		{"6 GiB (a machine of 8 GiB at 75%)", 6 * gib, 3_579_139},
		{"12 GiB (16 GiB at 75%)", 12 * gib, 7_158_278},
		{"24 GiB (32 GiB at 75%)", 24 * gib, 14_316_557},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := NodeCacheFor(c.limit); got != c.want {
				t.Errorf("NodeCacheFor(%d) = %d, want %d", c.limit, got, c.want)
			}
		})
	}
}
