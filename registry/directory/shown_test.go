package directory_test

import (
	"context"
	"testing"
	"time"

	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/registry/directory"
)

// TestShownLicence: a licence a practitioner shows a patient is checked
// and said in one line: verified with body and employer, or unverified
// with the reason, never the name in it.
func TestShownLicence(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		token    func(w *world) string
		holder   func(w *world) string
		line     string
		verified bool
	}{
		{"verified, with employer", func(w *world) string { return w.licence(t, w.doctor, w.hospitalDID, t0.Add(time.Hour)) },
			func(w *world) string { return w.doctor }, "Dr. Jane Doe, licensed by General Medical Council, at St Mary's Hospital", true},
		{"employer not listed", func(w *world) string { return w.licence(t, w.doctor, "did:key:z6MkNotAHospital", t0.Add(time.Hour)) },
			func(w *world) string { return w.doctor }, "Dr. Jane Doe, licensed by General Medical Council", true},
		{"expired", func(w *world) string { return w.licence(t, w.doctor, w.hospitalDID, t0.Add(-time.Second)) },
			func(w *world) string { return w.doctor }, "unverified (licence expired)", false},
		{"revoked", func(w *world) string {
			tok := w.licence(t, w.doctor, w.hospitalDID, t0.Add(time.Hour))
			w.list.Set(3, true)
			w.publish(t)
			return tok
		}, func(w *world) string { return w.doctor }, "unverified (licence revoked)", false},
		{"someone else's", func(w *world) string { return w.licence(t, w.doctor, w.hospitalDID, t0.Add(time.Hour)) },
			func(w *world) string { return w.vault }, "unverified (the licence is someone else's)", false},
		{"not a credential", func(w *world) string { return "garbage" },
			func(w *world) string { return w.doctor }, "unverified (not a licence)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			id := w.dir.ShownLicence(ctx, tc.token(w), tc.holder(w))
			line, ok := id.Licensed()
			if line != tc.line || ok != tc.verified {
				t.Errorf("Licensed() = %q, %v; want %q, %v", line, ok, tc.line, tc.verified)
			}
		})
	}
}

// TestAccredited: the accreditation an identity holds for a type, for
// organisations in force only.
func TestAccredited(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	body, _ := w.dir.Lookup(ctx, w.bodyDID)
	if a := body.Accredited(licence.Type, t0); a == nil || a.ID != "a" {
		t.Errorf("the body's accreditation for licences: %+v", a)
	}
	if body.Accredited("AllergyIntoleranceCredential", t0) != nil {
		t.Error("accredited for a type it was not accredited for")
	}
	if body.Accredited(licence.Type, t0.Add(-2*time.Hour)) != nil {
		t.Error("accredited before its accreditation began")
	}
	unknown, _ := w.dir.Lookup(ctx, w.doctor)
	var none *directory.Identity
	if unknown.Accredited(licence.Type, t0) != nil || none.Accredited(licence.Type, t0) != nil {
		t.Error("an unknown DID is accredited")
	}
}
