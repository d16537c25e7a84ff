package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDiskGuardQuota(t *testing.T) {
	dir := t.TempDir()
	g := &DiskGuard{Path: dir, Quota: 10 << 20, MinFree: 4 << 20, StopBelow: 2 << 20}
	if err := g.Check(context.Background()); err != nil {
		t.Fatalf("empty home under a 10 MiB quota: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ballast"), make([]byte, 7<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := g.Check(context.Background()); !errors.Is(err, ErrDiskLow) {
		t.Fatalf("3 MiB free of a 4 MiB minimum: %v, want ErrDiskLow", err)
	}
	stopped := make(chan string, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go g.Watch(ctx, 10*time.Millisecond, func(r string) { stopped <- r })
	select {
	case r := <-stopped:
		t.Fatalf("stopped with 3 MiB free (stop below 2): %s", r)
	case <-time.After(100 * time.Millisecond):
	}
	if err := os.WriteFile(filepath.Join(dir, "more"), make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	case <-ctx.Done():
		t.Fatal("the guard did not stop the node with 1 MiB free")
	}
}

func TestDiskGuardStatfs(t *testing.T) {
	g := &DiskGuard{Path: t.TempDir()}
	free, err := g.Free()
	if err != nil || free <= 0 {
		t.Fatalf("Free() = %d, %v", free, err)
	}
	g.MinFree = free * 4
	if err := g.Check(context.Background()); !errors.Is(err, ErrDiskLow) {
		t.Fatalf("minimum above the free space: %v", err)
	}
}
