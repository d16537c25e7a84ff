package tx

import (
	"testing"

	"github.com/medid/medid/internal/benchbase"
)

// BenchmarkDecode is the strict decoder alone on a did.create (framing,
// base64url, header and payload JSON under the ledger's policy, field
// rules), the part of CheckTx that is parsing rather than signatures or
// state. Baseline in the same run: BenchmarkCanonical, one canonical
// pass over the same document.
func BenchmarkDecode(b *testing.B) { benchDecode(b, Decode) }

func benchDecode(b *testing.B, decode func([]byte) (*Tx, error)) {
	k := testKey(b, 1)
	d, doc, err := BindDocument([]byte(template))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := Sign(&Payload{Type: DIDCreate, DID: d, Nonce: "n-1", Document: doc}, k, d+"#key-1")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	verify := benchbase.Ed25519VerifyCPU(5, 200)
	c0 := benchbase.ProcessCPU()
	for b.Loop() {
		if _, err := decode(raw); err != nil {
			b.Fatal(err)
		}
	}
	cpu := benchbase.ProcessCPU() - c0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(cpu)/float64(b.N)/float64(verify), "sig-eq/op")
}

// BenchmarkCanonical is Canonical of a did:medid document, what the state
// machine stores for a did.create.
func BenchmarkCanonical(b *testing.B) {
	_, doc, err := BindDocument([]byte(template))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Canonical(doc); err != nil {
			b.Fatal(err)
		}
	}
}
