package key

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multiformats/go-multibase"
)

func TestMultikeyVectors(t *testing.T) {
	// did:key spec test vector: the all-zero Ed25519 seed.
	k, err := NewEd25519FromSeed(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := k.Public().Multikey(), "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"; got != want {
		t.Errorf("Multikey() = %s, want %s", got, want)
	}
	// did:key spec P-256 vector.
	const p256 = "zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"
	pk, err := ParseMultikey(p256)
	if err != nil {
		t.Fatal(err)
	}
	if pk.Alg() != P256 || pk.Multikey() != p256 {
		t.Errorf("P-256 round trip: alg %s, %s", pk.Alg(), pk.Multikey())
	}
}

func TestParseMultikeyErrors(t *testing.T) {
	short, _ := NewEd25519FromSeed(make([]byte, 32))
	mk := short.Public().Multikey()
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrInvalidMultikey},
		{"not base58btc", "u" + mk[1:], ErrInvalidMultikey},
		{"bad base58", "z0OIl", ErrInvalidMultikey},
		{"ed25519 31 bytes", mustMultibase(append([]byte{0xed, 0x01}, make([]byte, 31)...)), ErrInvalidPublicKeyLength},
		{"p256 32 bytes", mustMultibase(append([]byte{0x80, 0x24}, make([]byte, 32)...)), ErrInvalidPublicKeyLength},
		{"unknown codec", "z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc", ErrUnsupportedKey}, // x25519-pub
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMultikey(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("ParseMultikey(%q) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func mustMultibase(b []byte) string {
	s, _ := multibase.Encode(multibase.Base58BTC, b)
	return s
}

func TestSignVerify(t *testing.T) {
	for _, alg := range []Alg{Ed25519, P256} {
		t.Run(string(alg), func(t *testing.T) {
			k, err := Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := k.Sign([]byte("msg"))
			if err != nil {
				t.Fatal(err)
			}
			if !k.Public().Verify([]byte("msg"), sig) {
				t.Error("valid signature rejected")
			}
			if k.Public().Verify([]byte("msh"), sig) {
				t.Error("signature over other message accepted")
			}
			back, err := PublicFromBytes(alg, k.Public().Bytes())
			if err != nil || !back.Equal(k.Public()) {
				t.Errorf("PublicFromBytes round trip: %v", err)
			}
		})
	}
}

// TestAppendBytes: AppendBytes appends exactly Bytes to what is there,
// for each algorithm and the zero key.
func TestAppendBytes(t *testing.T) {
	for _, alg := range []Alg{Ed25519, P256} {
		t.Run(string(alg), func(t *testing.T) {
			k, err := Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			pub := k.Public()
			if got, want := pub.AppendBytes([]byte("pre:")), append([]byte("pre:"), pub.Bytes()...); !bytes.Equal(got, want) {
				t.Errorf("AppendBytes = %x, want %x", got, want)
			}
		})
	}
	if got := (PublicKey{}).AppendBytes([]byte("pre:")); string(got) != "pre:" {
		t.Errorf("zero key: AppendBytes = %q, want %q", got, "pre:")
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	for _, alg := range []Alg{Ed25519, P256} {
		t.Run(string(alg), func(t *testing.T) {
			k, _ := Generate(alg)
			path := filepath.Join(dir, string(alg)+".jwk")
			if err := WriteFile(path, k); err != nil {
				t.Fatal(err)
			}
			st, _ := os.Stat(path)
			if got := st.Mode().Perm(); got != 0o600 {
				t.Errorf("mode = %04o, want 0600", got)
			}
			if err := WriteFile(path, k); err == nil {
				t.Error("WriteFile overwrote an existing file")
			}
			back, err := LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Equal(k) {
				t.Error("loaded key differs")
			}
			os.Chmod(path, 0o644)
			if _, err := LoadFile(path); !errors.Is(err, ErrKeyFileMode) {
				t.Errorf("LoadFile of 0644 file: err = %v, want ErrKeyFileMode", err)
			}
		})
	}
}

func TestParseJWKRejectsPublic(t *testing.T) {
	k, _ := Generate(Ed25519)
	j, _ := k.Public().JWK()
	data, _ := jsonMarshal(j)
	if _, err := ParseJWK(data); err == nil {
		t.Error("ParseJWK accepted a public JWK as a private key")
	}
}

func TestNoSecretsPrinted(t *testing.T) {
	k, _ := NewEd25519FromSeed(bytes.Repeat([]byte{7}, 32))
	jwkJSON, _ := k.MarshalPrivateJWK()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		out := fmt.Sprintf(verb, k)
		if strings.Contains(out, "BwcH") || strings.Contains(out, "0707") || strings.Contains(string(jwkJSON), out) {
			t.Errorf("%s printed key material: %s", verb, out)
		}
	}
}
