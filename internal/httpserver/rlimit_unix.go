//go:build linux || darwin

package httpserver

import "syscall"

// maxCount bounds an "unlimited" descriptor limit to a number we can add to.
const maxCount = 1 << 24

func clamp(v uint64) int {
	if v > maxCount {
		return maxCount
	}
	return int(v)
}

// raiseNoFile raises the RLIMIT_NOFILE soft limit to the hard limit (where
// the system allows it; macOS caps it lower) and returns both.
func raiseNoFile() (soft, hard int, raised bool, err error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, 0, false, err
	}
	if r.Cur < r.Max {
		n := r
		n.Cur = r.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n) == nil {
			r.Cur, raised = n.Cur, true
		}
	}
	return clamp(r.Cur), clamp(r.Max), raised, nil
}
