package wallet

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// TestStores runs the one Store contract against every implementation.
func TestStores(t *testing.T) {
	impls := map[string]func(t *testing.T) Store{
		"mem": func(t *testing.T) Store { return NewMemStore() },
		"bolt": func(t *testing.T) Store {
			s, err := OpenBoltStore(filepath.Join(t.TempDir(), FileName), true)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for name, mk := range impls {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			testStoreSemantics(t, s)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if _, err := s.Get("b", []byte("k")); err == nil {
				t.Errorf("Get after Close: got nil error")
			}
		})
	}
}

func testStoreSemantics(t *testing.T, s Store) {
	t.Helper()
	id := func(s string) []byte { return []byte(s) }
	if _, err := s.Get("b", id("missing")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(missing bucket): got %v, want ErrNotFound", err)
	}
	if err := s.Put("b", id("k1"), []byte("v1")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if _, err := s.Get("b", id("missing")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(missing id): got %v, want ErrNotFound", err)
	}
	if _, err := s.Get("other", id("k1")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(k1 in other bucket): got %v, want ErrNotFound (buckets are separate)", err)
	}
	// The store must not keep the caller's buffer.
	buf := []byte("v2")
	if err := s.Put("b", id("k2"), buf); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X'
	got, err := s.Get("b", id("k2"))
	if err != nil || string(got) != "v2" {
		t.Errorf("Get(k2) = %q, %v; want \"v2\" (store aliased the caller's buffer?)", got, err)
	}
	got[0] = 'Y'
	if again, _ := s.Get("b", id("k2")); string(again) != "v2" {
		t.Errorf("Get returned a buffer aliasing the store: now %q", again)
	}
	// Replace.
	if err := s.Put("b", id("k1"), []byte("v1b")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get("b", id("k1")); string(got) != "v1b" {
		t.Errorf("after replace got %q, want v1b", got)
	}
	// List is ordered by id.
	if err := s.Put("b", id("k0"), []byte("v0")); err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := s.List("b", func(k, v []byte) error { ids = append(ids, string(k)+"="+string(v)); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := "[k0=v0 k1=v1b k2=v2]"; fmt.Sprint(ids) != want {
		t.Errorf("List = %v, want %s", ids, want)
	}
	if err := s.List("empty", func(k, v []byte) error { t.Error("callback on empty bucket"); return nil }); err != nil {
		t.Errorf("List(empty bucket): %v", err)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.List("b", func(k, v []byte) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("List with failing callback: err %v after %d calls, want stop after 1", err, n)
	}
	// Delete, including a missing record.
	if err := s.Delete("b", id("k0")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("b", id("k0")); err != nil {
		t.Errorf("Delete(missing): %v, want nil", err)
	}
	if err := s.Delete("nobucket", id("k0")); err != nil {
		t.Errorf("Delete(missing bucket): %v, want nil", err)
	}
	if _, err := s.Get("b", id("k0")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	// Batch: all or nothing. An invalid op (empty id) fails the whole batch.
	err = s.Batch([]Op{{Bucket: "b", ID: id("k3"), Value: []byte("v3")}, {Bucket: "b", ID: nil, Value: []byte("x")}})
	if err == nil {
		t.Errorf("Batch with an empty id: got nil error")
	}
	if _, err := s.Get("b", id("k3")); !errors.Is(err, ErrNotFound) {
		t.Errorf("failed Batch left k3 behind: %v", err)
	}
	err = s.Batch([]Op{{Bucket: "b", ID: id("k3"), Value: []byte("v3")}, {Bucket: "b", ID: id("k1"), Delete: true}, {Bucket: "c", ID: id("k1"), Value: []byte("c1")}})
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	for _, c := range []struct{ bucket, id, want string }{{"b", "k3", "v3"}, {"b", "k1", ""}, {"c", "k1", "c1"}, {"b", "k2", "v2"}} {
		got, err := s.Get(c.bucket, id(c.id))
		if c.want == "" {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s/%s after Batch: got %q, %v; want ErrNotFound", c.bucket, c.id, got, err)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("%s/%s after Batch: got %q, %v; want %q", c.bucket, c.id, got, err, c.want)
		}
	}
	// Binary ids and values round-trip.
	bin := []byte{0, 1, 2, 255}
	if err := s.Put("bin", bin, bin); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get("bin", bin); err != nil || !bytes.Equal(got, bin) {
		t.Errorf("binary round trip: got %x, %v", got, err)
	}
	// Concurrent writers and readers.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			k := id(fmt.Sprintf("c%d", i))
			if err := s.Put("conc", k, k); err != nil {
				t.Errorf("concurrent Put: %v", err)
			}
			if _, err := s.Get("conc", k); err != nil {
				t.Errorf("concurrent Get: %v", err)
			}
			_ = s.List("conc", func(k, v []byte) error { return nil })
		})
	}
	wg.Wait()
	n = 0
	_ = s.List("conc", func(k, v []byte) error { n++; return nil })
	if n != 8 {
		t.Errorf("after 8 concurrent Puts List saw %d records", n)
	}
}

// TestBoltDurable checks that acknowledged writes are there after the file
// is closed and reopened (bbolt commits with fsync before Put returns).
func TestBoltDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s, err := OpenBoltStore(path, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := s.Put("b", fmt.Appendf(nil, "k%02d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = OpenBoltStore(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	_ = s.List("b", func(k, v []byte) error { n++; return nil })
	if n != 50 {
		t.Errorf("after reopen: %d records, want 50", n)
	}
}

func TestOpenBoltStoreErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenBoltStore(filepath.Join(dir, "none.db"), false); !errors.Is(err, ErrNoWallet) {
		t.Errorf("missing file: got %v, want ErrNoWallet", err)
	}
	for name, content := range map[string][]byte{
		"empty":   {},
		"garbage": bytes.Repeat([]byte("not a database "), 1000),
	} {
		p := filepath.Join(dir, name)
		writeFile(t, p, content)
		if _, err := OpenBoltStore(p, false); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s file: got %v, want ErrCorrupt", name, err)
		}
		if got := readFile(t, p); !bytes.Equal(got, content) {
			t.Errorf("%s file was modified by the failed open", name)
		}
	}
}

// TestBoltInUse: a second opener of the same wallet file gets ErrInUse
// (bbolt's exclusive lock) after a short wait, rather than two writers.
func TestBoltInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the lock timeout")
	}
	path := filepath.Join(t.TempDir(), FileName)
	s, err := OpenBoltStore(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := OpenBoltStore(path, false); !errors.Is(err, ErrInUse) {
		t.Errorf("second open: got %v, want ErrInUse", err)
	}
}
