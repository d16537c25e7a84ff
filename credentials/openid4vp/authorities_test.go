package openid4vp

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/sdjwt"
)

// TestDCQLStrictMembers: a DCQL member medid does not implement is refused
// with its name, never dropped with the constraint it carries; the
// members it does implement (multiple, trusted_authorities,
// require_cryptographic_holder_binding, a credential set's purpose) read.
func TestDCQLStrictMembers(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       string // "" = reads and validates, else a part of the error
	}{
		{"implemented members", `{"credentials":[{"id":"a","format":"vc+jwt","meta":{},"multiple":true,"require_cryptographic_holder_binding":true,` +
			`"trusted_authorities":[{"type":"medid_issuer","values":["did:key:z6Mk"]}]}],"credential_sets":[{"options":[["a"]],"purpose":"treatment"}]}`, ""},
		{"standard authority types read", `{"credentials":[{"id":"a","format":"vc+jwt","meta":{},"trusted_authorities":[{"type":"aki","values":["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]},{"type":"etsi_tl","values":["https://lotl.example.com"]}]}]}`, ""},
		{"claim values", `{"credentials":[{"id":"a","format":"vc+jwt","meta":{},"claims":[{"path":["x"],"values":["y"]}]}]}`, `member "values" is not supported`},
		{"unknown query member", `{"credentials":[{"id":"a","format":"vc+jwt","meta":{},"colour":"red"}]}`, `member "colour"`},
		{"unknown top member", `{"credentials":[{"id":"a","format":"vc+jwt","meta":{}}],"extra":1}`, `member "extra"`},
		{"unknown meta member", `{"credentials":[{"id":"a","format":"vc+jwt","meta":{"doctype_value":"x"}}]}`, `member "doctype_value"`},
		{"unknown authority member", `{"credentials":[{"id":"a","format":"vc+jwt","meta":{},"trusted_authorities":[{"type":"aki","values":["x"],"x":1}]}]}`, `member "x"`},
		{"empty authorities", `{"credentials":[{"id":"a","format":"vc+jwt","meta":{},"trusted_authorities":[]}]}`, "empty trusted_authorities"},
		{"authority without values", `{"credentials":[{"id":"a","format":"vc+jwt","meta":{},"trusted_authorities":[{"type":"aki","values":[]}]}]}`, "needs 1 to"},
		{"authority without type", `{"credentials":[{"id":"a","format":"vc+jwt","meta":{},"trusted_authorities":[{"values":["x"]}]}]}`, "has no type"},
		{"medid issuer not a DID", `{"credentials":[{"id":"a","format":"vc+jwt","meta":{},"trusted_authorities":[{"type":"medid_issuer","values":["https://x"]}]}]}`, "takes issuer DIDs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var q DCQLQuery
			err := json.Unmarshal([]byte(tc.json), &q)
			if err == nil {
				err = q.Validate()
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("got %v, want the query read", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestCheckable: a verifier asks only what it can check: medid_issuer
// authorities, holder binding required; the standard types (X.509 and
// federation trust, which medid credentials do not carry) and unknown
// types are refused, saying why, though a wallet reads them (Validate).
func TestCheckable(t *testing.T) {
	no := false
	with := func(a ...TrustedAuthority) DCQLQuery {
		q := NewQuery("a", allergyType)
		q.TrustedAuthorities = a
		return DCQLQuery{Credentials: []CredentialQuery{q}}
	}
	unbound := NewQuery("a", allergyType)
	unbound.RequireHolderBinding = &no
	for _, tc := range []struct {
		name string
		q    DCQLQuery
		want string
	}{
		{"medid issuer", with(TrustedAuthority{AuthorityMedidIssuer, []string{"did:medid:x"}}), ""},
		{"aki", with(TrustedAuthority{AuthorityAKI, []string{"s9tIpPmhxdiuNkHMEWNpYim8S8Y"}}), "carry no X.509 chain"},
		{"etsi_tl", with(TrustedAuthority{AuthorityETSITL, []string{"https://lotl.example.com"}}), "not on an ETSI trusted list"},
		{"openid_federation", with(TrustedAuthority{AuthorityOpenIDFederation, []string{"https://ta.example.com"}}), "not in a federation"},
		{"unknown", with(TrustedAuthority{"x509_san", []string{"x"}}), `type "x509_san", which medid does not know`},
		{"holder binding waived", DCQLQuery{Credentials: []CredentialQuery{unbound}}, "always checks that the holder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.q.Validate(); err != nil {
				t.Fatalf("Validate() = %v: a wallet must be able to read it", err)
			}
			err := tc.q.Checkable()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Checkable() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Checkable() = %v, want an error with %q", err, tc.want)
			}
			v, _ := newVerifier(t)
			if _, err := v.CreateRequest(tc.q); (err == nil) != (tc.want == "") {
				t.Errorf("CreateRequest() = %v, want refused: %v", err, tc.want != "")
			}
		})
	}
}

// TestVerifierMultipleAndAuthorities: a query with multiple takes several
// credentials (each verified and listed in the result) and no more than
// MaxMultiple, never the same one twice; a query without it takes exactly
// one; a query with a medid_issuer authority refuses a credential from
// another issuer, with the reason untrusted_authority.
func TestVerifierMultipleAndAuthorities(t *testing.T) {
	ctx := context.Background()
	iss, other, holder := credtest.NewParty(t, key.Ed25519, "issuer"), credtest.NewParty(t, key.Ed25519, "other"), credtest.NewParty(t, key.Ed25519, "holder")
	pen := issue(t, iss, holder, allergyType, map[string]any{"allergy": "penicillin"})
	nut := issue(t, iss, holder, allergyType, map[string]any{"allergy": "peanut"})
	foreign := issue(t, other, holder, allergyType, map[string]any{"allergy": "latex"})
	multi := NewQuery("allergies", allergyType, "allergy")
	multi.Multiple = true
	multi.TrustedAuthorities = []TrustedAuthority{{AuthorityMedidIssuer, []string{iss.DID}}}
	single := NewQuery("allergies", allergyType, "allergy")
	v, _ := newVerifier(t)
	var c Client
	for _, tc := range []struct {
		name   string
		q      CredentialQuery
		send   [][]string // presentations, each of credentials
		want   string     // "" = valid, else part of the description
		reason string
	}{
		{"two with multiple", multi, [][]string{{pen}, {nut}}, "", ""},
		{"one with multiple", multi, [][]string{{pen}}, "", ""},
		{"two without multiple", single, [][]string{{pen}, {nut}}, "does not allow multiple", ""},
		{"same twice", multi, [][]string{{pen}, {pen}}, "same credential twice", ""},
		{"untrusted issuer", multi, [][]string{{pen}, {foreign}}, "is issued by " + other.DID + ", and the verifier accepts only credentials issued by one of the given DIDs", ReasonUntrustedAuthority},
		{"too many", multi, func() [][]string {
			var s [][]string
			for range MaxMultiple + 1 {
				s = append(s, []string{pen})
			}
			return s
		}(), "at most", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := v.CreateRequest(DCQLQuery{Credentials: []CredentialQuery{tc.q}})
			if err != nil {
				t.Fatal(err)
			}
			req, err := c.FetchRequest(ctx, st.URI)
			if err != nil {
				t.Fatal(err)
			}
			if got := req.DCQLQuery.Credentials[0]; got.Multiple != tc.q.Multiple || len(got.TrustedAuthorities) != len(tc.q.TrustedAuthorities) {
				t.Fatalf("the wallet reads %+v", got)
			}
			var vps []string
			for _, creds := range tc.send {
				vps = append(vps, present(t, holder, req.ClientID, req.Nonce, creds...))
			}
			_, err = c.Respond(ctx, req, map[string][]string{"allergies": vps})
			res, _ := v.Result(st.State)
			if tc.want != "" {
				if res.Status != StatusInvalid || !strings.Contains(res.Description, tc.want) || res.Reason != tc.reason || err == nil {
					t.Errorf("Respond = %v, result %s %q (%s); want invalid with %q (%s)", err, res.Status, res.Description, res.Reason, tc.want, tc.reason)
				}
				return
			}
			if err != nil || res.Status != StatusValid {
				t.Fatalf("Respond = %v, result %s %q", err, res.Status, res.Description)
			}
			got := res.Credentials["allergies"]
			if len(got) != len(tc.send) {
				t.Fatalf("result lists %d credentials, want %d", len(got), len(tc.send))
			}
			want := []string{"penicillin", "peanut"}
			for i, r := range got {
				if r.Claims["credentialSubject.allergy"] != want[i] || !r.Presentation.Valid {
					t.Errorf("credential %d: claims %v", i+1, r.Claims)
				}
			}
			if res.Claims["allergies"]["credentialSubject.allergy"] != "penicillin" {
				t.Errorf("Claims holds %v, want the first credential's", res.Claims["allergies"])
			}
		})
	}
}

// TestVerifierMultipleSDJWT: two SD-JWT VCs for one query with multiple,
// each disclosing only the asked claim, are accepted; one disclosing more
// is refused.
func TestVerifierMultipleSDJWT(t *testing.T) {
	ctx := context.Background()
	iss, holder := credtest.NewParty(t, key.Ed25519, "issuer"), credtest.NewParty(t, key.Ed25519, "holder")
	vct := sdjwt.VCT(allergyType)
	exp := time.Now().Add(time.Hour)
	mk := func(substance string) *sdjwt.Holding {
		tok, err := sdjwt.IssueVC(&sdjwt.Credential{Issuer: iss.DID, VCT: vct, Subject: holder.DID, IssuedAt: time.Now().Add(-time.Minute), Expires: &exp,
			Holder: holder.Key.Public(), Claims: map[string]any{"criticality": "high", "code": map[string]any{"display": substance}}}, iss.Key, iss.Kid, sdjwt.IssueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h, err := sdjwt.Open(tok)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	pen, nut := mk("Penicillin"), mk("Peanut")
	q, err := NewSDJWTQuery("allergies", vct, "code.display")
	if err != nil {
		t.Fatal(err)
	}
	q.Multiple = true
	v, _ := newVerifier(t)
	var c Client
	for _, tc := range []struct {
		name  string
		paths []string // per credential
		want  string
	}{
		{"two, each the substance", []string{"code.display", "code.display"}, ""},
		{"second discloses severity", []string{"code.display", "code.display,criticality"}, "criticality, which was not asked for"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := v.CreateRequest(DCQLQuery{Credentials: []CredentialQuery{q}})
			if err != nil {
				t.Fatal(err)
			}
			req, err := c.FetchRequest(ctx, st.URI)
			if err != nil {
				t.Fatal(err)
			}
			var vps []string
			for i, h := range []*sdjwt.Holding{pen, nut} {
				ps, err := sdjwt.ParsePaths(tc.paths[i])
				if err != nil {
					t.Fatal(err)
				}
				p, err := h.Present(ps, &sdjwt.KeyBindingOptions{Key: holder.Key, Audience: req.ClientID, Nonce: req.Nonce})
				if err != nil {
					t.Fatal(err)
				}
				vps = append(vps, p.Token)
			}
			_, err = c.Respond(ctx, req, map[string][]string{"allergies": vps})
			res, _ := v.Result(st.State)
			if tc.want != "" {
				if res.Status != StatusInvalid || !strings.Contains(res.Description, tc.want) {
					t.Errorf("result %s %q, want invalid with %q", res.Status, res.Description, tc.want)
				}
				return
			}
			if err != nil || res.Status != StatusValid || len(res.Credentials["allergies"]) != 2 {
				t.Fatalf("Respond = %v, result %s %q", err, res.Status, res.Description)
			}
			if got := res.Credentials["allergies"][1].Claims["code.display"]; got != "Peanut" {
				t.Errorf("second credential's substance %v, want Peanut", got)
			}
		})
	}
}

// FuzzVerifierResponse feeds arbitrary vp_token values to the verifier's
// check of a direct_post response, for a request with a multiple query
// limited to one issuer and an optional credential set. It must not
// panic, and a response it accepts must be one the request allows: an
// exact choice of credential sets, one presentation per query without
// multiple, at most MaxMultiple with it, every credential listed in the
// result and issued by the trusted issuer.
func FuzzVerifierResponse(f *testing.F) {
	iss, holder := credtest.NewParty(f, key.Ed25519, "issuer"), credtest.NewParty(f, key.Ed25519, "holder")
	v, _ := newVerifier(f)
	no := false
	multi := NewQuery("allergies", allergyType, "allergy")
	multi.Multiple = true
	multi.TrustedAuthorities = []TrustedAuthority{{AuthorityMedidIssuer, []string{iss.DID}}}
	q := DCQLQuery{Credentials: []CredentialQuery{multi, NewQuery("vaccine", "ImmunizationCredential")},
		CredentialSets: []CredentialSetQuery{{Options: [][]string{{"allergies"}}}, {Options: [][]string{{"vaccine"}}, Required: &no}}}
	st, err := v.CreateRequest(q)
	if err != nil {
		f.Fatal(err)
	}
	v.mu.Lock()
	req := v.requests[st.State].req
	v.mu.Unlock()
	pen := present(f, holder, req.ClientID, req.Nonce, issue(f, iss, holder, allergyType, map[string]any{"allergy": "penicillin"}))
	nut := present(f, holder, req.ClientID, req.Nonce, issue(f, iss, holder, allergyType, map[string]any{"allergy": "peanut"}))
	vac := present(f, holder, req.ClientID, req.Nonce, issue(f, iss, holder, "ImmunizationCredential", map[string]any{"vaccine": "MMR"}))
	for _, seed := range []map[string][]string{
		{"allergies": {pen, nut}},
		{"allergies": {pen}, "vaccine": {vac}},
		{"allergies": {pen, pen}},
		{"vaccine": {vac, vac}},
		{"allergies": {}},
	} {
		b, _ := json.Marshal(seed)
		f.Add(string(b))
	}
	f.Add(`{"allergies":["x~y~"]}`)
	f.Fuzz(func(t *testing.T, vpToken string) {
		res := v.check(context.Background(), req, map[string][]string{"vp_token": {vpToken}})
		if res.Status != StatusValid {
			return
		}
		var token map[string][]string
		if err := json.Unmarshal([]byte(vpToken), &token); err != nil {
			t.Fatalf("accepted a vp_token that is not JSON: %q", vpToken)
		}
		var ids []string
		for id, vps := range token {
			ids = append(ids, id)
			got := res.Credentials[id]
			switch {
			case len(vps) != len(got):
				t.Fatalf("%s: %d presentations sent, %d in the result", id, len(vps), len(got))
			case id == "vaccine" && len(vps) != 1, len(vps) > MaxMultiple, len(vps) == 0:
				t.Fatalf("%s: accepted %d presentations", id, len(vps))
			}
			for _, r := range got {
				for _, c := range r.Presentation.Credentials {
					if id == "allergies" && c.Issuer != iss.DID {
						t.Fatalf("accepted an allergy from %s", c.Issuer)
					}
				}
			}
		}
		if _, err := q.Answered(ids); err != nil {
			t.Fatalf("accepted %v, which the sets do not allow: %v", ids, err)
		}
	})
}
