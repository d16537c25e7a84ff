package wallet

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
)

// AccessEvent is one access (or attempt) to the patient's records in a
// vault's trail, proven included in a batch anchored on the ledger and
// decrypted with the patient's key: the vault's own entry (trail.Entry:
// Time, Provider, Record, Class, Action, Purpose, Outcome, BreakGlass,
// Consent, Licence, Authority, Grant and AnchorSeal, …) with the vault and
// batch it was proven in. The wallet adds only its words for it
// ([AccessEvent.Sentence]). Licence is the provider's practitioner licence
// as presented to the vault: check it with directory.Directory.AddLicence
// before naming them; Authority is set when someone acted in the patient's
// name (see Describe).
type AccessEvent struct {
	vaultclient.VerifiedEntry
}

// AccessLogOptions says where to fetch a trail from.
type AccessLogOptions struct {
	// VaultURL is the hospital vault's base URL.
	VaultURL string
	// DID is whose trail (one of the wallet's DIDs); "" = the primary DID.
	DID string
	// Anchors reads the anchored batch roots: a registry client (with proofs
	// when configured).
	Anchors vaultclient.AnchorSource
	// HTTPClient is used for the vault (nil = the wallet's
	// Config.HTTPClient).
	HTTPClient *http.Client
}

// AccessLog fetches the patient's trail from a vault with a request signed
// by the patient's DID key, checks every entry's inclusion proof against the
// root anchored on the ledger, and decrypts it. It fails when any entry is
// not proven (a trail is trusted whole or not at all). Events are returned
// oldest first.
func (w *Wallet) AccessLog(ctx context.Context, opts AccessLogOptions) ([]AccessEvent, error) {
	patient := opts.DID
	if patient == "" {
		p, err := w.PrimaryDID()
		if err != nil {
			return nil, err
		}
		patient = p.DID
	}
	k, kid, err := w.SignerFor(patient)
	if err != nil {
		return nil, err
	}
	priv, err := trail.DecryptionKey(k)
	if err != nil {
		return nil, err
	}
	c := w.vaultClient(opts.VaultURL, opts.HTTPClient, patient, k, kid)
	resp, err := c.AccessLog(ctx)
	if err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	return accessEvents(ctx, resp, patient, opts.Anchors, priv)
}

// vaultClient is a vault client signing as did with k, on the wallet's
// clock.
func (w *Wallet) vaultClient(url string, hc *http.Client, did string, k *key.PrivateKey, kid string) *vaultclient.Client {
	return &vaultclient.Client{URL: url, HTTP: w.cfg.client(hc), DID: did, Key: k, KeyID: kid, Now: w.cfg.Now}
}

// accessEvents verifies a trail fetched for patient (every entry proven
// under its anchored root, decrypted with priv) and returns its events,
// oldest first.
func accessEvents(ctx context.Context, resp *vaultapi.AccessLogResponse, patient string, anchors vaultclient.AnchorSource, priv any) ([]AccessEvent, error) {
	es, err := vaultclient.VerifyTrail(ctx, resp, patient, anchors, priv)
	if err != nil {
		return nil, fmt.Errorf("access log from %s does not verify: %w", resp.Vault, err)
	}
	out := make([]AccessEvent, len(es))
	for i, e := range es {
		out[i] = AccessEvent{VerifiedEntry: e}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}
