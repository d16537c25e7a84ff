// Package key holds the key pairs medid signs with: Ed25519 and NIST P-256.
//
// Private keys live in the opaque [PrivateKey] type. Its String, GoString and
// Format methods never print key material, so a key that reaches a log line
// or an error by accident leaks nothing. Key files are private JWKs written
// with O_EXCL and mode 0600 (see [WriteFile]).
package key

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"

	"github.com/lestrrat-go/jwx/v2/jwa"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Alg names a key type.
type Alg string

// The key types medid supports.
const (
	Ed25519 Alg = "ed25519"
	P256    Alg = "p256"
)

// ParseAlg maps a user-facing name ("ed25519", "p256", also "EdDSA", "ES256",
// "P-256") to an Alg. It returns an error naming the accepted values otherwise.
func ParseAlg(s string) (Alg, error) {
	switch s {
	case "ed25519", "Ed25519", "EdDSA", "eddsa":
		return Ed25519, nil
	case "p256", "P256", "P-256", "ES256", "es256":
		return P256, nil
	}
	return "", fmt.Errorf("unknown key algorithm %q: use ed25519 or p256", s)
}

// JWS returns the JOSE signature algorithm for keys of this type:
// EdDSA for Ed25519, ES256 for P-256.
func (a Alg) JWS() jwa.SignatureAlgorithm {
	if a == P256 {
		return jwa.ES256
	}
	return jwa.EdDSA
}

// Errors returned by this package. Callers branch on them with errors.Is.
var (
	// ErrInvalidPublicKeyLength reports a public key of the wrong size for its
	// type; the did:key specification calls this invalidPublicKeyLength.
	ErrInvalidPublicKeyLength = errors.New("invalidPublicKeyLength")
	// ErrInvalidPublicKey reports bytes that are not a valid public key (for
	// P-256, a point that is not on the curve).
	ErrInvalidPublicKey = errors.New("invalidPublicKey")
	// ErrUnsupportedKey reports a key type medid does not handle.
	ErrUnsupportedKey = errors.New("unsupported key type")
)

// PrivateKey is a signing key. The zero value is not usable; make one with
// [Generate], [NewEd25519FromSeed], [NewP256FromScalar], [ParseJWK] or
// [LoadFile]. A PrivateKey is safe for concurrent use for signing.
type PrivateKey struct {
	alg Alg
	ed  ed25519.PrivateKey
	ec  *ecdsa.PrivateKey
}

// Generate makes a new random key of type alg.
func Generate(alg Alg) (*PrivateKey, error) {
	switch alg {
	case Ed25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate ed25519 key: %w", err)
		}
		return &PrivateKey{alg: Ed25519, ed: priv}, nil
	case P256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate p256 key: %w", err)
		}
		return &PrivateKey{alg: P256, ec: priv}, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedKey, alg)
}

// NewEd25519FromSeed derives the Ed25519 key of a 32-byte seed (RFC 8032).
// The same seed always gives the same key, which is what deterministic
// wallet recovery relies on.
func NewEd25519FromSeed(seed []byte) (*PrivateKey, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("ed25519 seed must be %d bytes, got %d", ed25519.SeedSize, len(seed))
	}
	return &PrivateKey{alg: Ed25519, ed: ed25519.NewKeyFromSeed(seed)}, nil
}

// NewP256FromScalar makes the P-256 key with the 32-byte big-endian private
// scalar d. It returns an error if d is zero or not below the group order.
func NewP256FromScalar(d []byte) (*PrivateKey, error) {
	if len(d) != 32 {
		return nil, fmt.Errorf("p256 scalar must be 32 bytes, got %d", len(d))
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		return nil, fmt.Errorf("p256 scalar: %w", err)
	}
	return &PrivateKey{alg: P256, ec: priv}, nil
}

// FromCrypto wraps a standard library private key (ed25519.PrivateKey or
// *ecdsa.PrivateKey on P-256).
func FromCrypto(k crypto.PrivateKey) (*PrivateKey, error) {
	switch k := k.(type) {
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: ed25519 private key of %d bytes", ErrUnsupportedKey, len(k))
		}
		return &PrivateKey{alg: Ed25519, ed: k}, nil
	case *ed25519.PrivateKey:
		return FromCrypto(*k)
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: ecdsa curve %s", ErrUnsupportedKey, k.Curve.Params().Name)
		}
		return &PrivateKey{alg: P256, ec: k}, nil
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, k)
}

// Alg returns the key's type.
func (k *PrivateKey) Alg() Alg { return k.alg }

// Public returns the public half of the key.
func (k *PrivateKey) Public() PublicKey {
	if k.alg == Ed25519 {
		return PublicKey{alg: Ed25519, ed: k.ed.Public().(ed25519.PublicKey)}
	}
	return PublicKey{alg: P256, ec: &k.ec.PublicKey}
}

// Signer returns the key as a crypto.Signer (ed25519.PrivateKey or
// *ecdsa.PrivateKey), the form jwx and the standard library sign with.
func (k *PrivateKey) Signer() crypto.Signer {
	if k.alg == Ed25519 {
		return k.ed
	}
	return k.ec
}

// Sign signs msg with the key's JOSE algorithm: a plain Ed25519 signature, or
// an ES256 signature in the fixed 64-byte r||s form JWS uses.
func (k *PrivateKey) Sign(msg []byte) ([]byte, error) {
	if k.alg == Ed25519 {
		return ed25519.Sign(k.ed, msg), nil
	}
	h := crypto.SHA256.New()
	h.Write(msg)
	r, s, err := ecdsa.Sign(rand.Reader, k.ec, h.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("es256 sign: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return sig, nil
}

// Equal reports whether k and o are the same key, in constant time.
func (k *PrivateKey) Equal(o *PrivateKey) bool {
	if k == nil || o == nil || k.alg != o.alg {
		return false
	}
	if k.alg == Ed25519 {
		return subtle.ConstantTimeCompare(k.ed, o.ed) == 1
	}
	return k.ec.Equal(o.ec)
}

// Destroy overwrites the key material it can reach. The key MUST NOT be used
// afterwards. Go may have copied the bytes elsewhere, so this is best effort.
func (k *PrivateKey) Destroy() {
	if k == nil {
		return
	}
	clear(k.ed)
	if k.ec != nil && k.ec.D != nil {
		k.ec.D.SetInt64(0)
	}
}

// String never reveals key material.
func (k *PrivateKey) String() string { return fmt.Sprintf("key.PrivateKey(%s, redacted)", k.alg) }

// GoString never reveals key material, even with %#v.
func (k *PrivateKey) GoString() string { return k.String() }

// Format never reveals key material, whatever the verb.
func (k *PrivateKey) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }

// PublicKey is a verification key. Its zero value is invalid.
// A PublicKey is immutable and safe to share.
type PublicKey struct {
	alg Alg
	ed  ed25519.PublicKey
	ec  *ecdsa.PublicKey
}

// PublicFromCrypto wraps an ed25519.PublicKey or a P-256 *ecdsa.PublicKey.
func PublicFromCrypto(p crypto.PublicKey) (PublicKey, error) {
	switch p := p.(type) {
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return PublicKey{}, fmt.Errorf("%w: ed25519 key of %d bytes, want 32", ErrInvalidPublicKeyLength, len(p))
		}
		return PublicKey{alg: Ed25519, ed: p}, nil
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return PublicKey{}, fmt.Errorf("%w: ecdsa curve %s", ErrUnsupportedKey, p.Curve.Params().Name)
		}
		return PublicKey{alg: P256, ec: p}, nil
	case ecdsa.PublicKey:
		return PublicFromCrypto(&p)
	}
	return PublicKey{}, fmt.Errorf("%w: %T", ErrUnsupportedKey, p)
}

// Alg returns the key's type, or "" for the zero value.
func (p PublicKey) Alg() Alg { return p.alg }

// IsZero reports whether p is the zero value.
func (p PublicKey) IsZero() bool { return p.alg == "" }

// Crypto returns the standard library form: ed25519.PublicKey or *ecdsa.PublicKey.
func (p PublicKey) Crypto() crypto.PublicKey {
	if p.alg == Ed25519 {
		return p.ed
	}
	return p.ec
}

// Bytes returns the key's canonical bytes: 32 bytes for Ed25519, the
// 33-byte compressed point for P-256 (the form did:key and Multikey use).
func (p PublicKey) Bytes() []byte {
	switch p.alg {
	case Ed25519:
		return append([]byte(nil), p.ed...)
	case P256:
		return elliptic.MarshalCompressed(elliptic.P256(), p.ec.X, p.ec.Y)
	}
	return nil
}

// AppendBytes appends the key's canonical bytes (see [PublicKey.Bytes]) to
// b and returns the extended slice; b unchanged for the zero key. An
// Ed25519 key is appended without an allocation of its own.
func (p PublicKey) AppendBytes(b []byte) []byte {
	switch p.alg {
	case Ed25519:
		return append(b, p.ed...)
	case P256:
		return append(b, p.Bytes()...)
	}
	return b
}

// PublicFromBytes parses canonical key bytes of type alg (see [PublicKey.Bytes]).
// P-256 keys may also be given uncompressed (65 bytes). A wrong length is
// [ErrInvalidPublicKeyLength]; a point off the curve is [ErrInvalidPublicKey].
func PublicFromBytes(alg Alg, b []byte) (PublicKey, error) {
	switch alg {
	case Ed25519:
		if len(b) != ed25519.PublicKeySize {
			return PublicKey{}, fmt.Errorf("%w: ed25519 key of %d bytes, want 32", ErrInvalidPublicKeyLength, len(b))
		}
		return PublicKey{alg: Ed25519, ed: ed25519.PublicKey(append([]byte(nil), b...))}, nil
	case P256:
		var x, y *big.Int
		switch len(b) {
		case 33:
			x, y = elliptic.UnmarshalCompressed(elliptic.P256(), b)
		case 65:
			pk, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b)
			if err != nil {
				return PublicKey{}, fmt.Errorf("%w: %v", ErrInvalidPublicKey, err)
			}
			return PublicKey{alg: P256, ec: pk}, nil
		default:
			return PublicKey{}, fmt.Errorf("%w: p256 key of %d bytes, want 33 (compressed) or 65", ErrInvalidPublicKeyLength, len(b))
		}
		if x == nil {
			return PublicKey{}, fmt.Errorf("%w: p256 point is not on the curve", ErrInvalidPublicKey)
		}
		return PublicKey{alg: P256, ec: &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}}, nil
	}
	return PublicKey{}, fmt.Errorf("%w: %q", ErrUnsupportedKey, alg)
}

// Verify reports whether sig is a valid signature of msg under p, with the
// key's JOSE algorithm (see [PrivateKey.Sign]).
func (p PublicKey) Verify(msg, sig []byte) bool {
	switch p.alg {
	case Ed25519:
		if len(p.ed) != ed25519.PublicKeySize {
			return false
		}
		return voi.VerifyWithOptions(voi.PublicKey(p.ed), msg, sig, ed25519StdLib)
	case P256:
		if len(sig) != 64 {
			return false
		}
		h := crypto.SHA256.New()
		h.Write(msg)
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(p.ec, h.Sum(nil), r, s)
	}
	return false
}

// ed25519StdLib makes curve25519-voi accept exactly what crypto/ed25519
// accepts (FuzzEd25519MatchesStdlib checks it): the same verdicts, in about
// 0.55x the time on this project's machines (docs/design/0011). Every node
// of the registry must agree on every signature, so the rules must not
// drift from the standard library's.
var ed25519StdLib = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// Equal reports whether p and q are the same key.
func (p PublicKey) Equal(q PublicKey) bool {
	if p.alg != q.alg {
		return false
	}
	switch p.alg {
	case Ed25519:
		return p.ed.Equal(q.ed)
	case P256:
		return p.ec.Equal(q.ec)
	}
	return true
}
