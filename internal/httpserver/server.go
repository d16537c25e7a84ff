// Package httpserver runs medid's HTTP services (the registry API and the
// record vault in registryd, the OpenID4VCI issuer and the OpenID4VP
// verifier of "medid serve") with one set of protections, so that no HTTP
// client can hold a node's resources indefinitely or starve the consensus
// engine of file descriptors:
//
//   - a timeout on every phase of a connection: the TLS handshake and the
//     request headers ([Limits.ReadHeaderTimeout]), the whole request with
//     its body ([Limits.ReadTimeout]), the response ([Limits.WriteTimeout])
//     and the wait between keep-alive requests ([Limits.IdleTimeout]); a
//     route that legitimately takes longer (a transaction waiting for its
//     block) extends its own deadlines with [Deadlines];
//   - a limit on header and body sizes;
//   - a cap on open connections, in total and per client address, planned
//     from the process's file-descriptor limit ([PlanConns]) so that the
//     descriptors reserved for databases, the consensus WAL and peers are
//     never taken by HTTP clients; at the cap, a newcomer from an address
//     holding few connections evicts a waiting connection (idle, silent or
//     slow) of the address holding the most, a request being served is
//     never cut, and other newcomers are closed at once;
//   - HTTP/1.1 only, so that every request in flight holds a connection
//     the cap counts and every timeout is a connection deadline;
//   - TLS from certificate files that reload on change, with optional
//     mutual TLS ([Config.TLS], see internal/tlsfiles), and per-route
//     client-certificate requirements ([RequireClientCert]);
//   - 404 for unknown paths and 405 with an Allow header for a known path
//     asked with the wrong method ([Fallback]).
//
// docs/design/0014-http-hardening-and-tls.md explains the numbers.
package httpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/medid/medid/internal/tlsfiles"
)

// Default limits (see docs/design/0014-http-hardening-and-tls.md).
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 15 * time.Second
	DefaultWriteTimeout      = 15 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMaxBodyBytes      = 2 << 20
	// DefaultMaxConns caps connections even when descriptors would allow
	// more: beyond a few thousand, connections only add memory and
	// scheduling work on the few cores a node has.
	DefaultMaxConns = 4096
	// ShutdownGrace is how long [Server.Serve] lets requests in flight
	// finish after its context ends.
	ShutdownGrace = 10 * time.Second
)

// Limits bound what one connection and one request may take. Zero fields
// take the defaults above.
type Limits struct {
	// ReadHeaderTimeout bounds the TLS handshake and the request line and
	// headers, from the connection's accept (or the end of the previous
	// request): a client that connects and sends nothing is closed after it.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading the whole request, body included
	// (slow-body clients). A route accepting large bodies may extend it
	// with [Deadlines].
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the request headers to
	// the end of the response. A route that waits longer (a commit) extends
	// it with [Deadlines].
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int
	// MaxBodyBytes bounds every request body; routes may set lower limits.
	// A larger declared Content-Length is refused with 413 before any byte
	// of the body is read.
	MaxBodyBytes int64
	// MaxConns caps open connections. 0 = planned from the descriptor
	// budget by [New] (see [PlanConns]).
	MaxConns int
	// MaxConnsPerClient caps open connections from one client address (an
	// IPv4 address, or an IPv6 /64). 0 = a quarter of MaxConns, at least 16
	// (or MaxConns when that is smaller).
	MaxConnsPerClient int
}

func (l Limits) withDefaults() Limits {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&l.ReadTimeout, DefaultReadTimeout)
	def(&l.WriteTimeout, DefaultWriteTimeout)
	def(&l.IdleTimeout, DefaultIdleTimeout)
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return l
}

// Config configures [New].
type Config struct {
	// Addr is the host:port to listen on, unless Listener is set.
	Addr string
	// Listener, if set, is served instead of listening on Addr (tests).
	Listener net.Listener
	// Handler serves the requests. Required.
	Handler http.Handler
	// TLS names the certificate files; the zero value serves plain HTTP.
	TLS tlsfiles.Server
	// Limits bound connections and requests.
	Limits Limits
	// Reserve lists the file descriptors the process needs besides HTTP
	// connections (databases, WAL, peers, …). [New] plans MaxConns from
	// RLIMIT_NOFILE minus these when Limits.MaxConns is 0; nil reserves
	// [ProcessReserve] only.
	Reserve []Reserve
	// Logger receives the plan at start, TLS reloads and refused
	// connections (rate-limited). nil = slog.Default().
	Logger *slog.Logger
}

// Server is one HTTP service with the protections of the package. Create
// it with [New], run it with [Server.Serve].
type Server struct {
	srv    *http.Server
	ln     *limitListener
	raw    net.Listener
	tls    bool
	mutual bool
	log    *slog.Logger
	limits Limits
	budget *Budget
}

// New listens (or takes Config.Listener), plans the connection cap and
// loads the TLS files. It fails when the descriptor budget is too small
// (a *[BudgetError]), a TLS file is unusable, or the address cannot be
// listened on; nothing is left open on failure.
func New(c Config) (*Server, error) {
	if c.Handler == nil {
		return nil, errors.New("httpserver.Config.Handler is required")
	}
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	lim := c.Limits.withDefaults()
	var budget *Budget
	if lim.MaxConns <= 0 {
		reserve := c.Reserve
		if reserve == nil {
			reserve = []Reserve{ProcessReserve}
		}
		b, err := PlanConns(reserve, DefaultMaxConns)
		if err != nil {
			return nil, err
		}
		budget = &b
		lim.MaxConns = b.Conns
	}
	if lim.MaxConnsPerClient <= 0 {
		lim.MaxConnsPerClient = max(lim.MaxConns/4, min(16, lim.MaxConns))
	}
	var tcfg *tls.Config
	if c.TLS.Enabled() {
		files := c.TLS
		if files.Logger == nil {
			files.Logger = log
		}
		var err error
		if tcfg, err = files.Config(); err != nil {
			return nil, err
		}
	}
	raw := c.Listener
	if raw == nil {
		var err error
		if raw, err = net.Listen("tcp", c.Addr); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", c.Addr, err)
		}
	}
	s := &Server{raw: raw, tls: tcfg != nil, mutual: c.TLS.ClientCA != "", log: log, limits: lim, budget: budget}
	s.ln = newLimitListener(raw, lim.MaxConns, lim.MaxConnsPerClient, log)
	var protos http.Protocols
	protos.SetHTTP1(true)
	s.srv = &http.Server{
		Handler:           s.wrap(c.Handler),
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
		Protocols:         &protos,
		TLSConfig:         tcfg,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		BaseContext: func(net.Listener) context.Context {
			return context.WithValue(context.Background(), mutualKey{}, s.mutual)
		},
		ConnContext: withConn,
	}
	return s, nil
}

// wrap applies the server-wide body limit and keeps a connection serving a
// request from being evicted.
func (s *Server) wrap(h http.Handler) http.Handler {
	limit := s.limits.MaxBodyBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cc := connOf(r.Context()); cc != nil {
			s.ln.busy(cc)
			defer s.ln.idle(cc)
		}
		if r.ContentLength > limit {
			w.Header().Set("Connection", "close")
			Problem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("request bodies are limited to %d bytes", limit))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		h.ServeHTTP(w, r)
	})
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.raw.Addr() }

// URL is the server's base URL on its listening address: https:// with TLS.
func (s *Server) URL() string {
	scheme := "http"
	if s.tls {
		scheme = "https"
	}
	return scheme + "://" + s.raw.Addr().String()
}

// Limits are the limits in force (defaults applied, cap planned).
func (s *Server) Limits() Limits { return s.limits }

// Open is the number of open connections; Refused counts connections
// closed at accept because a cap was reached; Evicted counts waiting
// connections closed to make room for a new one.
func (s *Server) Open() int       { return s.ln.Open() }
func (s *Server) Refused() uint64 { return s.ln.refused.Load() }
func (s *Server) Evicted() uint64 { return s.ln.evicted.Load() }

// Serve serves until ctx ends, then shuts down gracefully (requests in
// flight get [ShutdownGrace]) and returns nil; it returns the error if
// serving fails first.
func (s *Server) Serve(ctx context.Context) error {
	var ln net.Listener = s.ln
	if s.srv.TLSConfig != nil {
		ln = tls.NewListener(s.ln, s.srv.TLSConfig)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.srv.Close()
	}
	<-errc
	return nil
}

// Close closes the listener and every connection at once.
func (s *Server) Close() error { return s.srv.Close() }

// Describe is one line for the start-up log: the cap and the budget.
func (s *Server) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "at most %d connections (%d per client address)", s.limits.MaxConns, s.limits.MaxConnsPerClient)
	if s.budget != nil {
		fmt.Fprintf(&b, "; file descriptors: limit %d, %d reserved", s.budget.Limit, s.budget.Reserved())
	}
	return b.String()
}

type mutualKey struct{}

// mutualTLS reports whether the request came through a server with mutual
// TLS on.
func mutualTLS(ctx context.Context) bool {
	m, _ := ctx.Value(mutualKey{}).(bool)
	return m
}
