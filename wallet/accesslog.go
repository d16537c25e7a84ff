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

// EraseRecord asks a vault to erase one of the patient's records
// (crypto-shredding), with a request signed by the owning DID ("" = the
// primary DID).
func (w *Wallet) EraseRecord(ctx context.Context, vaultURL, owner, record string) error {
	if owner == "" {
		p, err := w.PrimaryDID()
		if err != nil {
			return err
		}
		owner = p.DID
	}
	k, kid, err := w.SignerFor(owner)
	if err != nil {
		return err
	}
	_, err = w.vaultClient(vaultURL, nil, owner, k, kid).Erase(ctx, record)
	return err
}

// AllowBreakGlass deposits a standing break-glass grant at a vault: the
// grant (made with [Wallet.GrantConsent] to the vault's DID with
// BreakGlass set) lets that hospital's staff open the patient's records of
// its classes in an emergency, each opening logged as an emergency override.
// Revoking the grant withdraws the permission.
func (w *Wallet) AllowBreakGlass(ctx context.Context, vaultURL string, c Consent) error {
	k, kid, err := w.SignerFor(c.Patient)
	if err != nil {
		return err
	}
	return w.vaultClient(vaultURL, nil, c.Patient, k, kid).AllowBreakGlass(ctx, c.Token)
}

// VaultDID returns a vault's DID (for granting it a standing break-glass
// consent), asked with hc (nil = a client with a 30 s timeout).
func VaultDID(ctx context.Context, vaultURL string, hc *http.Client) (string, error) {
	return (&vaultclient.Client{URL: vaultURL, HTTP: hc}).VaultDID(ctx)
}
