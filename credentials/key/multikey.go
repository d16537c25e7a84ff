package key

import (
	"fmt"

	"github.com/multiformats/go-multibase"
	"github.com/multiformats/go-multicodec"
	"github.com/multiformats/go-varint"
)

// ErrInvalidMultikey reports a publicKeyMultibase value that is not a
// base58btc multibase string with a known multicodec prefix.
var ErrInvalidMultikey = fmt.Errorf("invalid multikey")

// Multikey returns the key as a Multikey publicKeyMultibase value: base58btc
// ("z") of the multicodec prefix (ed25519-pub 0xed, p256-pub 0x1200) and the
// key bytes. Ed25519 keys start "z6Mk", P-256 keys "zDn".
func (p PublicKey) Multikey() string {
	var code multicodec.Code
	switch p.alg {
	case Ed25519:
		code = multicodec.Ed25519Pub
	case P256:
		code = multicodec.P256Pub
	default:
		return ""
	}
	b := append(varint.ToUvarint(uint64(code)), p.Bytes()...)
	s, _ := multibase.Encode(multibase.Base58BTC, b)
	return s
}

// ParseMultikey parses a Multikey publicKeyMultibase value (see
// [PublicKey.Multikey]). A key of the wrong size is
// [ErrInvalidPublicKeyLength]; any other malformation is [ErrInvalidMultikey]
// or [ErrUnsupportedKey].
func ParseMultikey(s string) (PublicKey, error) {
	if len(s) == 0 || s[0] != 'z' {
		return PublicKey{}, fmt.Errorf("%w: must be base58btc multibase (start with 'z')", ErrInvalidMultikey)
	}
	enc, b, err := multibase.Decode(s)
	if err != nil || enc != multibase.Base58BTC {
		return PublicKey{}, fmt.Errorf("%w: not base58btc", ErrInvalidMultikey)
	}
	code, n, err := varint.FromUvarint(b)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: bad multicodec prefix", ErrInvalidMultikey)
	}
	switch multicodec.Code(code) {
	case multicodec.Ed25519Pub:
		return PublicFromBytes(Ed25519, b[n:])
	case multicodec.P256Pub:
		if len(b[n:]) != 33 {
			return PublicKey{}, fmt.Errorf("%w: p256 key of %d bytes, want 33 (compressed)", ErrInvalidPublicKeyLength, len(b[n:]))
		}
		return PublicFromBytes(P256, b[n:])
	}
	return PublicKey{}, fmt.Errorf("%w: multicodec 0x%x", ErrUnsupportedKey, code)
}
