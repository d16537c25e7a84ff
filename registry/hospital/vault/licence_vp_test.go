package vault

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
)

// licenceVault is a vault serving OpenID4VP licence requests over HTTP,
// whose Licences check accepts licences from body only (standing in for
// the directory's "active licensing body" check registryd makes).
func licenceVault(t testing.TB, body credtest.Party) (*harness, *httptest.Server) {
	t.Helper()
	// The clock runs a little ahead: tokens signed now (iat) are in its past.
	h := &harness{t: t, ledger: newFakeLedger(), clock: credtest.NewClock(time.Now().UTC().Add(30 * time.Second)),
		hosp: newParty(t, 1), patient: newParty(t, 2)}
	checker, err := consent.NewChecker(consent.CheckerConfig{Keys: consent.ResolverKeys(did.KeyResolver{}), Ledger: h.ledger,
		StatusTTL: -1, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	licences := func(ctx context.Context, token string) (string, error) {
		res := vv.Credential(ctx, token)
		if !res.Valid {
			return "", errors.New("licence " + res.Reason)
		}
		l, err := licence.FromCredential(res.Credential)
		if err != nil {
			return "", err
		}
		if l.Issuer != body.DID {
			return "", errors.New("licence issuer is not in the directory")
		}
		return l.Practitioner, nil
	}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	h.v, err = New(Config{Dir: t.TempDir(), DID: h.hosp.DID, Key: h.hosp.Key, KeyID: h.hosp.Kid, Resolver: did.KeyResolver{},
		Consent: checker, Submit: h.ledger.submit, Anchors: h.ledger, Now: h.clock.Now,
		Licences: licences, Presentations: vv, PublicURL: srv.URL, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h.v.Handler()
	return h, srv
}

func issueLicence(t testing.TB, body, practitioner credtest.Party, from, until time.Time) string {
	t.Helper()
	cl := licence.Claims{Name: "Dr. Jane Doe", Profession: licence.Professions["doctor"], LicenceNumber: "GMC-7654321", Jurisdiction: "GB"}
	tok, err := vc.Issue(&vc.Credential{Context: []string{vc.ContextV2}, Type: []string{vc.TypeCredential, licence.Type},
		Issuer: body.DID, ValidFrom: &from, ValidUntil: &until, Subject: cl.Subject(practitioner.DID)}, body.Key, body.Kid)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestLicenceOverOpenID4VP: a practitioner proves who they are to the
// vault by presenting their licence over OpenID4VP (direct_post); the
// vault names them in trails only when the presentation is theirs, the
// licence valid and its body accepted, and tells the wallet why not.
func TestLicenceOverOpenID4VP(t *testing.T) {
	ctx := context.Background()
	body, other := newParty(t, 10), newParty(t, 11)
	jane, thief := newParty(t, 12), newParty(t, 13)
	h, srv := licenceVault(t, body)
	now := h.clock.Now()
	good := issueLicence(t, body, jane, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	expired := issueLicence(t, body, jane, now.Add(-48*time.Hour), now.Add(-time.Hour))
	unlisted := issueLicence(t, other, jane, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	c := openid4vp.Client{Resolver: did.KeyResolver{}}

	for _, tc := range []struct {
		name       string
		holder     credtest.Party
		licence    string
		code, want string // refused: protocol error code and words of its description
	}{
		{"someone else's licence", thief, good, openid4vp.ErrCodeInvalidRequest, verify.ReasonHolderMismatch},
		{"expired", jane, expired, openid4vp.ErrCodeInvalidRequest, "expired"},
		{"body not in the directory", jane, unlisted, openid4vp.ErrCodeAccessDenied, "licence issuer is not in the directory"},
		{"valid", jane, good, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lr, err := vaultclient.StartLicenceRequest(ctx, srv.Client(), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			req, err := c.FetchRequest(ctx, lr.URI)
			if err != nil {
				t.Fatal(err)
			}
			// Signed by the vault's DID: the wallet can name the vault.
			if req.Signer != h.hosp.DID || req.ResponseURI != srv.URL+"/1.0/vault/openid4vp/response" {
				t.Fatalf("request signed by %q answering to %q, want the vault's DID and its response URI", req.Signer, req.ResponseURI)
			}
			vp, err := vc.SignPresentation(&vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation},
				Holder: tc.holder.DID, Credentials: []string{tc.licence}}, tc.holder.Key, tc.holder.Kid, req.ClientID, req.Nonce)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Respond(ctx, req, map[string][]string{vaultapi.LicenceQueryID: {vp}})
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if h.v.licenceOf(jane.DID) != good {
					t.Error("the vault did not keep the licence")
				}
				return
			}
			var pe *openid4vp.ProtocolError
			if !errors.As(err, &pe) || pe.Code != tc.code || !strings.Contains(pe.Error(), tc.want) {
				t.Fatalf("got %v, want %s saying %q", err, tc.code, tc.want)
			}
			if h.v.licenceOf(tc.holder.DID) != "" {
				t.Error("a refused licence was kept")
			}
		})
	}

	// The licence survives a restart of the vault (licences.json).
	if err := h.v.loadLicences(); err != nil || h.v.licenceOf(jane.DID) != good {
		t.Errorf("reloaded licences: %v", err)
	}
}

// TestLicenceRequestsOff: a vault without a public URL says how to turn
// OpenID4VP licences on.
func TestLicenceRequestsOff(t *testing.T) {
	h := newHarness(t)
	srv := httptest.NewServer(h.v.Handler())
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL+"/1.0/vault/licence/requests", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p problem
	_ = json.NewDecoder(resp.Body).Decode(&p)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(p.Detail, "--vault-url") {
		t.Errorf("got %d %q, want 400 naming --vault-url", resp.StatusCode, p.Detail)
	}
	if _, err := vaultclient.StartLicenceRequest(context.Background(), srv.Client(), srv.URL); !errors.Is(err, vaultapi.ErrBadRequest) {
		t.Errorf("client: got %v, want ErrBadRequest", err)
	}
}
