package statuslist

import "testing"

// FuzzDecode checks that Decode never panics and that a decoded list survives
// encode -> decode unchanged.
func FuzzDecode(f *testing.F) {
	f.Add(specExample)
	f.Add("")
	f.Add("u")
	f.Add("uH4sIAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Decode(s)
		if err != nil {
			if l != nil {
				t.Fatalf("Decode returned a list and an error")
			}
			if SpecCode(err) == "" {
				t.Fatalf("Decode error %v carries no spec code", err)
			}
			return
		}
		enc, err := l.Encode()
		if err != nil {
			t.Fatalf("Encode of a decoded list: %v", err)
		}
		l2, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(s))): %v", err)
		}
		if !l.Equal(l2) {
			t.Fatalf("decode -> encode -> decode changed the list")
		}
	})
}
