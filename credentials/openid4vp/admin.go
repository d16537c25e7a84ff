package openid4vp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/medid/medid/internal/httpserver"
)

// AdminClient is the verifying hospital's back office: it starts
// presentation requests on a running [Verifier] (one with
// Config.AdminToken set) through POST {verifier}/requests with the admin
// token as a bearer token, and reads their results from GET
// {verifier}/results/{state} with the admin token or the request's result
// key. Safe for concurrent use.
type AdminClient struct {
	// URL is the verifier's URL (its Config.URL).
	URL string
	// Token is the Verifier's admin token, needed to start requests. It is
	// a secret: read it from a file only its owner can read, or from the
	// environment.
	Token []byte
	// HTTP makes the requests; nil means a client with a 30 s timeout.
	HTTP *http.Client
}

// maxResult bounds a result (verification results and asked claims).
const maxResult = 1 << 20

func (c *AdminClient) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return adminHTTP
}

// call sends hr and decodes a 200 answer into v, or returns the
// verifier's *ProtocolError.
func (c *AdminClient) call(hr *http.Request, v any) error {
	resp, err := c.client().Do(hr)
	if err != nil {
		return fmt.Errorf("openid4vp: %s %s: %w", hr.Method, hr.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResult))
	if err != nil {
		return fmt.Errorf("openid4vp: read %s: %w", hr.URL.Redacted(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return responseError(resp.StatusCode, body, hr.URL.Redacted())
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("openid4vp: %s answered with invalid JSON: %w", hr.URL.Redacted(), err)
	}
	return nil
}

// StartRequest starts a presentation request for q (see
// [Verifier.CreateRequest]): the URI goes to the holder, the state names
// the result. Errors: a [*ProtocolError] when the verifier refused
// (invalid_token for a wrong admin token, invalid_request for a bad query),
// or the transport's.
func (c *AdminClient) StartRequest(ctx context.Context, q DCQLQuery) (*Started, error) {
	if c.URL == "" || len(c.Token) == 0 {
		return nil, errors.New("openid4vp: AdminClient needs the verifier URL and its admin token")
	}
	b, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.URL, "/")+"/requests", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+string(c.Token))
	var st Started
	if err := c.call(hr, &st); err != nil {
		return nil, err
	}
	if st.State == "" || st.URI == "" {
		return nil, &ProtocolError{Code: "server_error", Description: "the verifier answered without a state or request URI"}
	}
	return &st, nil
}

// Result returns what came back for the request with state (see
// [Verifier.Result]); Status says whether the presentation was accepted.
// It authenticates with resultKey (Started.ResultKey) when given, else
// with the admin token: the state alone reads nothing, since it travels
// in the QR code. Errors: a [*ProtocolError] (invalid_token without a
// valid key or token, invalid_request for an unknown state), or the
// transport's.
func (c *AdminClient) Result(ctx context.Context, state, resultKey string) (*Result, error) {
	if c.URL == "" {
		return nil, errors.New("openid4vp: AdminClient needs the verifier URL")
	}
	bearer := resultKey
	if bearer == "" {
		bearer = string(c.Token)
	}
	if bearer == "" {
		return nil, errors.New("openid4vp: reading a result needs the request's result key or the verifier's admin token")
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.URL, "/")+"/results/"+url.PathEscape(state), nil)
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Authorization", "Bearer "+bearer)
	hr.Header.Set("Accept", "application/json")
	var res Result
	if err := c.call(hr, &res); err != nil {
		return nil, err
	}
	if res.State != state {
		return nil, &ProtocolError{Code: "server_error", Description: fmt.Sprintf("the verifier answered for state %.64q, asked for %.64q", res.State, state)}
	}
	return &res, nil
}

// adminHTTP is the client of an admin client without HTTP: one transport,
// so calls reuse connections, dropped before a medid server would close
// them (httpserver.NewClient).
var adminHTTP = httpserver.NewClient(30*time.Second, nil)
