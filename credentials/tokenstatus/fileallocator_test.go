package tokenstatus

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestFileAllocator(t *testing.T) {
	const uri = "https://registry.example/1.0/status-lists/t"
	l, _ := New(MinEntries, 2)
	tok := &Token{Issuer: "did:example:h", URI: uri, List: l}
	dir := t.TempDir()
	path := filepath.Join(dir, "t.alloc")
	a, _ := NewAllocator(MinEntries)
	state, _ := a.MarshalBinary()
	if err := os.WriteFile(path, state, 0o600); err != nil {
		t.Fatal(err)
	}
	fa, err := OpenFileAllocator(path, tok, "did:example:h")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for range 20 {
		r, err := fa.Allocate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if r.URI != uri || seen[r.Index] {
			t.Fatalf("Allocate = %+v (seen before: %v)", r, seen[r.Index])
		}
		seen[r.Index] = true
	}
	// Reopened (a restart), it never hands out what it handed out before.
	fa, err = OpenFileAllocator(path, tok, "did:example:h")
	if err != nil {
		t.Fatal(err)
	}
	if got := fa.Free(); got != MinEntries-20 {
		t.Errorf("Free after reopening = %d, want %d", got, MinEntries-20)
	}
	for range 20 {
		r, _ := fa.Allocate(context.Background())
		if seen[r.Index] {
			t.Fatalf("index %d handed out twice across a restart", r.Index)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", st.Mode().Perm())
	}

	short, _ := New(MinEntries/2, 2)
	tests := []struct {
		name   string
		path   string
		tok    *Token
		issuer string
		want   error
	}{
		{"another issuer's list", path, tok, "did:example:other", ErrOwner},
		{"no state file", filepath.Join(dir, "none"), tok, "did:example:h", fs.ErrNotExist},
		{"state for a longer list", path, &Token{Issuer: "did:example:h", URI: uri, List: short}, "did:example:h", ErrMalformed},
		{"no list", path, nil, "did:example:h", ErrMalformed},
	}
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte("not a state"), 0o600)
	tests = append(tests, struct {
		name   string
		path   string
		tok    *Token
		issuer string
		want   error
	}{"garbage state", garbage, tok, "did:example:h", ErrMalformed})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := OpenFileAllocator(tt.path, tt.tok, tt.issuer); !errors.Is(err, tt.want) {
				t.Errorf("OpenFileAllocator: %v, want %v", err, tt.want)
			}
		})
	}
}

// TestReferenceFor: a reference is made only into the issuer's own list
// and only for an index inside it.
func TestReferenceFor(t *testing.T) {
	const uri = "https://registry.example/1.0/status-lists/t"
	l, _ := New(MinEntries, 2)
	tok := &Token{Issuer: "did:example:h", URI: uri, List: l}
	for _, tc := range []struct {
		name   string
		issuer string
		index  int
		want   error
	}{
		{"first entry", "did:example:h", 0, nil},
		{"last entry", "did:example:h", MinEntries - 1, nil},
		{"past the end", "did:example:h", MinEntries, ErrRange},
		{"negative", "did:example:h", -1, ErrRange},
		{"another issuer's list", "did:example:other", 0, ErrOwner},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tok.ReferenceFor(tc.issuer, tc.index)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("ReferenceFor = %v, want %v", err, tc.want)
			}
			if err == nil && (r.Index != tc.index || r.URI != uri) {
				t.Errorf("reference %+v, want index %d in %s", r, tc.index, uri)
			}
		})
	}
}
