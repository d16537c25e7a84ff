package tx

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/key"
)

func testKey(tb testing.TB, b byte) *key.PrivateKey {
	tb.Helper()
	seed := sha256.Sum256([]byte{b})
	k, err := key.NewEd25519FromSeed(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

const template = `{"@context":["https://www.w3.org/ns/did/v1"],"id":"did:medid:_",
 "verificationMethod":[{"id":"did:medid:_#key-1","type":"Multikey","controller":"did:medid:_","publicKeyMultibase":"z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"}],
 "authentication":["did:medid:_#key-1"]}`

func TestSignDecodeRoundTrip(t *testing.T) {
	d, doc, err := BindDocument([]byte(template))
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		t.Run(string(alg), func(t *testing.T) {
			k, err := key.Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			p := &Payload{Type: DIDCreate, DID: d, Nonce: "abc", Document: doc}
			raw, err := Sign(p, k, d+"#key-1")
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got.Payload.DID != d || got.Header.Alg != string(alg.JWS()) || got.Header.Typ != MediaType || got.KeyID() != d+"#key-1" {
				t.Errorf("decoded %+v", got.Header)
			}
			if !bytes.Equal(got.Payload.Document, doc) {
				t.Errorf("document changed: %s", got.Payload.Document)
			}
			if err := got.Verify(k.Public()); err != nil {
				t.Errorf("Verify: %v", err)
			}
			other, _ := key.Generate(alg)
			if err := got.Verify(other.Public()); !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify with another key: %v, want ErrBadSignature", err)
			}
			if got.Hash != sha256.Sum256(raw) {
				t.Error("Hash is not SHA-256 of the raw tx")
			}
		})
	}
}

// TestReplayIDSurvivesReencoding checks that an ECDSA signature mauled into
// its other valid form (s -> n-s) yields a different transaction hash but the
// same replay id, so the ledger still sees a replay.
func TestReplayIDIgnoresSignature(t *testing.T) {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	p := &Payload{Type: DIDDeactivate, DID: "did:medid:abc", Nonce: "n", PrevVersionID: "1"}
	a, _ := Sign(p, k1, "did:medid:abc#key-1")
	b, _ := Sign(p, k2, "did:medid:abc#key-1")
	ta, _ := Decode(a)
	tb, _ := Decode(b)
	if ta.Hash == tb.Hash || ta.ReplayID != tb.ReplayID {
		t.Errorf("hash equal %v, replay id equal %v; want false, true", ta.Hash == tb.Hash, ta.ReplayID == tb.ReplayID)
	}
}

func TestDecodeRejects(t *testing.T) {
	k := testKey(t, 1)
	enc := base64.RawURLEncoding.EncodeToString
	jws := func(header, payload string) []byte {
		in := enc([]byte(header)) + "." + enc([]byte(payload))
		sig, _ := k.Sign([]byte(in))
		return []byte(in + "." + enc(sig))
	}
	hdr := `{"alg":"EdDSA","typ":"medid-tx+jwt","kid":"did:medid:abc#k"}`
	good := `{"type":"did.deactivate","did":"did:medid:abc","nonce":"n","prevVersionId":"1"}`
	if _, err := Decode(jws(hdr, good)); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	cases := []struct {
		name string
		raw  []byte
		want error
	}{
		{"too large", bytes.Repeat([]byte("a"), MaxSize+1), ErrTooLarge},
		{"two segments", []byte("a.b"), ErrMalformed},
		{"padded base64", []byte(enc([]byte(hdr)) + "=." + enc([]byte(good)) + ".AAAA"), ErrMalformed},
		{"empty signature", []byte(enc([]byte(hdr)) + "." + enc([]byte(good)) + "."), ErrMalformed},
		{"alg none", jws(`{"alg":"none","typ":"medid-tx+jwt","kid":"did:medid:abc#k"}`, good), ErrUnsupportedAlg},
		{"alg HS256", jws(`{"alg":"HS256","typ":"medid-tx+jwt","kid":"did:medid:abc#k"}`, good), ErrUnsupportedAlg},
		{"wrong typ", jws(`{"alg":"EdDSA","typ":"JWT","kid":"did:medid:abc#k"}`, good), ErrMalformed},
		{"extra header", jws(`{"alg":"EdDSA","typ":"medid-tx+jwt","kid":"did:medid:abc#k","crit":["x"]}`, good), ErrMalformed},
		{"kid of another DID", jws(`{"alg":"EdDSA","typ":"medid-tx+jwt","kid":"did:medid:xyz#k"}`, good), ErrMalformed},
		{"kid without fragment", jws(`{"alg":"EdDSA","typ":"medid-tx+jwt","kid":"did:medid:abc"}`, good), ErrMalformed},
		{"payload not JSON", jws(hdr, `{"type":`), ErrMalformed},
		{"payload array", jws(hdr, `[]`), ErrMalformed},
		{"duplicate member", jws(hdr, `{"type":"did.deactivate","did":"did:medid:abc","did":"did:medid:abc","nonce":"n","prevVersionId":"1"}`), ErrMalformed},
		{"unknown member", jws(hdr, `{"type":"did.deactivate","did":"did:medid:abc","nonce":"n","prevVersionId":"1","x":1}`), ErrMalformed},
		{"float", jws(hdr, `{"type":"statuslist.publish","did":"did:medid:abc","nonce":"n","listId":"l","version":1.5,"credential":"x"}`), ErrMalformed},
		{"unknown type", jws(hdr, `{"type":"did.steal","did":"did:medid:abc","nonce":"n"}`), ErrMalformed},
		{"no nonce", jws(hdr, `{"type":"did.deactivate","did":"did:medid:abc","prevVersionId":"1"}`), ErrMalformed},
		{"long nonce", jws(hdr, `{"type":"did.deactivate","did":"did:medid:abc","nonce":"`+strings.Repeat("n", MaxNonceLen+1)+`","prevVersionId":"1"}`), ErrMalformed},
		{"missing prevVersionId", jws(hdr, `{"type":"did.deactivate","did":"did:medid:abc","nonce":"n"}`), ErrMalformed},
		{"field of another type", jws(hdr, `{"type":"did.deactivate","did":"did:medid:abc","nonce":"n","prevVersionId":"1","listId":"l"}`), ErrMalformed},
		{"bad validFrom", jws(hdr, `{"type":"issuer.accredit","did":"did:medid:abc","nonce":"n","issuer":"did:key:z","credentialTypes":["X"],"validFrom":"yesterday","accreditationId":"a"}`), ErrMalformed},
		{"validUntil before validFrom", jws(hdr, `{"type":"issuer.accredit","did":"did:medid:abc","nonce":"n","issuer":"did:key:z","credentialTypes":["X"],"validFrom":"2026-01-02T00:00:00Z","validUntil":"2026-01-01T00:00:00Z","accreditationId":"a"}`), ErrMalformed},
		{"duplicate credential type", jws(hdr, `{"type":"issuer.accredit","did":"did:medid:abc","nonce":"n","issuer":"did:key:z","credentialTypes":["X","X"],"validFrom":"2026-01-02T00:00:00Z","accreditationId":"a"}`), ErrMalformed},
		{"list id with slash", jws(hdr, `{"type":"statuslist.publish","did":"did:medid:abc","nonce":"n","listId":"a/b","version":1,"credential":"x"}`), ErrMalformed},
		{"negative version", jws(hdr, `{"type":"statuslist.publish","did":"did:medid:abc","nonce":"n","listId":"l","version":-1,"credential":"x"}`), ErrMalformed},
		{"document not an object", jws(hdr, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":"x"}`), ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.raw)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDeriveDID(t *testing.T) {
	d, doc, err := BindDocument([]byte(template))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d, MethodPrefix) || len(d) < len(MethodPrefix)+20 {
		t.Fatalf("DID %q", d)
	}
	if strings.Contains(string(doc), Placeholder) || !strings.Contains(string(doc), `"id":"`+d+`"`) {
		t.Errorf("bound document %s", doc)
	}
	// Whitespace and member order do not change the DID.
	reordered := `{"authentication":["did:medid:_#key-1"],"id":"did:medid:_","@context":["https://www.w3.org/ns/did/v1"],"verificationMethod":[{"publicKeyMultibase":"z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH","controller":"did:medid:_","type":"Multikey","id":"did:medid:_#key-1"}]}`
	if d2, _ := DeriveDID([]byte(reordered)); d2 != d {
		t.Errorf("reordered template derives %s, want %s", d2, d)
	}
	if err := CheckDID(d, doc); err != nil {
		t.Errorf("CheckDID(bound) = %v", err)
	}
	other := strings.Replace(template, "z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH", "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", 1)
	d2, doc2, _ := BindDocument([]byte(other))
	swapped := bytes.ReplaceAll(doc2, []byte(d2), []byte(d))
	if err := CheckDID(d, swapped); !errors.Is(err, ErrWrongDID) {
		t.Errorf("CheckDID(another document under this DID) = %v, want ErrWrongDID", err)
	}
	if _, err := DeriveDID([]byte(`{"id":"did:medid:abc"}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("template without placeholder: %v", err)
	}
}

func TestCanonical(t *testing.T) {
	cases := []struct {
		name, in, want string
		ok             bool
	}{
		{"sorted and compact", `{ "b": 1, "a": [true, null, "x"] }`, `{"a":[true,null,"x"],"b":1}`, true},
		{"escapes", `{"s":"<\u00e9\n\u0001\"\\/>"}`, "{\"s\":\"<\u00e9\\n\\u0001\\\"\\\\/>\"}", true},
		{"utf16 order", `{"\ud83d\ude00":1,"\ufb01":2}`, "{\"\U0001F600\":1,\"\ufb01\":2}", true},
		{"nested", `{"a":{"d":1,"c":2}}`, `{"a":{"c":2,"d":1}}`, true},
		{"negative int", `[-5]`, `[-5]`, true},
		{"float", `[1.5]`, "", false},
		{"exponent", `[1e3]`, "", false},
		{"too big", `[9007199254740993]`, "", false},
		{"minus zero", `[-0]`, "", false},
		{"duplicate", `{"a":1,"a":2}`, "", false},
		{"trailing", `{} {}`, "", false},
		{"truncated", `{"a":`, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Canonical([]byte(tc.in))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestKeyTemplateDerivesStableDID pins the did:medid of a key: the CLI and
// the wallet both register keys through KeyTemplate, and a wallet recovering
// from its phrase must find the same DID again.
func TestKeyTemplateDerivesStableDID(t *testing.T) {
	k, err := key.NewEd25519FromSeed(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := KeyTemplate(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	id, doc, err := BindDocument(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := KeyTemplate(k.Public())
	if id2, _ := DeriveDID(again); id2 != id {
		t.Errorf("DeriveDID not stable: %s then %s", id, id2)
	}
	if !strings.Contains(string(doc), id+"#"+KeyFragment) {
		t.Errorf("bound document lacks %s#%s: %s", id, KeyFragment, doc)
	}
	// Pinned: changing the template would orphan every registered did:medid
	// that wallets recover from their phrase.
	if want := "did:medid:QcKsS9Hm87covVMSFfePBx"; id != want {
		t.Errorf("all-zero Ed25519 seed -> %s, want %s", id, want)
	}
}

func TestKnownType(t *testing.T) {
	for _, tc := range []struct {
		t    Type
		want bool
	}{{DIDCreate, true}, {ConsentAnchor, true}, {AuditAnchor, true}, {IssuerRevoke, true}, {"did.nope", false}, {"", false}} {
		if got := KnownType(tc.t); got != tc.want {
			t.Errorf("KnownType(%q) = %v, want %v", tc.t, got, tc.want)
		}
	}
}

// TestSum256String: the replay id's hash of a string is sha256.Sum256 of
// its bytes, for lengths around the stack buffer's, and takes no heap
// allocation.
func TestSum256String(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 255, 256, 257, 511, 512, 550, 1000, 4096} {
		s := strings.Repeat("abcdefghij", n/10+1)[:n]
		if got, want := sum256String(s), sha256.Sum256([]byte(s)); got != want {
			t.Errorf("len %d: got %x, want %x", n, got, want)
		}
	}
	s := strings.Repeat("x", 550)
	if a := testing.AllocsPerRun(100, func() { _ = sum256String(s) }); a != 0 {
		t.Errorf("sum256String: %v allocations, want 0", a)
	}
}
