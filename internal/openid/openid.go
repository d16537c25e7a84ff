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

// ProblemError turns an RFC 9457 problem object answered instead of an
// OAuth error (a server-wide refusal before the endpoint ran: a client
// certificate required under mutual TLS, a body over the size limit, a
// wrong method) into an OAuth error code and description; ok is false when
// body is no problem object.
func ProblemError(status int, body []byte) (code, description string, ok bool) {
	var p struct {
		Type   string `json:"type"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(body, &p) != nil || p.Type == "" || p.Detail == "" {
		return "", "", false
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		code = "access_denied"
	case status >= 400 && status < 500:
		code = "invalid_request"
	default:
		code = "server_error"
	}
	return code, p.Detail, true
}
