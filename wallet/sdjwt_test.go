package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/verify"
)

// TestSDJWTHoldAndPresent: the wallet holds an SD-JWT VC beside vc+jwt
// credentials, presents only the chosen claims with key binding, records
// which paths left (names only), and keeps SD-JWT VCs out of vp+jwt.
func TestSDJWTHoldAndPresent(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	cfg := testConfig(t, clk)
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Verifier = VerifyWith(vv)
	w, _, err := Create(cfg, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	me, _ := w.PrimaryDID()
	meKey, err := did.ParseKeyDID(me.DID)
	if err != nil {
		t.Fatal(err)
	}
	is := newIssuer(t, "Hospital")
	issue := func(subject string, holder key.PublicKey) string {
		exp := clk.Now().Add(24 * time.Hour)
		tok, err := sdjwt.IssueVC(&sdjwt.Credential{Issuer: is.DID, VCT: sdjwt.VCT("AllergyIntoleranceCredential"), Subject: subject,
			IssuedAt: clk.Now().Add(-time.Minute), Expires: &exp, Holder: holder, Claims: map[string]any{
				"criticality": "high", "code": map[string]any{"system": "http://snomed.info/sct", "display": "XYZZY-Penicillin"}}},
			is.Key, is.Kid, sdjwt.IssueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	c, err := w.Receive(ctx, issue(me.DID, meKey))
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if c.Format != FormatSDJWT || !c.HasType("AllergyIntoleranceCredential") || !slices.Contains(c.Attributes, "code.display") || c.ValidUntil == nil {
		t.Errorf("stored %+v", c)
	}
	// Bound to someone else's key, or to our DID with another key: refused.
	other, _ := key.Generate(key.Ed25519)
	if _, err := w.Receive(ctx, issue(me.DID, other.Public())); !errors.Is(err, ErrNotForThisWallet) {
		t.Errorf("cnf.jwk of another key: %v", err)
	}
	if _, err := w.Receive(ctx, issue(did.KeyDID(other.Public()), other.Public())); !errors.Is(err, ErrNotForThisWallet) {
		t.Errorf("another holder's credential: %v", err)
	}

	p, err := w.PresentSDJWT(ctx, PresentSDJWTRequest{CredentialID: c.ID, Disclose: []sdjwt.Path{{"code", "display"}}, Audience: "https://er.example", Nonce: "n-1"})
	if err != nil {
		t.Fatal(err)
	}
	r := vv.Presentation(ctx, p.Token, "https://er.example", "n-1")
	if !r.Valid {
		b, _ := json.Marshal(r)
		t.Fatalf("verifier: %s", b)
	}
	got, _ := json.Marshal(r.Credentials[0].SDJWT.Credential.Claims)
	if string(got) != `{"code":{"display":"XYZZY-Penicillin"}}` {
		t.Errorf("the verifier got %s", got)
	}
	h, _ := w.History()
	last := h[len(h)-1]
	if last.Kind != EventPresented || !slices.Equal(last.Credentials[0].Attributes, []string{"code", "code.display"}) {
		t.Errorf("history %+v", last)
	}
	if b, _ := json.Marshal(h); strings.Contains(string(b), "XYZZY") {
		t.Error("the history holds a claim value")
	}
	if _, err := w.PresentSDJWT(ctx, PresentSDJWTRequest{CredentialID: c.ID, Disclose: []sdjwt.Path{{"bloodType"}}, Audience: "a", Nonce: "n"}); !errors.Is(err, sdjwt.ErrNoSuchClaim) {
		t.Errorf("unknown claim: %v", err)
	}
	if _, err := w.Present(ctx, PresentRequest{CredentialIDs: []string{c.ID}, Audience: "a", Nonce: "n"}); err == nil {
		t.Error("an SD-JWT VC was put into a vp+jwt")
	}
	// Nor onto the emergency card, and the card says it left it out
	// (a patient must not think a valid allergy is on the card).
	_, err = w.EmergencyCard(ctx, EmergencyOptions{NoRefresh: true})
	if !errors.Is(err, ErrNoEmergencyCredentials) || !strings.Contains(err.Error(), c.ID+" "+SDJWTNotOnCard) {
		t.Errorf("emergency card of an SD-JWT VC alone: %v, want it named as left out", err)
	}
}

// TestSDJWTOverOpenID: the wallet obtains a dc+sd-jwt credential over
// OpenID4VCI and answers an OpenID4VP DCQL request for one claim with only
// that claim's Disclosures; the verifier accepts it and has nothing else.
func TestSDJWTOverOpenID(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	cfg := testConfig(t, clk)
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Verifier = VerifyWith(vv)
	w, _, err := Create(cfg, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	is := newIssuer(t, "Hospital")
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	defer srv.Close()
	oi, err := openid4vci.New(openid4vci.Config{URL: srv.URL, Key: is.Key, DID: is.DID, Kid: is.Kid,
		Configurations: map[string]openid4vci.Configuration{"allergy.sd": openid4vci.NewSDJWTConfiguration("AllergyIntoleranceCredential")},
		Resolver:       did.KeyResolver{}, Now: clk.Now, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = oi
	off, err := oi.CreateOffer(openid4vci.OfferRequest{ConfigurationID: "allergy.sd", Claims: map[string]any{
		"criticality": "high", "code": map[string]any{"system": "http://snomed.info/sct", "display": "Penicillin"}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.AcceptOffer(ctx, off.URI, AcceptOfferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Format != FormatSDJWT {
		t.Fatalf("received %+v", got)
	}

	v := startVerifier(t, clk)
	q, err := openid4vp.NewSDJWTQuery("allergy", sdjwt.VCT("AllergyIntoleranceCredential"), "code.display")
	if err != nil {
		t.Fatal(err)
	}
	st, err := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{q}})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := w.FetchPresentationRequest(ctx, st.URI, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Queries) != 1 || len(pr.Queries[0].Candidates) != 1 || !slices.Equal(pr.Queries[0].Claims, []string{"code.display"}) {
		t.Fatalf("request as shown to the patient: %+v", pr.Queries)
	}
	if err := w.RespondPresentation(ctx, pr, nil, nil); err != nil {
		t.Fatal(err)
	}
	res, _ := v.Result(st.State)
	if res.Status != openid4vp.StatusValid || res.Claims["allergy"]["code.display"] != "Penicillin" {
		t.Fatalf("verifier result %+v", res)
	}
	b, _ := json.Marshal(res.Presentations["allergy"].Credentials[0].SDJWT.Credential.Claims)
	if string(b) != `{"code":{"display":"Penicillin"}}` {
		t.Errorf("the verifier holds %s", b)
	}
}

// TestSDJWTClaimSetsOverOpenID: a DCQL query with claim_sets is answered
// with the first set the credential satisfies (the first asks for a code
// the credential lacks), the patient is shown that set's claims, and only
// its Disclosures leave the wallet; an array index path (["reaction", 0,
// "manifestation"]) discloses that element's member and nothing of the
// other elements.
func TestSDJWTClaimSetsOverOpenID(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	cfg := testConfig(t, clk)
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Verifier = VerifyWith(vv)
	w, _, err := Create(cfg, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	is := newIssuer(t, "Hospital")
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	defer srv.Close()
	oi, err := openid4vci.New(openid4vci.Config{URL: srv.URL, Key: is.Key, DID: is.DID, Kid: is.Kid,
		Configurations: map[string]openid4vci.Configuration{"allergy.sd": openid4vci.NewSDJWTConfiguration("AllergyIntoleranceCredential")},
		Resolver:       did.KeyResolver{}, Now: clk.Now, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = oi
	off, err := oi.CreateOffer(openid4vci.OfferRequest{ConfigurationID: "allergy.sd", Claims: map[string]any{
		"criticality": "high", "code": map[string]any{"display": "Penicillin"},
		"reaction": []any{map[string]any{"manifestation": "anaphylaxis", "severity": "severe"}, map[string]any{"manifestation": "urticaria"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AcceptOffer(ctx, off.URI, AcceptOfferOptions{}); err != nil {
		t.Fatal(err)
	}
	v := startVerifier(t, clk)
	q := openid4vp.CredentialQuery{ID: "allergy", Format: openid4vp.FormatSDJWT, Meta: openid4vp.Meta{VCTValues: []string{sdjwt.VCT("AllergyIntoleranceCredential")}},
		Claims: []openid4vp.ClaimsQuery{
			{ID: "snomed", Path: []any{"code", "code"}},
			{ID: "substance", Path: []any{"code", "display"}},
			{ID: "first", Path: []any{"reaction", 0.0, "manifestation"}},
		},
		ClaimSets: [][]string{{"snomed", "first"}, {"substance", "first"}, {"substance"}},
	}
	st, err := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{q}})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := w.FetchPresentationRequest(ctx, st.URI, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Queries) != 1 || len(pr.Queries[0].Candidates) != 1 || !slices.Equal(pr.Queries[0].Claims, []string{"code.display", "reaction.0.manifestation"}) {
		t.Fatalf("request as shown to the patient: %+v", pr.Queries)
	}
	if err := w.RespondPresentation(ctx, pr, nil, nil); err != nil {
		t.Fatal(err)
	}
	res, _ := v.Result(st.State)
	if res.Status != openid4vp.StatusValid || res.Claims["allergy"]["code.display"] != "Penicillin" || res.Claims["allergy"]["reaction.0.manifestation"] != "anaphylaxis" {
		t.Fatalf("verifier result %+v", res)
	}
	b, _ := json.Marshal(res.Presentations["allergy"].Credentials[0].SDJWT.Credential.Claims)
	if string(b) != `{"code":{"display":"Penicillin"},"reaction":[{"manifestation":"anaphylaxis"}]}` {
		t.Errorf("the verifier holds %s", b)
	}
}
