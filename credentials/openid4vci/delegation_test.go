package openid4vci

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/delegation/delegationtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

// receiveWorld is an issuer of allergy and immunization credentials that
// honours delegations, over a delegationtest world.
type receiveWorld struct {
	*delegationtest.World
	is     *Issuer
	issuer credtest.Party
}

func newReceiveWorld(t *testing.T, withDelegations bool) *receiveWorld {
	w := &receiveWorld{World: delegationtest.New(t), issuer: credtest.NewParty(t, key.Ed25519, "openid4vci delegation issuer")}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	cfg := Config{URL: srv.URL, Key: w.issuer.Key, DID: w.issuer.DID, Kid: w.issuer.Kid,
		Configurations: map[string]Configuration{
			testType: NewConfiguration(testType), "ImmunizationCredential": NewConfiguration("ImmunizationCredential"),
			"ImmunizationCredential.sd": NewSDJWTConfiguration("ImmunizationCredential")},
		Resolver: did.KeyResolver{}, Status: &counterStatus{}, Now: w.Clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if withDelegations {
		cfg.Delegations = w.Checker()
	}
	var err error
	if w.is, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = w.is
	return w
}

// receive redeems a fresh offer of config (for subject, "" for anyone) as
// p, with delegation tok ("" for none), and returns the credential's
// subject.
func (w *receiveWorld) receive(t *testing.T, config, subject string, p credtest.Party, tok string) (string, error) {
	t.Helper()
	res, err := w.is.CreateOffer(OfferRequest{ConfigurationID: config, Claims: map[string]any{"vaccine": "MMR"}, Subject: subject})
	if err != nil {
		t.Fatal(err)
	}
	o, _, err := ParseOfferURI(res.URI)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := (&Client{Now: w.Clock.Now}).Accept(context.Background(), AcceptRequest{Offer: o, Key: p.Key, Kid: p.Kid, Delegation: tok})
	if err != nil {
		return "", err
	}
	c, err := vc.Verify(context.Background(), acc.Credentials[0], credtest.Keys(w.issuer), vc.VerifyOptions{Now: w.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return c.SubjectID(), nil
}

// TestReceiveFor: a representative with "receive" gets the patient's
// credential, issued to the patient's DID; every other case is refused
// with credential_request_denied and the reason.
func TestReceiveFor(t *testing.T) {
	w := newReceiveWorld(t, true)
	ana, ben, maria := w.Patient.DID, w.Other.DID, w.Parent
	guard := w.Guardianship(delegation.ActionView, delegation.ActionReceive)
	guardTok := w.Sign(guard, w.Registry)
	viewOnlyTok := w.Sign(w.Guardianship(delegation.ActionView), w.Registry)
	carerTok := w.Sign(w.Own([]delegation.Action{delegation.ActionReceive}, "AllergyIntolerance"), w.Patient)
	rogueTok := w.Sign(&delegation.Delegation{ID: "urn:uuid:00000000-0000-4000-8000-00000000f00d", Type: delegation.TypeGuardianship,
		Issuer: w.Rogue.DID, Representative: maria.DID, RepresentativeName: "Maria Silva", Patient: ana, Minor: true,
		Basis: delegation.BasisParent, Actions: []delegation.Action{delegation.ActionReceive}, Classes: []string{delegation.AllClasses},
		Purposes: []string{"TREAT"}, ValidFrom: guard.ValidFrom, ValidUntil: guard.ValidUntil, Status: guard.Status}, w.Rogue)

	for _, tc := range []struct {
		name, config, subject string
		as                    credtest.Party
		tok                   string
	}{
		{"parent, offer for anyone", "ImmunizationCredential", "", maria, guardTok},
		{"parent, offer for the child", "ImmunizationCredential", ana, maria, guardTok},
		{"carer, delegated class", testType, "", w.Carer, carerTok},
		{"the patient herself", "ImmunizationCredential", ana, w.Patient, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := w.receive(t, tc.config, tc.subject, tc.as, tc.tok)
			if err != nil || got != ana {
				t.Fatalf("credential subject %q, %v: want Ana's DID %s", got, err, ana)
			}
		})
	}

	refused := []struct {
		name, config, subject string
		as                    credtest.Party
		tok                   string
		want                  string
	}{
		{"out of scope: view only", "ImmunizationCredential", "", maria, viewOnlyTok, delegation.ErrOutOfScope.Error()},
		{"out of scope: class not delegated", "ImmunizationCredential", "", w.Carer, carerTok, "data class Immunization is not delegated"},
		{"wrong patient: the offer is for Ben", "ImmunizationCredential", ben, maria, guardTok, delegation.ErrWrongPatient.Error()},
		{"someone else's delegation", "ImmunizationCredential", "", w.Stranger, guardTok, delegation.ErrWrongRepresentative.Error()},
		{"issuer not accredited", "ImmunizationCredential", "", maria, rogueTok, delegation.ErrNotAccredited.Error()},
		{"an SD-JWT VC", "ImmunizationCredential.sd", "", maria, guardTok, "cannot be received for someone else"},
		{"the offer is for Ana, no delegation", "ImmunizationCredential", ana, maria, "", "this offer is for " + ana},
		{"garbage delegation", "ImmunizationCredential", "", maria, "not.a.token", "not honoured"},
	}
	check := func(t *testing.T, err error, want string) {
		t.Helper()
		if protoCode(err) != ErrCodeRequestDenied || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want credential_request_denied with %q", err, want)
		}
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.receive(t, tc.config, tc.subject, tc.as, tc.tok)
			check(t, err, tc.want)
		})
	}
	t.Run("revoked", func(t *testing.T) {
		d := w.Guardianship(delegation.ActionReceive)
		tok := w.Sign(d, w.Registry)
		if _, err := w.receive(t, "ImmunizationCredential", "", maria, tok); err != nil {
			t.Fatalf("before revocation: %v", err)
		}
		w.Revoke(d)
		_, err := w.receive(t, "ImmunizationCredential", "", maria, tok)
		check(t, err, delegation.ErrRevoked.Error())
	})
	t.Run("expired: the child came of age", func(t *testing.T) {
		w.Clock.Advance(366 * 24 * time.Hour)
		defer w.Clock.Advance(-366 * 24 * time.Hour)
		_, err := w.receive(t, "ImmunizationCredential", "", maria, guardTok)
		check(t, err, delegation.ErrCameOfAge.Error())
		if strings.Contains(err.Error(), "Ana") {
			t.Errorf("the refusal names the patient: %v", err)
		}
	})
	t.Run("not yet valid", func(t *testing.T) {
		w.Clock.Advance(-2 * time.Hour)
		defer w.Clock.Advance(2 * time.Hour)
		_, err := w.receive(t, "ImmunizationCredential", "", maria, guardTok)
		check(t, err, delegation.ErrNotYetValid.Error())
	})
	t.Run("issuer without delegation support", func(t *testing.T) {
		w2 := newReceiveWorld(t, false)
		_, err := w2.receive(t, "ImmunizationCredential", "", w2.Parent, w2.Sign(w2.Guardianship(delegation.ActionReceive), w2.Registry))
		check(t, err, "does not issue credentials to representatives")
	})
}

func TestCredentialClass(t *testing.T) {
	for _, tc := range []struct {
		types []string
		want  string
	}{
		{[]string{"VerifiableCredential", "ImmunizationCredential"}, "Immunization"},
		{[]string{"VerifiableCredential", "AllergyIntoleranceCredential"}, "AllergyIntolerance"},
		{[]string{"VerifiableCredential", "AllergyCredential"}, "AllergyIntolerance"},
		{[]string{"VerifiableCredential", "PatientIdentityCredential"}, "Patient"},
		{[]string{"VerifiableCredential"}, ""},
	} {
		if got := delegation.CredentialClass(tc.types); got != tc.want {
			t.Errorf("CredentialClass(%v) = %q, want %q", tc.types, got, tc.want)
		}
	}
}
