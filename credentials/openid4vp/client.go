package openid4vp

import (
	"bytes"
	"context"

	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/medid/medid/credentials/did"

	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/internal/ijson"
	"github.com/medid/medid/internal/openid"
)

// Client is the wallet side: it fetches requests and posts responses. The
// zero value uses http.DefaultClient; it is safe for concurrent use.
type Client struct {
	HTTP *http.Client
	// Resolver resolves the DIDs of verifiers that sign their request
	// objects (decentralized_identifier:); nil refuses signed requests.
	Resolver did.Resolver
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// maxObject bounds a request object.
const maxObject = 64 << 10

// FetchRequest resolves an authorization request URI to a checked Request:
// by value, or by fetching its request_uri. The request object must be an
// unsecured JWT (or JSON) whose client_id is the one in the URI.
func (c *Client) FetchRequest(ctx context.Context, uri string) (*Request, error) {
	clientID, requestURI, req, err := ParseURI(uri)
	if err != nil || req != nil {
		return req, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, requestURI, nil)
	if err != nil {
		return nil, &ProtocolError{Code: ErrCodeInvalidRequest, Description: "request_uri: " + err.Error()}
	}
	hr.Header.Set("Accept", RequestObjectType+", application/json")
	resp, err := c.http().Do(hr)
	if err != nil {
		return nil, fmt.Errorf("openid4vp: fetch the request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxObject+1))
	if err != nil {
		return nil, fmt.Errorf("openid4vp: read the request: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(resp.StatusCode, body, "the verifier did not give the request")
	}
	if len(body) > maxObject {
		return nil, &ProtocolError{Code: ErrCodeInvalidRequest, Description: "request object too large"}
	}
	req, err = c.parseObject(ctx, body, clientID)
	if err != nil {
		return nil, err
	}
	if req.ClientID != clientID {
		return nil, &ProtocolError{Code: ErrCodeInvalidClient, Description: fmt.Sprintf("the request object's client_id %q is not the URI's %q", req.ClientID, clientID)}
	}
	return req, nil
}

// ParseRequestObject parses and checks an unsigned request object: an
// unsecured JWT (alg none, allowed only with the redirect_uri: prefix) or
// a JSON object. Signed request objects need the verifier's DID resolved:
// [Client.FetchRequest] checks them.
func ParseRequestObject(data []byte) (*Request, error) {
	return (&Client{}).parseObject(context.Background(), data, "")
}

// parseObject parses a request object fetched for clientID ("" = any):
// unsigned (alg none, redirect_uri: only), or signed by a key of the DID
// of a decentralized_identifier: client id.
func (c *Client) parseObject(ctx context.Context, data []byte, clientID string) (*Request, error) {
	bad := func(format string, a ...any) error {
		return &ProtocolError{Code: ErrCodeInvalidRequest, Description: fmt.Sprintf(format, a...)}
	}
	s := strings.TrimSpace(string(data))
	claims := s
	var signer string
	if !strings.HasPrefix(s, "{") {
		j, err := jose.Split(s, maxObject)
		if err != nil {
			return nil, bad("request object is neither a JWT nor JSON: %v", err)
		}
		var h struct {
			Alg string `json:"alg"`
			Kid string `json:"kid"`
		}
		if err := ijson.UnmarshalString(j.Header, &h, 0); err != nil {
			return nil, bad("request object header is not JSON: %v", err)
		}
		switch {
		case h.Alg == "none" && len(j.Signature) == 0:
			claims = j.Payload
		case h.Alg == "none":
			return nil, bad("an alg none request object must have an empty signature")
		case clientID == "":
			return nil, bad("signed request objects are checked when fetched for a client_id (Client.FetchRequest)")
		default:
			if claims, signer, err = verifySigned(ctx, j, h.Alg, h.Kid, clientID, c.Resolver); err != nil {
				return nil, err
			}
		}
	}
	var r Request
	if err := ijson.UnmarshalString(claims, &r, 0); err != nil {
		return nil, bad("request object claims: %v", err)
	}
	if signer == "" && strings.HasPrefix(r.ClientID, PrefixDecentralizedIdentifier) {
		return nil, &ProtocolError{Code: ErrCodeInvalidClient, Description: "a " + PrefixDecentralizedIdentifier + " request object must be signed by the verifier's DID"}
	}
	r.Signer = signer
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

func responseError(status int, body []byte, what string) error {
	pe := &ProtocolError{}
	if json.Unmarshal(body, pe) != nil || pe.Code == "" {
		pe = &ProtocolError{Code: "server_error", Description: fmt.Sprintf("%s: HTTP %d", what, status)}
		if code, desc, ok := openid.ProblemError(status, body); ok {
			pe = &ProtocolError{Code: code, Description: desc}
		}
	}
	pe.Status = status
	return pe
}

// ResponseResult is the verifier's answer to a direct_post.
type ResponseResult struct {
	// RedirectURI is where the verifier wants the holder's browser to go, if anywhere.
	RedirectURI string `json:"redirect_uri,omitempty"`
}

// Respond posts presentations (vp+jwt, by credential query id) to the
// request's response_uri. A refusal is a *ProtocolError.
func (c *Client) Respond(ctx context.Context, req *Request, vpToken map[string][]string) (*ResponseResult, error) {
	b, err := json.Marshal(vpToken)
	if err != nil {
		return nil, err
	}
	form := url.Values{"vp_token": {string(b)}}
	if req.State != "" {
		form.Set("state", req.State)
	}
	return c.post(ctx, req.ResponseURI, form)
}

// Decline tells the verifier the holder refused (error access_denied).
func (c *Client) Decline(ctx context.Context, req *Request) error {
	form := url.Values{"error": {ErrCodeAccessDenied}, "error_description": {"the holder declined to share the credentials"}}
	if req.State != "" {
		form.Set("state", req.State)
	}
	_, err := c.post(ctx, req.ResponseURI, form)
	return err
}

func (c *Client) post(ctx context.Context, u string, form url.Values) (*ResponseResult, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http().Do(hr)
	if err != nil {
		return nil, fmt.Errorf("openid4vp: post the response: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(resp.StatusCode, body, "the verifier refused the response")
	}
	var rr ResponseResult
	if len(bytes.TrimSpace(body)) > 0 {
		json.Unmarshal(body, &rr)
	}
	return &rr, nil
}
