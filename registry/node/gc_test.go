package node

import (
	"bytes"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// TestSetMemoryDefault: registryd's soft memory limit is DefaultMemoryRatio
// of the node's memory unless the operator chose (GOMEMLIMIT, AUTOMEMLIMIT),
// and a bad AUTOMEMLIMIT is an error that leaves the runtime's limit alone.
func TestSetMemoryDefault(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	memory, err := memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem)()
	if err != nil || memory == 0 {
		t.Skipf("this machine reports no memory size: %v", err)
	}
	for _, c := range []struct {
		name, gomemlimit, automemlimit string
		want                           int64 // 0: the runtime's limit is left as it was
		err                            string
	}{
		{"default", "", "", int64(float64(memory) * DefaultMemoryRatio), ""},
		{"a ratio of the operator's", "", "0.5", int64(float64(memory) * 0.5), ""},
		{"the operator's GOMEMLIMIT", "3GiB", "", 0, ""},
		{"off", "", "off", 0, ""},
		{"a ratio that is not a number", "", "half", 0, "AUTOMEMLIMIT must be off or a ratio"},
		{"a ratio above 1", "", "1.5", 0, "AUTOMEMLIMIT must be off or a ratio"},
		{"a ratio of 0", "", "0", 0, "AUTOMEMLIMIT must be off or a ratio"},
	} {
		t.Run(c.name, func(t *testing.T) {
			debug.SetMemoryLimit(math.MaxInt64)
			t.Setenv("GOMEMLIMIT", c.gomemlimit)
			t.Setenv("AUTOMEMLIMIT", c.automemlimit)
			if c.automemlimit == "" {
				// Unset, not empty (t.Setenv above restores it after).
				unsetenv(t, "AUTOMEMLIMIT")
			}
			var logs bytes.Buffer
			got, err := SetMemoryDefault(slog.New(slog.NewTextHandler(&logs, nil)))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one saying %q", err, c.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			now := debug.SetMemoryLimit(-1)
			if c.want == 0 {
				if got != 0 || now != math.MaxInt64 || logs.Len() != 0 {
					t.Fatalf("returned %d, runtime limit %d, logged %q; want the limit left alone, nothing logged", got, now, logs.String())
				}
				return
			}
			if got != c.want || now != c.want {
				t.Fatalf("returned %d, runtime limit %d; want %d", got, now, c.want)
			}
			if !strings.Contains(logs.String(), "memory limit for the Go runtime") {
				t.Fatalf("the limit set is not logged: %q", logs.String())
			}
		})
	}
}

func unsetenv(t *testing.T, key string) {
	t.Helper()
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
}
