// Package api is the registry's HTTP API, served by registryd:
//
//	GET  /1.0/identifiers/{did}     DID resolution (W3C DID Resolution HTTP binding)
//	GET  /1.0/status-lists/{id}     status list credential (application/vc+jwt)
//	GET  /1.0/issuers/{did}         issuer accreditations with history
//	GET  /1.0/consents/{controller}/{hash}  consent grant anchor: in force, revoked
//	GET  /1.0/directory/{did}       an organisation's directory entry and history
//	GET  /1.0/directory?q=&kind=    directory search (see directory.go)
//	GET  /1.0/directory/{did}/logo  its logo (from Config.LogoMirrors when not uploaded here)
//	POST /1.0/transactions          submit a signed transaction, wait for commit
//	POST /1.0/transactions/batch    submit up to 256 signed transactions, wait for each
//	GET  /1.0/light/{height}        signed header and validator set (light clients)
//	GET  /1.0/network               validators, governance, this node's addresses
//	GET  /1.0/network/genesis       the genesis file
//	GET  /1.0/network/proposals[/{id}] governance proposals and their approvals
//	GET  /healthz                   liveness: 200 while the process serves
//	GET  /readyz                    readiness: 200, or 503 naming the failing checks
//	GET  /metrics                   Prometheus metrics
//
// A known path asked with a method it does not serve is answered 405 with
// an Allow header.
//
// Every GET of ledger state accepts ?proof=true: the response then carries a
// [ledger.Proof] in the [ledger.ProofHeader] header, and the body is built
// from exactly the proven value. Errors are RFC 9457 problem objects
// (application/problem+json). docs/openapi.yaml is the full description.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/internal/httpserver"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/tx"
)

// State is the read side of the registry application ([*machine.App]).
type State interface {
	ResolveDID(did string, opts ledger.ResolveOptions) (*ledger.DIDRecord, error)
	Accreditations(did string) (*ledger.IssuerRecord, error)
	StatusList(id string, version int64) (*ledger.StatusListRecord, error)
	// LastCommit is the height and app hash of the last committed state.
	LastCommit() (height int64, appHash []byte)
}

// Ledger is the node the API submits to and proves against ([*node.Node]).
type Ledger interface {
	Submit(ctx context.Context, tx []byte) (*node.TxResult, error)
	Query(ctx context.Context, path string, data []byte, height int64, prove bool) (*abci.ResponseQuery, error)
	SignedHeader(ctx context.Context, height int64) (*types.SignedHeader, *types.ValidatorSet, error)
	Status(ctx context.Context) (node.Status, error)
	Height() int64
	Header(height int64) *types.Header
}

// Config configures [New].
type Config struct {
	State  State  // required
	Ledger Ledger // required
	// KeyResolver resolves did:key (nil = did.KeyResolver{}).
	KeyResolver did.Resolver
	// Logger: one line per failed request (no request bodies). nil = slog.Default().
	Logger *slog.Logger
	// Registry receives the API's metrics; nil = a new registry. /metrics
	// serves it.
	Registry *prometheus.Registry
	// SubmitTimeout bounds how long POST /1.0/transactions waits for the
	// commit (0 = 30 s).
	SubmitTimeout time.Duration
	// Checks are GET /readyz's checks, run in order; see [NodeChecks].
	// registryd adds a "trail" check when it mounts a vault. nil means one
	// "node" check: the ledger has caught up and committed a block.
	Checks []Check
	// LogoMirrors are base URLs of other registries of the network that
	// a logo not uploaded here is fetched from (checked against the hash
	// the ledger names, then kept). Empty: a missing logo is a 404 that
	// says so.
	LogoMirrors []string
	// LogoClient fetches from the mirrors (nil = a client with a 5 s
	// timeout).
	LogoClient *http.Client
}

// Server is the registry API as an http.Handler. Safe for concurrent use.
type Server struct {
	state   State
	ledger  Ledger
	keys    did.Resolver
	log     *slog.Logger
	timeout time.Duration
	mux     *http.ServeMux
	m       *metrics
	ttls    *ttlCache
	checks  []Check

	logoMirrors []string
	logoClient  *http.Client
	logoMu      sync.Mutex           // guards logoMissed
	logoMissed  map[string]time.Time // logo hash -> when no mirror had it
}

// New builds the API handler.
func New(c Config) (*Server, error) {
	if c.State == nil || c.Ledger == nil {
		return nil, errors.New("api.Config needs State and Ledger")
	}
	s := &Server{
		state:   c.State,
		ledger:  c.Ledger,
		keys:    c.KeyResolver,
		log:     c.Logger,
		timeout: c.SubmitTimeout,
		mux:     http.NewServeMux(),
		ttls:    newTTLCache(4096),
		checks:  c.Checks,

		logoMirrors: c.LogoMirrors,
		logoClient:  c.LogoClient,
		logoMissed:  map[string]time.Time{},
	}
	if s.logoClient == nil {
		s.logoClient = &http.Client{Timeout: logoFetchTimeout}
	}
	if s.keys == nil {
		s.keys = did.KeyResolver{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.timeout <= 0 {
		s.timeout = 30 * time.Second
	}
	if s.checks == nil {
		s.checks = []Check{statusCheck(c.Ledger)}
	}
	reg := c.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg, c.Ledger)
	if err != nil {
		return nil, err
	}
	s.m = m
	s.handle("GET /1.0/identifiers/{did...}", "identifiers", s.resolve)
	s.handle("GET /1.0/status-lists/{id}", "status-lists", s.statusList)
	s.handle("GET /1.0/issuers/{did}", "issuers", s.issuer)
	s.handle("GET /1.0/consents/{controller}/{hash}", "consents", s.consentStatus)
	s.handle("GET /1.0/consents/{hash}", "consents", s.consentByHashOnly)
	// A submission waits for its block (up to SubmitTimeout): its response
	// deadline is that wait plus a margin, not the server's WriteTimeout.
	s.handleWith("POST /1.0/transactions", "transactions", s.submit, func(h http.Handler) http.Handler {
		return httpserver.Deadlines(h, 0, s.timeout+5*time.Second)
	})
	s.handleWith("POST /1.0/transactions/batch", "transactions-batch", s.submitBatch, func(h http.Handler) http.Handler {
		return httpserver.Deadlines(h, 0, s.timeout+5*time.Second)
	})
	s.handle("GET /1.0/audit/{vault}/{batch}", "audit", s.auditAnchor)
	s.handle("GET /1.0/light/{height}", "light", s.lightBlock)
	s.handle("GET /1.0/network", "network", s.networkInfo)
	s.handle("GET /1.0/network/genesis", "network-genesis", s.genesis)
	s.handle("GET /1.0/network/proposals", "network-proposals", s.proposals)
	s.handle("GET /1.0/network/proposals/{id}", "network-proposal", s.proposal)
	s.directoryRoutes()
	s.handle("GET /healthz", "healthz", s.health)
	s.handle("GET /readyz", "readyz", s.ready)
	// The metrics are for the operator: with mutual TLS on, only clients
	// with a certificate from the network's CA read them.
	s.handleWith("GET /metrics", "metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP, httpserver.RequireClientCert)
	httpserver.Fallback(s.mux, func(w http.ResponseWriter, r *http.Request, status int, detail string) {
		name := "not-found"
		if status == http.StatusMethodNotAllowed {
			name = "method-not-allowed"
		} else {
			detail += " (see docs/openapi.yaml)"
		}
		s.problem(w, r, &problem{Type: problemBase + name, Title: http.StatusText(status), Status: status, Detail: detail})
	})
	return s, nil
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) handle(pattern, route string, h http.HandlerFunc) {
	s.mux.Handle(pattern, s.m.instrument(route, h))
}

// handleWith registers h wrapped by wrap outside the instrumentation.
func (s *Server) handleWith(pattern, route string, h http.HandlerFunc, wrap func(http.Handler) http.Handler) {
	s.mux.Handle(pattern, wrap(s.m.instrument(route, h)))
}

// problemBase prefixes the registry's own problem types.
const problemBase = "https://medid.dev/problems/"

// didErrorBase prefixes DID Resolution error types.
const didErrorBase = "https://www.w3.org/ns/did#"

// problem is an RFC 9457 problem details object.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Extensions for rejected transactions.
	Code      uint32 `json:"code,omitempty"`
	Codespace string `json:"codespace,omitempty"`
	Hash      string `json:"hash,omitempty"`
	Height    int64  `json:"height,omitempty"`
	Stage     string `json:"stage,omitempty"`
}

func (s *Server) problem(w http.ResponseWriter, r *http.Request, p *problem) {
	if p.Status >= 500 && p.Status != http.StatusNotImplemented {
		s.log.Warn("registry api error", "method", r.Method, "path", r.URL.Path, "status", p.Status, "detail", p.Detail)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, status, contentType, b)
}

// writeBody writes a complete response body b.
func writeBody(w http.ResponseWriter, status int, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// txProblem maps a submission error to a problem object.
func txProblem(err error, res *node.TxResult) *problem {
	var rej *node.RejectedError
	switch {
	case errors.As(err, &rej):
		name, status := codeName(rej.Code)
		return &problem{Type: problemBase + name, Title: "Transaction rejected: " + name, Status: status,
			Detail: rej.Log, Code: rej.Code, Codespace: rej.Codespace, Hash: rej.Hash, Height: rej.Height, Stage: rej.Stage}
	case errors.Is(err, node.ErrTxTooLarge):
		return &problem{Type: problemBase + "too-large", Title: "Transaction too large", Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("a transaction may be at most %d bytes", tx.MaxSize)}
	case errors.Is(err, node.ErrMempoolFull):
		return &problem{Type: problemBase + "mempool-full", Title: "Mempool full", Status: http.StatusServiceUnavailable,
			Detail: "the node is at capacity; retry after the Retry-After delay"}
	case errors.Is(err, node.ErrDuplicate):
		return &problem{Type: problemBase + "duplicate", Title: "Duplicate transaction", Status: http.StatusConflict,
			Detail: "these exact transaction bytes were submitted recently; sign a new transaction (new nonce) to retry an intent"}
	case errors.Is(err, node.ErrStopped):
		return &problem{Type: problemBase + "unavailable", Title: "Node stopping", Status: http.StatusServiceUnavailable, Detail: err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return &problem{Type: problemBase + "commit-timeout", Title: "Commit timeout", Status: http.StatusGatewayTimeout,
			Detail: "the transaction was accepted into the mempool but not committed in time; it may still commit"}
	}
	return &problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError, Detail: err.Error()}
}

// codeName maps a registry ABCI code to a problem type name and an HTTP status.
func codeName(code uint32) (string, int) {
	switch code {
	case ledger.CodeMalformed:
		return "malformed", http.StatusBadRequest
	case ledger.CodeTooLarge:
		return "too-large", http.StatusRequestEntityTooLarge
	case ledger.CodeBadSignature:
		return "bad-signature", http.StatusBadRequest
	case ledger.CodeUnauthorized:
		return "unauthorized", http.StatusForbidden
	case ledger.CodeReplay:
		return "replay", http.StatusConflict
	case ledger.CodeStaleVersion:
		return "stale-version", http.StatusConflict
	case ledger.CodeDeactivated:
		return "deactivated", http.StatusConflict
	case ledger.CodeNotFound:
		return "not-found", http.StatusNotFound
	case ledger.CodeExists:
		return "exists", http.StatusConflict
	case ledger.CodeInvalid:
		return "invalid", http.StatusUnprocessableEntity
	case ledger.CodeInternal:
		return "internal", http.StatusInternalServerError
	case ledger.CodeQuota:
		return "quota-exceeded", http.StatusTooManyRequests
	}
	return "rejected", http.StatusBadRequest
}
