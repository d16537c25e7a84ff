package main

import (
	"cmp"
	"flag"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/node"
)

// TestStoreConfig checks that the state settings reach the machine: a flag
// wins over the home's settings, and an unset one leaves the settings' value
// (0 there: the machine's default).
func TestStoreConfig(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		settings node.AppSettings
		memLimit int64 // the Go runtime's soft limit (0: math.MaxInt64, none)
		want     machine.Config
		err      string // a flag error saying this
	}{
		{name: "defaults", want: machine.Config{}},
		{name: "settings", settings: node.AppSettings{KeepVersions: 7, KeepBlocks: 9, NodeCacheSize: 123},
			want: machine.Config{KeepVersions: 7, KeepBlocks: 9, NodeCacheSize: 123}},
		{name: "flags win", args: []string{"--node-cache", "500", "--keep-versions", "-1"},
			settings: node.AppSettings{KeepVersions: 7, NodeCacheSize: 123},
			want:     machine.Config{KeepVersions: -1, NodeCacheSize: 500}},
		{name: "snapshots", args: []string{"--snapshot-interval", "-1"}, settings: node.AppSettings{SnapshotKeep: 3},
			want: machine.Config{SnapshotInterval: -1, SnapshotKeep: 3}},
		{name: "leaf cache from settings", settings: node.AppSettings{LeafCacheMB: 64},
			want: machine.Config{LeafCacheBytes: 64 << 20}},
		{name: "leaf cache flag wins", args: []string{"--leaf-cache-mb", "-1"}, settings: node.AppSettings{LeafCacheMB: 64},
			want: machine.Config{LeafCacheBytes: -1}},
		{name: "node cache auto from the flag", args: []string{"--node-cache", "auto"}, settings: node.AppSettings{NodeCacheSize: 123}, memLimit: 6 << 30,
			want: machine.Config{NodeCacheSize: machine.NodeCacheFor(6 << 30), ReaderNodeCacheSize: machine.DefaultNodeCacheSize}},
		{name: "node cache auto from the settings", settings: node.AppSettings{NodeCacheSize: -1}, memLimit: 12 << 30,
			want: machine.Config{NodeCacheSize: machine.NodeCacheFor(12 << 30), ReaderNodeCacheSize: machine.DefaultNodeCacheSize}},
		{name: "node cache auto without a limit", args: []string{"--node-cache", "auto"},
			want: machine.Config{NodeCacheSize: machine.DefaultNodeCacheSize, ReaderNodeCacheSize: machine.DefaultNodeCacheSize}},
		{name: "a number wins over auto in the settings", args: []string{"--node-cache", "2000000"}, settings: node.AppSettings{NodeCacheSize: -1}, memLimit: 6 << 30,
			want: machine.Config{NodeCacheSize: 2_000_000}},
		{name: "node cache neither auto nor a number", args: []string{"--node-cache", "big"}, err: `"big": want auto or a positive number of nodes`},
		{name: "node cache zero", args: []string{"--node-cache", "0"}, err: "want auto or a positive number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("registryd", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			o := storeFlags(fs)
			err := fs.Parse(tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parse %q: err = %v, want one saying %q", tc.args, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			limit := cmp.Or(tc.memLimit, math.MaxInt64)
			got := o.config(tc.settings, "dir", nil, limit)
			tc.want.Dir = "dir"
			if got.Dir != tc.want.Dir || got.KeepVersions != tc.want.KeepVersions || got.KeepBlocks != tc.want.KeepBlocks ||
				got.NodeCacheSize != tc.want.NodeCacheSize || got.ReaderNodeCacheSize != tc.want.ReaderNodeCacheSize ||
				got.SnapshotInterval != tc.want.SnapshotInterval || got.SnapshotKeep != tc.want.SnapshotKeep ||
				got.LeafCacheBytes != tc.want.LeafCacheBytes {
				t.Errorf("config = %+v, want %+v", got, tc.want)
			}
		})
	}
}
