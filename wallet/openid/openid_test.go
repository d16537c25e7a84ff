package openid_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/openid"
	"github.com/medid/medid/wallet/wallettest"
	"github.com/medid/medid/wallet/wallettest/testwallet"
)

// The wallet is the holder the workflows run over.
var _ openid.Holder = (*wallet.Wallet)(nil)

// newWallet creates a test wallet on clk that verifies what it receives
// with a real verifier resolving did:key.
func newWallet(t *testing.T, clk *credtest.Clock) *wallet.Wallet {
	t.Helper()
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testwallet.Config(t, clk)
	cfg.Verifier = wallet.VerifyWith(vv)
	w, _ := testwallet.New(t, cfg)
	return w
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startIssuer starts an OpenID4VCI issuer (a test hospital) offering the
// configurations given by id.
func startIssuer(t *testing.T, clk *credtest.Clock, confs map[string]openid4vci.Configuration) *openid4vci.Issuer {
	t.Helper()
	is := wallettest.NewIssuer(t, "Hospital")
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	oi, err := openid4vci.New(openid4vci.Config{
		URL: srv.URL, Key: is.Key, DID: is.DID, Kid: is.Kid, Configurations: confs,
		Resolver: did.KeyResolver{}, Now: clk.Now, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = oi
	return oi
}

// receiveSDJWT has the wallet accept, over OpenID4VCI, a dc+sd-jwt
// allergy credential with the given claims.
func receiveSDJWT(ctx context.Context, t *testing.T, w *wallet.Wallet, clk *credtest.Clock, claims map[string]any) []wallet.Credential {
	t.Helper()
	oi := startIssuer(t, clk, map[string]openid4vci.Configuration{"allergy.sd": openid4vci.NewSDJWTConfiguration("AllergyIntoleranceCredential")})
	off, err := oi.CreateOffer(openid4vci.OfferRequest{ConfigurationID: "allergy.sd", Claims: claims})
	if err != nil {
		t.Fatal(err)
	}
	got, err := openid.AcceptOffer(ctx, w, off.URI, openid.AcceptOfferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// askAndAnswer has verifier v ask for q, checks that the request as shown
// to the patient has one candidate and names the claims want, answers it,
// and returns the verifier's result.
func askAndAnswer(ctx context.Context, t *testing.T, w *wallet.Wallet, v *openid4vp.Verifier, q openid4vp.CredentialQuery, want ...string) openid4vp.Result {
	t.Helper()
	st, err := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{q}})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := openid.FetchPresentationRequest(ctx, w, st.URI, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Queries) != 1 || len(pr.Queries[0].Candidates) != 1 || !slices.Equal(pr.Queries[0].Claims, want) {
		t.Fatalf("request as shown to the patient: %+v, want one candidate for %v", pr.Queries, want)
	}
	if err := openid.RespondPresentation(ctx, w, pr, nil, nil); err != nil {
		t.Fatal(err)
	}
	res, _ := v.Result(st.State)
	return res
}

func startVerifier(t *testing.T, clk *credtest.Clock) *openid4vp.Verifier {
	t.Helper()
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	v, err := openid4vp.New(openid4vp.Config{URL: srv.URL, Verify: vv, Now: clk.Now, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = v
	return v
}

func TestAcceptOfferAndRespond(t *testing.T) {
	ctx := context.Background()
	clk := testwallet.Clock()
	w := newWallet(t, clk)
	oi := startIssuer(t, clk, map[string]openid4vci.Configuration{"AllergyIntoleranceCredential": openid4vci.NewConfiguration("AllergyIntoleranceCredential")})
	off, err := oi.CreateOffer(openid4vci.OfferRequest{ConfigurationID: "AllergyIntoleranceCredential", Claims: map[string]any{"allergy": "penicillin"}, TxCode: true})
	if err != nil {
		t.Fatal(err)
	}
	// A wrong PIN is the issuer's invalid_grant; nothing is stored.
	_, err = openid.AcceptOffer(ctx, w, off.URI, openid.AcceptOfferOptions{TxCode: func(*openid4vci.TxCode) (string, error) { return "not-it", nil }})
	var pe *openid4vci.ProtocolError
	if !errors.As(err, &pe) || pe.Code != openid4vci.ErrCodeInvalidGrant {
		t.Fatalf("wrong PIN: got %v, want invalid_grant", err)
	}
	got, err := openid.AcceptOffer(ctx, w, off.URI, openid.AcceptOfferOptions{TxCode: func(*openid4vci.TxCode) (string, error) { return off.TxCode, nil }})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := w.PrimaryDID()
	if len(got) != 1 || got[0].Subject != p.DID || !got[0].HasType("AllergyIntoleranceCredential") {
		t.Fatalf("got %+v, want one allergy credential bound to %s", got, p.DID)
	}

	v := startVerifier(t, clk)
	res := askAndAnswer(ctx, t, w, v, openid4vp.NewQuery("allergy", "AllergyIntoleranceCredential", "allergy"), "credentialSubject.allergy")
	if res.Status != openid4vp.StatusValid {
		t.Fatalf("verifier result %+v, want valid", res)
	}
	h, _ := w.History()
	last := h[len(h)-1]
	if last.Kind != wallet.EventPresented || last.Audience != v.ClientID() {
		t.Errorf("history %+v, want a presentation to %s", last, v.ClientID())
	}

	// Declining: the verifier sees access_denied.
	st2, _ := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{openid4vp.NewQuery("allergy", "AllergyIntoleranceCredential", "allergy")}})
	pr2, err := openid.FetchPresentationRequest(ctx, w, st2.URI, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := openid.DeclinePresentation(ctx, w, pr2, nil); err != nil {
		t.Fatal(err)
	}
	if res, _ := v.Result(st2.State); res.Status != openid4vp.StatusDeclined || res.Error != openid4vp.ErrCodeAccessDenied {
		t.Errorf("after decline: %+v, want declined/access_denied", res)
	}

	// A request for a credential the wallet lacks: no candidates, ErrNoMatch.
	st3, _ := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{openid4vp.NewQuery("lic", "LicenceCredential")}})
	pr3, err := openid.FetchPresentationRequest(ctx, w, st3.URI, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := openid.RespondPresentation(ctx, w, pr3, nil, nil); !errors.Is(err, openid.ErrNoMatch) {
		t.Errorf("got %v, want ErrNoMatch", err)
	}
}

// TestSDJWTOverOpenID: the wallet obtains a dc+sd-jwt credential over
// OpenID4VCI and answers an OpenID4VP DCQL request for one claim with only
// that claim's Disclosures; the verifier accepts it and has nothing else.
func TestSDJWTOverOpenID(t *testing.T) {
	ctx := context.Background()
	clk := testwallet.Clock()
	w := newWallet(t, clk)
	got := receiveSDJWT(ctx, t, w, clk, map[string]any{
		"criticality": "high", "code": map[string]any{"system": "http://snomed.info/sct", "display": "Penicillin"}})
	if len(got) != 1 || got[0].Format != wallet.FormatSDJWT {
		t.Fatalf("received %+v", got)
	}

	v := startVerifier(t, clk)
	q, err := openid4vp.NewSDJWTQuery("allergy", sdjwt.VCT("AllergyIntoleranceCredential"), "code.display")
	if err != nil {
		t.Fatal(err)
	}
	res := askAndAnswer(ctx, t, w, v, q, "code.display")
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
	clk := testwallet.Clock()
	w := newWallet(t, clk)
	receiveSDJWT(ctx, t, w, clk, map[string]any{
		"criticality": "high", "code": map[string]any{"display": "Penicillin"},
		"reaction": []any{map[string]any{"manifestation": "anaphylaxis", "severity": "severe"}, map[string]any{"manifestation": "urticaria"}}})
	v := startVerifier(t, clk)
	q := openid4vp.CredentialQuery{ID: "allergy", Format: openid4vp.FormatSDJWT, Meta: openid4vp.Meta{VCTValues: []string{sdjwt.VCT("AllergyIntoleranceCredential")}},
		Claims: []openid4vp.ClaimsQuery{
			{ID: "snomed", Path: []any{"code", "code"}},
			{ID: "substance", Path: []any{"code", "display"}},
			{ID: "first", Path: []any{"reaction", 0.0, "manifestation"}},
		},
		ClaimSets: [][]string{{"snomed", "first"}, {"substance", "first"}, {"substance"}},
	}
	res := askAndAnswer(ctx, t, w, v, q, "code.display", "reaction.0.manifestation")
	if res.Status != openid4vp.StatusValid || res.Claims["allergy"]["code.display"] != "Penicillin" || res.Claims["allergy"]["reaction.0.manifestation"] != "anaphylaxis" {
		t.Fatalf("verifier result %+v", res)
	}
	b, _ := json.Marshal(res.Presentations["allergy"].Credentials[0].SDJWT.Credential.Claims)
	if string(b) != `{"code":{"display":"Penicillin"},"reaction":[{"manifestation":"anaphylaxis"}]}` {
		t.Errorf("the verifier holds %s", b)
	}
}
