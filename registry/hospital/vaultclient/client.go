package vaultclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// Client calls a vault's HTTP API. Each call signs a fresh request with
// Key (KeyID: a DID URL of DID under authentication).
type Client struct {
	URL   string // base URL, e.g. http://127.0.0.1:8080
	HTTP  *http.Client
	DID   string
	Key   *key.PrivateKey
	KeyID string

	vaultDID string
}

// ProblemError is an error answer of a vault.
type ProblemError struct {
	Status int
	Detail string
}

func (e *ProblemError) Error() string { return fmt.Sprintf("vault: %d: %s", e.Status, e.Detail) }

// Unwrap maps the status back to the vault's sentinel.
func (e *ProblemError) Unwrap() error {
	switch e.Status {
	case http.StatusBadRequest:
		return vaultapi.ErrBadRequest
	case http.StatusUnauthorized:
		if strings.Contains(e.Detail, vaultapi.ErrReplay.Error()) {
			return vaultapi.ErrReplay
		}
		return vaultapi.ErrUnauthenticated
	case http.StatusForbidden:
		return vaultapi.ErrDenied
	case http.StatusNotFound:
		return vaultapi.ErrNotFound
	case http.StatusGone:
		return vaultapi.ErrErased
	case http.StatusServiceUnavailable:
		return vaultapi.ErrTrailUnavailable
	}
	return nil
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// VaultDID returns (and remembers) the vault's DID from GET /1.0/vault.
func (c *Client) VaultDID(ctx context.Context) (string, error) {
	if c.vaultDID != "" {
		return c.vaultDID, nil
	}
	var info vaultapi.Info
	if err := c.do(ctx, http.MethodGet, "/1.0/vault", "", nil, &info, nil); err != nil {
		return "", err
	}
	if info.DID == "" {
		return "", errors.New("vault: GET /1.0/vault named no DID")
	}
	c.vaultDID = info.DID
	return info.DID, nil
}

func (c *Client) sign(ctx context.Context, r *vaultapi.Request) (string, error) {
	aud, err := c.VaultDID(ctx)
	if err != nil {
		return "", err
	}
	r.Issuer, r.Audience = c.DID, aud
	return vaultapi.SignRequest(r, c.Key, c.KeyID)
}

func (c *Client) do(ctx context.Context, method, path, token string, body []byte, out any, raw *[]byte) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.URL, "/")+path, rd)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", vaultapi.AuthScheme+" "+token)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var p struct {
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(b, &p)
		return &ProblemError{Status: resp.StatusCode, Detail: p.Detail}
	}
	if raw != nil {
		*raw = b
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Put stores resource (FHIR JSON) for owner under class and returns its
// metadata (the record id).
func (c *Client) Put(ctx context.Context, owner, class string, resource []byte) (*vaultapi.Meta, error) {
	sum := sha256.Sum256(resource)
	tok, err := c.sign(ctx, &vaultapi.Request{Op: vaultapi.OpPut, Owner: owner, Class: class, BodyHash: hex.EncodeToString(sum[:])})
	if err != nil {
		return nil, err
	}
	var m vaultapi.Meta
	if err := c.do(ctx, http.MethodPost, "/1.0/vault/records", tok, resource, &m, nil); err != nil {
		return nil, err
	}
	return &m, nil
}

// Get reads a record for purpose, presenting consentToken (may be empty
// for break-glass); breakGlass is the emergency reason ("" for none).
func (c *Client) Get(ctx context.Context, record, purpose, consentToken, breakGlass string) ([]byte, error) {
	tok, err := c.sign(ctx, &vaultapi.Request{Op: vaultapi.OpRead, Record: record, Purpose: purpose, Consent: consentToken, BreakGlass: breakGlass})
	if err != nil {
		return nil, err
	}
	var out []byte
	if err := c.do(ctx, http.MethodGet, "/1.0/vault/records/"+url.PathEscape(record), tok, nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Erase asks the vault to erase a record; the client's DID must own it.
func (c *Client) Erase(ctx context.Context, record string) (*vaultapi.Meta, error) {
	tok, err := c.sign(ctx, &vaultapi.Request{Op: vaultapi.OpErase, Record: record})
	if err != nil {
		return nil, err
	}
	var m vaultapi.Meta
	if err := c.do(ctx, http.MethodDelete, "/1.0/vault/records/"+url.PathEscape(record), tok, nil, &m, nil); err != nil {
		return nil, err
	}
	return &m, nil
}

// AllowBreakGlass deposits the client's standing break-glass grant (a grant
// to the vault's DID with break-glass allowed, anchored).
func (c *Client) AllowBreakGlass(ctx context.Context, grantToken string) error {
	tok, err := c.sign(ctx, &vaultapi.Request{Op: vaultapi.OpBreakGlass, Consent: grantToken})
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, "/1.0/vault/break-glass", tok, nil, nil, nil)
}

// AccessLog fetches the client's own trail (the client's DID is the
// patient). The entries still have to be verified and decrypted.
func (c *Client) AccessLog(ctx context.Context) (*vaultapi.AccessLogResponse, error) {
	tok, err := c.sign(ctx, &vaultapi.Request{Op: vaultapi.OpAccessLog, Patient: c.DID})
	if err != nil {
		return nil, err
	}
	var out vaultapi.AccessLogResponse
	if err := c.do(ctx, http.MethodGet, "/1.0/vault/access-log?patient="+url.QueryEscape(c.DID), tok, nil, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// Events fetches the anchored put and erase events of a record (the client
// must be its owner, the vault or a writer); check each with
// [trail.Proved.Verify] against the ledger's anchor of its batch.
func (c *Client) Events(ctx context.Context, record string) ([]trail.Proved, error) {
	tok, err := c.sign(ctx, &vaultapi.Request{Op: vaultapi.OpEvents, Record: record})
	if err != nil {
		return nil, err
	}
	var out []trail.Proved
	if err := c.do(ctx, http.MethodGet, "/1.0/vault/records/"+url.PathEscape(record)+"/events", tok, nil, &out, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// PresentLicence presents the client's practitioner licence (vc+jwt) to
// the vault in a request signed by the client's DID, which must be the
// licence's subject. The vault then names the practitioner in patients'
// access logs.
func (c *Client) PresentLicence(ctx context.Context, licence string) error {
	tok, err := c.sign(ctx, &vaultapi.Request{Op: vaultapi.OpLicence, Licence: licence})
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, "/1.0/vault/licence", tok, nil, nil, nil)
}
