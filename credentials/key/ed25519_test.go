package key

import (
	"crypto/ed25519"
	"encoding/hex"
	"testing"
)

// ed25519Edge are signatures crypto/ed25519 and looser verifiers disagree
// on: S >= L (malleability), a small-order public key, a non-canonical R,
// an all-zero signature. Each must get the standard library's verdict.
func ed25519Edge(t testing.TB) [][3][]byte {
	t.Helper()
	h := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := []byte("medid")
	sig := ed25519.Sign(priv, msg)
	// S + L: the same point equation, rejected by crypto/ed25519.
	l := h("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	big := append([]byte(nil), sig...)
	var carry int
	for i := 0; i < 32; i++ {
		v := int(big[32+i]) + int(l[i]) + carry
		big[32+i], carry = byte(v), v>>8
	}
	smallOrder := h("0100000000000000000000000000000000000000000000000000000000000000") // identity point
	return [][3][]byte{
		{pub, msg, sig},
		{pub, msg, big},
		{pub, []byte("other"), sig},
		{smallOrder, msg, make([]byte, 64)},
		{smallOrder, msg, append(h("0100000000000000000000000000000000000000000000000000000000000000"), make([]byte, 32)...)},
		{pub, msg, append(h("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), sig[32:]...)},
		{pub, msg, sig[:63]},
	}
}

// TestEd25519MatchesStdlib: PublicKey.Verify (curve25519-voi with the
// standard library's rules) gives crypto/ed25519's verdict on the edge cases.
func TestEd25519MatchesStdlib(t *testing.T) {
	for i, c := range ed25519Edge(t) {
		want := ed25519.Verify(c[0], c[1], c[2])
		got := PublicKey{alg: Ed25519, ed: ed25519.PublicKey(c[0])}.Verify(c[1], c[2])
		if got != want {
			t.Errorf("case %d: Verify = %v, crypto/ed25519 says %v", i, got, want)
		}
	}
}

// FuzzEd25519MatchesStdlib: for any key, message and signature bytes,
// PublicKey.Verify agrees with crypto/ed25519.Verify. Registry nodes must
// agree on every signature, so this is a consensus rule, not a nicety.
func FuzzEd25519MatchesStdlib(f *testing.F) {
	for _, c := range ed25519Edge(f) {
		f.Add(c[0], c[1], c[2])
	}
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		if len(pub) != ed25519.PublicKeySize {
			return
		}
		want := ed25519.Verify(pub, msg, sig)
		got := PublicKey{alg: Ed25519, ed: ed25519.PublicKey(pub)}.Verify(msg, sig)
		if got != want {
			t.Fatalf("Verify(%x, %x, %x) = %v, crypto/ed25519 says %v", pub, msg, sig, got, want)
		}
	})
}
