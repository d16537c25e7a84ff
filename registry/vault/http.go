package vault

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
	"github.com/medid/medid/internal/httpserver"
	"github.com/medid/medid/registry/audit"
)

// AuthScheme is the Authorization scheme carrying a signed request.
const AuthScheme = "MedID-Request"

// Info is what GET /1.0/vault answers: the vault's DID (the audience of
// requests and the signer of trail anchors).
type Info struct {
	DID string `json:"did"`
}

// AccessLogResponse is the answer of GET /1.0/vault/access-log.
type AccessLogResponse struct {
	Vault   string         `json:"vault"`
	Entries []audit.Proved `json:"entries"`
}

// Handler serves the vault API:
//
//	GET    /1.0/vault                          Info
//	POST   /1.0/vault/records                  put (body: the FHIR JSON) -> Meta
//	GET    /1.0/vault/records/{id}             read -> the FHIR JSON
//	DELETE /1.0/vault/records/{id}             erase (owner) -> Meta
//	GET    /1.0/vault/records/{id}/events      anchored put/erase events
//	PUT    /1.0/vault/break-glass              deposit a standing break-glass grant
//	GET    /1.0/vault/access-log?patient=DID   the patient's trail
//
// Every call but the first and the events carries a signed [Request] in
// "Authorization: MedID-Request <jws>". Errors are RFC 9457 problem objects
// whose detail never includes record content.
func (v *Vault) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /1.0/vault", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, Info{DID: v.cfg.DID})
	})
	mux.HandleFunc("POST /1.0/vault/records", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxRecordSize+1))
		if err != nil {
			v.problem(w, fmt.Errorf("%w: read body: %v", ErrBadRequest, err))
			return
		}
		m, err := v.Put(r.Context(), authToken(r), body)
		if err != nil {
			v.problem(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, m)
	})
	mux.HandleFunc("GET /1.0/vault/records/{id}", func(w http.ResponseWriter, r *http.Request) {
		tok := authToken(r)
		if req, err := ParseRequest(tok); err == nil && req.Record != r.PathValue("id") {
			v.problem(w, fmt.Errorf("%w: the signed request is for another record", ErrBadRequest))
			return
		}
		body, _, err := v.Read(r.Context(), tok)
		if err != nil {
			v.problem(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	})
	mux.HandleFunc("DELETE /1.0/vault/records/{id}", func(w http.ResponseWriter, r *http.Request) {
		tok := authToken(r)
		if req, err := ParseRequest(tok); err == nil && req.Record != r.PathValue("id") {
			v.problem(w, fmt.Errorf("%w: the signed request is for another record", ErrBadRequest))
			return
		}
		m, err := v.Erase(r.Context(), tok)
		if err != nil {
			v.problem(w, err)
			return
		}
		writeJSON(w, http.StatusOK, m)
	})
	mux.HandleFunc("GET /1.0/vault/records/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, v.RecordEvents(r.PathValue("id")))
	})
	mux.HandleFunc("PUT /1.0/vault/break-glass", func(w http.ResponseWriter, r *http.Request) {
		if err := v.AllowBreakGlass(r.Context(), authToken(r)); err != nil {
			v.problem(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /1.0/vault/access-log", func(w http.ResponseWriter, r *http.Request) {
		tok := authToken(r)
		if req, err := ParseRequest(tok); err == nil && req.Patient != r.URL.Query().Get("patient") {
			v.problem(w, fmt.Errorf("%w: the signed request is for another patient", ErrBadRequest))
			return
		}
		es, err := v.AccessLog(r.Context(), tok)
		if err != nil {
			v.problem(w, err)
			return
		}
		writeJSON(w, http.StatusOK, AccessLogResponse{Vault: v.cfg.DID, Entries: es})
	})
	httpserver.Fallback(mux, v.routeError)
	return withTLSPolicy(mux)
}

func authToken(r *http.Request) string {
	s, ok := strings.CutPrefix(r.Header.Get("Authorization"), AuthScheme+" ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(s)
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func (v *Vault) problem(w http.ResponseWriter, err error) {
	st := StatusOf(err)
	detail := err.Error()
	if st == http.StatusInternalServerError {
		v.cfg.Logger.Error("vault: request failed", "err", err)
		detail = "internal error (see the vault's log)"
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(st)
	_ = json.NewEncoder(w).Encode(problem{Type: "https://medid.dev/problems/vault", Title: http.StatusText(st), Status: st, Detail: detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

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
		return ErrBadRequest
	case http.StatusUnauthorized:
		if strings.Contains(e.Detail, ErrReplay.Error()) {
			return ErrReplay
		}
		return ErrUnauthenticated
	case http.StatusForbidden:
		return ErrDenied
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusGone:
		return ErrErased
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
	var info Info
	if err := c.do(ctx, http.MethodGet, "/1.0/vault", "", nil, &info, nil); err != nil {
		return "", err
	}
	if info.DID == "" {
		return "", errors.New("vault: GET /1.0/vault named no DID")
	}
	c.vaultDID = info.DID
	return info.DID, nil
}

func (c *Client) sign(ctx context.Context, r *Request) (string, error) {
	aud, err := c.VaultDID(ctx)
	if err != nil {
		return "", err
	}
	r.Issuer, r.Audience = c.DID, aud
	return SignRequest(r, c.Key, c.KeyID)
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
		req.Header.Set("Authorization", AuthScheme+" "+token)
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
		var p problem
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
func (c *Client) Put(ctx context.Context, owner, class string, resource []byte) (*Meta, error) {
	sum := sha256.Sum256(resource)
	tok, err := c.sign(ctx, &Request{Op: OpPut, Owner: owner, Class: class, BodyHash: hex.EncodeToString(sum[:])})
	if err != nil {
		return nil, err
	}
	var m Meta
	if err := c.do(ctx, http.MethodPost, "/1.0/vault/records", tok, resource, &m, nil); err != nil {
		return nil, err
	}
	return &m, nil
}

// Get reads a record for purpose, presenting consentToken (may be empty
// for break-glass); breakGlass is the emergency reason ("" for none).
func (c *Client) Get(ctx context.Context, record, purpose, consentToken, breakGlass string) ([]byte, error) {
	tok, err := c.sign(ctx, &Request{Op: OpRead, Record: record, Purpose: purpose, Consent: consentToken, BreakGlass: breakGlass})
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
func (c *Client) Erase(ctx context.Context, record string) (*Meta, error) {
	tok, err := c.sign(ctx, &Request{Op: OpErase, Record: record})
	if err != nil {
		return nil, err
	}
	var m Meta
	if err := c.do(ctx, http.MethodDelete, "/1.0/vault/records/"+url.PathEscape(record), tok, nil, &m, nil); err != nil {
		return nil, err
	}
	return &m, nil
}

// AllowBreakGlass deposits the client's standing break-glass grant (a grant
// to the vault's DID with break-glass allowed, anchored).
func (c *Client) AllowBreakGlass(ctx context.Context, grantToken string) error {
	tok, err := c.sign(ctx, &Request{Op: OpBreakGlass, Consent: grantToken})
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, "/1.0/vault/break-glass", tok, nil, nil, nil)
}

// AccessLog fetches the client's own trail (the client's DID is the
// patient). The entries still have to be verified and decrypted.
func (c *Client) AccessLog(ctx context.Context) (*AccessLogResponse, error) {
	tok, err := c.sign(ctx, &Request{Op: OpAccessLog, Patient: c.DID})
	if err != nil {
		return nil, err
	}
	var out AccessLogResponse
	if err := c.do(ctx, http.MethodGet, "/1.0/vault/access-log?patient="+url.QueryEscape(c.DID), tok, nil, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}
