package tx

import "testing"

// BenchmarkDecode is the strict decoder alone on a did.create (framing,
// base64url, header and payload JSON under the ledger's policy, field
// rules), the part of CheckTx that is parsing rather than signatures or
// state. Baseline in the same run: BenchmarkCanonical, one canonical
// pass over the same document.
func BenchmarkDecode(b *testing.B) {
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
	for b.Loop() {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
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
