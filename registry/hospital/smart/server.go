package smart

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/internal/atomicfile"
	"github.com/medid/medid/internal/randid"
)

// Defaults and bounds of [Config].
const (
	DefaultTokenTTL = 5 * time.Minute
	MaxTokenTTL     = time.Hour
	// MaxClockSkew is how far in the past an assertion's exp may lie (and
	// its nbf or iat in the future) to tolerate clients' clocks.
	MaxClockSkew = 30 * time.Second
	// maxLive bounds the remembered jtis and the live tokens.
	maxLive = 1 << 20
)

// ErrInvalidToken reports an access token that is unknown or expired.
var ErrInvalidToken = errors.New("invalid_token")

// OAuth error codes (RFC 6749 §5.2) the token endpoint returns.
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeInvalidScope         = "invalid_scope"
	CodeUnsupportedGrantType = "unsupported_grant_type"
)

// OAuthError is a token endpoint refusal: the RFC 6749 code, a
// description that repeats no secret, and the HTTP status.
type OAuthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Status      int    `json:"-"`
	err         error
}

// Error returns the code and the description.
func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

// Unwrap returns the sentinel of the condition (ErrInvalidClient, …).
func (e *OAuthError) Unwrap() error { return e.err }

func oauthErr(status int, code string, err error) *OAuthError {
	return &OAuthError{Code: code, Description: err.Error(), Status: status, err: err}
}

// Config configures [New].
type Config struct {
	// TokenURL is the token endpoint's absolute URL: the only audience a
	// client assertion may name. Required.
	TokenURL string
	// Resolver resolves clients' DIDs to their documents. Required. Cache
	// it with a short TTL: a key removed from the document stops working
	// here when the resolver sees the new version.
	Resolver did.Resolver
	// Clients maps each registered client's DID to the scopes it may be
	// granted (SMART v2 strings). Required, non-empty.
	Clients map[string][]string
	// Types are the resource types the FHIR API serves (scopes naming
	// others are refused). Required.
	Types []string
	// TokenTTL is the access tokens' lifetime (default 5 min, at most 1 h).
	TokenTTL time.Duration
	// UsedFile, when set, keeps the jtis of accepted assertions across
	// restarts (created with mode 0600; a line is synced before the token
	// is issued). Without it a restart forgets them, and an assertion
	// presented before it is accepted again until its exp.
	UsedFile string
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Token is what an access token grants.
type Token struct {
	// Client is the DID of the client the token was issued to.
	Client string
	// Scopes are the granted scopes.
	Scopes Scopes
	// Expires is when the token stops working.
	Expires time.Time
}

// Server is the SMART Backend Services authorization server. It is safe
// for concurrent use.
type Server struct {
	cfg     Config
	allowed map[string]Scopes

	mu sync.Mutex // guards jtis, tokens and sweep
	// jtis maps client+"\x00"+jti to the assertion's expiry: an assertion
	// is accepted once, and remembered until it would be refused as
	// expired anyway.
	jtis map[string]time.Time
	// written counts the lines in cfg.UsedFile (compacted when it holds
	// many more than jtis).
	written int
	// tokens maps the SHA-256 of an access token to its grant; the token
	// itself is never stored.
	tokens map[[32]byte]*Token
	sweep  time.Time
}

// New returns a server for cfg. Errors say which setting to fix.
func New(cfg Config) (*Server, error) {
	if cfg.TokenURL == "" || cfg.Resolver == nil || len(cfg.Clients) == 0 || len(cfg.Types) == 0 {
		return nil, errors.New("smart.New: TokenURL, Resolver, Clients and Types are required")
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.TokenTTL < 0 || cfg.TokenTTL > MaxTokenTTL {
		return nil, fmt.Errorf("smart.New: TokenTTL %s: use up to %s", cfg.TokenTTL, MaxTokenTTL)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, allowed: map[string]Scopes{}, jtis: map[string]time.Time{}, tokens: map[[32]byte]*Token{}}
	for client, scopes := range cfg.Clients {
		if _, err := did.Parse(client); err != nil {
			return nil, fmt.Errorf("smart.New: client %q is not a DID", client)
		}
		sc, err := ParseScopes(joinScopes(scopes), cfg.Types)
		if err != nil {
			return nil, fmt.Errorf("smart.New: client %s: %w", client, err)
		}
		s.allowed[client] = sc
	}
	if cfg.UsedFile != "" {
		if err := s.loadUsed(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// ErrUnavailable reports that an assertion could not be recorded as used,
// so no token was issued (the token endpoint answers 503).
var ErrUnavailable = errors.New("temporarily_unavailable")

// jtiKey is the key of a client's jti in jtis and in cfg.UsedFile: a hash,
// so the file holds no client-chosen text.
func jtiKey(client, jti string) string {
	sum := sha256.Sum256([]byte(client + "\x00" + jti))
	return hex.EncodeToString(sum[:])
}

// loadUsed reads cfg.UsedFile: one line per accepted assertion, "<exp unix
// seconds> <jtiKey>". A last line without its newline is a write a crash
// cut short, of an assertion that was therefore never accepted; any other
// damage stops the server from starting, since it could no longer refuse
// a replay. The entries still live are written back (compaction).
func (s *Server) loadUsed() error {
	b, err := os.ReadFile(s.cfg.UsedFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("smart.New: used assertions: %w", err)
	}
	now := s.cfg.Now()
	lines := strings.Split(string(b), "\n")
	for i, l := range lines[:len(lines)-1] { // the last piece follows the last newline: empty or torn
		exp, k, ok := strings.Cut(l, " ")
		sec, err := strconv.ParseInt(exp, 10, 64)
		if raw, herr := hex.DecodeString(k); !ok || err != nil || herr != nil || len(raw) != sha256.Size {
			return fmt.Errorf("smart.New: %s line %d is damaged: move the file aside only if no assertion issued in the last %s can be replayed", s.cfg.UsedFile, i+1, MaxAssertionLifetime+MaxClockSkew)
		}
		if t := time.Unix(sec, 0); now.Before(t) && len(s.jtis) < maxLive {
			s.jtis[k] = t
		}
	}
	return s.compactUsedLocked()
}

// compactUsedLocked rewrites cfg.UsedFile with the live jtis. s.mu is held
// (or s is not yet shared).
func (s *Server) compactUsedLocked() error {
	var buf strings.Builder
	for k, exp := range s.jtis {
		fmt.Fprintf(&buf, "%d %s\n", exp.Unix(), k)
	}
	if err := atomicfile.WriteFile(s.cfg.UsedFile, []byte(buf.String()), 0o600); err != nil {
		return fmt.Errorf("smart: write used assertions: %w", err)
	}
	s.written = len(s.jtis)
	return nil
}

// recordUsedLocked appends an accepted assertion's jti to cfg.UsedFile and
// syncs it. s.mu is held.
func (s *Server) recordUsedLocked(k string, exp time.Time) error {
	if s.written > 2*len(s.jtis)+4096 {
		if err := s.compactUsedLocked(); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(s.cfg.UsedFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%d %s\n", exp.Unix(), k)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	s.written++
	return nil
}

func joinScopes(s []string) string {
	out := ""
	for _, x := range s {
		out += " " + x
	}
	return out
}

// Configuration is the SMART configuration document
// (/.well-known/smart-configuration under the FHIR base).
type Configuration struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethods          []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgValues []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Capabilities                      []string `json:"capabilities"`
}

// Configuration returns the server's SMART configuration: the token
// endpoint, private_key_jwt with EdDSA or ES256, client_credentials, the
// system/ and patient/ scopes of every type, and the capabilities
// client-confidential-asymmetric and permission-v2. Nothing about
// authorization-code launch is claimed, because none is served.
func (s *Server) Configuration() Configuration {
	scopes := []string{"system/*.cruds", "patient/*.cruds"}
	for _, t := range s.cfg.Types {
		scopes = append(scopes, "system/"+t+".rs", "patient/"+t+".rs")
	}
	return Configuration{TokenEndpoint: s.cfg.TokenURL, TokenEndpointAuthMethods: []string{"private_key_jwt"},
		TokenEndpointAuthSigningAlgValues: []string{"EdDSA", "ES256"}, GrantTypesSupported: []string{"client_credentials"},
		ScopesSupported: scopes, Capabilities: []string{"client-confidential-asymmetric", "permission-v2"}}
}

// TokenResponse is a successful token endpoint answer.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

// Token handles a token request's form: grant_type client_credentials,
// scope, client_assertion_type (RFC 7523 jwt-bearer) and client_assertion.
// The assertion must be signed by an authentication key of a registered
// client's DID (resolved now), name the token endpoint as audience,
// expire in the future but at most [MaxAssertionLifetime] ahead, and
// carry a jti not seen before from that client. Every requested scope
// must be covered by the client's registered scopes. Errors are
// [*OAuthError]s with the RFC 6749 code.
func (s *Server) Token(ctx context.Context, form map[string][]string) (*TokenResponse, error) {
	get := func(k string) (string, error) {
		v := form[k]
		if len(v) > 1 {
			return "", oauthErr(http.StatusBadRequest, CodeInvalidRequest, fmt.Errorf("%s given more than once", k))
		}
		if len(v) == 0 || v[0] == "" {
			return "", nil
		}
		return v[0], nil
	}
	var vals [4]string
	for i, k := range []string{"grant_type", "scope", "client_assertion_type", "client_assertion"} {
		v, err := get(k)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	grant, scope, atype := vals[0], vals[1], vals[2]
	// A client assertion read from a file (curl --data-urlencode @file)
	// carries the file's final newline; surrounding white space is no part
	// of a compact JWS, and the token itself is parsed strictly.
	assertion := strings.TrimSpace(vals[3])
	if grant != "client_credentials" {
		return nil, oauthErr(http.StatusBadRequest, CodeUnsupportedGrantType, errors.New("use grant_type=client_credentials"))
	}
	if atype != AssertionType || assertion == "" {
		return nil, oauthErr(http.StatusUnauthorized, CodeInvalidClient, fmt.Errorf("authenticate with client_assertion_type=%s and a client_assertion", AssertionType))
	}
	if scope == "" {
		return nil, oauthErr(http.StatusBadRequest, CodeInvalidScope, errors.New("scope is required (e.g. system/AllergyIntolerance.rs)"))
	}
	client, err := s.authenticate(ctx, assertion)
	if errors.Is(err, ErrUnavailable) {
		return nil, oauthErr(http.StatusServiceUnavailable, "temporarily_unavailable", err)
	}
	if err != nil {
		return nil, oauthErr(http.StatusUnauthorized, CodeInvalidClient, err)
	}
	req, err := ParseScopes(scope, s.cfg.Types)
	if err != nil {
		return nil, oauthErr(http.StatusBadRequest, CodeInvalidScope, err)
	}
	allowed := s.allowed[client]
	for _, sc := range req {
		if !allowed.Covers(sc) {
			return nil, oauthErr(http.StatusBadRequest, CodeInvalidScope, fmt.Errorf("%w: %s is wider than this client is registered for (%s)", ErrInvalidScope, sc, allowed))
		}
	}
	tok := randid.Hex(32)
	now := s.cfg.Now()
	t := &Token{Client: client, Scopes: req, Expires: now.Add(s.cfg.TokenTTL)}
	s.mu.Lock()
	s.sweepLocked(now)
	if len(s.tokens) >= maxLive {
		s.mu.Unlock()
		return nil, oauthErr(http.StatusServiceUnavailable, "temporarily_unavailable", errors.New("too many live tokens: retry shortly"))
	}
	s.tokens[sha256.Sum256([]byte(tok))] = t
	s.mu.Unlock()
	return &TokenResponse{AccessToken: tok, TokenType: "bearer", ExpiresIn: int(s.cfg.TokenTTL / time.Second), Scope: req.String()}, nil
}

// authenticate verifies a client assertion and returns the client's DID.
func (s *Server) authenticate(ctx context.Context, assertion string) (string, error) {
	a, err := ParseAssertion(assertion)
	if err != nil {
		return "", err
	}
	if _, ok := s.allowed[a.Issuer]; !ok {
		return "", fmt.Errorf("%w: %s is not a registered client", ErrInvalidClient, a.Issuer)
	}
	if !slices.Contains(a.Audience, s.cfg.TokenURL) {
		return "", fmt.Errorf("%w: aud must be the token endpoint %s", ErrInvalidClient, s.cfg.TokenURL)
	}
	now := s.cfg.Now()
	switch {
	case !a.Expires.After(now.Add(-MaxClockSkew)):
		return "", fmt.Errorf("%w: the assertion expired", ErrInvalidClient)
	case a.Expires.After(now.Add(MaxAssertionLifetime + MaxClockSkew)):
		return "", fmt.Errorf("%w: exp is more than %s ahead", ErrInvalidClient, MaxAssertionLifetime)
	case !a.NotBefore.IsZero() && a.NotBefore.After(now.Add(MaxClockSkew)):
		return "", fmt.Errorf("%w: nbf is in the future", ErrInvalidClient)
	case !a.IssuedAt.IsZero() && a.IssuedAt.After(now.Add(MaxClockSkew)):
		return "", fmt.Errorf("%w: iat is in the future", ErrInvalidClient)
	}
	res, err := s.cfg.Resolver.Resolve(ctx, a.Issuer)
	if err != nil {
		return "", fmt.Errorf("%w: resolving the client's DID: %v", ErrInvalidClient, err)
	}
	if res.Metadata.Deactivated {
		return "", fmt.Errorf("%w: the client's DID is deactivated", ErrInvalidClient)
	}
	if err := a.Verify(res.Document); err != nil {
		return "", err
	}
	// Single use: only a correctly signed assertion is remembered, so
	// nobody can burn a client's jti with a forged one.
	k := jtiKey(a.Issuer, a.JTI)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	if _, seen := s.jtis[k]; seen {
		return "", fmt.Errorf("%w: jti was already used: make a new assertion for every request", ErrInvalidClient)
	}
	if len(s.jtis) >= maxLive {
		return "", fmt.Errorf("%w: too many assertions in flight: retry shortly", ErrInvalidClient)
	}
	exp := a.Expires.Add(MaxClockSkew)
	if s.cfg.UsedFile != "" {
		// Recorded before any token is issued: a restart cannot forget it.
		if err := s.recordUsedLocked(k, exp); err != nil {
			s.cfg.Logger.Error("smart: recording a used assertion", "err", err)
			return "", fmt.Errorf("%w: could not record the assertion as used: retry shortly", ErrUnavailable)
		}
	}
	s.jtis[k] = exp
	return a.Issuer, nil
}

// sweepLocked drops expired jtis and tokens, at most once a second.
func (s *Server) sweepLocked(now time.Time) {
	if now.Sub(s.sweep) < time.Second && len(s.jtis) < maxLive && len(s.tokens) < maxLive {
		return
	}
	s.sweep = now
	for k, exp := range s.jtis {
		if now.After(exp) {
			delete(s.jtis, k)
		}
	}
	for k, t := range s.tokens {
		if !now.Before(t.Expires) {
			delete(s.tokens, k)
		}
	}
}

// Introspect returns what an access token grants, or an error wrapping
// [ErrInvalidToken] when it is unknown or expired. It costs one SHA-256
// and a map lookup.
func (s *Server) Introspect(token string) (*Token, error) {
	if len(token) == 0 || len(token) > 128 {
		return nil, ErrInvalidToken
	}
	h := sha256.Sum256([]byte(token))
	now := s.cfg.Now()
	s.mu.Lock()
	t, ok := s.tokens[h]
	s.mu.Unlock()
	if !ok || !now.Before(t.Expires) {
		return nil, ErrInvalidToken
	}
	return t, nil
}

// ConfigurationHandler serves [Server.Configuration] as JSON.
func (s *Server) ConfigurationHandler() http.Handler {
	b, _ := json.Marshal(s.Configuration())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
}

// MaxFormSize bounds a token request body.
const MaxFormSize = 16 << 10

// TokenHandler serves the token endpoint: POST with an
// application/x-www-form-urlencoded body (see [Server.Token]); answers
// carry Cache-Control: no-store, and refusals an RFC 6749 error object.
func (s *Server) TokenHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		write := func(status int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(v)
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			write(http.StatusMethodNotAllowed, &OAuthError{Code: CodeInvalidRequest, Description: "POST the token request"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxFormSize)
		if err := r.ParseForm(); err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" && !hasFormType(r.Header.Get("Content-Type")) {
			write(http.StatusBadRequest, &OAuthError{Code: CodeInvalidRequest, Description: "the body must be application/x-www-form-urlencoded, at most 16 KiB"})
			return
		}
		resp, err := s.Token(r.Context(), r.PostForm)
		if err != nil {
			var oe *OAuthError
			if !errors.As(err, &oe) {
				s.cfg.Logger.Error("smart: token", "err", err)
				write(http.StatusInternalServerError, &OAuthError{Code: "server_error"})
				return
			}
			s.cfg.Logger.Info("smart: token refused", "code", oe.Code, "reason", oe.Description)
			write(oe.Status, oe)
			return
		}
		write(http.StatusOK, resp)
	})
}

func hasFormType(ct string) bool {
	return len(ct) >= 33 && ct[:33] == "application/x-www-form-urlencoded"
}
