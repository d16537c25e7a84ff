package wallet

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCrashLosesNothingAcknowledged runs a child process that writes
// records as fast as it can and reports each one after Put returns, kills
// it with SIGKILL mid-stream, and checks every acknowledged record is in
// the file. (A killed process keeps the OS page cache, so this checks
// bbolt's commit protocol and our acknowledgement order, not power loss;
// power loss is covered by the fsync bbolt does before Put returns.)
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	if dir := os.Getenv("MEDID_WALLET_CRASH_CHILD"); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashLosesNothingAcknowledged$")
	cmd.Env = append(os.Environ(), "MEDID_WALLET_CRASH_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := -1
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(20 * time.Second)
	for sc.Scan() {
		n, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			continue
		}
		acked, _ = strconv.Atoi(n)
		if acked >= 40 || time.Now().After(deadline) {
			break
		}
	}
	cmd.Process.Kill() // SIGKILL: no deferred code, no Close
	cmd.Wait()
	if acked < 0 {
		t.Fatal("child acknowledged nothing")
	}
	st, err := OpenBoltStore(filepath.Join(dir, FileName), false)
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer st.Close()
	for i := 0; i <= acked; i++ {
		if v, err := st.Get("crash", fmt.Appendf(nil, "%06d", i)); err != nil || len(v) != 4096 {
			t.Errorf("acknowledged record %d lost after the crash: %v", i, err)
		}
	}
	t.Logf("%d records acknowledged before the kill; all present", acked+1)
}

func crashChild(dir string) {
	st, err := OpenBoltStore(filepath.Join(dir, FileName), true)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	val := make([]byte, 4096)
	for i := 0; ; i++ {
		if err := st.Put("crash", fmt.Appendf(nil, "%06d", i), val); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Printf("ack %d\n", i)
	}
}
