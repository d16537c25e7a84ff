package fhir

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
)

func TestConsentPCF(t *testing.T) {
	g := &consent.Grant{ID: "urn:uuid:5f0e9a3e-8f57-4f7e-9b43-0c1a6b3f2a11", Patient: didPatient, Provider: "did:medid:ehr1",
		Actions: []consent.Action{consent.ActionAccess}, Purposes: []string{"TREAT"}, Classes: []string{"AllergyIntolerance", "Immunization"},
		ValidFrom: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), ValidUntil: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), BreakGlass: true}
	hash := strings.Repeat("cd", 32)
	for _, status := range []string{consent.StatusActive, consent.StatusInactive} {
		b, err := ConsentPCF(g, status, "c1", Patient{ID: "p1", DID: didPatient}, hash)
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			ID         string
			Status     string
			Meta       struct{ Profile []string }
			Patient    struct{ Reference string }
			DateTime   string
			Policy     []struct{ URI string }
			Identifier []struct{ System, Value string }
		}
		json.Unmarshal(b, &c)
		if c.ID != "c1" || c.Status != status || c.Meta.Profile[0] != ProfilePCFConsent || c.Patient.Reference != "Patient/p1" ||
			c.DateTime != "2026-03-01T00:00:00Z" || c.Policy[0].URI != PolicyConsentGrant || c.Identifier[len(c.Identifier)-1].Value != hash {
			t.Errorf("PCF Consent: %s", b)
		}
		// The export is still a Consent medid itself reads back to the same grant.
		back, st, err := consent.ParseFHIR(b)
		if err != nil || st != status || back.Provider != g.Provider || back.Patient != g.Patient || !back.BreakGlass || len(back.Classes) != 2 || !back.ValidUntil.Equal(g.ValidUntil) {
			t.Errorf("read back: %+v %s %v", back, st, err)
		}
	}
	if _, err := ConsentPCF(g, "draft", "", Patient{DID: didPatient}, ""); err == nil {
		t.Error("status draft accepted")
	}
	if _, err := ConsentPCF(g, consent.StatusActive, "bad/id", Patient{DID: didPatient}, ""); err == nil {
		t.Error("bad id accepted")
	}
}
