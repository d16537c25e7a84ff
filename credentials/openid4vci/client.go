package openid4vci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/openid"
)

// Client is the wallet side of the pre-authorized code flow. The zero value
// uses http.DefaultClient; it is safe for concurrent use.
type Client struct {
	// HTTP makes the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// Now is the clock for proof iat; nil means time.Now.
	Now func() time.Time
}

// AcceptRequest says how to redeem an offer.
type AcceptRequest struct {
	// Offer is the parsed credential offer.
	Offer *Offer
	// TxCode returns the transaction code (PIN) when the offer requires
	// one; it is called at most once, with the offer's description.
	TxCode func(*TxCode) (string, error)
	// Key is the holder key the credential is bound to; Kid is its DID URL.
	Key *key.PrivateKey
	Kid string
	// Delegation, when set, is a delegation credential (vc+jwt) that lets
	// the holder of Key receive credentials for the patient it names
	// (action receive): the credentials are issued to that patient's DID,
	// and the holder keeps them for them. See [CredentialRequest].Delegation.
	Delegation string
}

// Accepted is the outcome of a redeemed offer.
type Accepted struct {
	// Credentials are the issued credentials (vc+jwt), one per offered
	// configuration.
	Credentials []string
	// Metadata is the issuer's metadata, for display.
	Metadata *IssuerMetadata
}

// maxResponse bounds an issuer's answers.
const maxResponse = 1 << 20

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// do sends req and decodes a JSON answer into v, or returns the endpoint's
// *ProtocolError.
func (c *Client) do(req *http.Request, v any) error {
	resp, err := c.http().Do(req)
	if err != nil {
		return fmt.Errorf("openid4vci: %s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("openid4vci: read %s: %w", req.URL.Redacted(), err)
	}
	if resp.StatusCode/100 != 2 {
		pe := &ProtocolError{}
		if json.Unmarshal(body, pe) != nil || pe.Code == "" {
			pe = &ProtocolError{Code: "server_error", Description: fmt.Sprintf("HTTP %d from %s", resp.StatusCode, req.URL.Redacted())}
			if code, desc, ok := openid.ProblemError(resp.StatusCode, body); ok {
				pe = &ProtocolError{Code: code, Description: desc}
			}
		}
		pe.Status = resp.StatusCode
		return pe
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("openid4vci: %s answered with invalid JSON: %w", req.URL.Redacted(), err)
	}
	return nil
}

func (c *Client) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	return c.do(req, v)
}

// FetchOffer retrieves an offer given by reference (credential_offer_uri).
func (c *Client) FetchOffer(ctx context.Context, uri string) (*Offer, error) {
	var raw json.RawMessage
	if err := c.getJSON(ctx, uri, &raw); err != nil {
		return nil, err
	}
	return ParseOffer(raw)
}

// wellKnown returns the metadata URL of an issuer or server identifier,
// inserting the well-known segment before any path (RFC 8414 §3.1).
func wellKnown(id, suffix string) (string, error) {
	u, err := url.Parse(id)
	if err != nil {
		return "", err
	}
	u.Path = suffix + strings.TrimRight(u.Path, "/")
	return u.String(), nil
}

// Metadata fetches and checks the credential issuer metadata.
func (c *Client) Metadata(ctx context.Context, issuer string) (*IssuerMetadata, error) {
	u, err := wellKnown(issuer, WellKnownIssuer)
	if err != nil {
		return nil, err
	}
	var m IssuerMetadata
	if err := c.getJSON(ctx, u, &m); err != nil {
		return nil, err
	}
	// The metadata must be the issuer's own, or an attacker's offer could
	// point the wallet at someone else's endpoints.
	if m.CredentialIssuer != issuer {
		return nil, fmt.Errorf("openid4vci: metadata at %s is for %q, not %q", u, m.CredentialIssuer, issuer)
	}
	if !openid.SecureURL(m.CredentialEndpoint) || (m.NonceEndpoint != "" && !openid.SecureURL(m.NonceEndpoint)) {
		return nil, fmt.Errorf("openid4vci: issuer %s has no https credential_endpoint (or its nonce_endpoint is not https)", issuer)
	}
	return &m, nil
}

// tokenEndpoint finds the token endpoint from the authorization server's
// metadata (the issuer itself unless authorization_servers says otherwise).
func (c *Client) tokenEndpoint(ctx context.Context, m *IssuerMetadata) (string, error) {
	as := m.CredentialIssuer
	if len(m.AuthorizationServers) > 0 {
		as = m.AuthorizationServers[0]
	}
	var meta ASMetadata
	var lastErr error
	for _, suffix := range []string{WellKnownAS, "/.well-known/openid-configuration"} {
		u, err := wellKnown(as, suffix)
		if err != nil {
			return "", err
		}
		if lastErr = c.getJSON(ctx, u, &meta); lastErr == nil && openid.SecureURL(meta.TokenEndpoint) {
			return meta.TokenEndpoint, nil
		}
	}
	return "", fmt.Errorf("openid4vci: no token endpoint in the metadata of %s: %v", as, lastErr)
}

// Token redeems a pre-authorized code (and transaction code) at endpoint.
func (c *Client) Token(ctx context.Context, endpoint, code, txCode string) (*TokenResponse, error) {
	form := url.Values{"grant_type": {GrantPreAuthorized}, "pre-authorized_code": {code}}
	if txCode != "" {
		form.Set("tx_code", txCode)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var t TokenResponse
	if err := c.do(req, &t); err != nil {
		return nil, err
	}
	if t.AccessToken == "" {
		return nil, fmt.Errorf("openid4vci: token response without access_token")
	}
	return &t, nil
}

// Nonce gets a fresh c_nonce.
func (c *Client) Nonce(ctx context.Context, endpoint string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
	if err != nil {
		return "", err
	}
	var n NonceResponse
	if err := c.do(req, &n); err != nil {
		return "", err
	}
	if n.CNonce == "" {
		return "", fmt.Errorf("openid4vci: nonce response without c_nonce")
	}
	return n.CNonce, nil
}

// Credential asks for one credential with a proof JWT.
func (c *Client) Credential(ctx context.Context, endpoint, accessToken, configID, proof string) (string, error) {
	return c.CredentialFor(ctx, endpoint, accessToken, configID, proof, "")
}

// CredentialFor is [Client.Credential] for a representative: delegation
// (a delegation credential with action receive, "" for none) travels in
// the request, and the credential comes back issued to the patient it
// names.
func (c *Client) CredentialFor(ctx context.Context, endpoint, accessToken, configID, proof, delegation string) (string, error) {
	body, err := json.Marshal(CredentialRequest{ConfigurationID: configID, Proofs: map[string][]string{"jwt": {proof}}, Delegation: delegation})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+accessToken)
	var raw struct {
		Credentials []IssuedCredential `json:"credentials"`
		Credential  string             `json:"credential"` // drafts 13-14
	}
	if err := c.do(req, &raw); err != nil {
		return "", err
	}
	switch {
	case len(raw.Credentials) == 1:
		return raw.Credentials[0].Credential, nil
	case raw.Credential != "":
		return raw.Credential, nil
	}
	return "", fmt.Errorf("openid4vci: the credential response holds no credential (deferred issuance is not supported)")
}

// Accept runs the pre-authorized code flow for an offer: metadata, token
// (with the transaction code), nonce, proof, credential. Errors from the
// issuer are *ProtocolError values.
func (c *Client) Accept(ctx context.Context, r AcceptRequest) (*Accepted, error) {
	o := r.Offer
	if o == nil || o.Grants.PreAuthorized == nil {
		return nil, &ProtocolError{Code: ErrCodeInvalidRequest, Description: "the offer has no pre-authorized code"}
	}
	m, err := c.Metadata(ctx, o.CredentialIssuer)
	if err != nil {
		return nil, err
	}
	for _, id := range o.ConfigurationIDs {
		conf, ok := m.Configurations[id]
		if !ok {
			return nil, &ProtocolError{Code: ErrCodeUnknownConfiguration, Description: fmt.Sprintf("the issuer's metadata has no configuration %q", id)}
		}
		if conf.Format != FormatVCJWT && conf.Format != FormatJWTVC && conf.Format != FormatSDJWT {
			return nil, &ProtocolError{Code: ErrCodeUnsupportedType, Description: fmt.Sprintf("configuration %q is format %q; this wallet takes %s, %s (and %s)", id, conf.Format, FormatVCJWT, FormatSDJWT, FormatJWTVC)}
		}
	}
	tokenURL, err := c.tokenEndpoint(ctx, m)
	if err != nil {
		return nil, err
	}
	var pin string
	if tc := o.Grants.PreAuthorized.TxCode; tc != nil {
		if r.TxCode == nil {
			return nil, &ProtocolError{Code: ErrCodeInvalidRequest, Description: "the offer needs a transaction code (PIN) and none can be asked for"}
		}
		if pin, err = r.TxCode(tc); err != nil {
			return nil, err
		}
	}
	tok, err := c.Token(ctx, tokenURL, o.Grants.PreAuthorized.Code, pin)
	if err != nil {
		return nil, err
	}
	out := &Accepted{Metadata: m}
	nonce := tok.CNonce
	for _, id := range o.ConfigurationIDs {
		// 1.0 issuers hand out nonces at the nonce endpoint; draft-13 ones
		// in the token response.
		if m.NonceEndpoint != "" {
			if nonce, err = c.Nonce(ctx, m.NonceEndpoint); err != nil {
				return nil, err
			}
		}
		proof, err := MakeProof(r.Key, r.Kid, o.CredentialIssuer, nonce, c.now())
		if err != nil {
			return nil, err
		}
		cred, err := c.CredentialFor(ctx, m.CredentialEndpoint, tok.AccessToken, id, proof, r.Delegation)
		if err != nil {
			return nil, err
		}
		out.Credentials = append(out.Credentials, cred)
	}
	return out, nil
}
