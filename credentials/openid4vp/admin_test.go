package openid4vp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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
	res, err := ac.Result(ctx, st.State, "")
	if err != nil || res.State != st.State || res.Status == StatusValid {
		t.Errorf("Result before any answer = %+v, %v; want the pending request", res, err)
	}
	// The staff screen reads with the request's result key alone.
	keyOnly := &AdminClient{URL: srv.URL}
	if res, err := keyOnly.Result(ctx, st.State, st.ResultKey); err != nil || res.State != st.State {
		t.Errorf("Result with the result key = %+v, %v; want the pending request", res, err)
	}
	// The key never travels to the holder: not in the URI, not in the
	// request object.
	if st.ResultKey == "" || strings.Contains(st.URI, st.ResultKey) || strings.Contains(st.RequestURI, st.ResultKey) {
		t.Errorf("result key %q missing or in the request URI %q", st.ResultKey, st.URI)
	}
	other, err := ac.StartRequest(ctx, query())
	if err != nil {
		t.Fatal(err)
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
		{"unknown state", func() error { _, err := ac.Result(ctx, "no-such-state", ""); return err }, ErrCodeInvalidRequest},
		// Whoever saw the QR code knows the state: it must read nothing.
		{"state alone", func() error { return bareGet(srv.URL+"/results/"+st.State, "") }, ErrCodeInvalidToken},
		{"wrong result key", func() error { _, err := keyOnly.Result(ctx, st.State, "0123456789abcdef0123456789abcdef"); return err }, ErrCodeInvalidToken},
		{"another request's key", func() error { _, err := keyOnly.Result(ctx, st.State, other.ResultKey); return err }, ErrCodeInvalidToken},
		{"wrong admin token", func() error {
			_, err := (&AdminClient{URL: srv.URL, Token: []byte("nope")}).Result(ctx, st.State, "")
			return err
		}, ErrCodeInvalidToken},
		// Without a valid bearer an unknown state looks like a known one.
		{"unknown state, no token", func() error { return bareGet(srv.URL+"/results/no-such-state", "x") }, ErrCodeInvalidToken},
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

// bareGet GETs url with bearer (none when empty) and returns the
// verifier's *ProtocolError, or nil for a 200.
func bareGet(url, bearer string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	if resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
		return fmt.Errorf("401 without WWW-Authenticate")
	}
	return responseError(resp.StatusCode, body, url)
}
