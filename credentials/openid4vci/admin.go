package openid4vci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/medid/medid/internal/httpserver"
)

// AdminClient is the issuing hospital's back office: it asks a running
// [Issuer] (one with Config.AdminToken set) for credential offers through
// its admin endpoint, POST {issuer}/admin/offers with the admin token as a
// bearer token. Safe for concurrent use.
type AdminClient struct {
	// URL is the credential issuer URL (the Issuer's Config.URL).
	URL string
	// Token is the Issuer's admin token. It is a secret: read it from a
	// file only its owner can read, or from the environment.
	Token []byte
	// HTTP makes the requests; nil means a client with a 30 s timeout.
	HTTP *http.Client
}

// CreateOffer asks the issuer for an offer of req.ConfigurationID with
// req.Claims (see [Issuer.CreateOffer]) and returns it with its PIN, if
// one was asked for. Errors: a [*ProtocolError] when the issuer refused
// (invalid_token for a wrong admin token, unknown_credential_configuration,
// invalid_request; server_error for an answer that is no protocol error),
// or the transport's.
func (c *AdminClient) CreateOffer(ctx context.Context, req OfferRequest) (*OfferResult, error) {
	if c.URL == "" || len(c.Token) == 0 {
		return nil, errors.New("openid4vci: AdminClient needs the issuer URL and its admin token")
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.URL, "/")+"/admin/offers", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+string(c.Token))
	hc := c.HTTP
	if hc == nil {
		hc = adminHTTP
	}
	var res OfferResult
	if err := (&Client{HTTP: hc}).do(hr, &res); err != nil {
		return nil, err
	}
	if res.URI == "" {
		return nil, &ProtocolError{Code: "server_error", Description: "the issuer answered without an offer URI"}
	}
	return &res, nil
}

// adminHTTP is the client of an admin client without HTTP: one transport,
// so calls reuse connections, dropped before a medid server would close
// them (httpserver.NewClient).
var adminHTTP = httpserver.NewClient(30*time.Second, nil)
