package hospital

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/wallet"
)

// AccessLogOptions says where to fetch a trail from ([AccessLog],
// [AccessLogFor]).
type AccessLogOptions struct {
	// VaultURL is the hospital vault's base URL.
	VaultURL string
	// DID is whose trail (one of the wallet's DIDs); "" = the primary DID.
	DID string
	// Anchors reads the anchored batch roots: a registry client (with proofs
	// when configured).
	Anchors vaultclient.AnchorSource
	// HTTPClient is used for the vault (nil = the holder's HTTPClient).
	HTTPClient *http.Client
}

// AccessLog fetches the patient's trail from a vault with a request signed
// by the patient's DID key, checks every entry's inclusion proof against the
// root anchored on the ledger, and decrypts it. It fails when any entry is
// not proven (a trail is trusted whole or not at all). Events are returned
// oldest first.
func AccessLog(ctx context.Context, h Holder, opts AccessLogOptions) ([]wallet.AccessEvent, error) {
	patient, err := owner(h, opts.DID)
	if err != nil {
		return nil, err
	}
	k, kid, err := h.SignerFor(patient)
	if err != nil {
		return nil, err
	}
	priv, err := trail.DecryptionKey(k)
	if err != nil {
		return nil, err
	}
	resp, err := signedClient(h, opts.VaultURL, opts.HTTPClient, patient, k, kid).AccessLog(ctx)
	if err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	return accessEvents(ctx, resp, patient, opts.Anchors, priv)
}

// accessEvents verifies a trail fetched for patient (every entry proven
// under its anchored root, decrypted with priv) and returns its events,
// oldest first.
func accessEvents(ctx context.Context, resp *vaultapi.AccessLogResponse, patient string, anchors vaultclient.AnchorSource, priv any) ([]wallet.AccessEvent, error) {
	es, err := vaultclient.VerifyTrail(ctx, resp, patient, anchors, priv)
	if err != nil {
		return nil, fmt.Errorf("access log from %s does not verify: %w", resp.Vault, err)
	}
	out := make([]wallet.AccessEvent, len(es))
	for i, e := range es {
		out[i] = wallet.AccessEvent{VerifiedEntry: e}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// signedClient is a client of the vault at url signing as id with k, on
// hc (nil = the holder's client) and the holder's clock.
func signedClient(h Holder, url string, hc *http.Client, id string, k *key.PrivateKey, kid string) *vaultclient.Client {
	if hc == nil {
		hc = h.HTTPClient()
	}
	return &vaultclient.Client{URL: url, HTTP: hc, DID: id, Key: k, KeyID: kid, Now: h.Now}
}
