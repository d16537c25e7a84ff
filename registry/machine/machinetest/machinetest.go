// Package machinetest damages a registry state database the way a failing
// disk would, for tests of what the node reports afterwards.
package machinetest

import (
	"os"
	"path/filepath"
	"testing"
)

// CorruptTables flips every byte but the 48-byte footer of each LevelDB
// table file of the state database in dir (machine.Config.Dir), in place:
// an open database keeps the files and meets the damage on its next read
// of a block it has not cached. It returns the number of files damaged and
// fails tb when it cannot.
func CorruptTables(tb testing.TB, dir string) int {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "state.db", "*.ldb"))
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		for i := 0; i < len(b)-48; i++ {
			b[i] ^= 0x5a
		}
		w, err := os.OpenFile(f, os.O_WRONLY, 0)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.WriteAt(b, 0); err != nil {
			w.Close()
			tb.Fatal(err)
		}
		if err := w.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	return len(files)
}
