package httpserver

import (
	"crypto/tls"
	"net/http"
	"testing"
	"time"
)

// TestClientDropsIdleBeforeServer: a client of NewClient never offers a
// request a connection the server has already closed for want of a first
// request (ReadHeaderTimeout), and keeps the timeout and TLS settings it
// was given.
func TestClientDropsIdleBeforeServer(t *testing.T) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS13}
	c := NewClient(7*time.Second, cfg)
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport %T", c.Transport)
	}
	if tr.IdleConnTimeout <= 0 || tr.IdleConnTimeout >= DefaultReadHeaderTimeout {
		t.Errorf("idle connections kept %v, want less than the server's first-request wait %v", tr.IdleConnTimeout, DefaultReadHeaderTimeout)
	}
	if c.Timeout != 7*time.Second || tr.TLSClientConfig != cfg {
		t.Errorf("timeout %v, TLS config %p: not the ones given", c.Timeout, tr.TLSClientConfig)
	}
	if http.DefaultTransport.(*http.Transport).IdleConnTimeout == tr.IdleConnTimeout {
		t.Errorf("NewClient changed the shared default transport")
	}
}
