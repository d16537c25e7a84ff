package openid4vp

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/verify"
)

// TestAdminClient starts requests on a running verifier over its admin
// endpoint and reads their results back.
func TestAdminClient(t *testing.T) {
	ctx := context.Background()
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	v, err := New(Config{URL: srv.URL, Verify: vv, AdminToken: []byte("admintoken"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = v

	ac := &AdminClient{URL: srv.URL + "/", Token: []byte("admintoken")}
	st, err := ac.StartRequest(ctx, query())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&Client{}).FetchRequest(ctx, st.URI); err != nil {
		t.Errorf("the request URI does not resolve: %v", err)
	}
	res, err := ac.Result(ctx, st.State)
	if err != nil || res.State != st.State || res.Status == StatusValid {
		t.Errorf("Result before any answer = %+v, %v; want the pending request", res, err)
	}

	refusals := []struct {
		name string
		call func() error
		want string
	}{
		{"wrong token", func() error {
			_, err := (&AdminClient{URL: srv.URL, Token: []byte("nope")}).StartRequest(ctx, query())
			return err
		}, "invalid_token"},
		{"empty query", func() error { _, err := ac.StartRequest(ctx, DCQLQuery{}); return err }, ErrCodeInvalidRequest},
		{"unknown state", func() error { _, err := ac.Result(ctx, "no-such-state"); return err }, ErrCodeInvalidRequest},
	}
	for _, tc := range refusals {
		if got := code(tc.call()); got != tc.want {
			t.Errorf("%s: code %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, err := (&AdminClient{URL: srv.URL}).StartRequest(ctx, query()); err == nil {
		t.Error("no token: no error")
	}
}
