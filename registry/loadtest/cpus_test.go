package loadtest

import (
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseCPUList(t *testing.T) {
	for _, c := range []struct {
		in      string
		max     int
		want    []int
		wantErr string
	}{
		{"1", 2, []int{1}, ""},
		{"0,1", 2, []int{0, 1}, ""},
		{"0-3,6", 8, []int{0, 1, 2, 3, 6}, ""},
		{" 2 , 0 ", 4, []int{2, 0}, ""},
		{"", 2, nil, "empty"},
		{"x", 2, nil, "not a CPU number"},
		{"-1", 2, nil, "not a CPU number"},
		{"1-0", 2, nil, "not a range"},
		{"0-x", 2, nil, "not a range"},
		{"2", 2, nil, "not one of the 2 CPUs"},
		{"0-2", 2, nil, "not one of the"},
		{"0,0", 2, nil, "twice"},
		{"0-1,1", 2, nil, "twice"},
	} {
		got, err := ParseCPUList(c.in, c.max)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseCPUList(%q, %d) = %v, %v; want error containing %q", c.in, c.max, got, err, c.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseCPUList(%q, %d) = %v, %v; want %v", c.in, c.max, got, err, c.want)
		}
	}
}

// TestPinned: the wrapped command runs under taskset on the CPUs named,
// and reports that mask itself.
func TestPinned(t *testing.T) {
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("no taskset on this machine")
	}
	cmd := Pinned(exec.Command("sh", "-c", "grep Cpus_allowed_list /proc/self/status"), "0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if f := strings.Fields(string(out)); len(f) != 2 || f[1] != "0" {
		t.Fatalf("pinned command's CPUs: %q, want 0", out)
	}
	if c := Pinned(exec.Command("true"), ""); len(c.Args) != 1 {
		t.Fatalf("no CPUs: command changed to %v", c.Args)
	}
}

// TestPinProcess: after PinProcess every thread of the process is on the
// CPU named and GOMAXPROCS is 1; the test puts the mask back after.
func TestPinProcess(t *testing.T) {
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		t.Skip(err)
	}
	procs := runtime.GOMAXPROCS(0)
	defer func() {
		var set unix.CPUSet
		for c := 0; c < 1024; c++ {
			if orig.IsSet(c) {
				set.Set(c)
			}
		}
		tasks, _ := readTasks()
		for _, tid := range tasks {
			unix.SchedSetaffinity(tid, &set)
		}
		runtime.GOMAXPROCS(procs)
	}()
	cpu := -1
	for c := 0; c < 1024 && cpu < 0; c++ {
		if orig.IsSet(c) {
			cpu = c
		}
	}
	if err := PinProcess([]int{cpu}); err != nil {
		t.Fatal(err)
	}
	if runtime.GOMAXPROCS(0) != 1 {
		t.Fatalf("GOMAXPROCS %d after pinning to one CPU", runtime.GOMAXPROCS(0))
	}
	tasks, err := readTasks()
	if err != nil {
		t.Fatal(err)
	}
	for _, tid := range tasks {
		var set unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &set); err != nil {
			continue // the thread ended
		}
		if set.Count() != 1 || !set.IsSet(cpu) {
			t.Errorf("thread %d runs on %d CPUs after pinning to CPU %d", tid, set.Count(), cpu)
		}
	}
}
