//go:build unix

package node

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// heldSlots are the lock files of the port slots this process reserved
// (reserveSlots): open, and so locked, until the process exits.
var (
	heldMu    sync.Mutex
	heldSlots []*os.File
)

// reserveSlots takes, for the rest of this process's life, an exclusive
// lock on each of the n ten-port slots from base (one per node: its peer,
// HTTP and RPC ports), in a folder every process on the machine shares,
// so that no other caller of [FreeBasePort] in this or another process
// picks an overlapping range before the nodes have bound their ports
// (checking that ports are free does not stop another test network from
// checking the same ports a moment later). It reports false, holding
// nothing, if another process holds any of them. If the folder cannot be
// used, it reserves nothing and reports true: the ports are still checked.
func reserveSlots(base, n int) bool {
	dir := filepath.Join(os.TempDir(), "medid-testnet-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return true
	}
	var got []*os.File
	release := func() {
		for _, f := range got {
			f.Close()
		}
	}
	for i := range n {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%d.lock", base+10*i)), os.O_RDWR|os.O_CREATE, 0o666)
		if err != nil {
			release()
			return true
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			release()
			return false
		}
		got = append(got, f)
	}
	heldMu.Lock()
	heldSlots = append(heldSlots, got...)
	heldMu.Unlock()
	return true
}
