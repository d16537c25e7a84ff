package wallet

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/verify"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startIssuer(t *testing.T, clk *credtest.Clock) *openid4vci.Issuer {
	t.Helper()
	is := newIssuer(t, "Hospital")
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	oi, err := openid4vci.New(openid4vci.Config{
		URL: srv.URL, Key: is.Key, DID: is.DID, Kid: is.Kid,
		Configurations: map[string]openid4vci.Configuration{"AllergyIntoleranceCredential": openid4vci.NewConfiguration("AllergyIntoleranceCredential")},
		Resolver:       did.KeyResolver{}, Now: clk.Now, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = oi
	return oi
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
	clk := newClock()
	w, _ := newVerifyingWallet(t, clk)
	oi := startIssuer(t, clk)
	off, err := oi.CreateOffer(openid4vci.OfferRequest{ConfigurationID: "AllergyIntoleranceCredential", Claims: map[string]any{"allergy": "penicillin"}, TxCode: true})
	if err != nil {
		t.Fatal(err)
	}
	// A wrong PIN is the issuer's invalid_grant; nothing is stored.
	_, err = w.AcceptOffer(ctx, off.URI, AcceptOfferOptions{TxCode: func(*openid4vci.TxCode) (string, error) { return "not-it", nil }})
	var pe *openid4vci.ProtocolError
	if !errors.As(err, &pe) || pe.Code != openid4vci.ErrCodeInvalidGrant {
		t.Fatalf("wrong PIN: got %v, want invalid_grant", err)
	}
	got, err := w.AcceptOffer(ctx, off.URI, AcceptOfferOptions{TxCode: func(*openid4vci.TxCode) (string, error) { return off.TxCode, nil }})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := w.PrimaryDID()
	if len(got) != 1 || got[0].Subject != p.DID || !got[0].HasType("AllergyIntoleranceCredential") {
		t.Fatalf("got %+v, want one allergy credential bound to %s", got, p.DID)
	}

	v := startVerifier(t, clk)
	st, err := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{openid4vp.NewQuery("allergy", "AllergyIntoleranceCredential", "allergy")}})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := w.FetchPresentationRequest(ctx, st.URI, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Queries) != 1 || len(pr.Queries[0].Candidates) != 1 || pr.Queries[0].Claims[0] != "credentialSubject.allergy" {
		t.Fatalf("matched %+v, want the allergy credential for credentialSubject.allergy", pr.Queries)
	}
	if err := w.RespondPresentation(ctx, pr, nil, nil); err != nil {
		t.Fatal(err)
	}
	res, _ := v.Result(st.State)
	if res.Status != openid4vp.StatusValid {
		t.Fatalf("verifier result %+v, want valid", res)
	}
	h, _ := w.History()
	last := h[len(h)-1]
	if last.Kind != EventPresented || last.Audience != v.ClientID() {
		t.Errorf("history %+v, want a presentation to %s", last, v.ClientID())
	}

	// Declining: the verifier sees access_denied.
	st2, _ := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{openid4vp.NewQuery("allergy", "AllergyIntoleranceCredential", "allergy")}})
	pr2, err := w.FetchPresentationRequest(ctx, st2.URI, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.DeclinePresentation(ctx, pr2, nil); err != nil {
		t.Fatal(err)
	}
	if res, _ := v.Result(st2.State); res.Status != openid4vp.StatusDeclined || res.Error != openid4vp.ErrCodeAccessDenied {
		t.Errorf("after decline: %+v, want declined/access_denied", res)
	}

	// A request for a credential the wallet lacks: no candidates, ErrNoMatch.
	st3, _ := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{openid4vp.NewQuery("lic", "LicenceCredential")}})
	pr3, err := w.FetchPresentationRequest(ctx, st3.URI, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.RespondPresentation(ctx, pr3, nil, nil); !errors.Is(err, ErrNoMatch) {
		t.Errorf("got %v, want ErrNoMatch", err)
	}
}
