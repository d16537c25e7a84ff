package httpserver

import (
	"crypto/tls"
	"net/http"
	"time"
)

// ClientIdleTimeout is how long [NewClient]'s clients keep an idle
// connection: less than [DefaultReadHeaderTimeout], after which a medid
// server closes a connection whose first request has not arrived. Go's
// transport can dial a connection for a request that another connection
// then serves and keep it idle, unused; a POST sent on it after the server
// closed it fails with EOF and is not retried (a transaction submission
// failed that way under load, docs/design/0022).
const ClientIdleTimeout = DefaultReadHeaderTimeout - time.Second

// NewClient returns an HTTP client for medid's own servers (registry,
// vault, issuer, verifier): requests time out after timeout, idle
// connections are dropped after [ClientIdleTimeout], and cfg (nil: the
// system's roots) configures TLS.
func NewClient(timeout time.Duration, cfg *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.IdleConnTimeout = ClientIdleTimeout
	if cfg != nil {
		tr.TLSClientConfig = cfg
	}
	return &http.Client{Timeout: timeout, Transport: tr}
}
