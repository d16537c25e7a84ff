package loadtest

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ParseCPUList parses a CPU list as taskset -c and /sys take it ("1",
// "0,2", "0-3,6") into the sorted CPU numbers it names. Numbers must be
// below max (the CPUs this process may run on); each is named once.
func ParseCPUList(s string, max int) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("CPU list is empty: name CPUs as in taskset -c, e.g. 1 or 0,2 or 0-1")
	}
	seen := map[int]bool{}
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("CPU list %q: %q is not a CPU number or range (e.g. 1 or 0-1)", s, part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("CPU list %q: %q is not a range low-high", s, part)
			}
		}
		if b >= max {
			return nil, fmt.Errorf("CPU list %q: CPU %d is not one of the %d CPUs this process may use (0-%d)", s, b, max, max-1)
		}
		for c := a; c <= b; c++ {
			if seen[c] {
				return nil, fmt.Errorf("CPU list %q names CPU %d twice", s, c)
			}
			seen[c] = true
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// PinProcess restricts every thread of this process to cpus and sets
// GOMAXPROCS to their number (Linux). Threads the runtime starts later
// inherit the mask of the thread that starts them, which is now one of
// these.
func PinProcess(cpus []int) error {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	tasks, err := readTasks()
	if err != nil {
		return fmt.Errorf("pin to CPUs %v: %w", cpus, err)
	}
	for _, tid := range tasks {
		if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
			return fmt.Errorf("pin thread %d to CPUs %v: %w", tid, cpus, err)
		}
	}
	runtime.GOMAXPROCS(len(cpus))
	return nil
}

// Pinned returns cmd run on cpus (a taskset -c list) through taskset, or
// cmd itself when cpus is "".
func Pinned(cmd *exec.Cmd, cpus string) *exec.Cmd {
	if cpus == "" {
		return cmd
	}
	ts, err := exec.LookPath("taskset")
	if err != nil {
		ts = "/usr/bin/taskset" // the error surfaces when it runs
	}
	args := append([]string{ts, "-c", cpus}, cmd.Args...)
	// Path of the wrapped command: taskset resolves it again, so give the
	// absolute path the caller's cmd resolved.
	args[3] = cmd.Path
	cmd.Path, cmd.Args = ts, args
	return cmd
}

// readTasks lists this process's thread ids.
func readTasks() ([]int, error) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			ids = append(ids, tid)
		}
	}
	return ids, nil
}
