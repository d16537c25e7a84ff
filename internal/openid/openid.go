// Package openid holds what the OpenID4VCI and OpenID4VP packages
// (credentials/openid4vci, credentials/openid4vp) share: the rule for which
// endpoint URLs may carry codes, tokens or health data, and the JSON
// answers of their endpoints. (Their random codes, tokens and nonces come
// from internal/randid.)
package openid

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
)

// SecureURL reports whether u is an https URL, or an http URL on a
// loopback host (a service on the same machine, as in tests and demos):
// anything else would send codes, tokens or health data in the clear.
func SecureURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return false
	}
	switch p.Scheme {
	case "https":
		return true
	case "http":
		h := p.Hostname()
		if h == "localhost" {
			return true
		}
		ip := net.ParseIP(h)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// WriteJSON sends v as a JSON answer with the given status. The answer is
// marked no-store: codes, tokens and results must not be cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
