package vault

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// TestAccessMatrix: every way a read can be refused is refused, releases
// nothing, and leaves a denied entry in the patient's trail.
func TestAccessMatrix(t *testing.T) {
	h := newHarness(t)
	prov, other, stranger := newParty(t, 10), newParty(t, 11), newParty(t, 12)
	rec := h.put(h.patient, "AllergyIntolerance", allergy)
	good := h.grant(h.patient, prov.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)

	revoked := h.grant(h.patient, prov.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	h.ledger.revoke(revoked, h.clock.Now().Add(-time.Second))
	// Expired: valid for one day starting 2 days ago.
	h.clock.Advance(-48 * time.Hour)
	expired := h.grant(h.patient, prov.DID, []string{"AllergyIntolerance"}, "TREAT", 1, false, true)
	h.clock.Advance(48 * time.Hour)
	wrongClass := h.grant(h.patient, prov.DID, []string{"Immunization"}, "TREAT", 30, false, true)
	wrongPurpose := h.grant(h.patient, prov.DID, []string{"AllergyIntolerance"}, "HRESCH", 30, false, true)
	// A grant "by the patient" signed by someone else: the stranger issues a
	// grant naming themselves as patient (the only kind they can sign).
	foreign := h.grant(stranger, prov.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	notAnchored := h.grant(h.patient, prov.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, false)
	replayed := h.sign(prov, &vaultapi.Request{Op: vaultapi.OpRead, Record: rec.ID, Purpose: "TREAT", Consent: good})
	if _, _, err := h.v.Read(context.Background(), replayed); err != nil {
		t.Fatalf("first use of a good request: %v", err)
	}

	cases := []struct {
		name     string
		do       func() ([]byte, error)
		want     error
		wantGate error // the specific reason, when there is one
	}{
		{"no consent", func() ([]byte, error) { return h.read(prov, rec.ID, "TREAT", "", "") }, vaultapi.ErrDenied, vaultapi.ErrNoConsent},
		{"expired consent", func() ([]byte, error) { return h.read(prov, rec.ID, "TREAT", expired, "") }, vaultapi.ErrDenied, consent.ErrConsentExpired},
		{"revoked consent", func() ([]byte, error) { return h.read(prov, rec.ID, "TREAT", revoked, "") }, vaultapi.ErrDenied, consent.ErrRevoked},
		{"consent never anchored", func() ([]byte, error) { return h.read(prov, rec.ID, "TREAT", notAnchored, "") }, vaultapi.ErrDenied, consent.ErrNotAnchored},
		{"wrong data class", func() ([]byte, error) { return h.read(prov, rec.ID, "TREAT", wrongClass, "") }, vaultapi.ErrDenied, consent.ErrWrongClass},
		{"wrong purpose", func() ([]byte, error) { return h.read(prov, rec.ID, "TREAT", wrongPurpose, "") }, vaultapi.ErrDenied, consent.ErrWrongPurpose},
		{"wrong provider", func() ([]byte, error) { return h.read(other, rec.ID, "TREAT", good, "") }, vaultapi.ErrDenied, consent.ErrWrongProvider},
		{"consent signed by someone other than the patient", func() ([]byte, error) { return h.read(prov, rec.ID, "TREAT", foreign, "") }, vaultapi.ErrDenied, vaultapi.ErrNotOwner},
		{"replayed request", func() ([]byte, error) {
			b, _, err := h.v.Read(context.Background(), replayed)
			return b, err
		}, vaultapi.ErrReplay, nil},
		{"break-glass the patient forbade", func() ([]byte, error) { return h.read(other, rec.ID, "ETREAT", "", "unconscious in the ER") }, vaultapi.ErrDenied, vaultapi.ErrBreakGlassForbidden},
		{"break-glass on a grant without it", func() ([]byte, error) { return h.read(prov, rec.ID, "ETREAT", good, "unconscious") }, vaultapi.ErrDenied, consent.ErrBreakGlassNotPermitted},
		{"stale request", func() ([]byte, error) {
			tok := h.sign(prov, &vaultapi.Request{Op: vaultapi.OpRead, Record: rec.ID, Purpose: "TREAT", Consent: good, IssuedAt: h.clock.Now().Add(-time.Hour).Unix()})
			b, _, err := h.v.Read(context.Background(), tok)
			return b, err
		}, vaultapi.ErrUnauthenticated, nil},
		{"signed by another key", func() ([]byte, error) {
			r := &vaultapi.Request{Op: vaultapi.OpRead, Record: rec.ID, Purpose: "TREAT", Consent: good, Issuer: prov.DID, Audience: h.hosp.DID, IssuedAt: h.clock.Now().Unix()}
			tok, err := vaultapi.SignRequest(r, stranger.Key, prov.DID+"#"+stranger.Key.Public().Multikey())
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := h.v.Read(context.Background(), tok)
			return b, err
		}, vaultapi.ErrUnauthenticated, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, err := c.do()
			if !errors.Is(err, c.want) || (c.wantGate != nil && !errors.Is(err, c.wantGate)) {
				t.Fatalf("err = %v, want %v / %v", err, c.want, c.wantGate)
			}
			if body != nil {
				t.Fatalf("a refused read released %d bytes", len(body))
			}
			tr := h.trail(h.patient)
			last := tr[len(tr)-1]
			if last.Outcome != trail.OutcomeDenied || last.Record != rec.ID || last.Action != trail.ActionRead {
				t.Errorf("last trail entry = %+v, want a denied read of %s", last.Entry, rec.ID)
			}
		})
	}
}

// TestScenario is the story against the vault (the end-to-end test
// in cmd/registryd runs it against a real registry node).
func TestScenario(t *testing.T) {
	h := newHarness(t)
	prov, second, er := newParty(t, 20), newParty(t, 21), newParty(t, 22)
	h.v.SetStaff([]string{er.DID})
	rec := h.put(h.patient, "AllergyIntolerance", allergy)

	grant := h.grant(h.patient, prov.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	body, err := h.read(prov, rec.ID, "TREAT", grant, "")
	if err != nil || string(body) != allergy {
		t.Fatalf("provider read = %q, %v", body, err)
	}
	if _, err := h.read(second, rec.ID, "TREAT", grant, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("second provider: %v, want denied", err)
	}
	// The patient's standing break-glass grant to the hospital.
	standing := h.grant(h.patient, h.hosp.DID, []string{"AllergyIntolerance"}, "ETREAT", 365, true, true)
	if err := h.v.AllowBreakGlass(context.Background(), h.sign(h.patient, &vaultapi.Request{Op: vaultapi.OpBreakGlass, Consent: standing})); err != nil {
		t.Fatal(err)
	}
	if body, err := h.read(er, rec.ID, "ETREAT", "", "anaphylaxis, patient unconscious"); err != nil || string(body) != allergy {
		t.Fatalf("break-glass read = %q, %v", body, err)
	}
	tr := h.trail(h.patient)
	var granted, denied, glass int
	for _, e := range tr {
		switch {
		case e.BreakGlass && e.Outcome == trail.OutcomeGranted:
			glass++
			if e.Type != trail.DCMEmergencyOverride || e.Purpose != "ETREAT" || e.Provider != er.DID {
				t.Errorf("break-glass entry = %+v", e.Entry)
			}
		case e.Action == trail.ActionRead && e.Outcome == trail.OutcomeGranted:
			granted++
		case e.Outcome == trail.OutcomeDenied:
			denied++
		}
	}
	if granted != 1 || denied != 1 || glass != 1 {
		t.Fatalf("trail: %d granted, %d denied, %d break-glass; want 1 each", granted, denied, glass)
	}
	// Revoke: the first provider is denied.
	h.ledger.revoke(grant, h.clock.Now())
	h.clock.Advance(time.Second)
	if _, err := h.read(prov, rec.ID, "TREAT", grant, ""); !errors.Is(err, consent.ErrRevoked) {
		t.Fatalf("after revoke: %v, want ErrRevoked", err)
	}
	// Revoking the standing grant closes emergency access at once (issue 11
	// item 7: an open one-hour window used to survive the revocation).
	h.ledger.revoke(standing, h.clock.Now())
	h.clock.Advance(time.Second)
	if _, err := h.read(er, rec.ID, "ETREAT", "", "still in the ER"); !errors.Is(err, vaultapi.ErrBreakGlassForbidden) || !errors.Is(err, consent.ErrRevoked) {
		t.Fatalf("break-glass after the standing grant was revoked: %v, want forbidden (revoked)", err)
	}
	// Erasure: only the owner; then gone for good.
	if _, err := h.v.Erase(context.Background(), h.sign(prov, &vaultapi.Request{Op: vaultapi.OpErase, Record: rec.ID})); !errors.Is(err, vaultapi.ErrNotOwner) {
		t.Fatalf("erase by a provider: %v", err)
	}
	if _, err := h.v.Erase(context.Background(), h.sign(h.patient, &vaultapi.Request{Op: vaultapi.OpErase, Record: rec.ID})); err != nil {
		t.Fatal(err)
	}
	fresh := h.grant(h.patient, prov.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	if _, err := h.read(prov, rec.ID, "TREAT", fresh, ""); !errors.Is(err, vaultapi.ErrErased) {
		t.Fatalf("read after erasure: %v, want vaultapi.ErrErased", err)
	}
	if _, err := os.Stat(filepath.Join(h.v.cfg.Dir, "keys", rec.ID+".key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data key still on disk: %v", err)
	}
	// Nothing in the vault folder holds the clinical text in the clear.
	_ = filepath.Walk(h.v.cfg.Dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(p)
			for _, s := range []string{"Penicillin", "Alice Example", "AllergyIntolerance\",\"code"} {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s contains %q", p, s)
				}
			}
		}
		return nil
	})
	h.trail(h.patient) // anchors the erasure
	evs := h.v.RecordEvents(rec.ID)
	if len(evs) != 2 {
		t.Fatalf("record events = %d, want put and erase", len(evs))
	}
}

func TestMasterKeyFile(t *testing.T) {
	h := newHarness(t)
	fi, err := os.Stat(filepath.Join(h.v.cfg.Dir, MasterKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("master key mode = %v, want 0600", fi.Mode().Perm())
	}
}

// A provider holding their own grant with break-glass allowed may break the
// glass beyond its purposes, within its classes; the override is logged as
// such.
func TestBreakGlassOwnGrant(t *testing.T) {
	h := newHarness(t)
	er := newParty(t, 40)
	rec := h.put(h.patient, "AllergyIntolerance", allergy)
	cond := h.put(h.patient, "Condition", `{"resourceType":"Condition","code":{"text":"HIV"}}`)
	g := h.grant(h.patient, er.DID, []string{"AllergyIntolerance"}, "HRESCH", 30, true, true)
	if _, err := h.read(er, rec.ID, "TREAT", g, ""); !errors.Is(err, consent.ErrWrongPurpose) {
		t.Fatalf("ordinary read outside the grant's purposes: %v, want ErrWrongPurpose", err)
	}
	if _, err := h.read(er, cond.ID, "ETREAT", g, "cardiac arrest"); !errors.Is(err, consent.ErrWrongClass) {
		t.Fatalf("break-glass outside the grant's classes: %v, want ErrWrongClass", err)
	}
	if _, err := h.read(er, rec.ID, "TREAT", g, "cardiac arrest"); !errors.Is(err, consent.ErrWrongPurpose) {
		t.Fatalf("break-glass without ETREAT: %v, want ErrWrongPurpose", err)
	}
	if body, err := h.read(er, rec.ID, "ETREAT", g, "cardiac arrest"); err != nil || string(body) != allergy {
		t.Fatalf("break-glass with own grant: %q, %v", body, err)
	}
	tr := h.trail(h.patient)
	last := tr[len(tr)-1]
	if !last.BreakGlass || last.Outcome != trail.OutcomeGranted || last.Type != trail.DCMEmergencyOverride || last.Reason != "cardiac arrest" {
		t.Errorf("last entry = %+v", last.Entry)
	}
}
