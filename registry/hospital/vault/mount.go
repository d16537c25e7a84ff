package vault

import (
	"net/http"
	"strings"
)

// Mount returns a handler serving the vault under /1.0/vault and
// everything else with next (the registry API): registryd mounts a vault
// this way when started with --vault DIR.
func Mount(next http.Handler, v *Vault) http.Handler {
	vh := v.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/1.0/vault" || strings.HasPrefix(r.URL.Path, "/1.0/vault/") {
			vh.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
