package vault

import (
	"encoding/json"
	"net/http"

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

// withTLSPolicy serves mux, checking the client certificate on the
// clientCertRoutes.
func withTLSPolicy(mux *http.ServeMux) http.Handler {
	guarded := httpserver.RequireClientCert(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			if _, pattern := mux.Handler(r); clientCertRoutes[pattern] {
				guarded.ServeHTTP(w, r)
				return
			}
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
