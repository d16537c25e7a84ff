package tx

import (
	"bytes"
	"testing"
)

// FuzzDecode checks that Decode never panics, that whatever it accepts is
// within the size limit, passes Payload.Validate, and keeps Raw, and that
// the canonical form of an accepted payload document is stable.
func FuzzDecode(f *testing.F) {
	k := testKey(f, 1)
	for _, raw := range builtTokens(f) {
		f.Add(raw)
	}
	f.Add([]byte("a.b.c"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		tx, err := Decode(data)
		if err != nil {
			return
		}
		if len(data) > MaxSize {
			t.Fatalf("accepted %d bytes", len(data))
		}
		if !bytes.Equal(tx.Raw, data) {
			t.Fatal("Raw differs from input")
		}
		if err := tx.Payload.Validate(); err != nil {
			t.Fatalf("accepted payload fails Validate: %v", err)
		}
		if len(tx.Payload.Document) > 0 {
			c1, err := Canonical(tx.Payload.Document)
			if err != nil {
				t.Fatalf("accepted document is not canonicalisable: %v", err)
			}
			c2, err := Canonical(c1)
			if err != nil || !bytes.Equal(c1, c2) {
				t.Fatalf("canonical form not stable: %s vs %s (%v)", c1, c2, err)
			}
		}
		_ = tx.Verify(k.Public()) // must not panic
	})
}
