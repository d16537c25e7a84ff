package did

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics and that every DID it accepts
// prints back as the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{zeroSeedDID, p256DID1, "did:web:example.com:user:alice", "did:x::a", "did:web:localhost%3A8443", "did:key:", "did:key:abc:", "did:Key:x", "did:key:a%2", "did:key:abc#f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		if d.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, d.String())
		}
		if _, err := ParseURL(s); err != nil {
			t.Fatalf("a DID is a DID URL, but ParseURL(%q): %v", s, err)
		}
	})
}

// FuzzParseURL checks that ParseURL never panics and that String() gives a
// DID URL that parses back to the same value.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"did:example:123/a?service=files&relativeRef=/r#f", zeroSeedDID + "#z6Mk", "did:example:123?#", "did:example:123/%20x", "did:example:123#a#b", "did:example:123?a=%g0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURL(s)
		if err != nil {
			return
		}
		back, err := ParseURL(u.String())
		if err != nil {
			t.Fatalf("ParseURL(%q).String() = %q does not parse: %v", s, u.String(), err)
		}
		if back != u {
			t.Fatalf("round trip of %q: %+v != %+v", s, back, u)
		}
	})
}

// FuzzParseKeyDID checks that ParseKeyDID never panics and that an
// accepted did:key is exactly KeyDID of its key.
func FuzzParseKeyDID(f *testing.F) {
	for _, s := range []string{zeroSeedDID, p256DID1, p256DID2, "did:key:z", "did:key:z6Mk", "did:key:zDn", "did:key:z0OIl", didKeyOf(0xed, make([]byte, 31)), didKeyOf(0xe7, make([]byte, 33))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := ParseKeyDID(s)
		if err != nil {
			return
		}
		if got := KeyDID(pub); got != s {
			t.Fatalf("ParseKeyDID(%q) accepted a key whose did:key is %q", s, got)
		}
	})
}

// FuzzParseDocument checks that ParseDocument never panics, and that an
// accepted document marshals to JSON that parses to the same document and
// marshals to the same bytes.
func FuzzParseDocument(f *testing.F) {
	data, _, _, _ := testDoc(f)
	f.Add(data)
	kd, _ := json.Marshal(KeyDocument(zeroSeedKey(f)))
	f.Add(kd)
	f.Add([]byte(`{"@context":"https://www.w3.org/ns/did/v1","id":"did:example:a"}`))
	f.Add([]byte(`{"@context":["https://www.w3.org/ns/did/v1",{"@base":"did:example:a"}],"id":"did:example:a","publicKey":[{"id":"#k","type":"Ed25519VerificationKey2018","controller":"did:example:a","publicKeyBase58":"4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS"}],"authentication":["#k"]}`))
	f.Add([]byte(`{"@context":["https://www.w3.org/ns/did/v1"],"id":"did:example:a","service":[{"id":"#s","type":["T"],"serviceEndpoint":{"a":[1,2.5e3,"x"]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDocument(data)
		if err != nil {
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("accepted document does not marshal: %v", err)
		}
		d2, err := ParseDocument(out)
		if err != nil {
			t.Fatalf("our own output does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("parse → marshal → parse changed the document\nin:  %s\nout: %s", data, out)
		}
		out2, err := json.Marshal(d2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("marshal not stable:\n%s\n%s", out, out2)
		}
	})
}

// TestDocumentSeedsAreValid keeps the FuzzParseDocument seed corpus useful:
// the seed-* files are documents ParseDocument must accept (the fuzzer then
// mutates valid documents rather than only rejected ones).
func TestDocumentSeedsAreValid(t *testing.T) {
	files, err := filepath.Glob("testdata/fuzz/FuzzParseDocument/seed-*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no seeds: %v", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, lit, ok := strings.Cut(strings.TrimSpace(string(raw)), "\n[]byte(")
		if !ok {
			t.Fatalf("%s: not a []byte corpus file", f)
		}
		s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := ParseDocument([]byte(s)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
