package vault

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/medid/medid/internal/httpserver"
)

// clientCertRoutes are the vault routes that, when registryd runs with
// mutual TLS (--tls-client-ca), answer only clients presenting a
// certificate from the network's CA: the hospital-to-hospital ones, where
// a hospital stores records and providers read them. The patient's routes
// (the vault's DID, erasing their own record, depositing a break-glass
// grant, reading their access log) stay open to wallets, which hold no
// certificate; every request is signed anyway. See
// docs/design/0014-http-hardening-and-tls.md.
var clientCertRoutes = map[string]bool{
	"POST /1.0/vault/records":     true,
	"GET /1.0/vault/records/{id}": true,
}

// routeDeadlines are the vault routes that may take longer than the
// server's 15 s read and write timeouts: receiving a record of up to
// vaultapi.MaxRecordSize from a slow link, and sending a long access log.
var routeDeadlines = map[string]struct{ read, write time.Duration }{
	"POST /1.0/vault/records":   {read: 60 * time.Second},
	"GET /1.0/vault/access-log": {write: 60 * time.Second},
}

// withRoutePolicy serves mux, checking the client certificate on the
// clientCertRoutes and giving the routeDeadlines their deadlines.
func withRoutePolicy(mux *http.ServeMux) http.Handler {
	guarded := httpserver.RequireClientCert(mux)
	deadlines := map[string]http.Handler{}
	for pattern, d := range routeDeadlines {
		next := http.Handler(mux)
		if clientCertRoutes[pattern] {
			next = guarded
		}
		deadlines[pattern] = httpserver.Deadlines(next, d.read, d.write)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		if h, ok := deadlines[pattern]; ok {
			h.ServeHTTP(w, r)
			return
		}
		if r.TLS != nil && clientCertRoutes[pattern] {
			guarded.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// routeError answers an unknown vault path (404) or a wrong method (405,
// Allow already set) with the vault's problem object.
func (v *Vault) routeError(w http.ResponseWriter, _ *http.Request, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "https://medid.dev/problems/vault", Title: http.StatusText(status), Status: status, Detail: detail})
}
