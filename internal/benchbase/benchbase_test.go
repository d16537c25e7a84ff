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
	Ed25519VerifyCPU(1, 200)
	after, err := ReadPidStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after.User+after.System <= before.User+before.System {
		t.Errorf("CPU did not grow: %+v then %+v", before, after)
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
