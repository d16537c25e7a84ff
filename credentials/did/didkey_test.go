package did

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/multiformats/go-multibase"
	"github.com/multiformats/go-varint"

	"github.com/medid/medid/credentials/key"
)

const (
	zeroSeedDID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	p256DID1    = "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"
	p256DID2    = "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"
)

// p256Vectors are the P-256 entries of the did:key specification's
// test-vectors/nist-curves.json: private scalar and public JWK coordinates.
var p256Vectors = []struct {
	did, d, x, y string
}{
	{p256DID1, "YjRs6vNvw4sYrzVVY8ipkEpDAD9PFqw1sUnvPRMA-WI", "fyNYMN0976ci7xqiSdag3buk-ZCwgXU4kz9XNkBlNUI", "hW2ojTNfH7Jbi8--CJUo3OCbH3y5n91g-IMA9MLMbTU"},
	{p256DID2, "gPh-VvVS8MbvKQ9LSVVmfnxnKjHn4Tqj0bmbpehRlpc", "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns", "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM"},
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func zeroSeedKey(t testing.TB) key.PublicKey {
	t.Helper()
	k, err := key.NewEd25519FromSeed(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k.Public()
}

func TestKeyDIDEd25519Vector(t *testing.T) {
	pub := zeroSeedKey(t)
	if got := KeyDID(pub); got != zeroSeedDID {
		t.Fatalf("KeyDID(zero seed) = %s, want %s", got, zeroSeedDID)
	}
	back, err := ParseKeyDID(zeroSeedDID)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(pub) {
		t.Fatal("ParseKeyDID did not return the zero-seed key")
	}
}

func TestKeyDIDP256Vectors(t *testing.T) {
	for _, v := range p256Vectors {
		t.Run(v.did, func(t *testing.T) {
			priv, err := key.NewP256FromScalar(b64(t, v.d))
			if err != nil {
				t.Fatal(err)
			}
			if got := KeyDID(priv.Public()); got != v.did {
				t.Fatalf("KeyDID = %s, want %s", got, v.did)
			}
			pub, err := ParseKeyDID(v.did)
			if err != nil {
				t.Fatal(err)
			}
			j, err := pub.JWK()
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(j)
			var got struct{ Kty, Crv, X, Y string }
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if got.Crv != "P-256" || got.X != v.x || got.Y != v.y {
				t.Fatalf("JWK = %+v, want crv P-256 x %s y %s", got, v.x, v.y)
			}
		})
	}
}

// TestKeyDocumentMatchesIndependentImplementation compares our did:key
// documents with the ones @digitalbazaar/did-method-key 5.3.0 (with
// ed25519-multikey 1.3.1 and ecdsa-multikey 1.8.0) produced for the same
// DIDs; see testdata/README.md.
func TestKeyDocumentMatchesIndependentImplementation(t *testing.T) {
	data, err := os.ReadFile("testdata/didkey-documents.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != 3 {
		t.Fatalf("testdata holds %d documents, want 3", len(want))
	}
	for did, wantDoc := range want {
		t.Run(did, func(t *testing.T) {
			res, err := KeyResolver{}.Resolve(context.Background(), did)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := json.Marshal(res.Document)
			if err != nil {
				t.Fatal(err)
			}
			var got any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, wantDoc) {
				t.Fatalf("document differs from the reference implementation's\n got: %s\nwant: %s", raw, mustJSON(wantDoc))
			}
			// And the reference document parses to the same document.
			parsed, err := ParseDocument(mustJSON(wantDoc))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(parsed, res.Document) {
				t.Fatalf("ParseDocument(reference) = %+v, want %+v", parsed, res.Document)
			}
		})
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// multikeyOf builds "did:key:" + base58btc(varint(code) || body).
func didKeyOf(code uint64, body []byte) string {
	s, _ := multibase.Encode(multibase.Base58BTC, append(varint.ToUvarint(code), body...))
	return "did:key:" + s
}

func TestParseKeyDIDErrors(t *testing.T) {
	ed := zeroSeedKey(t).Bytes()
	p := mustParseKeyDID(t, p256DID1).Bytes()
	b58, _ := multibase.Encode(multibase.Base58BTC, append(varint.ToUvarint(0xed), ed...))
	b32, _ := multibase.Encode(multibase.Base32, append(varint.ToUvarint(0xed), ed...))
	offCurve := append([]byte{0x02}, bytes.Repeat([]byte{0xff}, 32)...)
	tests := []struct {
		name    string
		in      string
		want    error
		wantStr string
	}{
		{"not a DID", "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", ErrInvalidDID, "invalidDid"},
		{"other method", "did:web:example.com", ErrInvalidDID, "invalidDid"},
		{"DID URL", zeroSeedDID + "#x", ErrInvalidDID, "invalidDid"},
		{"not base58btc", "did:key:" + b32, ErrInvalidDID, "invalidDid"},
		{"no multibase prefix", "did:key:" + b58[1:], ErrInvalidDID, "invalidDid"},
		{"bad base58 char", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0", ErrInvalidDID, "invalidDid"},
		{"versioned form", "did:key:1.0:" + b58, ErrInvalidDID, "invalidDid"},
		{"empty value", "did:key:z", ErrInvalidDID, "invalidDid"},
		{"ed25519 too short", didKeyOf(0xed, ed[:31]), ErrInvalidPublicKeyLength, "invalidPublicKeyLength"},
		{"ed25519 too long", didKeyOf(0xed, append(ed, 0)), ErrInvalidPublicKeyLength, "invalidPublicKeyLength"},
		{"p256 uncompressed length", didKeyOf(0x1200, append(p, make([]byte, 32)...)), ErrInvalidPublicKeyLength, "invalidPublicKeyLength"},
		{"p256 too short", didKeyOf(0x1200, p[:32]), ErrInvalidPublicKeyLength, "invalidPublicKeyLength"},
		{"p256 off curve", didKeyOf(0x1200, offCurve), ErrInvalidPublicKey, "invalidPublicKey"},
		{"secp256k1 codec", didKeyOf(0xe7, p), ErrUnsupportedPublicKeyType, "unsupportedPublicKeyType"},
		{"x25519 codec", didKeyOf(0xec, ed), ErrUnsupportedPublicKeyType, "unsupportedPublicKeyType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKeyDID(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseKeyDID(%q) error = %v, want %v", tt.in, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantStr) {
				t.Fatalf("error %q does not contain %q", err, tt.wantStr)
			}
		})
	}
}

func mustParseKeyDID(t *testing.T, s string) key.PublicKey {
	t.Helper()
	p, err := ParseKeyDID(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKeyResolver(t *testing.T) {
	ctx := context.Background()
	res, err := KeyResolver{}.Resolve(ctx, zeroSeedDID)
	if err != nil {
		t.Fatal(err)
	}
	vmID := zeroSeedDID + "#" + strings.TrimPrefix(zeroSeedDID, "did:key:")
	for _, rel := range []Relationship{Authentication, AssertionMethod, CapabilityInvocation, CapabilityDelegation} {
		got, err := res.Document.Key(vmID, rel)
		if err != nil {
			t.Fatalf("Key(%s): %v", rel, err)
		}
		if !got.Equal(zeroSeedKey(t)) {
			t.Fatalf("Key(%s) returned another key", rel)
		}
	}
	if _, err := res.Document.Key(vmID, KeyAgreement); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Key(keyAgreement) error = %v, want ErrKeyNotFound", err)
	}
	if _, err := (KeyResolver{}).Resolve(ctx, "did:web:example.com"); !errors.Is(err, ErrMethodNotSupported) {
		t.Fatalf("did:web error = %v, want ErrMethodNotSupported", err)
	}
	if _, err := (KeyResolver{}).Resolve(ctx, "did:key:z0OIl"); !errors.Is(err, ErrInvalidDID) {
		t.Fatalf("did:key:z0OIl error = %v, want ErrInvalidDID", err)
	}
	if KeyDocument(key.PublicKey{}) != nil || KeyDID(key.PublicKey{}) != "" {
		t.Fatal("zero key must give no DID and no document")
	}
}

func TestKeyDIDRoundTripGenerated(t *testing.T) {
	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		for i := 0; i < 20; i++ {
			k, err := key.Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			did := KeyDID(k.Public())
			prefix := map[key.Alg]string{key.Ed25519: "did:key:z6Mk", key.P256: "did:key:zDn"}[alg]
			if !strings.HasPrefix(did, prefix) {
				t.Fatalf("%s did:key %s does not start with %s", alg, did, prefix)
			}
			back, err := ParseKeyDID(did)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Equal(k.Public()) {
				t.Fatalf("%s: round trip changed the key", alg)
			}
		}
	}
}
