package openid_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/openid"
	"github.com/medid/medid/wallet/wallettest"
)

// The wallet is the holder the workflows run over.
var _ openid.Holder = (*wallet.Wallet)(nil)

// newWallet creates a wallet on clk (cheap key derivation) that verifies
// what it receives with a real verifier resolving did:key.
func newWallet(t *testing.T, clk *credtest.Clock) *wallet.Wallet {
	t.Helper()
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	cfg := wallet.Config{Dir: filepath.Join(t.TempDir(), "wallet"), Now: clk.Now, Verifier: wallet.VerifyWith(vv),
		KDF: wallet.KDFParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}}
	w, _, err := wallet.Create(cfg, []byte("correct horse battery staple"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func newClock() *credtest.Clock {
	return credtest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startIssuer(t *testing.T, clk *credtest.Clock) *openid4vci.Issuer {
	t.Helper()
	is := wallettest.NewIssuer(t, "Hospital")
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
	w := newWallet(t, clk)
	oi := startIssuer(t, clk)
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
	st, err := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{openid4vp.NewQuery("allergy", "AllergyIntoleranceCredential", "allergy")}})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := openid.FetchPresentationRequest(ctx, w, st.URI, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Queries) != 1 || len(pr.Queries[0].Candidates) != 1 || pr.Queries[0].Claims[0] != "credentialSubject.allergy" {
		t.Fatalf("matched %+v, want the allergy credential for credentialSubject.allergy", pr.Queries)
	}
	if err := openid.RespondPresentation(ctx, w, pr, nil, nil); err != nil {
		t.Fatal(err)
	}
	res, _ := v.Result(st.State)
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
	clk := newClock()
	w := newWallet(t, clk)
	is := wallettest.NewIssuer(t, "Hospital")
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
	got, err := openid.AcceptOffer(ctx, w, off.URI, openid.AcceptOfferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Format != wallet.FormatSDJWT {
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
	pr, err := openid.FetchPresentationRequest(ctx, w, st.URI, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Queries) != 1 || len(pr.Queries[0].Candidates) != 1 || !slices.Equal(pr.Queries[0].Claims, []string{"code.display"}) {
		t.Fatalf("request as shown to the patient: %+v", pr.Queries)
	}
	if err := openid.RespondPresentation(ctx, w, pr, nil, nil); err != nil {
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
