// Package client is a Go client for the registry HTTP API (package
// registry/api, served by registryd). A [*Client] is a did.Resolver for
// did:medid (and did:key), a status list fetcher and a source of issuer
// accreditations for the credentials/verify pipeline, and submits signed
// transactions.
//
// With Config.VerifyProofs set, every read asks for a Merkle proof and
// checks it with a light client (package registry/ledger/light) before it
// uses the value, so a lying or compromised node cannot forge an answer; the
// body the node sent is ignored and the answer is built from the proven
// value. The light client starts from the genesis file ([TrustFromGenesis])
// or a stored trusted light block (Config.TrustStore) and follows
// validator-set changes: when too much of the set changed since the block it
// trusts, it fetches intermediate signed headers and validator sets from the
// registry ([Client.LightBlock], GET /1.0/light/{height}) and verifies them
// in turn, as CometBFT's light client does.
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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/internal/httpserver"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/ledger/light"
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
	// TrustedValidators is where trust starts: the genesis validator set,
	// time and initial height (from [TrustFromGenesis]). The light client
	// trusts a header signed by them directly, and later headers through
	// the chain of validator sets that follows.
	TrustedValidators *light.Root
	// TrustStore keeps the newest light block the client verified, so the
	// next client starts from it instead of the genesis (nil: memory only;
	// see light.FileStore). Past the trusting period the genesis no longer
	// suffices: keep a store, and read from the registry at least that often.
	TrustStore light.Store
	// Trust tunes the light client (zero: trust level 1/3, a trusting
	// period of two weeks).
	Trust light.Options
}

// Client talks to one registry. Safe for concurrent use.
type Client struct {
	base   *url.URL
	hc     *http.Client
	verify bool
	// light verifies the signed headers of proofs (nil unless verify).
	light *light.Client
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
	if c.VerifyProofs && (c.ChainID == "" || c.TrustedValidators == nil || c.TrustedValidators.Validators == nil) {
		return nil, errors.New("VerifyProofs needs ChainID and TrustedValidators (see TrustFromGenesis)")
	}
	if c.VerifyProofs && c.TrustedValidators.ChainID != c.ChainID {
		return nil, fmt.Errorf("the trusted genesis is for chain %q, not %q", c.TrustedValidators.ChainID, c.ChainID)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = httpserver.NewClient(30*time.Second, nil)
	}
	cl := &Client{base: u, hc: hc, verify: c.VerifyProofs}
	if c.VerifyProofs {
		lc, err := light.NewClient(light.Config{Root: c.TrustedValidators, Source: cl, Store: c.TrustStore, Options: c.Trust})
		if err != nil {
			return nil, err
		}
		cl.light = lc
	}
	return cl, nil
}

// TrustFromGenesis returns the chain id and the trust root (validator set,
// genesis time, initial height) of a CometBFT genesis file's contents, to
// use as Config.ChainID and TrustedValidators.
func TrustFromGenesis(genesisJSON []byte) (string, *light.Root, error) {
	r, err := light.RootFromGenesis(genesisJSON)
	if err != nil {
		return "", nil, err
	}
	return r.ChainID, r, nil
}

// Light returns the client's light client (nil unless VerifyProofs): its
// Trusted method says which block the client trusts now.
func (c *Client) Light() *light.Client { return c.light }

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
	return p.classify(resp.StatusCode, resp.Header.Get("Retry-After"))
}

// classify sets p's status, its Retry-After (retryAfter, in seconds, if it
// is a number) and the sentinel it wraps, and returns p.
func (p *ProblemError) classify(status int, retryAfter string) *ProblemError {
	p.Status = status
	if s, err := strconv.Atoi(retryAfter); err == nil {
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
	case status == http.StatusServiceUnavailable:
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

// proven decodes and verifies the proof of resp and checks it is for one
// of keys.
func (c *Client) proven(ctx context.Context, resp *http.Response, keys ...[]byte) (*ledger.Proof, error) {
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
	if !slices.ContainsFunc(keys, func(k []byte) bool { return bytes.Equal(p.Key, k) }) {
		return nil, fmt.Errorf("%w: proof is for key %.160q, asked for %q", ledger.ErrProof, p.Key, keys)
	}
	if err := p.Verify(ctx, c.light); err != nil {
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

// BatchResult is the outcome of one transaction of [Client.SubmitBatch]:
// Result when it was committed, else Err, the error [Client.Submit] would
// have returned for it alone (a *ProblemError wrapping the ledger's
// sentinel; ErrUnavailable with RetryAfter for a full mempool, to resubmit
// later; a commit timeout, after which it may still commit).
type BatchResult struct {
	Result *TxResult
	Err    error
}

// SubmitBatch submits signed transactions (compact JWS) through
// POST /1.0/transactions/batch and waits until each is committed, refused
// or timed out: one request per [ledger.MaxTxBatch] transactions (or
// fewer, to keep each body under [ledger.MaxTxBatchBytes]), sent one after
// the other. It returns one result per transaction, in order. The error is
// for the batch as a whole (a request that failed or was refused, e.g. by
// a registry without the batch endpoint: then send them with Submit);
// the results of the requests answered before it are kept.
func (c *Client) SubmitBatch(ctx context.Context, signedTxs [][]byte) ([]BatchResult, error) {
	out := make([]BatchResult, 0, len(signedTxs))
	for len(out) < len(signedTxs) {
		// The next chunk: as many as fit both limits (at least one; a
		// transaction too large for any batch is refused by the registry
		// for the body's size, saying so).
		var chunk []string
		size := len(`{"transactions":[]}`)
		for _, t := range signedTxs[len(out):] {
			if len(chunk) == ledger.MaxTxBatch || (len(chunk) > 0 && size+len(t)+3 > ledger.MaxTxBatchBytes) {
				break
			}
			chunk = append(chunk, string(t))
			size += len(t) + 3
		}
		res, err := c.submitChunk(ctx, chunk)
		if err != nil {
			return out, err
		}
		out = append(out, res...)
	}
	return out, nil
}

// submitChunk posts one batch and decodes its per-transaction results.
func (c *Client) submitChunk(ctx context.Context, txs []string) ([]BatchResult, error) {
	body, err := json.Marshal(struct {
		Transactions []string `json:"transactions"`
	}{txs})
	if err != nil {
		return nil, err
	}
	u := *c.base
	u.Path = c.base.Path + "/1.0/transactions/batch"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("registry request: %w", err)
	}
	defer resp.Body.Close()
	// A problem object per transaction at most: 4 KiB each is plenty.
	rb, err := io.ReadAll(io.LimitReader(resp.Body, int64(len(txs))*4096+4096))
	if err != nil {
		return nil, fmt.Errorf("registry response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, problemFrom(resp, rb)
	}
	var r struct {
		Results []struct {
			Status  int           `json:"status"`
			Result  *TxResult     `json:"result"`
			Problem *ProblemError `json:"problem"`
		} `json:"results"`
	}
	if err := json.Unmarshal(rb, &r); err != nil {
		return nil, fmt.Errorf("%w: batch result: %v", ErrUnexpected, err)
	}
	if len(r.Results) != len(txs) {
		return nil, fmt.Errorf("%w: the registry answered %d results for a batch of %d", ErrUnexpected, len(r.Results), len(txs))
	}
	out := make([]BatchResult, len(txs))
	for i, it := range r.Results {
		switch {
		case it.Status == http.StatusOK && it.Result != nil:
			out[i].Result = it.Result
		case it.Status != http.StatusOK && it.Problem != nil:
			retry := ""
			if it.Status == http.StatusServiceUnavailable {
				retry = "1" // what the single endpoint's Retry-After says
			}
			out[i].Err = it.Problem.classify(it.Status, retry)
		default:
			return nil, fmt.Errorf("%w: batch result %d has status %d and no matching result or problem", ErrUnexpected, i, it.Status)
		}
	}
	return out, nil
}
