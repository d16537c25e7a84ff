package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

func didRecordJSON(t testing.TB, did, version string) []byte {
	t.Helper()
	b, err := json.Marshal(DIDRecord{DID: did, Document: json.RawMessage(`{"id":"` + did + `"}`), Metadata: DocumentMetadata{VersionID: version}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDIDVersionProof: what a proven entry shows about version n, in
// either state layout, and every way a registry could try to make a
// proof say more than it does.
func TestDIDVersionProof(t *testing.T) {
	const id, other = "did:medid:abc", "did:medid:xyz"
	rec := func(v string) []byte { return didRecordJSON(t, id, v) }
	cases := []struct {
		name  string
		n     int64
		key   []byte
		value []byte
		want  string // the version returned, or the error kind
	}{
		{"superseded version by its key", 2, DIDVersionKey(id, 2), rec("2"), "2"},
		{"any version by its key (layout 1)", 3, DIDVersionKey(id, 3), rec("3"), "3"},
		{"current version by the current record", 3, DIDKey(id), rec("3"), "3"},
		{"a later version: the current record is older", 4, DIDKey(id), rec("3"), "not found"},
		{"a version of an unknown DID", 1, DIDKey(id), nil, "not found"},
		{"version 0", 0, DIDKey(id), rec("1"), "not found"},
		{"the current record is newer: must be proven under didv/", 2, DIDKey(id), rec("3"), "proof"},
		{"absence of the version key proves nothing", 2, DIDVersionKey(id, 2), nil, "proof"},
		{"version key holding another version", 2, DIDVersionKey(id, 2), rec("3"), "proof"},
		{"another version's key", 2, DIDVersionKey(id, 3), rec("2"), "proof"},
		{"another DID's key", 1, DIDKey(other), didRecordJSON(t, other, "1"), "proof"},
		{"another DID's record under this key", 1, DIDKey(id), didRecordJSON(t, other, "1"), "proof"},
		{"an unrelated key", 1, IssuerKey(id), rec("1"), "proof"},
		{"a value that is not a record", 1, DIDKey(id), []byte(`[1,2]`), "proof"},
		{"a versionId that is not a number", 1, DIDKey(id), rec("one"), "proof"},
		{"a versionId with a leading zero", 1, DIDKey(id), rec("01"), "proof"},
		{"versionId 0 in the record", 1, DIDKey(id), rec("0"), "proof"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := DIDVersionProof(id, tc.n, tc.key, tc.value)
			got := ""
			switch {
			case err == nil:
				got = r.Metadata.VersionID
			case errors.Is(err, ErrNotFound):
				got = "not found"
			case errors.Is(err, ErrProof):
				got = "proof"
			default:
				got = "other: " + err.Error()
			}
			if got != tc.want {
				t.Errorf("DIDVersionProof(%d, %s) = %q (%v), want %q", tc.n, tc.key, got, err, tc.want)
			}
			if err == nil && (r.DID != id || r.Metadata.VersionID != fmt.Sprint(tc.n)) {
				t.Errorf("record %+v for version %d of %s", r, tc.n, id)
			}
		})
	}
}

// FuzzDIDVersionProof: whatever bytes a registry sends as the proven value,
// DIDVersionProof does not panic, and a record it returns is version n of
// the DID asked for, proven under one of the two keys that may hold it.
func FuzzDIDVersionProof(f *testing.F) {
	id := "did:medid:abc"
	f.Add(int64(2), false, didRecordJSON(f, id, "2"))
	f.Add(int64(3), true, didRecordJSON(f, id, "3"))
	f.Add(int64(1), true, []byte(`{"did":"did:medid:abc","metadata":{"versionId":"1"}}`))
	f.Add(int64(1), true, []byte(`null`))
	f.Add(int64(-1), false, []byte(`{}`))
	f.Fuzz(func(t *testing.T, n int64, current bool, value []byte) {
		key := DIDVersionKey(id, n)
		if current {
			key = DIDKey(id)
		}
		r, err := DIDVersionProof(id, n, key, value)
		if err != nil {
			if r != nil {
				t.Fatalf("a record and an error: %+v, %v", r, err)
			}
			if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrProof) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		if r.DID != id || r.Metadata.VersionID != fmt.Sprint(n) || n < 1 {
			t.Fatalf("returned %+v for version %d of %s", r, n, id)
		}
	})
}
