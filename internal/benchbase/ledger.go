package benchbase

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Ed25519VerifyCPU returns the CPU time one bare crypto/ed25519.Verify
// takes on this machine right now: the median of rounds rounds of n
// verifications each, timed with the calling OS thread's CPU clock (the
// goroutine is locked to its thread meanwhile). Thread CPU time is what
// other processes' load distorts least, so a benchmark that divides its
// own CPU time per transaction by this figure ("sig-equivalents") reports
// a number that carries over between machines of different speed and
// load. It panics if the baseline signature does not verify.
func Ed25519VerifyCPU(rounds, n int) time.Duration {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 600) // about the signing input of a did.create
	sig := ed25519.Sign(priv, msg)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	per := make([]time.Duration, 0, rounds)
	for range max(rounds, 1) {
		c0 := threadCPU()
		for range max(n, 1) {
			if !ed25519.Verify(pub, msg, sig) {
				panic("benchbase: baseline signature did not verify")
			}
		}
		per = append(per, (threadCPU()-c0)/time.Duration(max(n, 1)))
	}
	slices.Sort(per)
	return per[len(per)/2]
}

// threadCPU is the calling OS thread's CPU time so far.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(fmt.Sprintf("benchbase: thread CPU clock: %v", err))
	}
	return time.Duration(ts.Nano())
}

// ProcessCPU returns the CPU time (user + system) this process has used so
// far, all threads together.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PidCPU returns the CPU time (user + system) process pid has used so far,
// from /proc/<pid>/stat. It fails for a process that has exited or where
// /proc is not Linux's.
func PidCPU(pid int) (time.Duration, error) {
	st, err := ReadPidStat(pid)
	return st.User + st.System, err
}

// PidStat is what /proc/<pid>/stat says a process has used so far.
type PidStat struct {
	// User and System are its CPU time in user space and in the kernel
	// on its behalf (system calls, page faults).
	User, System time.Duration
	// MinorFaults counts page faults served without I/O: on a Go process
	// mostly the first touch of memory its heap grows into, each page
	// zeroed by the kernel (docs/design/0022, sixth round).
	MinorFaults int64
}

// ReadPidStat reads process pid's [PidStat] from /proc/<pid>/stat. It
// fails for a process that has exited or where /proc is not Linux's.
func ReadPidStat(pid int) (PidStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return PidStat{}, err
	}
	// The command name (field 2) may hold spaces and parentheses: the
	// fields that follow start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return PidStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); minflt is field 10, utime and stime are
	// fields 14 and 15.
	if len(f) < 13 {
		return PidStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	flt, err0 := strconv.ParseInt(f[7], 10, 64)
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err0, err1, err2); err != nil {
		return PidStat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return PidStat{User: time.Duration(ut) * time.Second / clockTicks, System: time.Duration(st) * time.Second / clockTicks, MinorFaults: flt}, nil
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// Load is the machine's load average (/proc/loadavg): runnable and
// uninterruptible tasks averaged over 1, 5 and 15 minutes.
type Load struct{ One, Five, Fifteen float64 }

// String formats l as uptime does.
func (l Load) String() string { return fmt.Sprintf("%.2f, %.2f, %.2f", l.One, l.Five, l.Fifteen) }

// LoadAvg reads the machine's load average from /proc/loadavg.
func LoadAvg() (Load, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return Load{}, err
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return Load{}, fmt.Errorf("/proc/loadavg: %q", b)
	}
	var l Load
	var errs [3]error
	l.One, errs[0] = strconv.ParseFloat(f[0], 64)
	l.Five, errs[1] = strconv.ParseFloat(f[1], 64)
	l.Fifteen, errs[2] = strconv.ParseFloat(f[2], 64)
	if err := errors.Join(errs[:]...); err != nil {
		return Load{}, fmt.Errorf("/proc/loadavg: %w", err)
	}
	return l, nil
}
