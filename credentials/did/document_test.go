package did

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/key"
)

// testDoc is a did:example document with an Ed25519 Multikey for
// authentication and assertions, a P-256 JsonWebKey2020 key for key
// agreement only, an embedded capabilityInvocation key and a service.
func testDoc(t testing.TB) (data []byte, ed, p256, inv key.PublicKey) {
	t.Helper()
	gen := func(alg key.Alg) key.PublicKey {
		k, err := key.Generate(alg)
		if err != nil {
			t.Fatal(err)
		}
		return k.Public()
	}
	ed, p256, inv = gen(key.Ed25519), gen(key.P256), gen(key.Ed25519)
	jwkJSON, err := publicJWKJSON(p256)
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{
		"@context":   []any{ContextDIDv1, ContextMultikey, ContextJWS2020},
		"id":         "did:example:alice",
		"controller": "did:example:alice",
		"verificationMethod": []any{
			map[string]any{"id": "#key-1", "type": "Multikey", "controller": "did:example:alice", "publicKeyMultibase": ed.Multikey()},
			map[string]any{"id": "did:example:alice#key-2", "type": "JsonWebKey2020", "controller": "did:example:alice", "publicKeyJwk": json.RawMessage(jwkJSON)},
		},
		"authentication":  []any{"#key-1"},
		"assertionMethod": []any{"did:example:alice#key-1"},
		"keyAgreement":    []any{"#key-2"},
		"capabilityInvocation": []any{
			map[string]any{"id": "#inv", "type": "Multikey", "controller": "did:example:alice", "publicKeyMultibase": inv.Multikey()},
		},
		"service": []any{
			map[string]any{"id": "#records", "type": "LinkedDomains", "serviceEndpoint": map[string]any{"origins": []any{"https://records.example"}, "priority": 1}},
		},
	}
	data, err = json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data, ed, p256, inv
}

func TestParseDocument(t *testing.T) {
	data, ed, p256, inv := testDoc(t)
	d, err := ParseDocument(data)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "did:example:alice" || !reflect.DeepEqual(d.Controller, []string{"did:example:alice"}) {
		t.Fatalf("id/controller = %q %q", d.ID, d.Controller)
	}
	wantVMs := []string{"did:example:alice#key-1", "did:example:alice#key-2", "did:example:alice#inv"}
	var gotVMs []string
	for _, vm := range d.VerificationMethod {
		gotVMs = append(gotVMs, vm.ID)
	}
	if !reflect.DeepEqual(gotVMs, wantVMs) {
		t.Fatalf("verification methods = %q, want %q", gotVMs, wantVMs)
	}
	if got, want := d.CapabilityInvocation, []string{"did:example:alice#inv"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("capabilityInvocation = %q, want %q", got, want)
	}
	if d.Service[0].ID != "did:example:alice#records" || d.Service[0].Type != "LinkedDomains" {
		t.Fatalf("service = %+v", d.Service[0])
	}

	tests := []struct {
		name    string
		kid     string
		rel     Relationship
		want    key.PublicKey
		wantErr bool
	}{
		{"fragment for authentication", "#key-1", Authentication, ed, false},
		{"absolute for assertion", "did:example:alice#key-1", AssertionMethod, ed, false},
		{"jwk for key agreement", "#key-2", KeyAgreement, p256, false},
		{"embedded for invocation", "#inv", CapabilityInvocation, inv, false},
		{"not authorised for assertion", "#key-2", AssertionMethod, key.PublicKey{}, true},
		{"not authorised for delegation", "#key-1", CapabilityDelegation, key.PublicKey{}, true},
		{"embedded not authorised elsewhere", "#inv", Authentication, key.PublicKey{}, true},
		{"unknown fragment", "#nope", Authentication, key.PublicKey{}, true},
		{"other DID", "did:example:bob#key-1", Authentication, key.PublicKey{}, true},
		{"service is not a key", "#records", Authentication, key.PublicKey{}, true},
		{"unknown relationship", "#key-1", Relationship("bogus"), key.PublicKey{}, true},
		{"empty kid", "", Authentication, key.PublicKey{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Key(tt.kid, tt.rel)
			if tt.wantErr {
				if !errors.Is(err, ErrKeyNotFound) {
					t.Fatalf("Key(%q, %s) error = %v, want ErrKeyNotFound", tt.kid, tt.rel, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Key(%q, %s): %v", tt.kid, tt.rel, err)
			}
			if !got.Equal(tt.want) {
				t.Fatalf("Key(%q, %s) returned the wrong key", tt.kid, tt.rel)
			}
		})
	}
}

func TestDocumentRoundTrip(t *testing.T) {
	data, _, _, _ := testDoc(t)
	d1, err := ParseDocument(data)
	if err != nil {
		t.Fatal(err)
	}
	out1, err := json.Marshal(d1)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := ParseDocument(out1)
	if err != nil {
		t.Fatalf("re-parse of our own output: %v\n%s", err, out1)
	}
	if !reflect.DeepEqual(d1, d2) {
		t.Fatalf("parse → marshal → parse changed the document:\n%+v\n%+v", d1, d2)
	}
	out2, err := json.Marshal(d2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out1, out2) {
		t.Fatalf("serialisation is not stable:\n%s\n%s", out1, out2)
	}
	// Deterministic across calls, independent of map iteration order.
	for i := 0; i < 20; i++ {
		again, err := d2.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, out1) {
			t.Fatalf("MarshalJSON is not deterministic:\n%s\n%s", again, out1)
		}
	}
	// The embedded key was moved to verificationMethod and referenced.
	if !strings.Contains(string(out1), `"capabilityInvocation":["did:example:alice#inv"]`) {
		t.Fatalf("embedded method not normalised to a reference: %s", out1)
	}
	// Via UnmarshalJSON too (documents nested in other JSON).
	var wrapped struct{ Doc *Document }
	if err := json.Unmarshal([]byte(`{"Doc":`+string(out1)+`}`), &wrapped); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(wrapped.Doc, d1) {
		t.Fatal("UnmarshalJSON differs from ParseDocument")
	}
	// Clone is deep.
	c := d1.Clone()
	c.Authentication[0] = "x"
	c.Service[0].Endpoint.(map[string]any)["origins"] = nil
	if d1.Authentication[0] == "x" || d1.Service[0].Endpoint.(map[string]any)["origins"] == nil {
		t.Fatal("Clone shares memory with the original")
	}
}

func TestKeyDocumentJSONContext(t *testing.T) {
	out, err := json.Marshal(KeyDocument(zeroSeedKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],"id":"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp","verificationMethod":[{"id":"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp","type":"Multikey","controller":"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp","publicKeyMultibase":"z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}],"authentication":["did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"],"assertionMethod":["did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"],"capabilityInvocation":["did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"],"capabilityDelegation":["did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"]}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}

// TestParseSpecLegacyDocument reads the did:key specification's P-256 test
// vector document, which uses the pre-DID-Core "publicKey" member, an @base
// context entry and relative references.
func TestParseSpecLegacyDocument(t *testing.T) {
	doc := `{
  "@context": ["https://www.w3.org/ns/did/v1", {"@base": "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"}],
  "id": "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",
  "publicKey": [{
    "id": "#zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",
    "type": "JsonWebKey2020",
    "controller": "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",
    "publicKeyJwk": {"kty": "EC", "crv": "P-256", "x": "fyNYMN0976ci7xqiSdag3buk-ZCwgXU4kz9XNkBlNUI", "y": "hW2ojTNfH7Jbi8--CJUo3OCbH3y5n91g-IMA9MLMbTU"}
  }],
  "authentication": ["#zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"],
  "assertionMethod": ["#zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"],
  "capabilityDelegation": ["#zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"],
  "capabilityInvocation": ["#zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"],
  "keyAgreement": ["#zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"]
}`
	d, err := ParseDocument([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Key(p256DID1+"#zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", AssertionMethod)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(mustParseKeyDID(t, p256DID1)) {
		t.Fatal("the JWK in the spec document is not the key of the did:key")
	}
	if d.VerificationMethod[0].Type != TypeJSONWebKey2020 {
		t.Fatalf("type = %q", d.VerificationMethod[0].Type)
	}
	if _, err := json.Marshal(d); err != nil {
		t.Fatal(err)
	}
}

// mutate parses the JSON of the zero-seed did:key document into a map, lets
// f change it and returns the JSON.
func mutate(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	base, err := json.Marshal(KeyDocument(zeroSeedKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(base, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	return mustJSON(m)
}

func vm0(m map[string]any) map[string]any {
	return m["verificationMethod"].([]any)[0].(map[string]any)
}

func TestParseDocumentErrors(t *testing.T) {
	vmID := zeroSeedDID + "#" + strings.TrimPrefix(zeroSeedDID, "did:key:")
	tests := []struct {
		name    string
		data    []byte
		wantSub string // in the error message
		wantErr error  // besides ErrInvalidDocument, if set
	}{
		{"not JSON", []byte(`{`), "", nil},
		{"not an object", []byte(`[]`), "", nil},
		{"missing id", mutate(t, func(m map[string]any) { delete(m, "id") }), "id", nil},
		{"id not a DID", mutate(t, func(m map[string]any) { m["id"] = "https://example.com" }), "id", ErrInvalidDID},
		{"missing context", mutate(t, func(m map[string]any) { delete(m, "@context") }), "@context", nil},
		{"wrong first context", mutate(t, func(m map[string]any) { m["@context"] = []any{"https://example.com/v1"} }), "@context", nil},
		{"vm not under DID", mutate(t, func(m map[string]any) { vm0(m)["id"] = "did:key:other#k" }), "not under the document's DID", nil},
		{"vm without fragment", mutate(t, func(m map[string]any) {
			vm0(m)["id"] = zeroSeedDID
			for _, r := range []string{"authentication", "assertionMethod", "capabilityInvocation", "capabilityDelegation"} {
				m[r] = []any{zeroSeedDID}
			}
		}), "not under the document's DID", nil},
		{"relationship to unknown vm", mutate(t, func(m map[string]any) { m["authentication"] = []any{zeroSeedDID + "#nope"} }), "nope", nil},
		{"duplicate vm ids", mutate(t, func(m map[string]any) {
			m["verificationMethod"] = append(m["verificationMethod"].([]any), vm0(m))
		}), "duplicate id", nil},
		{"embedded duplicates vm", mutate(t, func(m map[string]any) { m["keyAgreement"] = []any{vm0(m)} }), "duplicate id", nil},
		{"relationship lists twice", mutate(t, func(m map[string]any) { m["authentication"] = []any{vmID, vmID} }), "twice", nil},
		{"short key", mutate(t, func(m map[string]any) {
			vm0(m)["publicKeyMultibase"] = strings.TrimPrefix(didKeyOf(0xed, make([]byte, 31)), "did:key:")
		}), "invalidPublicKeyLength", ErrInvalidPublicKeyLength},
		{"key not multibase", mutate(t, func(m map[string]any) { vm0(m)["publicKeyMultibase"] = "mAAAA" }), "publicKeyMultibase", nil},
		{"no key member", mutate(t, func(m map[string]any) { delete(vm0(m), "publicKeyMultibase") }), "", nil},
		{"two key members", mutate(t, func(m map[string]any) { vm0(m)["publicKeyBase58"] = "abc" }), "exactly one public key", nil},
		{"unsupported type", mutate(t, func(m map[string]any) { vm0(m)["type"] = "EcdsaSecp256k1VerificationKey2019" }), "not supported", ErrUnsupportedPublicKeyType},
		{"unsupported codec", mutate(t, func(m map[string]any) {
			vm0(m)["publicKeyMultibase"] = strings.TrimPrefix(didKeyOf(0xec, make([]byte, 32)), "did:key:")
		}), "unsupportedPublicKeyType", ErrUnsupportedPublicKeyType},
		{"type 2020 with p256", mutate(t, func(m map[string]any) {
			vm0(m)["type"] = TypeEd25519VerificationKey2020
			vm0(m)["publicKeyMultibase"] = strings.TrimPrefix(p256DID1, "did:key:")
		}), "Ed25519 keys only", nil},
		{"private jwk", mutate(t, func(m map[string]any) {
			delete(vm0(m), "publicKeyMultibase")
			vm0(m)["type"] = TypeJSONWebKey2020
			vm0(m)["publicKeyJwk"] = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik", "d": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
		}), "private key material", nil},
		{"missing controller", mutate(t, func(m map[string]any) { delete(vm0(m), "controller") }), "", nil},
		{"controller not a DID", mutate(t, func(m map[string]any) { m["controller"] = "alice" }), "controller", ErrInvalidDID},
		{"service without endpoint", mutate(t, func(m map[string]any) {
			m["service"] = []any{map[string]any{"id": "#s", "type": "X"}}
		}), "serviceEndpoint", nil},
		{"service with two types", mutate(t, func(m map[string]any) {
			m["service"] = []any{map[string]any{"id": "#s", "type": []any{"A", "B"}, "serviceEndpoint": "https://x"}}
		}), "type", nil},
		{"service id clashes with vm", mutate(t, func(m map[string]any) {
			m["service"] = []any{map[string]any{"id": vmID, "type": "X", "serviceEndpoint": "https://x"}}
		}), "duplicate id", nil},
		{"too big", append([]byte(`{"id":"`), bytes.Repeat([]byte("a"), MaxDocumentSize)...), "exceeds", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDocument(tt.data)
			if err == nil {
				t.Fatalf("ParseDocument accepted it: %+v", d)
			}
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("error %v does not wrap ErrInvalidDocument", err)
			}
			var de *DocumentError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DocumentError", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v does not wrap %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Fatalf("error %q does not mention %q", err, tt.wantSub)
			}
			if strings.Contains(err.Error(), "Document:") {
				t.Fatalf("error quotes the document: %q", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	good := func() *Document { return KeyDocument(zeroSeedKey(t)) }
	tests := []struct {
		name  string
		edit  func(d *Document)
		field string // DocumentError.Field; "" = valid
	}{
		{"did:key document", func(d *Document) {}, ""},
		{"nil context is fine", func(d *Document) { d.Context = nil }, ""},
		{"missing id", func(d *Document) { d.ID = "" }, "id"},
		{"vm id under another DID", func(d *Document) { d.VerificationMethod[0].ID = "did:example:x#k" }, "verificationMethod[0].id"},
		{"vm missing controller", func(d *Document) { d.VerificationMethod[0].Controller = "" }, "verificationMethod[0].controller"},
		{"vm zero key", func(d *Document) { d.VerificationMethod[0].PublicKey = key.PublicKey{} }, "verificationMethod[0].publicKey"},
		{"unknown vm reference", func(d *Document) { d.AssertionMethod = []string{d.ID + "#other"} }, "assertionMethod[0]"},
		{"relative reference", func(d *Document) { d.KeyAgreement = []string{"#" + d.ID[8:]} }, "keyAgreement[0]"},
		{"duplicate vm", func(d *Document) { d.VerificationMethod = append(d.VerificationMethod, d.VerificationMethod[0]) }, "verificationMethod[1].id"},
		{"service missing type", func(d *Document) { d.Service = []Service{{ID: d.ID + "#s", Endpoint: "https://x"}} }, "service[0].type"},
		{"service endpoint map", func(d *Document) {
			d.Service = []Service{{ID: d.ID + "#s", Type: "T", Endpoint: map[string]any{"origins": []any{"https://x"}}}}
		}, ""},
		{"service endpoint not a URI", func(d *Document) { d.Service = []Service{{ID: d.ID + "#s", Type: "T", Endpoint: "x y"}} }, "service[0].serviceEndpoint"},
		{"service endpoint list of strings", func(d *Document) {
			d.Service = []Service{{ID: d.ID + "#s", Type: "T", Endpoint: []any{"https://x"}}}
		}, "service[0].serviceEndpoint[0]"},
		{"alsoKnownAs not a URI", func(d *Document) { d.AlsoKnownAs = []string{"alice"} }, "alsoKnownAs[0]"},
		{"controller not a DID", func(d *Document) { d.Controller = []string{"https://example.com"} }, "controller[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := good()
			tt.edit(d)
			err := d.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var de *DocumentError
			if !errors.As(err, &de) {
				t.Fatalf("Validate() = %v, want a *DocumentError", err)
			}
			if de.Field != tt.field {
				t.Fatalf("Field = %q, want %q (error %v)", de.Field, tt.field, err)
			}
			if _, err := d.MarshalJSON(); err == nil {
				t.Fatal("MarshalJSON wrote an invalid document")
			}
		})
	}
}

func TestDocumentMetadataJSON(t *testing.T) {
	var m DocumentMetadata
	if err := json.Unmarshal([]byte(`{"created":"2026-01-02T03:04:05.678+01:00","versionId":"3","deactivated":true}`), &m); err != nil {
		t.Fatal(err)
	}
	if m.Created == nil || m.Created.Location().String() != "UTC" || m.VersionID != "3" || !m.Deactivated || m.Updated != nil {
		t.Fatalf("parsed %+v", m)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"created":"2026-01-02T02:04:05Z","versionId":"3","deactivated":true}`; string(out) != want {
		t.Fatalf("got %s, want %s", out, want)
	}
	if err := json.Unmarshal([]byte(`{"updated":"yesterday"}`), &m); err == nil {
		t.Fatal("accepted a non-RFC 3339 time")
	}
}
