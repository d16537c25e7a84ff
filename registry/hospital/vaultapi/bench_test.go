package vaultapi

import (
	"bytes"
	"testing"

	"github.com/medid/medid/credentials/key"
)

// BenchmarkParseSigned is the vault's request parser alone (framing,
// base64url, header and payload under the strict JSON policy), the part of
// an access decision that is parsing rather than signatures or state.
func BenchmarkParseSigned(b *testing.B) {
	k, err := key.NewEd25519FromSeed(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		b.Fatal(err)
	}
	d := "did:key:" + k.Public().Multikey()
	tok, err := SignRequest(&Request{Issuer: d, Audience: "did:key:z6MkvaultVault", Op: OpRead, Record: "r-0123456789abcdef0123456789abcdef",
		Purpose: "TREAT", Consent: "eyJhbGciOiJFZERTQSJ9.eyJjb25zZW50IjoiZ3JhbnQifQ.c2ln"}, k, d+"#"+k.Public().Multikey())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(tok)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSigned(tok); err != nil {
			b.Fatal(err)
		}
	}
}
