package vault

import (
	"testing"

	"github.com/medid/medid/registry/hospital/vaultapi"
)

// FuzzParseRequest: the request parser never panics, and whatever it
// accepts has the fields it promises.
func FuzzParseRequest(f *testing.F) {
	h := newHarness(f)
	f.Add(h.sign(h.patient, &vaultapi.Request{Op: vaultapi.OpAccessLog, Patient: h.patient.DID}))
	f.Add(h.sign(h.patient, &vaultapi.Request{Op: vaultapi.OpRead, Record: "r-00000000000000000000000000000000", Purpose: "TREAT", Consent: "a.b.c"}))
	f.Add("eyJhbGciOiJFZERTQSJ9.e30.AA")
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := vaultapi.ParseRequest(s)
		if err != nil {
			return
		}
		if r.Op == "" || r.Nonce == "" || r.IssuedAt == 0 || r.Issuer == "" {
			t.Fatalf("accepted a request without op, nonce, iat or iss: %+v", r)
		}
	})
}
