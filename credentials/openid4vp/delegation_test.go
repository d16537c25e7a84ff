package openid4vp

import (
	"context"
	"errors"
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
	"github.com/medid/medid/credentials/verify"
)

// presentFor signs, as rep, a presentation of creds carrying the
// delegation tok.
func presentFor(t testing.TB, rep credtest.Party, aud, nonce, tok string, creds ...string) string {
	t.Helper()
	vp, err := vc.SignPresentation(&vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation},
		Holder: rep.DID, Credentials: creds, Extra: map[string]any{DelegationClaim: tok}}, rep.Key, rep.Kid, aud, nonce)
	if err != nil {
		t.Fatal(err)
	}
	return vp
}

func newDelegationVerifier(t testing.TB, w *delegationtest.World, withDelegations bool) *Verifier {
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	cfg := Config{URL: srv.URL, Verify: vv, Name: "ER", Now: w.Clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if withDelegations {
		cfg.Delegations = w.Checker()
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = v
	return v
}

// TestPresentFor: a representative with "present" answers with the
// patient's credential and the delegation; the result says who presented
// for whom. Out of scope, expired, revoked, another patient's credential,
// someone else's delegation and a verifier without delegation support are
// refused, each with its reason.
func TestPresentFor(t *testing.T) {
	ctx := context.Background()
	w := delegationtest.New(t)
	v := newDelegationVerifier(t, w, true)
	hosp := credtest.NewParty(t, key.Ed25519, "openid4vp delegation hospital")
	ana, ben, maria := credtest.Party{DID: w.Patient.DID}, credtest.Party{DID: w.Other.DID}, w.Parent
	anaAllergy := issue(t, hosp, ana, allergyType, map[string]any{"allergy": "penicillin"})
	benAllergy := issue(t, hosp, ben, allergyType, map[string]any{"allergy": "latex"})
	mariaAllergy := issue(t, hosp, maria, allergyType, map[string]any{"allergy": "nuts"})
	guard := w.Guardianship(delegation.ActionView, delegation.ActionPresent)
	guardTok := w.Sign(guard, w.Registry)
	viewOnly := w.Sign(w.Guardianship(delegation.ActionView), w.Registry)
	carerImm := w.Sign(w.Own([]delegation.Action{delegation.ActionPresent}, "Immunization"), w.Patient)
	revoked := w.Guardianship(delegation.ActionPresent)
	revokedTok := w.Sign(revoked, w.Registry)
	w.Revoke(revoked)
	var c Client

	answer := func(t *testing.T, v *Verifier, vp func(req *Request) string) (Result, error) {
		t.Helper()
		st, err := v.CreateRequest(query())
		if err != nil {
			t.Fatal(err)
		}
		req, err := c.FetchRequest(ctx, st.URI)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Respond(ctx, req, map[string][]string{"allergies": {vp(req)}})
		res, _ := v.Result(st.State)
		return res, err
	}

	t.Run("the parent presents the child's credential", func(t *testing.T) {
		res, err := answer(t, v, func(req *Request) string { return presentFor(t, maria, req.ClientID, req.Nonce, guardTok, anaAllergy) })
		if err != nil || res.Status != StatusValid {
			t.Fatalf("got %+v, %v: want valid", res, err)
		}
		if want := "presented by Maria Silva acting for Ana Silva as parent"; res.PresentedBy != want {
			t.Errorf("PresentedBy = %q, want %q", res.PresentedBy, want)
		}
		if a := res.ActingFor; a == nil || a.Representative != maria.DID || a.Patient != ana.DID || a.Issuer != w.Registry.DID || a.Delegation != guard.ID {
			t.Errorf("ActingFor = %+v", a)
		}
		if res.Holder != maria.DID || res.Claims["allergies"]["credentialSubject.allergy"] != "penicillin" {
			t.Errorf("holder %s, claims %v", res.Holder, res.Claims)
		}
	})

	refused := []struct {
		name   string
		v      *Verifier
		vp     func(req *Request) string
		reason string
		text   string
	}{
		{"out of scope: no present action", v, func(req *Request) string {
			return presentFor(t, maria, req.ClientID, req.Nonce, viewOnly, anaAllergy)
		}, ReasonDelegationScope, "not present"},
		{"out of scope: a class not delegated", v, func(req *Request) string {
			return presentFor(t, w.Carer, req.ClientID, req.Nonce, carerImm, anaAllergy)
		}, ReasonDelegationScope, "data class AllergyIntolerance is not delegated"},
		{"revoked", v, func(req *Request) string {
			return presentFor(t, maria, req.ClientID, req.Nonce, revokedTok, anaAllergy)
		}, ReasonDelegationRevoked, "revoked"},
		{"wrong patient: Ben's credential under Ana's delegation", v, func(req *Request) string {
			return presentFor(t, maria, req.ClientID, req.Nonce, guardTok, benAllergy)
		}, ReasonDelegationPatient, "another patient"},
		{"the representative's own credential under the delegation", v, func(req *Request) string {
			return presentFor(t, maria, req.ClientID, req.Nonce, guardTok, mariaAllergy)
		}, ReasonDelegationPatient, "another patient"},
		{"someone else's delegation", v, func(req *Request) string {
			return presentFor(t, w.Stranger, req.ClientID, req.Nonce, guardTok, anaAllergy)
		}, ReasonDelegationHolder, "given to someone else"},
		{"not a delegation", v, func(req *Request) string {
			return presentFor(t, maria, req.ClientID, req.Nonce, "x.y.z", anaAllergy)
		}, ReasonDelegationInvalid, "not honoured"},
		{"without a delegation", v, func(req *Request) string {
			return present(t, maria, req.ClientID, req.Nonce, anaAllergy)
		}, verify.ReasonHolderMismatch, "holder"},
		{"a verifier that does not take delegations", newDelegationVerifier(t, w, false), func(req *Request) string {
			return presentFor(t, maria, req.ClientID, req.Nonce, guardTok, anaAllergy)
		}, ReasonDelegationUnsupported, "the patient must answer"},
	}
	check := func(t *testing.T, res Result, err error, reason, text string) {
		t.Helper()
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe.Code != ErrCodeInvalidRequest || pe.Reason != reason || !strings.Contains(pe.Description, text) {
			t.Errorf("got %v, want invalid_request (%s) saying %q", err, reason, text)
		}
		if res.Status != StatusInvalid || res.PresentedBy != "" || len(res.Claims) != 0 {
			t.Errorf("result %+v, want invalid with nothing disclosed", res)
		}
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			res, err := answer(t, tc.v, tc.vp)
			check(t, res, err, tc.reason, tc.text)
		})
	}
	t.Run("expired: the child came of age", func(t *testing.T) {
		w.Clock.Advance(366 * 24 * time.Hour)
		defer w.Clock.Advance(-366 * 24 * time.Hour)
		res, err := answer(t, v, func(req *Request) string { return presentFor(t, maria, req.ClientID, req.Nonce, guardTok, anaAllergy) })
		check(t, res, err, ReasonDelegationExpired, delegation.ErrCameOfAge.Error())
		if strings.Contains(err.Error(), "Ana") {
			t.Errorf("the refusal names the patient: %v", err)
		}
	})
}
