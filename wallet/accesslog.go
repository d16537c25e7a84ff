package wallet

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultclient"
)

// AccessEvent is one access (or attempt) to the patient's records in a
// vault's trail, proven included in a batch anchored on the ledger and
// decrypted with the patient's key.
type AccessEvent struct {
	At       time.Time
	Vault    string // the hospital vault's DID
	Patient  string // whose trail (the DID it is sealed to)
	Provider string // who
	Record   string // which record
	Class    string // its FHIR resource type
	Action   string // trail.ActionRead, ActionErase, ActionPut
	Purpose  string
	Outcome  string // trail.OutcomeGranted or OutcomeDenied
	// BreakGlass marks an emergency override (AuditEvent type DCM 110127
	// "Emergency Override Started", purpose ETREAT).
	BreakGlass bool
	Type       string
	Reason     string
	// Consent is the hash of the consent grant the decision used.
	Consent string
	// Unauthenticated marks an attempt whose sender did not prove who
	// they are: Provider is empty, Origin is where it came from, and
	// Count (when set) how many such attempts this event stands for.
	Unauthenticated bool
	Origin          string
	Count           int
	Batch           string
	Index           int
	// Licence is the provider's practitioner licence as they presented it
	// to the vault (vc+jwt, "" if none): check it with
	// directory.Directory.AddLicence before naming them.
	Licence string
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
	c := &vaultclient.Client{URL: opts.VaultURL, HTTP: w.cfg.client(opts.HTTPClient), DID: patient, Key: k, KeyID: kid}
	resp, err := c.AccessLog(ctx)
	if err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	es, err := vaultclient.VerifyTrail(ctx, resp, patient, opts.Anchors, priv)
	if err != nil {
		return nil, fmt.Errorf("access log from %s does not verify: %w", resp.Vault, err)
	}
	out := make([]AccessEvent, len(es))
	for i, e := range es {
		out[i] = AccessEvent{At: e.Time, Vault: resp.Vault, Patient: e.Patient, Consent: e.Consent, Provider: e.Provider, Record: e.Record, Class: e.Class, Action: e.Action,
			Purpose: e.Purpose, Outcome: e.Outcome, BreakGlass: e.BreakGlass, Type: e.Type, Reason: e.Reason,
			Unauthenticated: e.Unauthenticated, Origin: e.Origin, Count: e.Count, Batch: e.Batch, Index: e.Index, Licence: e.Licence}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
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
	c := &vaultclient.Client{URL: vaultURL, HTTP: w.cfg.client(nil), DID: owner, Key: k, KeyID: kid}
	_, err = c.Erase(ctx, record)
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
	vc := &vaultclient.Client{URL: vaultURL, HTTP: w.cfg.client(nil), DID: c.Patient, Key: k, KeyID: kid}
	return vc.AllowBreakGlass(ctx, c.Token)
}

// VaultDID returns a vault's DID (for granting it a standing break-glass
// consent), asked with hc (nil = a client with a 30 s timeout).
func VaultDID(ctx context.Context, vaultURL string, hc *http.Client) (string, error) {
	return (&vaultclient.Client{URL: vaultURL, HTTP: hc}).VaultDID(ctx)
}
