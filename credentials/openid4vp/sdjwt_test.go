package openid4vp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/sdjwt"
)

// TestSDJWTFlow: a DCQL query for one claim of an SD-JWT VC is answered
// with only its Disclosures and accepted; a response that discloses more
// than asked (or another type) is refused, so the verifier can show that
// nothing else was sent.
func TestSDJWTFlow(t *testing.T) {
	ctx := context.Background()
	iss, holder := credtest.NewParty(t, key.Ed25519, "issuer"), credtest.NewParty(t, key.Ed25519, "holder")
	vct := sdjwt.VCT(allergyType)
	exp := time.Now().Add(time.Hour)
	issued, err := sdjwt.IssueVC(&sdjwt.Credential{Issuer: iss.DID, VCT: vct, Subject: holder.DID, IssuedAt: time.Now().Add(-time.Minute), Expires: &exp,
		Holder: holder.Key.Public(), Claims: map[string]any{
			"criticality": "high",
			"code":        map[string]any{"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"},
			"reaction":    []any{map[string]any{"manifestation": "anaphylaxis", "severity": "severe"}, map[string]any{"manifestation": "urticaria"}},
		}}, iss.Key, iss.Kid, sdjwt.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := sdjwt.Open(issued)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := newVerifier(t)
	var c Client
	q, err := NewSDJWTQuery("allergy", vct, "code.display", "reaction.*.manifestation")
	if err != nil {
		t.Fatal(err)
	}
	answer := func(t *testing.T, paths string) (*Started, error) {
		st, err := v.CreateRequest(DCQLQuery{Credentials: []CredentialQuery{q}})
		if err != nil {
			t.Fatal(err)
		}
		req, err := c.FetchRequest(ctx, st.URI)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := sdjwt.ParsePaths(paths)
		if err != nil {
			t.Fatal(err)
		}
		p, err := h.Present(ps, &sdjwt.KeyBindingOptions{Key: holder.Key, Audience: req.ClientID, Nonce: req.Nonce})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Respond(ctx, req, map[string][]string{"allergy": {p.Token}})
		return st, err
	}
	t.Run("exactly what was asked", func(t *testing.T) {
		st, err := answer(t, "code.display,reaction.*.manifestation")
		if err != nil {
			t.Fatal(err)
		}
		res, _ := v.Result(st.State)
		if res.Status != StatusValid || res.Claims["allergy"]["code.display"] != "Penicillin" {
			t.Fatalf("result %+v", res)
		}
		if m, _ := res.Claims["allergy"]["reaction.*.manifestation"].([]any); len(m) != 2 {
			t.Errorf("manifestations %v", res.Claims["allergy"])
		}
		sd := res.Presentations["allergy"].Credentials[0].SDJWT
		if _, ok := sd.Claims["criticality"]; ok {
			t.Error("criticality was not asked for and not sent, yet the verifier has it")
		}
	})
	t.Run("more than was asked", func(t *testing.T) {
		st, err := answer(t, "code.display,reaction.*.manifestation,criticality")
		if err == nil || !strings.Contains(err.Error(), "criticality") {
			t.Fatalf("err = %v, want a refusal naming criticality", err)
		}
		if res, _ := v.Result(st.State); res.Status != StatusInvalid {
			t.Errorf("status %s", res.Status)
		}
	})
	t.Run("less than was asked", func(t *testing.T) {
		if _, err := answer(t, "code.display"); err == nil {
			t.Fatal("a response without the manifestations was accepted")
		}
	})
	for _, bad := range []DCQLQuery{
		{Credentials: []CredentialQuery{{ID: "a", Format: FormatSDJWT, Meta: Meta{VCTValues: []string{vct}}}}},
		{Credentials: []CredentialQuery{{ID: "a", Format: FormatSDJWT, Claims: []ClaimsQuery{{Path: []any{"code"}}}}}},
		{Credentials: []CredentialQuery{{ID: "a", Format: FormatSDJWT, Meta: Meta{VCTValues: []string{vct}}, Claims: []ClaimsQuery{{Path: []any{"reaction", 0.0}}}}}},
		{Credentials: []CredentialQuery{{ID: "a", Format: "jwt_vc_json", Meta: Meta{TypeValues: [][]string{{"VerifiableCredential"}}}}}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("query %+v accepted", bad.Credentials[0])
		}
	}
}
