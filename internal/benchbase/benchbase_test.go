package benchbase

import (
	"os"
	"testing"
	"time"
)

func TestEd25519VerifyRate(t *testing.T) {
	if r := Ed25519VerifyRate(20 * time.Millisecond); r <= 0 {
		t.Fatalf("rate = %v, want > 0", r)
	}
}

func TestReadPidStat(t *testing.T) {
	before, err := ReadPidStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn some CPU and touch fresh memory.
	buf := make([]byte, 8<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	// The kernel counts CPU in clock ticks (10 ms here), so a short burst can
	// fall inside one tick: verify until the count moves, for at most 10 s of
	// wall time (a few hundred ms of work on any machine this runs on).
	var after PidStat
	deadline := time.Now().Add(10 * time.Second)
	for {
		Ed25519VerifyCPU(1, 200)
		after, err = ReadPidStat(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if after.User+after.System > before.User+before.System || time.Now().After(deadline) {
			break
		}
	}
	if after.User+after.System <= before.User+before.System {
		t.Errorf("CPU did not grow in 10 s of signature checks: %+v then %+v", before, after)
	}
	if after.MinorFaults <= before.MinorFaults {
		t.Errorf("minor faults did not grow after touching 8 MiB: %+v then %+v", before, after)
	}
	total, err := PidCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if total < after.User+after.System {
		t.Errorf("PidCPU %v < user %v + system %v read before it", total, after.User, after.System)
	}
	if _, err := ReadPidStat(-1); err == nil {
		t.Error("ReadPidStat(-1): no error")
	}
}
