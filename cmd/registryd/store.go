package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"

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
	nodeCache        *nodeCacheFlag
	leafCacheMB      *int
}

// nodeCacheFlag is --node-cache: a number of nodes, or "auto" (a share of
// the Go runtime's soft memory limit, machine.NodeCacheFor).
type nodeCacheFlag struct {
	nodes int // 0: not given
	auto  bool
}

func (f *nodeCacheFlag) String() string {
	if f == nil || (!f.auto && f.nodes == 0) {
		return ""
	}
	if f.auto {
		return "auto"
	}
	return strconv.Itoa(f.nodes)
}

func (f *nodeCacheFlag) Set(s string) error {
	if s == "auto" {
		*f = nodeCacheFlag{auto: true}
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q: want auto or a positive number of nodes", s)
	}
	*f = nodeCacheFlag{nodes: n}
	return nil
}

// autoNodeCache in the settings' nodeCacheSize means --node-cache auto.
const autoNodeCache = -1

func storeFlags(fs *flag.FlagSet) *storeOpts {
	nodeCache := new(nodeCacheFlag)
	fs.Var(nodeCache, "node-cache", "state tree nodes kept in memory, or auto: a third of the Go runtime's soft memory limit at ~600 bytes a node (default: settings, else 400000)")
	return &storeOpts{
		nodeCache:        nodeCache,
		snapshotInterval: fs.Int64("snapshot-interval", 0, "write a state sync snapshot every N blocks, -1 for none (default: settings, else 1000)"),
		snapshotKeep:     fs.Int("snapshot-keep", 0, "snapshots to keep (default: settings, else 2)"),
		keepVersions:     fs.Int64("keep-versions", 0, "recent state versions kept for reads at older heights, -1 for all (default: settings, else 100)"),
		keepBlocks:       fs.Int64("keep-blocks", 0, "prune blocks older than N below the newest, never above the oldest snapshot; 0 keeps all (default: settings, else 0)"),
		leafCacheMB:      fs.Int("leaf-cache-mb", 0, "MiB of DID records kept in memory for resolution (state layout 2), -1 for none (default: settings, else 768)"),
	}
}

// config builds the machine's configuration from s (the home's settings)
// overridden by the flags that were given; memLimit is the Go runtime's
// soft memory limit, which an automatically sized node cache takes its
// share of.
func (o *storeOpts) config(s node.AppSettings, dir string, logger *slog.Logger, memLimit int64) machine.Config {
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
	switch {
	case o.nodeCache.auto:
		c.NodeCacheSize = autoNodeCache
	case o.nodeCache.nodes > 0:
		c.NodeCacheSize = o.nodeCache.nodes
	}
	if c.NodeCacheSize == autoNodeCache {
		// The cache of the blocks' writes takes the share; the reads of
		// committed versions keep the fixed default (their cache fills
		// only as far as reads reach, and writes never read through it).
		c.NodeCacheSize = machine.NodeCacheFor(memLimit)
		c.ReaderNodeCacheSize = machine.DefaultNodeCacheSize
		if logger != nil {
			logger.Info("node cache sized from the memory limit", "nodes", c.NodeCacheSize, "MiB", int64(c.NodeCacheSize)*machine.NodeBytes>>20, "limitMiB", memLimit>>20)
		}
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
