package delegation

import (
	"reflect"
	"testing"
)

// FuzzParse: Parse never panics on any token, and a delegation it accepts
// validates and reads back the same from its own credential.
func FuzzParse(f *testing.F) {
	w := newWorld(f)
	g := w.guardianship()
	f.Add(w.sign(g, w.registry))
	own := w.own()
	own.SubDelegation = true
	f.Add(w.sign(own, w.patient))
	sub := w.own()
	sub.Issuer, sub.Representative, sub.RepresentativeName, sub.Parent = w.carer.DID, w.stranger.DID, "Sam", own
	f.Add(w.sign(sub, w.carer))
	f.Add("eyJhbGciOiJFZERTQSJ9.e30.AA")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		d, err := Parse(token)
		if err != nil {
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("accepted delegation does not validate: %v", err)
		}
		c, err := d.Credential()
		if err != nil {
			t.Fatalf("accepted delegation does not re-encode: %v", err)
		}
		d2, err := FromCredential(c)
		if err != nil {
			t.Fatalf("re-encoded delegation does not read back: %v", err)
		}
		d2.Token = d.Token
		if !reflect.DeepEqual(d2, d) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", d2, d)
		}
	})
}
