package layout

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoUnresolvedMerge fails on a file of the tree that still holds a
// merge's conflict markers ("<<<<<<< " or ">>>>>>> " at a line's start):
// a document or a source file committed in the middle of a merge. A
// conflicted Go file fails to build, but a conflicted design document or
// README would pass every other test.
func TestNoUnresolvedMerge(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from internal/layout: %v", err)
	}
	text := map[string]bool{".go": true, ".md": true, ".yaml": true, ".yml": true, ".txt": true,
		".txtar": true, ".json": true, ".sh": true, ".mod": true, ".sum": true, ".service": true}
	skip := map[string]bool{".git": true, "node_modules": true, ".tmp": true, "bin": true}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skip[d.Name()] || (path != root && strings.HasPrefix(d.Name(), ".") && d.Name() != ".ci") {
				return filepath.SkipDir
			}
			return nil
		}
		if !text[filepath.Ext(path)] && d.Name() != "Makefile" && filepath.Dir(path) != filepath.Join(root, ".ci") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<24)
		for n := 1; sc.Scan(); n++ {
			l := sc.Bytes()
			if bytes.HasPrefix(l, []byte("<<<<<<< ")) || bytes.HasPrefix(l, []byte(">>>>>>> ")) {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s:%d: a merge's conflict marker %q: resolve the merge (keep both sides' intent) and remove the markers", rel, n, string(l))
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("only %d files checked: the walk did not find the tree", checked)
	}
}
