package tokenstatus

import (
	"bytes"
	"context"
	"testing"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
)

// FuzzDecode: Decode never panics, never returns more than MaxDecodedBytes,
// and what it accepts re-encodes to a list with the same entries.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"status_list_encoding", "status_list_encoding2", "status_list_encoding1_long", "status_list_encoding8"} {
		s := readSpec(f, name)
		f.Add(s.Bits, s.Lst)
	}
	f.Add(1, "")
	f.Add(3, "eNrbuRgAAhcBXQ")
	f.Fuzz(func(t *testing.T, bits int, lst string) {
		l, err := Decode(bits, lst)
		if err != nil {
			return
		}
		if len(l.data) > MaxDecodedBytes || l.Len() != len(l.data)*8/bits {
			t.Fatalf("decoded %d bytes as %d entries of %d bits", len(l.data), l.Len(), bits)
		}
		enc, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(bits, enc)
		if err != nil || string(back.data) != string(l.data) {
			t.Fatalf("re-encoding changed the list: %v", err)
		}
	})
}

// FuzzToken: the Status List Token parser never panics, and only the
// issuer's own tokens verify.
func FuzzToken(f *testing.F) {
	s := credtest.NewParty(f, key.Ed25519, "list owner")
	good := signedList(f, s, nil)
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, tok string) {
		got, err := Verify(context.Background(), tok, credtest.Keys(s), VerifyOptions{URI: listURI, Now: now})
		if err == nil && (tok != good || got.Issuer != s.DID) {
			t.Fatalf("a token the issuer did not sign verified: %q", tok)
		}
	})
}

// FuzzAllocatorState varies an allocator state file: UnmarshalBinary never
// panics, and a state it accepts round-trips and allocates only free
// entries inside the list.
func FuzzAllocatorState(f *testing.F) {
	a, err := NewAllocator(MinEntries)
	if err != nil {
		f.Fatal(err)
	}
	for range 3 {
		if _, err := a.Allocate(); err != nil {
			f.Fatal(err)
		}
	}
	good, _ := a.MarshalBinary()
	f.Add(good)
	f.Add(good[:8])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Allocator
		if err := a.UnmarshalBinary(b); err != nil {
			return
		}
		again, err := a.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("state does not round-trip: %v", err)
		}
		free := a.Free()
		i, err := a.Allocate()
		if free == 0 {
			if err == nil {
				t.Fatal("a full allocator allocated")
			}
			return
		}
		if err != nil || i < 0 || i >= a.Len() || a.Free() != free-1 {
			t.Fatalf("Allocate = %d, %v (free %d -> %d, len %d)", i, err, free, a.Free(), a.Len())
		}
		var before Allocator
		_ = before.UnmarshalBinary(b)
		if before.Taken(i) {
			t.Fatalf("Allocate handed out taken entry %d", i)
		}
	})
}
