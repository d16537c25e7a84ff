package vault

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/medid/medid/registry/node"
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

// NodeSubmit adapts a registry node's Submit (which reports a rejected
// transaction as a result code) to Config.Submit.
func NodeSubmit(submit func(ctx context.Context, tx []byte) (*node.TxResult, error)) func(context.Context, []byte) error {
	return func(ctx context.Context, raw []byte) error {
		res, err := submit(ctx, raw)
		if err != nil {
			return err
		}
		if res.Code != 0 {
			return fmt.Errorf("ledger rejected the transaction: code %d: %s", res.Code, res.Log)
		}
		return nil
	}
}
