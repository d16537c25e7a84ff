package openid4vp

import (
	"context"
	"fmt"
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
		{Credentials: []CredentialQuery{{ID: "a", Format: "jwt_vc_json", Meta: Meta{TypeValues: [][]string{{"VerifiableCredential"}}}}}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("query %+v accepted", bad.Credentials[0])
		}
	}
}

// sdAnswerer answers a verifier's DCQL query by presenting the Disclosures
// of chosen paths of one issued SD-JWT VC.
type sdAnswerer struct {
	t      *testing.T
	v      *Verifier
	holder credtest.Party
	h      *sdjwt.Holding
}

func newSDAnswerer(t *testing.T, claims map[string]any) (*sdAnswerer, string) {
	t.Helper()
	iss, holder := credtest.NewParty(t, key.Ed25519, "issuer"), credtest.NewParty(t, key.Ed25519, "holder")
	vct := sdjwt.VCT(allergyType)
	exp := time.Now().Add(time.Hour)
	issued, err := sdjwt.IssueVC(&sdjwt.Credential{Issuer: iss.DID, VCT: vct, Subject: holder.DID, IssuedAt: time.Now().Add(-time.Minute), Expires: &exp,
		Holder: holder.Key.Public(), Claims: claims}, iss.Key, iss.Kid, sdjwt.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := sdjwt.Open(issued)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := newVerifier(t)
	return &sdAnswerer{t: t, v: v, holder: holder, h: h}, vct
}

// answer asks q, presents paths and returns the verifier's result.
func (a *sdAnswerer) answer(q CredentialQuery, paths string) (Result, error) {
	a.t.Helper()
	ctx := context.Background()
	st, err := a.v.CreateRequest(DCQLQuery{Credentials: []CredentialQuery{q}})
	if err != nil {
		a.t.Fatal(err)
	}
	var c Client
	req, err := c.FetchRequest(ctx, st.URI)
	if err != nil {
		a.t.Fatal(err)
	}
	ps, err := sdjwt.ParsePaths(paths)
	if err != nil {
		a.t.Fatal(err)
	}
	p, err := a.h.Present(ps, &sdjwt.KeyBindingOptions{Key: a.holder.Key, Audience: req.ClientID, Nonce: req.Nonce})
	if err != nil {
		a.t.Fatal(err)
	}
	_, err = c.Respond(ctx, req, map[string][]string{q.ID: {p.Token}})
	res, _ := a.v.Result(st.State)
	return res, err
}

// TestDCQLClaimSetsAndIndexes: with claim_sets the verifier accepts a
// response that answers one set and discloses nothing beyond it, and reads
// the claims of that set; an array index path (["reaction", 0,
// "manifestation"]) accepts one disclosed element of that array and
// refuses two, while null accepts every element.
func TestDCQLClaimSetsAndIndexes(t *testing.T) {
	a, vct := newSDAnswerer(t, map[string]any{
		"criticality": "high",
		"code":        map[string]any{"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"},
		"reaction":    []any{map[string]any{"manifestation": "anaphylaxis", "severity": "severe"}, map[string]any{"manifestation": "urticaria"}},
	})
	sets := CredentialQuery{ID: "allergy", Format: FormatSDJWT, Meta: Meta{VCTValues: []string{vct}},
		Claims: []ClaimsQuery{
			{ID: "substance", Path: []any{"code", "display"}},
			{ID: "crit", Path: []any{"criticality"}},
			{ID: "snomed", Path: []any{"code", "code"}},
		},
		ClaimSets: [][]string{{"substance", "crit"}, {"snomed"}},
	}
	first := CredentialQuery{ID: "allergy", Format: FormatSDJWT, Meta: Meta{VCTValues: []string{vct}},
		Claims: []ClaimsQuery{{Path: []any{"reaction", 0.0, "manifestation"}}}}
	every := CredentialQuery{ID: "allergy", Format: FormatSDJWT, Meta: Meta{VCTValues: []string{vct}},
		Claims: []ClaimsQuery{{Path: []any{"reaction", nil, "manifestation"}}}}
	tests := []struct {
		name      string
		q         CredentialQuery
		disclose  string
		wantValid bool
		claims    map[string]any // expected result claims (when valid)
		errHas    string         // expected in the refusal (when not)
	}{
		{"first claim set", sets, "code.display,criticality", true, map[string]any{"code.display": "Penicillin", "criticality": "high"}, ""},
		{"second claim set", sets, "code.code", true, map[string]any{"code.code": "764146007"}, ""},
		{"part of a set", sets, "code.display", false, nil, "lacks an asked claim"},
		{"a set and more", sets, "code.code,criticality", false, nil, "discloses criticality"},
		{"an index: one element", first, "reaction.0.manifestation", true, map[string]any{"reaction.0.manifestation": "anaphylaxis"}, ""},
		{"an index: two elements", first, "reaction.0.manifestation,reaction.1.manifestation", false, nil, "discloses reaction.1"},
		{"an index: a sibling of the asked claim", first, "reaction.0", false, nil, "discloses reaction.0.severity"},
		{"null: every element", every, "reaction.*.manifestation", true, map[string]any{"reaction.*.manifestation": []any{"anaphylaxis", "urticaria"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := a.answer(tt.q, tt.disclose)
			if tt.wantValid {
				if err != nil || res.Status != StatusValid {
					t.Fatalf("refused: %v (%+v)", err, res)
				}
				got := res.Claims[tt.q.ID]
				if len(got) != len(tt.claims) {
					t.Errorf("claims %v, want %v", got, tt.claims)
				}
				for k, want := range tt.claims {
					if fmt.Sprint(got[k]) != fmt.Sprint(want) {
						t.Errorf("claim %s = %v, want %v", k, got[k], want)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err = %v, want a refusal containing %q", err, tt.errHas)
			}
			if res.Status != StatusInvalid {
				t.Errorf("status %s", res.Status)
			}
		})
	}
}

func TestClaimSetsValidate(t *testing.T) {
	vct := sdjwt.VCT(allergyType)
	base := func(mod func(*CredentialQuery)) DCQLQuery {
		q := CredentialQuery{ID: "a", Format: FormatSDJWT, Meta: Meta{VCTValues: []string{vct}},
			Claims: []ClaimsQuery{{ID: "x", Path: []any{"code"}}, {ID: "y", Path: []any{"criticality"}}}, ClaimSets: [][]string{{"x"}, {"y"}}}
		mod(&q)
		return DCQLQuery{Credentials: []CredentialQuery{q}}
	}
	tests := []struct {
		name string
		q    DCQLQuery
		ok   bool
	}{
		{"valid", base(func(*CredentialQuery) {}), true},
		{"index path", base(func(q *CredentialQuery) { q.Claims[0].Path = []any{"reaction", 1.0, "manifestation"} }), true},
		{"unknown id in a set", base(func(q *CredentialQuery) { q.ClaimSets = [][]string{{"x", "z"}} }), false},
		{"empty set", base(func(q *CredentialQuery) { q.ClaimSets = [][]string{{}} }), false},
		{"empty claim_sets", base(func(q *CredentialQuery) { q.ClaimSets = [][]string{} }), false},
		{"claim without id", base(func(q *CredentialQuery) { q.Claims[1].ID = "" }), false},
		{"repeated id", base(func(q *CredentialQuery) { q.Claims[1].ID = "x" }), false},
		{"bad id", base(func(q *CredentialQuery) { q.Claims[1].ID = "y z" }), false},
		{"negative index", base(func(q *CredentialQuery) { q.Claims[0].Path = []any{"reaction", -1.0} }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.q.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
	q := base(func(*CredentialQuery) {}).Credentials[0]
	opts := q.Options()
	if len(opts) != 2 || len(opts[0].Claims) != 1 || opts[0].Claims[0].ID != "x" || opts[1].Claims[0].ID != "y" || opts[0].ClaimSets != nil {
		t.Errorf("Options() = %+v", opts)
	}
}
