package main

import (
	"flag"
	"io"
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
		want     machine.Config
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("registryd", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			o := storeFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			got := o.config(tc.settings, "dir", nil)
			tc.want.Dir = "dir"
			if got.Dir != tc.want.Dir || got.KeepVersions != tc.want.KeepVersions || got.KeepBlocks != tc.want.KeepBlocks ||
				got.NodeCacheSize != tc.want.NodeCacheSize || got.SnapshotInterval != tc.want.SnapshotInterval || got.SnapshotKeep != tc.want.SnapshotKeep ||
				got.LeafCacheBytes != tc.want.LeafCacheBytes {
				t.Errorf("config = %+v, want %+v", got, tc.want)
			}
		})
	}
}
