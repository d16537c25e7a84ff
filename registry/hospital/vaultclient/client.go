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

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/httpserver"
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
	// Now is the clock requests are dated by (nil = time.Now): the vault
	// accepts a request only within a couple of minutes of its own clock.
	Now func() time.Time

	vaultDID string
}

// Config says which vault to call and as whom.
type Config struct {
	// URL is the vault's base URL (a registryd serving --vault).
	URL string
	// DID is who the client acts as: any DID that names Key under
	// authentication, e.g. a hospital's registered did:medid. "" means
	// Key's own did:key.
	DID string
	// Key signs every request.
	Key *key.PrivateKey
	// Resolver resolves DID to find which of its verification methods
	// holds Key (the vault resolves it the same way to check the
	// signature). Required unless DID is a did:key.
	Resolver did.Resolver
	// HTTP is the HTTP client; nil means one with a 30 s timeout.
	HTTP *http.Client
}

// New returns a client acting as cfg.DID. For a did:key the key id follows
// from the key, which must be the DID's own; for any other DID it resolves
// the DID and signs with the verification method that holds cfg.Key under
// authentication. Errors wrap [did.ErrKeyNotFound] when the DID does not
// name the key (the vault would refuse every request), or the resolver's
// error (e.g. [did.ErrNotFound]: the DID is not registered).
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Key == nil {
		return nil, errors.New("vaultclient: Config.Key is required")
	}
	own := did.KeyDID(cfg.Key.Public())
	c := &Client{URL: cfg.URL, HTTP: cfg.HTTP, DID: cfg.DID, Key: cfg.Key}
	switch {
	case cfg.DID == "" || cfg.DID == own:
		c.DID, c.KeyID = own, own+"#"+cfg.Key.Public().Multikey()
		return c, nil
	case strings.HasPrefix(cfg.DID, "did:key:"):
		return nil, fmt.Errorf("%w: %s is not the did:key of this key (%s)", did.ErrKeyNotFound, cfg.DID, own)
	case cfg.Resolver == nil:
		return nil, fmt.Errorf("vaultclient: acting as %s needs Config.Resolver to find its key", cfg.DID)
	}
	res, err := cfg.Resolver.Resolve(ctx, cfg.DID)
	if err != nil {
		return nil, fmt.Errorf("vaultclient: resolve %s: %w", cfg.DID, err)
	}
	if res.Metadata.Deactivated || res.Document == nil {
		return nil, fmt.Errorf("vaultclient: %w: %s", did.ErrDeactivated, cfg.DID)
	}
	if c.KeyID, err = res.Document.KeyIDFor(cfg.Key.Public(), did.Authentication); err != nil {
		return nil, fmt.Errorf("vaultclient: act as %s: %w", cfg.DID, err)
	}
	return c, nil
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
	return defaultHTTP
}

// defaultHTTP is the client of a Client without HTTP: one transport, so
// calls reuse connections (httpserver.NewClient drops them before a
// vault would).
var defaultHTTP = httpserver.NewClient(30*time.Second, nil)

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
	if c.Now != nil && r.IssuedAt == 0 {
		r.IssuedAt = c.Now().Unix()
	}
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

// StartLicenceRequest asks the vault at vaultURL for an OpenID4VP request
// for a practitioner's licence (POST /1.0/vault/licence/requests, no
// authentication): the answer's URI goes to the practitioner's wallet. hc
// nil means a client with a 30 s timeout.
func StartLicenceRequest(ctx context.Context, hc *http.Client, vaultURL string) (*vaultapi.LicenceRequest, error) {
	c := &Client{URL: vaultURL, HTTP: hc}
	var lr vaultapi.LicenceRequest
	if err := c.do(ctx, http.MethodPost, "/1.0/vault/licence/requests", "", nil, &lr, nil); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(lr.URI, "openid4vp://") {
		return nil, fmt.Errorf("vault: the licence request's URI %.64q is not an openid4vp:// URI", lr.URI)
	}
	return &lr, nil
}
