package statuslist

import "testing"

func benchList(b *testing.B) (*List, string) {
	l := mustNew(b, MinEntries)
	for i := 0; i < MinEntries; i += 97 {
		l.Set(i, true)
	}
	enc, err := l.Encode()
	if err != nil {
		b.Fatal(err)
	}
	d, err := Decode(enc)
	if err != nil {
		b.Fatal(err)
	}
	return d, enc
}

// BenchmarkGet looks up one entry of a decoded 131,072-entry list: the cost a
// verifier pays per credential once the list is cached.
func BenchmarkGet(b *testing.B) {
	l, _ := benchList(b)
	i := 0
	for b.Loop() {
		if _, err := l.Get(i); err != nil {
			b.Fatal(err)
		}
		i = (i + 7919) % MinEntries
	}
}

// BenchmarkDecode decodes a 131,072-entry list with about 1% of entries set.
func BenchmarkDecode(b *testing.B) {
	_, enc := benchList(b)
	b.SetBytes(MinEntries / 8)
	for b.Loop() {
		if _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode encodes a 131,072-entry list with about 1% of entries set.
func BenchmarkEncode(b *testing.B) {
	l, _ := benchList(b)
	b.SetBytes(MinEntries / 8)
	for b.Loop() {
		if _, err := l.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}
