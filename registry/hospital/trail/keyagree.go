package trail

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha512"
	"errors"
	"fmt"
	"math/big"

	"github.com/lestrrat-go/jwx/v2/x25519"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
)

// ErrNoKeyAgreement reports a patient key that cannot receive encrypted
// entries.
var ErrNoKeyAgreement = errors.New("no key agreement key for this patient key")

// p25519 is the field prime 2^255 - 19.
var p25519 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// RecipientKey returns the key-agreement public key that trail entries for
// the holder of pub are encrypted to: for Ed25519 the X25519 key birationally
// equivalent to it (u = (1+y)/(1-y) mod p, the conversion the did:key
// specification uses to derive its X25519 keyAgreement method), for P-256 the
// same point used for ECDH. The patient decrypts with [DecryptionKey] of the
// matching private key, so nothing extra has to be published or registered.
func RecipientKey(pub key.PublicKey) (any, error) {
	switch pub.Alg() {
	case key.Ed25519:
		b := pub.Bytes()
		if len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: Ed25519 key of %d bytes", ErrNoKeyAgreement, len(b))
		}
		// y is little-endian with the sign of x in the top bit.
		le := make([]byte, 32)
		copy(le, b)
		le[31] &= 0x7f
		y := new(big.Int).SetBytes(reverse(le))
		if y.Cmp(p25519) >= 0 {
			return nil, fmt.Errorf("%w: Ed25519 key is not canonical", ErrNoKeyAgreement)
		}
		num := new(big.Int).Add(big.NewInt(1), y)
		den := new(big.Int).Sub(big.NewInt(1), y)
		den.Mod(den, p25519)
		if den.Sign() == 0 {
			return nil, fmt.Errorf("%w: Ed25519 key is the identity point", ErrNoKeyAgreement)
		}
		u := num.Mul(num, den.ModInverse(den, p25519))
		u.Mod(u, p25519)
		out := make([]byte, 32)
		u.FillBytes(out)
		return x25519.PublicKey(reverse(out)), nil
	case key.P256:
		ek, ok := pub.Crypto().(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: unexpected P-256 key type %T", ErrNoKeyAgreement, pub.Crypto())
		}
		return ek, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNoKeyAgreement, pub.Alg())
}

// DecryptionKey returns the private key-agreement key matching
// [RecipientKey] of k's public key: for Ed25519 the X25519 scalar
// SHA-512(seed)[:32] (clamped by X25519), the scalar Ed25519 itself uses,
// which is why the converted public key matches; for P-256 the ECDSA key.
func DecryptionKey(k *key.PrivateKey) (any, error) {
	switch s := k.Signer().(type) {
	case ed25519.PrivateKey:
		h := sha512.Sum512(s.Seed())
		priv, err := x25519.NewKeyFromSeed(h[:32])
		clear(h[:])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoKeyAgreement, err)
		}
		return priv, nil
	case *ecdsa.PrivateKey:
		if _, err := s.ECDH(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoKeyAgreement, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNoKeyAgreement, k.Alg())
}

// PatientKey returns the key whose key-agreement counterpart trail entries
// (and secrets a representative seals to the patient, [SealSecret]) are
// sealed to: the first authentication key of the patient's DID document.
// The patient decrypts with the matching private key.
func PatientKey(doc *did.Document) (key.PublicKey, error) {
	for _, ref := range doc.Authentication {
		if pub, err := doc.Key(ref, did.Authentication); err == nil {
			return pub, nil
		}
	}
	return key.PublicKey{}, fmt.Errorf("%w: %s has no usable authentication key", ErrNoKeyAgreement, doc.ID)
}

var _ = ecdh.X25519 // the X25519 arithmetic is crypto/ecdh's, through jwx

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}
