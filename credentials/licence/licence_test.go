package licence

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/medid/medid/credentials/vc"
)

func janeDoe() Claims {
	return Claims{Name: "Dr. Jane Doe", Profession: Professions["doctor"], Specialty: &Code{SNOMED, "773568002", "Emergency medicine"},
		LicenceNumber: "GMC-7654321", Jurisdiction: "GB", Employer: "did:medid:StMarys"}
}

func cred(subject map[string]any) *vc.Credential {
	return &vc.Credential{Type: []string{vc.TypeCredential, Type}, Issuer: "did:medid:GMC", ID: "urn:uuid:1", Subject: subject}
}

func TestFromCredential(t *testing.T) {
	c := janeDoe()
	l, err := FromCredential(cred(c.Subject("did:key:z6MkJane")))
	if err != nil {
		t.Fatal(err)
	}
	if l.Name != "Dr. Jane Doe" || l.Practitioner != "did:key:z6MkJane" || l.Employer != "did:medid:StMarys" || l.Specialty.Display != "Emergency medicine" {
		t.Fatalf("parsed %+v", l)
	}
	for _, tc := range []struct {
		name string
		edit func(m map[string]any)
	}{
		{"health data smuggled in", func(m map[string]any) { m["allergy"] = "penicillin" }},
		{"no subject DID", func(m map[string]any) { delete(m, "id") }},
		{"no name", func(m map[string]any) { delete(m, "name") }},
		{"uncoded profession", func(m map[string]any) { m["profession"] = "doctor" }},
		{"unknown code system", func(m map[string]any) {
			m["profession"] = map[string]any{"system": "urn:x", "code": "1", "display": "x"}
		}},
		{"extra coding member", func(m map[string]any) {
			m["profession"] = map[string]any{"system": SNOMED, "code": "1", "display": "x", "version": "2"}
		}},
		{"bad jurisdiction", func(m map[string]any) { m["jurisdiction"] = "Britain" }},
		{"employer not a DID", func(m map[string]any) { m["employer"] = "St Mary's" }},
		{"bidi in the name", func(m map[string]any) { m["name"] = "Dr. Jane\u202e Doe" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := c.Subject("did:key:z6MkJane")
			tc.edit(m)
			if _, err := FromCredential(cred(m)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("FromCredential = %v, want ErrInvalid", err)
			}
		})
	}
	other := cred(c.Subject("did:key:z6MkJane"))
	other.Type = []string{vc.TypeCredential, "AllergyIntoleranceCredential"}
	if _, err := FromCredential(other); !errors.Is(err, ErrInvalid) {
		t.Errorf("another type: %v", err)
	}
}

// FuzzFromCredential checks the claims parser never panics and that what
// it accepts validates and round-trips through Subject.
func FuzzFromCredential(f *testing.F) {
	c := janeDoe()
	b, _ := json.Marshal(c.Subject("did:key:z6MkJane"))
	f.Add(b)
	f.Add([]byte(`{"id":"did:x","name":"A","profession":{"system":"http://snomed.info/sct","code":"1","display":"d"},"licenceNumber":"1","jurisdiction":"US-CA"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m map[string]any
		if json.Unmarshal(data, &m) != nil {
			return
		}
		l, err := FromCredential(cred(m))
		if err != nil {
			return
		}
		if err := l.Claims.Validate(); err != nil {
			t.Fatalf("accepted claims fail Validate: %v", err)
		}
		l2, err := FromCredential(cred(l.Claims.Subject(l.Practitioner)))
		if err != nil || l2.Name != l.Name || l2.Profession != l.Profession {
			t.Fatalf("round trip: %+v, %v", l2, err)
		}
	})
}
