package tx

import (
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"testing"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/benchbase"
	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Why FinalizeBlock does not batch-verify Ed25519 signatures (issue 19,
// docs/design/0022). The ledger's rule is crypto/ed25519's: cofactorless
// verification, [s]B - [k]A must encode to exactly R. Batch verification
// checks a random combination of the cofactored equation
// [8]([s]B - R - [k]A) = 0 and cannot check the cofactorless one (a
// torsion component of order 2 cancels with probability 1/2 per random
// weight; curve25519-voi refuses VerifyOptionsStdLib in a batch for this
// reason). A signature whose key carries a small-order component passes
// the batch and fails the ledger's rule, so nodes that batch-verified a
// block would accept a transaction that nodes which checked it in CheckTx
// rejected: different app hashes. Making the batch exact needs a
// torsion check of every A and R, which costs more than the batch saves.

// torsionSigned signs msg under a key A = [a]B + T, T the point of order
// 2, as an attacker can: the signature satisfies the cofactored equation
// but, when the challenge k is odd, not the cofactorless one.
func torsionSigned(t testing.TB, msg []byte) (pub, sig []byte) {
	t.Helper()
	t2b, _ := hex.DecodeString("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f") // (0, -1)
	var t2c curve.CompressedEdwardsY
	if _, err := t2c.SetBytes(t2b); err != nil {
		t.Fatal(err)
	}
	var T curve.EdwardsPoint
	if _, err := T.SetCompressedY(&t2c); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 64; i++ {
		a, _ := scalar.New().SetRandom(nil)
		r, _ := scalar.New().SetRandom(nil)
		var A0, A, R curve.EdwardsPoint
		A0.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, a)
		A.Add(&A0, &T)
		R.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, r)
		var Ac, Rc curve.CompressedEdwardsY
		Ac.SetEdwardsPoint(&A)
		Rc.SetEdwardsPoint(&R)
		h := sha512.New()
		h.Write(Rc[:])
		h.Write(Ac[:])
		h.Write(msg)
		k, _ := scalar.NewFromBytesModOrderWide(h.Sum(nil))
		var kb [32]byte
		_ = k.ToBytes(kb[:])
		if kb[0]&1 == 0 {
			continue // even k: [k]T = 0, the signature would be valid under both rules
		}
		s := scalar.New().Mul(k, a)
		s.Add(s, r)
		sig = make([]byte, 64)
		copy(sig, Rc[:])
		_ = s.ToBytes(sig[32:])
		return Ac[:], sig
	}
	t.Fatal("no odd challenge in 64 tries")
	return nil, nil
}

// TestBatchVerificationIsNotTheLedgersRule shows the disagreement: the
// ledger's verification (key.PublicKey.Verify, what tx.Tx.Verify calls)
// and crypto/ed25519 reject the signature, curve25519-voi's batch verifier
// accepts it in a batch of honest signatures.
func TestBatchVerificationIsNotTheLedgersRule(t *testing.T) {
	msg := []byte("a transaction's signing input")
	pub, sig := torsionSigned(t, msg)
	if ed25519.Verify(ed25519.PublicKey(pub), msg, sig) {
		t.Fatal("crypto/ed25519 accepts the torsion signature; the premise of this test is wrong")
	}
	k, err := key.PublicFromBytes(key.Ed25519, pub)
	if err != nil {
		t.Fatal(err)
	}
	if k.Verify(msg, sig) {
		t.Fatal("the ledger's verification accepts the torsion signature")
	}
	bv := voi.NewBatchVerifier()
	for i := range 8 {
		hp, hk, _ := ed25519.GenerateKey(nil)
		m := []byte{byte(i)}
		bv.AddWithOptions(voi.PublicKey(hp), m, ed25519.Sign(hk, m), &voi.Options{Verify: voi.VerifyOptionsZIP_215})
	}
	bv.AddWithOptions(voi.PublicKey(pub), msg, sig, &voi.Options{Verify: voi.VerifyOptionsZIP_215})
	if !bv.VerifyBatchOnly(nil) {
		t.Fatal("the batch verifier rejects the torsion signature: if that holds for every weight, batch verification could be reconsidered")
	}
}

// BenchmarkEd25519Batch is what batch verification would save: the CPU of
// one signature in a batch of 64 honest did.create-sized signatures, in
// sig-equivalents (one bare crypto/ed25519.Verify in the same run = 1),
// beside the ledger's one-by-one verification of the same signatures.
func BenchmarkEd25519Batch(b *testing.B) {
	const n = 64
	pubs := make([]ed25519.PublicKey, n)
	msgs := make([][]byte, n)
	sigs := make([][]byte, n)
	keys := make([]key.PublicKey, n)
	for i := range n {
		p, k, _ := ed25519.GenerateKey(nil)
		pubs[i], msgs[i] = p, make([]byte, 600)
		msgs[i][0] = byte(i)
		sigs[i] = ed25519.Sign(k, msgs[i])
		keys[i], _ = key.PublicFromBytes(key.Ed25519, p)
	}
	verify := benchbase.Ed25519VerifyCPU(5, 200)
	report := func(b *testing.B, c0 int64) {
		cpu := benchbase.ProcessCPU().Nanoseconds() - c0
		b.ReportMetric(float64(cpu)/float64(b.N*n)/float64(verify.Nanoseconds()), "sig-eq/sig")
	}
	b.Run("one-by-one", func(b *testing.B) {
		c0 := benchbase.ProcessCPU().Nanoseconds()
		for b.Loop() {
			for i := range n {
				if !keys[i].Verify(msgs[i], sigs[i]) {
					b.Fatal("bad signature")
				}
			}
		}
		report(b, c0)
	})
	b.Run("batch", func(b *testing.B) {
		c0 := benchbase.ProcessCPU().Nanoseconds()
		for b.Loop() {
			bv := voi.NewBatchVerifierWithCapacity(n)
			for i := range n {
				bv.AddWithOptions(voi.PublicKey(pubs[i]), msgs[i], sigs[i], &voi.Options{Verify: voi.VerifyOptionsZIP_215})
			}
			if !bv.VerifyBatchOnly(nil) {
				b.Fatal("batch failed")
			}
		}
		report(b, c0)
	})
}
