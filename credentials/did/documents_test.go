package did_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
)

// cachedDoc returns a did:key resolution as JSON (wrapped) and its bare
// document.
func cachedDoc(tb testing.TB, seed string) (id string, wrapped, bare []byte) {
	tb.Helper()
	s := sha256.Sum256([]byte(seed))
	k, err := key.NewEd25519FromSeed(s[:])
	if err != nil {
		tb.Fatal(err)
	}
	id = did.KeyDID(k.Public())
	res, err := did.KeyResolver{}.Resolve(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	res.Metadata.VersionID = "3"
	if wrapped, err = json.Marshal(res); err != nil {
		tb.Fatal(err)
	}
	if bare, err = json.Marshal(res.Document); err != nil {
		tb.Fatal(err)
	}
	return id, wrapped, bare
}

func TestParseCached(t *testing.T) {
	id, wrapped, bare := cachedDoc(t, "issuer")
	deact := strings.Replace(string(wrapped), `"versionId":"3"`, `"versionId":"3","deactivated":true`, 1)
	cases := []struct {
		name        string
		in          string
		wantVersion string
		wantDeact   bool
		wantErr     bool
	}{
		{"resolution result", string(wrapped), "3", false, false},
		{"bare document", string(bare), "", false, false},
		{"deactivated", deact, "3", true, false},
		{"null document", `{"didDocument": null}`, "", false, true},
		{"bad metadata", strings.Replace(string(wrapped), `"versionId":"3"`, `"created":"yesterday"`, 1), "", false, true},
		{"not JSON", "did:key:z6Mk", "", false, true},
		{"empty object", "{}", "", false, true},
		{"a list", "[]", "", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := did.ParseCached([]byte(tc.in))
			if tc.wantErr {
				if err == nil || !errors.Is(err, did.ErrInvalidDocument) {
					t.Fatalf("ParseCached = %+v, %v; want ErrInvalidDocument", res, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Document.ID != id || res.Metadata.VersionID != tc.wantVersion || res.Metadata.Deactivated != tc.wantDeact {
				t.Errorf("got %s version %q deactivated %v", res.Document.ID, res.Metadata.VersionID, res.Metadata.Deactivated)
			}
		})
	}
}

func TestReadDocuments(t *testing.T) {
	ctx := context.Background()
	a, wa, _ := cachedDoc(t, "a")
	b, _, bb := cachedDoc(t, "b")
	c, wc, _ := cachedDoc(t, "c")
	wc = []byte(strings.Replace(string(wc), `"versionId":"3"`, `"deactivated":true`, 1))
	dir := t.TempDir()
	for name, data := range map[string][]byte{"a.json": wa, "b.json": bb, "c.json": wc, "notes.txt": []byte("not JSON, not read")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	docs, err := did.ReadDocuments(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 {
		t.Fatalf("%d documents, want 3", len(docs))
	}
	cases := []struct {
		id      string
		wantErr error
	}{
		{a, nil},
		{b, nil},
		{c, did.ErrDeactivated},
		{"did:key:z6MkoddHvQGZEbSCJcFfdWfEUDnj5b5AtqXWpQhEjFyZuES6", did.ErrNotFound},
	}
	var r did.Resolver = docs
	for _, tc := range cases {
		res, err := r.Resolve(ctx, tc.id)
		if !errors.Is(err, tc.wantErr) || (tc.wantErr != did.ErrNotFound && (res == nil || res.Document.ID != tc.id)) {
			t.Errorf("Resolve(%s) = %v, %v; want %v", tc.id, res, err, tc.wantErr)
		}
	}

	if err := os.WriteFile(filepath.Join(dir, "zz.json"), []byte(`{"id": 5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := did.ReadDocuments(dir); !errors.Is(err, did.ErrInvalidDocument) || !strings.Contains(err.Error(), "zz.json is not a DID document") {
		t.Errorf("a bad file: %v", err)
	}
	if docs, err := did.ReadDocuments(filepath.Join(dir, "missing")); err != nil || len(docs) != 0 {
		t.Errorf("a missing folder: %v, %v (want no documents)", docs, err)
	}
}

// FuzzParseCached: a cached document file is untrusted input; ParseCached
// never panics and what it accepts has a document with an id.
func FuzzParseCached(f *testing.F) {
	_, wrapped, bare := cachedDoc(f, "fuzz")
	for _, s := range [][]byte{wrapped, bare, []byte(`{"didDocument":{}}`), []byte(`{"didDocument":null,"id":"did:x:y"}`), []byte(`{}`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := did.ParseCached(data)
		if err != nil {
			return
		}
		if res.Document == nil || res.Document.ID == "" {
			t.Fatalf("accepted %q without a document id", data)
		}
	})
}
