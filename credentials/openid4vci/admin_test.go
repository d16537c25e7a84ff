package openid4vci

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestAdminClient asks a running issuer for offers over its admin
// endpoint, and checks the refusals come back as protocol errors.
func TestAdminClient(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cases := []struct {
		name     string
		c        AdminClient
		req      OfferRequest
		wantCode string // "" = an offer
		wantPIN  bool
	}{
		{"offer", AdminClient{URL: f.srv.URL, Token: []byte("admintoken")}, OfferRequest{ConfigurationID: testType, Claims: map[string]any{"allergy": "penicillin"}}, "", false},
		{"offer with a PIN, URL with a slash", AdminClient{URL: f.srv.URL + "/", Token: []byte("admintoken")}, OfferRequest{ConfigurationID: testType, Claims: map[string]any{"a": "b"}, TxCode: true}, "", true},
		{"wrong token", AdminClient{URL: f.srv.URL, Token: []byte("admintokeN")}, OfferRequest{ConfigurationID: testType}, ErrCodeInvalidToken, false},
		{"unknown configuration", AdminClient{URL: f.srv.URL, Token: []byte("admintoken")}, OfferRequest{ConfigurationID: "NopeCredential"}, ErrCodeUnknownConfiguration, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.c.CreateOffer(ctx, tc.req)
			if tc.wantCode != "" {
				if got := protoCode(err); got != tc.wantCode {
					t.Fatalf("CreateOffer = %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := ParseOfferURI(res.URI); err != nil {
				t.Errorf("the offer URI does not parse: %v", err)
			}
			if (res.TxCode != "") != tc.wantPIN {
				t.Errorf("PIN %q, want one: %v", res.TxCode, tc.wantPIN)
			}
		})
	}

	if _, err := (&AdminClient{URL: f.srv.URL}).CreateOffer(ctx, OfferRequest{}); err == nil {
		t.Error("no token: no error")
	}
	// A server that is no issuer: server_error naming the status.
	junk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "teapot", http.StatusTeapot) }))
	defer junk.Close()
	if _, err := (&AdminClient{URL: junk.URL, Token: []byte("x")}).CreateOffer(ctx, OfferRequest{}); protoCode(err) != "server_error" {
		t.Errorf("a non-issuer: %v, want server_error", err)
	}
}
