package key

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/medid/medid/internal/atomicfile"
)

// ErrKeyFileMode reports a private key file that others can read.
var ErrKeyFileMode = errors.New("key file is readable by other users")

// PrivateJWK returns the key as a private JWK (with "d").
// Callers MUST NOT log or print the result.
func (k *PrivateKey) PrivateJWK() (jwk.Key, error) {
	j, err := jwk.FromRaw(k.Signer())
	if err != nil {
		return nil, fmt.Errorf("private key to jwk: %w", err)
	}
	return j, nil
}

// MarshalPrivateJWK returns the key as a private JWK in JSON.
// Callers MUST NOT log or print the result.
func (k *PrivateKey) MarshalPrivateJWK() ([]byte, error) {
	j, err := k.PrivateJWK()
	if err != nil {
		return nil, err
	}
	return json.Marshal(j)
}

// JWK returns the public key as a JWK (OKP/Ed25519 or EC/P-256).
func (p PublicKey) JWK() (jwk.Key, error) {
	if p.IsZero() {
		return nil, fmt.Errorf("%w: zero public key", ErrUnsupportedKey)
	}
	j, err := jwk.FromRaw(p.Crypto())
	if err != nil {
		return nil, fmt.Errorf("public key to jwk: %w", err)
	}
	return j, nil
}

// PublicFromJWK parses a public JWK (a private one is accepted and its
// public half used).
func PublicFromJWK(j jwk.Key) (PublicKey, error) {
	var raw any
	if err := j.Raw(&raw); err != nil {
		return PublicKey{}, fmt.Errorf("%w: jwk: %v", ErrInvalidPublicKey, err)
	}
	if s, ok := raw.(crypto.Signer); ok {
		raw = s.Public()
	}
	return PublicFromCrypto(raw)
}

// ParsePublicJWK parses a public JWK from JSON.
func ParsePublicJWK(data []byte) (PublicKey, error) {
	j, err := jwk.ParseKey(data)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: jwk: %v", ErrInvalidPublicKey, err)
	}
	return PublicFromJWK(j)
}

// ParseJWK parses a private JWK from JSON. It returns an error if the JWK
// holds no private key or a key type medid does not support. The error never
// contains key material.
func ParseJWK(data []byte) (*PrivateKey, error) {
	j, err := jwk.ParseKey(data)
	if err != nil {
		// jwx errors can quote input; keep the message generic.
		return nil, errors.New("not a valid JWK: expected a JSON Web Key with a private part (\"d\")")
	}
	var raw any
	if err := j.Raw(&raw); err != nil {
		return nil, errors.New("JWK could not be decoded")
	}
	if _, ok := raw.(crypto.Signer); !ok {
		return nil, errors.New("JWK holds no private key: a key file must contain \"d\"")
	}
	return FromCrypto(raw)
}

// WriteFile stores k as a private JWK at path, a new file of mode 0600
// written atomically (internal/atomicfile.Create): it never overwrites an
// existing file, never leaves a key readable by others, and on error or
// crash leaves no partial key file behind.
func WriteFile(path string, k *PrivateKey) error {
	data, err := k.MarshalPrivateJWK()
	if err != nil {
		return err
	}
	defer clear(data)
	data = append(data, '\n')
	defer clear(data)
	if err := atomicfile.Create(path, data, 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("key file %s already exists: choose another path or delete it first", path)
		}
		return fmt.Errorf("create key file: %w", err)
	}
	return nil
}

// LoadFile reads a private JWK written by [WriteFile]. It refuses a file that
// group or others can read ([ErrKeyFileMode]), as ssh does, because such a
// key must be treated as leaked.
func LoadFile(path string) (*PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; run chmod 600 %s", ErrKeyFileMode, path, st.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	defer clear(data)
	k, err := ParseJWK(data)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}
