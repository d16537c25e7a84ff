// Package hospital runs what the patient, or someone acting for them, does
// with hospitals over a [Holder] (a *wallet.Wallet):
//
//   - consent: grants anchored on the registry ([GrantConsent]), found
//     ([FindConsent]) and revoked there ([RevokeConsent]); a provider's
//     consent request ([ReadConsentRequest]); grants a representative made
//     in the owner's name, kept ([ConfirmConsent]) or withdrawn
//     ([WithdrawInherited]); either kind ended the way it was made
//     ([Withdraw]);
//   - the vault: the patient's verified access log ([AccessLog]), a
//     standing break-glass permission ([AllowBreakGlass], [VaultDID]),
//     erasing a record ([EraseRecord]); a practitioner reading one
//     ([Read]);
//   - acting for someone under a held delegation: reading their records
//     ([ReadFor]) and trail ([AccessLogFor]), and consent in their name
//     ([GrantConsentFor], [ConsentsFor], [WithdrawConsentFor]).
//
// The workflows use the holder's public API and a few store primitives of
// the wallet: the grant's anchor key, derived from the recovery phrase
// (wallet.Wallet.AnchorKey), storing a grant (SaveConsent) and finding a
// delegation (FindDelegation, HeldDelegation).
package hospital

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/registry/tx"
	"github.com/medid/medid/wallet"
)

// Holder is what the workflows need of a wallet; *wallet.Wallet
// implements it. Implementations MUST be safe for concurrent use.
type Holder interface {
	// PrimaryDID and SignerFor give the patient's DID and its key, which
	// sign grants and the patient's requests to a vault.
	PrimaryDID() (wallet.DID, error)
	SignerFor(did string) (*key.PrivateKey, string, error)
	// AnchorKey derives the anchor key of the grant with credential id
	// grantID; the caller destroys it. SaveConsent stores a grant.
	AnchorKey(grantID string) (k *key.PrivateKey, anchor, kid string, err error)
	SaveConsent(c *wallet.Consent) error
	// Consents lists the grants the holder made or learned, newest first.
	Consents() ([]wallet.Consent, error)
	// FindDelegation finds any delegation the holder keeps; HeldDelegation
	// one the holder acts under. Errors wrap wallet.ErrNotFound.
	FindDelegation(id string) (wallet.Delegation, error)
	HeldDelegation(id string) (wallet.Delegation, error)
	// HTTPClient is the client for requests made on the holder's behalf
	// when the caller gives none; Now is the holder's clock; Logger takes
	// warnings about best-effort steps (no health data).
	HTTPClient() *http.Client
	Now() time.Time
	Logger() *slog.Logger
}

// GrantConsent issues a consent grant (a ConsentGrant vc+jwt signed by the
// granting DID's key, naming a did:key made for this grant alone as its
// anchor), anchors its hash on the ledger (consent.anchor, signed by that
// anchor key, so the ledger never sees the patient's DID and no two of the
// patient's anchors can be linked) and stores it in the wallet. It returns
// the grant; nothing is stored if anchoring fails. Revoke it with
// [RevokeConsent].
func GrantConsent(ctx context.Context, h Holder, led wallet.ConsentLedger, req wallet.ConsentRequest) (wallet.Consent, error) {
	if req.Duration <= 0 {
		return wallet.Consent{}, errors.New("consent: say for how long (a positive duration)")
	}
	patient, err := owner(h, req.DID)
	if err != nil {
		return wallet.Consent{}, err
	}
	k, kid, err := h.SignerFor(patient)
	if err != nil {
		return wallet.Consent{}, err
	}
	g, ak, akid, err := newGrant(h, patient, req)
	if err != nil {
		return wallet.Consent{}, err
	}
	defer ak.Destroy()
	tok, err := consent.Issue(g, k, kid)
	if err != nil {
		return wallet.Consent{}, err
	}
	c := wallet.ConsentOf(tok, g)
	issued, err := consent.Parse(tok)
	if err != nil {
		return wallet.Consent{}, err
	}
	p, err := tx.NewConsentAnchor(issued)
	if err != nil {
		return wallet.Consent{}, err
	}
	raw, err := tx.Sign(p, ak, akid)
	if err != nil {
		return wallet.Consent{}, err
	}
	if _, err := led.Submit(ctx, raw); err != nil {
		return wallet.Consent{}, fmt.Errorf("consent: anchor the grant on the registry: %w", err)
	}
	if err := h.SaveConsent(&c); err != nil {
		return wallet.Consent{}, fmt.Errorf("consent: the grant %s is anchored but could not be stored: %w", c.ID, err)
	}
	return c, nil
}

// ReadConsentRequest reads a provider's consent request: a
// medid-consent:// link (or the signed request itself, as a QR code may
// hold it), its signature checked against the provider's DID as r
// resolves it, and that it can still be answered at the holder's now. The
// patient then approves it, possibly narrowed ([consent.Proposal.Narrow]),
// with [GrantConsent], or declines it (nothing to do: a request binds
// nobody). Errors wrap [consent.ErrInvalidProposal] (not a consent
// request), [consent.ErrProposalExpired], or are vc's errors for a bad
// signature and r's for a provider that cannot be resolved.
func ReadConsentRequest(ctx context.Context, h Holder, link string, r did.Resolver) (*consent.Proposal, error) {
	tok := strings.TrimSpace(link)
	if consent.IsProposalURI(tok) {
		var err error
		if tok, err = consent.ParseProposalURI(tok); err != nil {
			return nil, err
		}
	}
	return consent.VerifyProposal(ctx, tok, consent.ResolverKeys(r), h.Now())
}

// Read reads a record at a vault as the holder, a practitioner whose
// licence the wallet holds: the request is signed by the key of the
// holder's primary DID, acting as that key's did:key, for purpose, with the
// patient's consent grant (consentToken, "" = none) or, with breakGlass (a
// reason), as an emergency override the vault logs as such.
func Read(ctx context.Context, h Holder, vaultURL, record, purpose, consentToken, breakGlass string) ([]byte, error) {
	p, err := owner(h, "")
	if err != nil {
		return nil, err
	}
	k, _, err := h.SignerFor(p)
	if err != nil {
		return nil, err
	}
	c, err := vaultclient.New(ctx, vaultclient.Config{URL: vaultURL, Key: k, HTTP: h.HTTPClient()})
	if err != nil {
		return nil, err
	}
	c.Now = h.Now
	return c.Get(ctx, record, purpose, consentToken, breakGlass)
}

// EraseRecord asks a vault to erase one of the patient's records
// (crypto-shredding), with a request signed by the owning DID ("" = the
// primary DID).
func EraseRecord(ctx context.Context, h Holder, vaultURL, ownerDID, record string) error {
	o, err := owner(h, ownerDID)
	if err != nil {
		return err
	}
	c, err := vault(h, vaultURL, o)
	if err != nil {
		return err
	}
	_, err = c.Erase(ctx, record)
	return err
}

// AllowBreakGlass deposits a standing break-glass grant at a vault: the
// grant (made with [GrantConsent] to the vault's DID, see [VaultDID], with
// BreakGlass set) lets that hospital's staff open the patient's records of
// its classes in an emergency, each opening logged as an emergency
// override. Revoking the grant withdraws the permission.
func AllowBreakGlass(ctx context.Context, h Holder, vaultURL string, c wallet.Consent) error {
	vc, err := vault(h, vaultURL, c.Patient)
	if err != nil {
		return err
	}
	return vc.AllowBreakGlass(ctx, c.Token)
}

// VaultDID returns a vault's DID (for granting it a standing break-glass
// consent), asked with hc (nil = a client with a 30 s timeout).
func VaultDID(ctx context.Context, vaultURL string, hc *http.Client) (string, error) {
	return (&vaultclient.Client{URL: vaultURL, HTTP: hc}).VaultDID(ctx)
}

// newGrant is a grant by patient of req made now: a fresh credential id,
// the anchor did:key derived for that id alone (its key ak, which the
// caller destroys, signs the anchor), access for req's purposes and classes
// from now for req.Duration, in whole seconds.
func newGrant(h Holder, patient string, req wallet.ConsentRequest) (g *consent.Grant, ak *key.PrivateKey, akid string, err error) {
	now := h.Now().UTC().Truncate(time.Second)
	id := randid.URN()
	ak, anchor, akid, err := h.AnchorKey(id)
	if err != nil {
		return nil, nil, "", err
	}
	return &consent.Grant{ID: id, Patient: patient, Anchor: anchor, Provider: req.Provider,
		Actions: []consent.Action{consent.ActionAccess}, Purposes: req.Purposes, Classes: req.Classes,
		ValidFrom: now, ValidUntil: now.Add(req.Duration).Truncate(time.Second), BreakGlass: req.BreakGlass, Issued: now}, ak, akid, nil
}

// owner is id, or the holder's primary DID when id is "".
func owner(h Holder, id string) (string, error) {
	if id != "" {
		return id, nil
	}
	p, err := h.PrimaryDID()
	if err != nil {
		return "", err
	}
	return p.DID, nil
}

// vault is a client of the vault at url signing as id with its key, on the
// holder's HTTP client and clock.
func vault(h Holder, url, id string) (*vaultclient.Client, error) {
	k, kid, err := h.SignerFor(id)
	if err != nil {
		return nil, err
	}
	return signedClient(h, url, nil, id, k, kid), nil
}
