package delegation_test

import (
	"reflect"
	"testing"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/delegation/delegationtest"
)

// FuzzParse: Parse never panics on any token, and a delegation it accepts
// validates and reads back the same from its own credential.
func FuzzParse(f *testing.F) {
	w := delegationtest.New(f)
	g := newGuardianship(w)
	f.Add(w.Sign(g, w.Registry))
	own := newOwn(w)
	own.SubDelegation = true
	f.Add(w.Sign(own, w.Patient))
	sub := newOwn(w)
	sub.Issuer, sub.Representative, sub.RepresentativeName, sub.Parent = w.Carer.DID, w.Stranger.DID, "Sam", own
	f.Add(w.Sign(sub, w.Carer))
	f.Add("eyJhbGciOiJFZERTQSJ9.e30.AA")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		d, err := delegation.Parse(token)
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
		d2, err := delegation.FromCredential(c)
		if err != nil {
			t.Fatalf("re-encoded delegation does not read back: %v", err)
		}
		d2.Token = d.Token
		if !reflect.DeepEqual(d2, d) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", d2, d)
		}
	})
}
