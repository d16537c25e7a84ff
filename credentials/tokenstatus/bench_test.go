package tokenstatus

import (
	"crypto/ed25519"
	"testing"

	"github.com/medid/medid/credentials/statuslist"
)

const benchEntries = 1 << 20

func benchList(b *testing.B, bits int) *List {
	l, err := New(benchEntries, bits)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < benchEntries; i += 97 {
		l.Set(i, Invalid)
	}
	enc, err := l.Encode()
	if err != nil {
		b.Fatal(err)
	}
	d, err := Decode(bits, enc)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkStatusCheck looks up one entry of a decoded 1,048,576-entry
// Token Status List (what a verifier pays per credential once the list is
// cached), with the same lookup in a W3C Bitstring Status List and a bare
// ed25519.Verify as baselines measured in the same run.
func BenchmarkStatusCheck(b *testing.B) {
	for _, bits := range []int{1, 2, 8} {
		b.Run("tsl-bits"+string(rune('0'+bits)), func(b *testing.B) {
			l := benchList(b, bits)
			ref := Reference{URI: listURI}
			tk := &Token{URI: listURI, List: l}
			i := 0
			for b.Loop() {
				ref.Index = i
				if _, err := tk.Status(ref); err != nil {
					b.Fatal(err)
				}
				i = (i + 7919) & (benchEntries - 1)
			}
		})
	}
	b.Run("baseline-bitstring", func(b *testing.B) {
		l, err := statuslist.New(benchEntries)
		if err != nil {
			b.Fatal(err)
		}
		i := 0
		for b.Loop() {
			if _, err := l.Get(i); err != nil {
				b.Fatal(err)
			}
			i = (i + 7919) & (benchEntries - 1)
		}
	})
	b.Run("baseline-ed25519-verify", func(b *testing.B) {
		pub, priv, _ := ed25519.GenerateKey(nil)
		msg := make([]byte, 600)
		sig := ed25519.Sign(priv, msg)
		for b.Loop() {
			ed25519.Verify(pub, msg, sig)
		}
	})
}

// BenchmarkDecode decodes a 1,048,576-entry 2-bit list with 1% of entries set.
func BenchmarkDecode(b *testing.B) {
	l := benchList(b, 2)
	enc, _ := l.Encode()
	b.SetBytes(int64(len(l.data)))
	for b.Loop() {
		if _, err := Decode(2, enc); err != nil {
			b.Fatal(err)
		}
	}
}
