package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/node"
)

// storeOpts are the flags for the state's snapshots and pruning; unset ones
// come from the home's settings (registryd.json "app"), then the machine's
// defaults.
type storeOpts struct {
	snapshotInterval *int64
	snapshotKeep     *int
	keepVersions     *int64
	keepBlocks       *int64
	nodeCache        *int
	leafCacheMB      *int
}

func storeFlags(fs *flag.FlagSet) *storeOpts {
	return &storeOpts{
		snapshotInterval: fs.Int64("snapshot-interval", 0, "write a state sync snapshot every N blocks, -1 for none (default: settings, else 1000)"),
		snapshotKeep:     fs.Int("snapshot-keep", 0, "snapshots to keep (default: settings, else 2)"),
		keepVersions:     fs.Int64("keep-versions", 0, "recent state versions kept for reads at older heights, -1 for all (default: settings, else 100)"),
		keepBlocks:       fs.Int64("keep-blocks", 0, "prune blocks older than N below the newest, never above the oldest snapshot; 0 keeps all (default: settings, else 0)"),
		nodeCache:        fs.Int("node-cache", 0, "state tree nodes kept in memory (default: settings, else 400000)"),
		leafCacheMB:      fs.Int("leaf-cache-mb", 0, "MiB of DID records kept in memory for resolution (state layout 2), -1 for none (default: settings, else 768)"),
	}
}

// config builds the machine's configuration from s (the home's settings)
// overridden by the flags that were given.
func (o *storeOpts) config(s node.AppSettings, dir string, logger *slog.Logger) machine.Config {
	c := machine.Config{Dir: dir, Logger: logger,
		SnapshotInterval: s.SnapshotInterval, SnapshotKeep: s.SnapshotKeep, KeepVersions: s.KeepVersions, KeepBlocks: s.KeepBlocks, NodeCacheSize: s.NodeCacheSize}
	mb := s.LeafCacheMB
	if *o.leafCacheMB != 0 {
		mb = *o.leafCacheMB
	}
	switch {
	case mb < 0:
		c.LeafCacheBytes = -1
	case mb > 0:
		c.LeafCacheBytes = mb << 20
	}
	if *o.snapshotInterval != 0 {
		c.SnapshotInterval = *o.snapshotInterval
	}
	if *o.snapshotKeep != 0 {
		c.SnapshotKeep = *o.snapshotKeep
	}
	if *o.keepVersions != 0 {
		c.KeepVersions = *o.keepVersions
	}
	if *o.keepBlocks != 0 {
		c.KeepBlocks = *o.keepBlocks
	}
	if *o.nodeCache > 0 {
		c.NodeCacheSize = *o.nodeCache
	}
	return c
}

// runValidatorKey prints the consensus public key of a node (what a
// validator.add proposal names) and its address.
func runValidatorKey(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("registryd validator-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	home := fs.String("home", defaultHome(), "node home folder")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	pub, addr, err := node.ValidatorKey(*home)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s\n", pub, addr)
	return nil
}
