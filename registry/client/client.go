// Package client is a Go client for the registry HTTP API (package
// registry/api, served by registryd). A [*Client] is a did.Resolver for
// did:medid (and did:key), a status list fetcher and a source of issuer
// accreditations for the credentials/verify pipeline, and submits signed
// transactions.
//
// With Config.VerifyProofs set, every read asks for a Merkle proof and
// checks it light-client style against a trusted validator set (from the
// genesis file, see [TrustFromGenesis]) before it uses the value, so a
// lying or compromised node cannot forge an answer; the body the node sent
// is ignored and the answer is built from the proven value.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cometbft/cometbft/types"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
)

// Config configures [New].
type Config struct {
	// URL is the registry's base URL, e.g. "http://127.0.0.1:8080". Required.
	URL string
	// HTTPClient is used for every request (nil = a client with a 30 s timeout).
	HTTPClient *http.Client
	// VerifyProofs makes every read of ledger state verified (see the
	// package documentation). It requires ChainID and TrustedValidators.
	VerifyProofs bool
	// ChainID is the chain the proofs must be for.
	ChainID string
	// TrustedValidators is the validator set whose >2/3 signatures make a
	// block header trusted (e.g. from [TrustFromGenesis]).
	TrustedValidators *types.ValidatorSet
}

// Client talks to one registry. Safe for concurrent use.
type Client struct {
	base    *url.URL
	hc      *http.Client
	verify  bool
	chainID string
	trusted *types.ValidatorSet
}

// Errors of the client. Problems the registry reports come back as a
// [*ProblemError] that wraps the matching sentinel (did.ErrNotFound,
// ledger.ErrUnauthorized, ErrUnavailable, …).
var (
	// ErrUnavailable: the registry is overloaded, stopping or has no proof
	// yet; retry later (RetryAfter in the ProblemError says when).
	ErrUnavailable = errors.New("registry unavailable")
	// ErrUnexpected: the registry answered something this client does not
	// understand.
	ErrUnexpected = errors.New("unexpected registry response")
)

// New returns a client for the registry at c.URL.
func New(c Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(c.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("registry URL %q: want an absolute http(s) URL such as http://127.0.0.1:8080", c.URL)
	}
	if c.VerifyProofs && (c.ChainID == "" || c.TrustedValidators == nil || c.TrustedValidators.Size() == 0) {
		return nil, errors.New("VerifyProofs needs ChainID and TrustedValidators (see TrustFromGenesis)")
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: u, hc: hc, verify: c.VerifyProofs, chainID: c.ChainID, trusted: c.TrustedValidators}, nil
}

// TrustFromGenesis returns the chain id and validator set of a CometBFT
// genesis file's contents, to use as Config.ChainID and TrustedValidators.
func TrustFromGenesis(genesisJSON []byte) (string, *types.ValidatorSet, error) {
	g, err := types.GenesisDocFromJSON(genesisJSON)
	if err != nil {
		return "", nil, fmt.Errorf("genesis: %w", err)
	}
	vals := make([]*types.Validator, len(g.Validators))
	for i, v := range g.Validators {
		vals[i] = types.NewValidator(v.PubKey, v.Power)
	}
	vs := types.NewValidatorSet(vals)
	if err := vs.ValidateBasic(); err != nil {
		return "", nil, fmt.Errorf("genesis validators: %w", err)
	}
	return g.ChainID, vs, nil
}

// ProblemError is an RFC 9457 problem the registry answered with.
type ProblemError struct {
	Status     int    `json:"status"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Detail     string `json:"detail"`
	Code       uint32 `json:"code"`
	Codespace  string `json:"codespace"`
	Hash       string `json:"hash"`
	Height     int64  `json:"height"`
	Stage      string `json:"stage"`
	RetryAfter time.Duration
	sentinel   error
}

func (e *ProblemError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("registry: %s (%d): %s", e.Title, e.Status, e.Detail)
	}
	return fmt.Sprintf("registry: %s (%d)", e.Title, e.Status)
}

// Unwrap returns the sentinel matching the problem type.
func (e *ProblemError) Unwrap() error { return e.sentinel }

const (
	didErrorBase = "https://www.w3.org/ns/did#"
	problemBase  = "https://medid.dev/problems/"
)

// problemFrom reads a problem response; sentinels map the problem type.
func problemFrom(resp *http.Response, body []byte) *ProblemError {
	p := &ProblemError{}
	if err := json.Unmarshal(body, p); err == nil && p.Type == "" {
		// A failed DID resolution answered as a resolution result: the
		// problem is didResolutionMetadata.error.
		var rr struct {
			Meta struct {
				Error *ProblemError `json:"error"`
			} `json:"didResolutionMetadata"`
		}
		if json.Unmarshal(body, &rr) == nil && rr.Meta.Error != nil {
			p = rr.Meta.Error
		}
	}
	if p.Type == "" {
		p.Type, p.Title = "about:blank", http.StatusText(resp.StatusCode)
		p.Detail = strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	p.Status = resp.StatusCode
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		p.RetryAfter = time.Duration(s) * time.Second
	}
	switch {
	case p.Type == didErrorBase+"NOT_FOUND":
		p.sentinel = did.ErrNotFound
	case p.Type == didErrorBase+"INVALID_DID":
		p.sentinel = did.ErrInvalidDID
	case p.Type == didErrorBase+"METHOD_NOT_SUPPORTED":
		p.sentinel = did.ErrMethodNotSupported
	case p.Code != 0 && p.Codespace == ledger.Codespace:
		p.sentinel = ledger.ErrorOf(p.Code)
	case p.Type == problemBase+"not-found":
		p.sentinel = ledger.ErrNotFound
	case resp.StatusCode == http.StatusServiceUnavailable:
		p.sentinel = ErrUnavailable
	default:
		p.sentinel = ErrUnexpected
	}
	return p
}

// get performs a GET and returns status, body and the proof header value.
func (c *Client) get(ctx context.Context, u, accept string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("registry request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("registry response: %w", err)
	}
	return resp, body, nil
}

func (c *Client) endpoint(path string, q url.Values) string {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawPath = c.base.EscapedPath() + escapePath(path)
	if c.verify {
		if q == nil {
			q = url.Values{}
		}
		q.Set("proof", "true")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// escapePath escapes each segment but keeps ':' (DIDs are sent raw, as
// the Universal Resolver does).
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), "%3A", ":")
	}
	return strings.Join(segs, "/")
}

// proven decodes and verifies the proof of resp and checks it is for key.
func (c *Client) proven(resp *http.Response, key []byte) (*ledger.Proof, error) {
	h := resp.Header.Get(ledger.ProofHeader)
	if h == "" {
		if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") == "application/problem+json" {
			return nil, nil // an error without proof (bad input, unavailable)
		}
		return nil, fmt.Errorf("%w: the registry sent no proof", ledger.ErrProof)
	}
	p, err := ledger.DecodeProof(h)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(p.Key, key) {
		return nil, fmt.Errorf("%w: proof is for key %q, asked for %q", ledger.ErrProof, p.Key, key)
	}
	if err := p.Verify(c.chainID, c.trusted); err != nil {
		return nil, err
	}
	return p, nil
}

// TxResult is the outcome of a committed transaction.
type TxResult struct {
	Height int64  `json:"height"`
	Hash   string `json:"hash"`
	Code   uint32 `json:"code"`
	Log    string `json:"log"`
}

// Submit posts a signed transaction (compact JWS) and waits for its commit.
// A rejected transaction is a *ProblemError wrapping the registry/machine
// sentinel (ledger.ErrBadSignature, ledger.ErrUnauthorized, ledger.ErrReplay, …);
// a full mempool is one wrapping ErrUnavailable with RetryAfter set.
func (c *Client) Submit(ctx context.Context, signedTx []byte) (*TxResult, error) {
	u := *c.base
	u.Path = c.base.Path + "/1.0/transactions"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(signedTx))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/jose")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("registry request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("registry response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, problemFrom(resp, body)
	}
	var r TxResult
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: transaction result: %v", ErrUnexpected, err)
	}
	return &r, nil
}
