package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"
	"time"
)

// ErrDiskLow is returned (wrapped) by [DiskGuard.Check] when the node's
// file system has less free space than its minimum.
var ErrDiskLow = errors.New("disk space low")

// DiskGuard watches the free space of the file system that holds a node's
// home. Below MinFree the node is not ready (GET /readyz fails, so load
// balancers send clients elsewhere) but keeps validating; below StopBelow
// the node should stop cleanly (see [DiskGuard.Watch]) rather than let
// CometBFT's write-ahead log or LevelDB hit a full disk mid-write. A
// restart after space is freed catches up from peers.
type DiskGuard struct {
	// Path is the node's home folder.
	Path string
	// MinFree is the free space (bytes) below which the node is not ready.
	MinFree int64
	// StopBelow is the free space (bytes) below which Watch stops the node
	// (0: never).
	StopBelow int64
	// Quota, when positive, makes the guard count Path as a file system of
	// this many bytes holding Path only: free = Quota - bytes under Path.
	// For a node sharing a volume with other services, or a test without a
	// file system of its own.
	Quota int64
}

// Free returns the free bytes the guard counts.
func (g *DiskGuard) Free() (int64, error) {
	if g.Quota > 0 {
		var used int64
		err := filepath.WalkDir(g.Path, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // removed while walking
				}
				return err
			}
			if d.Type().IsRegular() {
				if fi, err := d.Info(); err == nil {
					used += fi.Size()
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		return g.Quota - used, nil
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(g.Path, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", g.Path, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// Check returns nil when at least MinFree bytes are free, else an error
// wrapping ErrDiskLow that says how much is left.
func (g *DiskGuard) Check(context.Context) error {
	free, err := g.Free()
	if err != nil {
		return err
	}
	if free < g.MinFree {
		return fmt.Errorf("%w: %d MiB free under %s, want at least %d MiB", ErrDiskLow, free>>20, g.Path, g.MinFree>>20)
	}
	return nil
}

// Watch checks the free space every interval until ctx ends, and calls
// stop once (with the reason) when it falls below StopBelow.
func (g *DiskGuard) Watch(ctx context.Context, every time.Duration, stop func(reason string)) {
	if g.StopBelow <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		free, err := g.Free()
		if err == nil && free < g.StopBelow {
			stop(fmt.Sprintf("%d MiB free under %s, below the %d MiB the node needs to write safely: free space, then restart it", free>>20, g.Path, g.StopBelow>>20))
			return
		}
	}
}
