package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	for i, content := range []string{"first", "second, longer content"} {
		if err := WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read %d = %q, %v; want %q", i, got, err, content)
		}
		st, _ := os.Stat(path)
		if st.Mode().Perm() != 0o600 {
			t.Errorf("mode = %04o, want 0600", st.Mode().Perm())
		}
	}
	assertOnly(t, dir, "f")
}

func TestWriteFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, 0o644, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("content after failed write = %q, want old", got)
	}
	assertOnly(t, dir, "f")
}

func TestWriteMissingFolder(t *testing.T) {
	if err := WriteFile(filepath.Join(t.TempDir(), "no", "f"), nil, 0o600); err == nil {
		t.Error("write into a missing folder succeeded")
	}
}

// assertOnly checks that dir holds exactly the named entries (no temporary
// file left behind).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(names) {
		var got []string
		for _, e := range ents {
			got = append(got, e.Name())
		}
		t.Fatalf("folder holds %v, want %v", got, names)
	}
}

func TestCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key.jwk")
	if err := Create(path, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "secret" {
		t.Fatalf("read = %q, %v", got, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %04o, want 0600", st.Mode().Perm())
	}
	// A second Create never replaces the file.
	err = Create(path, []byte("other"), 0o600)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create over an existing file = %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "secret" {
		t.Errorf("content after a refused Create = %q", got)
	}
	assertOnly(t, dir, "key.jwk")

	public := filepath.Join(dir, "list.jwt")
	if err := Create(public, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(public); st.Mode().Perm() != 0o644 {
		t.Errorf("mode = %04o, want 0644", st.Mode().Perm())
	}
	if err := Create(filepath.Join(dir, "no", "f"), nil, 0o600); err == nil || errors.Is(err, fs.ErrExist) {
		t.Errorf("Create in a missing folder = %v, want an error other than ErrExist", err)
	}
	assertOnly(t, dir, "key.jwk", "list.jwt")
}

// TestCreateRace: of writers racing for one path, exactly one wins and the
// file holds its whole content.
func TestCreateRace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- Create(path, bytes.Repeat([]byte{byte('a' + i)}, 1<<16), 0o600) }()
	}
	wins := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("loser's error = %v, want fs.ErrExist", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d writers won, want 1", wins)
	}
	got, _ := os.ReadFile(path)
	if len(got) != 1<<16 || bytes.Count(got, got[:1]) != len(got) {
		t.Errorf("the file holds a mix of writers' content (%d bytes)", len(got))
	}
	assertOnly(t, dir, "f")
}

func TestCreateInPlace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := createInPlace(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := createInPlace(path, []byte("y"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second createInPlace = %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "x" {
		t.Errorf("content = %q", got)
	}
}
