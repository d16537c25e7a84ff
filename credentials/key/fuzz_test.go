package key

import (
	"encoding/json"
	"testing"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// FuzzParseMultikey checks that any string either fails with an error or
// round-trips to itself.
func FuzzParseMultikey(f *testing.F) {
	f.Add("z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
	f.Add("zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169")
	f.Add("z")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseMultikey(s)
		if err != nil {
			return
		}
		if got := k.Multikey(); got != s {
			// base58 has a single canonical form, so a parsed key re-encodes identically.
			t.Errorf("round trip %q -> %q", s, got)
		}
	})
}

// FuzzParseJWK checks that arbitrary input never panics.
func FuzzParseJWK(f *testing.F) {
	k, _ := NewEd25519FromSeed(make([]byte, 32))
	b, _ := k.MarshalPrivateJWK()
	f.Add(b)
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"","y":""}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseJWK(data)
		ParsePublicJWK(data)
	})
}
