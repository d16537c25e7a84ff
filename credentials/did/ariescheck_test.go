package did

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/key"
)

// randomProvenShapeDocument builds a valid document of the shape
// ariesProven admits, with the variations that shape allows: DIDs of
// several methods (with characters DID syntax permits), 1-4 Ed25519 or
// P-256 keys under Multikey or Ed25519VerificationKey2020, any subset of
// methods in each relationship, extra contexts (strings), controllers.
func randomProvenShapeDocument(t testing.TB, r *rand.Rand, keys []key.PublicKey) *Document {
	t.Helper()
	ids := []string{"did:medid:z6Mkabc", "did:example:123", "did:web:example.com%3A8443:u:a", "did:key:" + "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "did:x:a.b-c_d:e"}
	self := ids[r.IntN(len(ids))]
	d := &Document{ID: self, Context: []string{ContextDIDv1}}
	extra := []string{ContextMultikey, ContextJWS2020, "https://example.com/ctx/v1", "urn:x:y"}
	for _, c := range extra {
		if r.IntN(2) == 0 {
			d.Context = append(d.Context, c)
		}
	}
	if r.IntN(3) == 0 {
		d.Controller = []string{self}
		if r.IntN(2) == 0 {
			d.Controller = append(d.Controller, "did:example:other")
		}
	}
	n := 1 + r.IntN(4)
	frags := []string{"key-1", "k", "z6Mk", "a%20b", "key:2", "0"}
	for i := range n {
		pub := keys[r.IntN(len(keys))]
		typ := TypeMultikey
		if pub.Alg() == key.Ed25519 && r.IntN(2) == 0 {
			typ = TypeEd25519VerificationKey2020
		}
		ctrl := self
		if r.IntN(4) == 0 {
			ctrl = "did:example:other"
		}
		d.VerificationMethod = append(d.VerificationMethod, VerificationMethod{
			ID: fmt.Sprintf("%s#%s%d", self, frags[r.IntN(len(frags))], i), Type: typ, Controller: ctrl, PublicKey: pub,
		})
	}
	for _, rel := range relationships {
		for _, vm := range d.VerificationMethod {
			if r.IntN(2) == 0 {
				*d.refs(rel) = append(*d.refs(rel), vm.ID)
			}
		}
	}
	return d
}

// TestAriesAcceptsProvenDocuments is the evidence behind ariesProven: aries'
// did.ParseDocument accepts every valid document of the admitted shape
// (random ones, the fuzz seed corpus and the package's test documents), so
// skipping aries on them changes no verdict.
func TestAriesAcceptsProvenDocuments(t *testing.T) {
	var keys []key.PublicKey
	for range 3 {
		for _, alg := range []key.Alg{key.Ed25519, key.P256} {
			k, err := key.Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k.Public())
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	proven := 0
	for i := range 2000 {
		d := randomProvenShapeDocument(t, r, keys)
		data, err := d.MarshalJSON()
		if err != nil {
			continue // an invalid combination (ours rejects it): not in the fast path
		}
		parsed, err := ParseDocument(data)
		if err != nil {
			t.Fatalf("document %d: our own serialisation does not parse: %v\n%s", i, err, data)
		}
		if !ariesProven(data, parsed) {
			continue
		}
		proven++
		if err := ariesValidate(data); err != nil {
			t.Fatalf("document %d is in the fast path but aries rejects it: %v\n%s", i, err, data)
		}
		// The same document with sorted members (as registry transactions
		// carry it) is in the fast path too, and aries accepts it.
		sorted := sortedJSON(t, parsed)
		if !ariesProven(sorted, parsed) {
			t.Fatalf("document %d with sorted members left the fast path:\n%s", i, sorted)
		}
		if err := ariesValidate(sorted); err != nil {
			t.Fatalf("document %d with sorted members is in the fast path but aries rejects it: %v\n%s", i, err, sorted)
		}
	}
	if proven < 1000 {
		t.Fatalf("only %d of 2000 random documents took the fast path; want most", proven)
	}
	for _, data := range provenCorpus(t) {
		if d, err := ParseDocument(data); err == nil && ariesProven(data, d) {
			if err := ariesValidate(data); err != nil {
				t.Errorf("corpus document in the fast path rejected by aries: %v\n%s", err, data)
			}
		}
	}
}

// TestAriesProvenExcludes checks that documents outside the admitted shape
// are not in the fast path (they are checked by aries).
func TestAriesProvenExcludes(t *testing.T) {
	data, _, _, _ := testDoc(t)
	d, err := ParseDocument(data)
	if err != nil {
		t.Fatal(err)
	}
	if ariesProven(data, d) {
		t.Fatal("the full test document (JWK, services) took the fast path")
	}
	base := `{"@context":["https://www.w3.org/ns/did/v1"],"id":"did:example:a","verificationMethod":[{"id":"did:example:a#k","type":"Multikey","controller":"did:example:a","publicKeyMultibase":"z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}],"authentication":["did:example:a#k"]`
	tests := []struct {
		name string
		doc  string
		want bool
	}{
		{"canonical", base + `}`, true},
		{"reordered members", `{"authentication":["did:example:a#k"],"id":"did:example:a","@context":["https://www.w3.org/ns/did/v1"],"verificationMethod":[{"publicKeyMultibase":"z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK","id":"did:example:a#k","type":"Multikey","controller":"did:example:a"}]}`, true},
		{"unmodelled member", base + `,"created":"2020-01-01T00:00:00Z"}`, false},
		{"relative reference", strings.Replace(base, `"authentication":["did:example:a#k"]`, `"authentication":["#k"]`, 1) + `}`, false},
		{"context string", strings.Replace(base, `["https://www.w3.org/ns/did/v1"]`, `"https://www.w3.org/ns/did/v1"`, 1) + `}`, false},
		{"duplicate context", strings.Replace(base, `["https://www.w3.org/ns/did/v1"]`, `["https://www.w3.org/ns/did/v1","https://www.w3.org/ns/did/v1"]`, 1) + `}`, false},
		{"legacy context", strings.Replace(base, `https://www.w3.org/ns/did/v1`, `https://w3id.org/did/v1`, 1) + `}`, false},
		{"alsoKnownAs", base + `,"alsoKnownAs":["https://example.com/a"]}`, false},
		{"service", base + `,"service":[{"id":"did:example:a#s","type":"T","serviceEndpoint":"https://example.com"}]}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDocument([]byte(tc.doc))
			if err != nil {
				if tc.want {
					t.Fatalf("ParseDocument: %v", err)
				}
				return // rejected (by aries): certainly not in the fast path
			}
			if got := ariesProven([]byte(tc.doc), d); got != tc.want {
				t.Fatalf("ariesProven = %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzAriesProvenAccepted: whatever input ParseDocument accepts through the
// fast path, aries accepts too.
func FuzzAriesProvenAccepted(f *testing.F) {
	for _, data := range provenCorpus(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDocument(data)
		if err != nil || !ariesProven(data, d) {
			return
		}
		if err := ariesValidate(data); err != nil {
			t.Fatalf("fast-path document rejected by aries: %v\n%s", err, data)
		}
	})
}

// provenCorpus is the FuzzParseDocument seed corpus plus medid-shaped
// documents.
func provenCorpus(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	files, _ := filepath.Glob("testdata/fuzz/FuzzParseDocument/*")
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		_, lit, ok := strings.Cut(strings.TrimSpace(string(raw)), "\n[]byte(")
		if !ok {
			continue
		}
		if s, err := strconv.Unquote(strings.TrimSuffix(lit, ")")); err == nil {
			out = append(out, []byte(s))
		}
	}
	kd, _ := json.Marshal(KeyDocument(zeroSeedKey(tb)))
	out = append(out, kd)
	out = append(out, []byte(`{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],"assertionMethod":["did:medid:zX#key-1"],"authentication":["did:medid:zX#key-1"],"id":"did:medid:zX","verificationMethod":[{"controller":"did:medid:zX","id":"did:medid:zX#key-1","publicKeyMultibase":"z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK","type":"Multikey"}]}`))
	return out
}

// sortedJSON is d's JSON with every object's members in sorted order
// (encoding/json sorts map keys), without HTML escaping.
func sortedJSON(tb testing.TB, d *Document) []byte {
	tb.Helper()
	data, err := d.MarshalJSON()
	if err != nil {
		tb.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		tb.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
