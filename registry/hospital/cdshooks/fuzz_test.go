package cdshooks

import (
	"errors"
	"testing"
)

// FuzzParseRequest: a request is refused with ErrBadRequest or yields
// exactly one patient, one actor and one known purpose.
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(specRequest))
	f.Add([]byte(`{"hook":"patient-consent-consult","hookInstance":"1","context":{"patientId":{"system":"urn:ietf:rfc:3986","value":"did:a:b"},"scope":"patient-privacy","purposeOfUse":"TREAT","actor":{"system":"urn:ietf:rfc:3986","value":"did:a:c"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRequest(data)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v", err)
			}
			return
		}
		q := r.Question("c")
		if q.Patient == "" || q.Actor == "" || q.Purpose == "" || len(q.Classes) > MaxClasses {
			t.Fatalf("question %+v", q)
		}
	})
}
