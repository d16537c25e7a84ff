package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/delegate"
	"github.com/medid/medid/wallet/hospital"
)

// ErrNeedProviderDID is returned by [WalletServices.Grant] when the
// provider is not given as a DID: consent is granted to a DID the ledger
// and the vault can check.
var ErrNeedProviderDID = errors.New("consent: give the provider's DID (did:…)")

// ErrNoVault is returned by [WalletServices.Accesses] when no hospital
// vault URL is configured.
var ErrNoVault = errors.New("access log: no hospital vault address configured")

// WalletServices implements [ConsentService] and [AccessLogService] over
// an unlocked wallet: consent grants are issued by the wallet's primary DID
// and anchored and revoked on the registry (Ledger); the access log is the
// vault's trail at VaultURL, every entry proven against the batch roots
// anchored on the registry (Anchors). It is safe for concurrent use (the
// wallet is).
type WalletServices struct {
	Wallet  *wallet.Wallet
	Ledger  wallet.ConsentLedger
	Anchors vaultclient.AnchorSource
	// VaultURL is the hospital vault's base URL; "" disables the access log.
	VaultURL string
	// Names, when set, names providers and accessors from the registry's
	// directory (ConsentGrant.ProviderName, AccessEvent.AccessorName).
	Names func() *directory.Directory
}

var (
	_ ConsentService   = (*WalletServices)(nil)
	_ ConsentConfirmer = (*WalletServices)(nil)
	_ AccessLogService = (*WalletServices)(nil)
)

// Grant issues and anchors a grant: the app's data-class words become FHIR
// resource types (wallet.ClassesForLabels) and the purpose code is kept.
func (s *WalletServices) Grant(ctx context.Context, req ConsentRequest) (ConsentGrant, error) {
	if !strings.HasPrefix(req.Provider, "did:") {
		return ConsentGrant{}, ErrNeedProviderDID
	}
	c, err := hospital.GrantConsent(ctx, s.Wallet, s.Ledger, wallet.ConsentRequest{Provider: req.Provider,
		Classes: wallet.ClassesForLabels(req.DataClasses), Purposes: []string{req.Purpose},
		Duration: req.Duration, BreakGlass: req.BreakGlass})
	if err != nil {
		return ConsentGrant{}, err
	}
	return grantOf(c), nil
}

// List returns the wallet's grants, revoked and expired ones included,
// and the consents representatives made in the patient's name, marked
// (MadeBy, Awaiting once their authority ended). With a vault configured
// it first reads the patient's trail there, so a wallet learns what was
// done in its owner's name, and that a guardianship over them ended,
// whenever the Consent screen loads; the vault not answering leaves the
// list as the wallet knew it.
func (s *WalletServices) List(ctx context.Context) ([]ConsentGrant, error) {
	if s.VaultURL != "" {
		if evs, err := hospital.AccessLog(ctx, s.Wallet, hospital.AccessLogOptions{VaultURL: s.VaultURL, Anchors: s.Anchors}); err == nil {
			if _, _, err := delegate.LearnFromTrail(s.Wallet, evs, s.VaultURL); err != nil {
				return nil, err
			}
		}
	}
	cs, err := s.Wallet.Consents()
	if err != nil {
		return nil, err
	}
	ns, err := delegate.Notices(s.Wallet)
	if err != nil {
		return nil, err
	}
	awaiting := map[string]bool{}
	for _, n := range ns {
		for _, c := range n.Awaiting {
			awaiting[c.ID] = true
		}
	}
	out := make([]ConsentGrant, len(cs))
	for i, c := range cs {
		out[i] = grantOf(c)
		out[i].ProviderName = s.label(ctx, c.Provider)
		out[i].Awaiting = awaiting[c.ID]
	}
	return out, nil
}

// Revoke revokes the grant with id on the registry and in the wallet; a
// consent a representative made in the patient's name is withdrawn at its
// vault and on the registry with the anchor key sealed to the patient
// (hospital.Withdraw).
func (s *WalletServices) Revoke(ctx context.Context, id string) error {
	_, err := hospital.Withdraw(ctx, s.Wallet, s.Ledger, id)
	return err
}

// Confirm keeps a consent a representative made in the patient's name as
// the patient's own (hospital.ConfirmConsent).
func (s *WalletServices) Confirm(_ context.Context, id string) error {
	_, err := hospital.ConfirmConsent(s.Wallet, id)
	return err
}

// Accesses fetches and verifies the vault's trail of the primary DID and
// returns its reads at or after since. A granted read is
// [OutcomePermitted], a refused one [OutcomeDenied].
func (s *WalletServices) Accesses(ctx context.Context, since time.Time) ([]AccessEvent, error) {
	if s.VaultURL == "" {
		return nil, ErrNoVault
	}
	evs, err := hospital.AccessLog(ctx, s.Wallet, hospital.AccessLogOptions{VaultURL: s.VaultURL, Anchors: s.Anchors})
	if err != nil {
		return nil, err
	}
	// What was done in the patient's name (consents, a guardianship over
	// them and its end) is taken in whenever the trail is read.
	if _, _, err := delegate.LearnFromTrail(s.Wallet, evs, s.VaultURL); err != nil {
		return nil, err
	}
	// Practitioners are named by the licence they presented to the vault,
	// checked here, never by the vault's word.
	if s.Names != nil {
		for _, e := range evs {
			if e.Licence != "" {
				_, _ = s.Names().AddLicence(ctx, e.Licence)
			}
		}
	}
	out := s.reads(ctx, evs, since)
	if s.Names != nil {
		_ = s.Wallet.SaveNames(s.Names())
	}
	return out, nil
}

// reads are the verified trail's reads at or after since in the app's
// words, each with the wallet's sentence for it, parties named by the
// directory (a representative by their verified name when they have one).
func (s *WalletServices) reads(ctx context.Context, evs []wallet.AccessEvent, since time.Time) []AccessEvent {
	var out []AccessEvent
	for _, e := range evs {
		if e.Action != trail.ActionRead || e.Time.Before(since) {
			continue
		}
		ev := accessOf(e)
		if ev.Standing && e.Consent != "" {
			// Say which permission: the patient's own grant, by when it
			// was given (the CLI prints its hash; a date is what a
			// patient recognises).
			if c, err := hospital.FindConsent(s.Wallet, e.Consent); err == nil {
				ev.StandingSince = c.ValidFrom
			}
		}
		ev.AccessorName = s.label(ctx, e.Provider)
		ev.Sentence = e.Describe(s.naming(ctx), "")
		out = append(out, ev)
	}
	return out
}

// grantOf shows a wallet grant in the app's words. A revoked grant ends
// when it was revoked.
func grantOf(c wallet.Consent) ConsentGrant {
	g := ConsentGrant{ID: c.ID, Provider: c.Provider, BreakGlass: c.BreakGlass, Granted: c.ValidFrom, Expires: c.ValidUntil, Token: c.Token}
	for _, cl := range c.Classes {
		g.DataClasses = append(g.DataClasses, classLabel(cl))
	}
	if len(c.Purposes) > 0 {
		g.Purpose = c.Purposes[0]
	}
	if c.Inherited {
		g.MadeBy = c.MadeByName
		if g.MadeBy == "" {
			g.MadeBy = c.Patient
		}
		g.MadeBy += ", " + wallet.BasisText(c.Basis)
		g.Confirmed = c.Confirmed != nil
	}
	if c.Revoked != nil {
		g.Revoked = true
		if c.Revoked.Before(g.Expires) {
			g.Expires = *c.Revoked
		}
	} else if c.Legacy() {
		// Made before grants had their own anchor key: no vault accepts
		// it any more, so it shows as ended (the patient grants again).
		g.Expires = g.Granted
	}
	return g
}

func accessOf(e wallet.AccessEvent) AccessEvent {
	out := AccessEvent{At: e.Time, Accessor: e.Provider, Purpose: e.Purpose, BreakGlass: e.BreakGlass, Outcome: OutcomePermitted,
		// The vault records which grant let an override in (the wallet
		// reads it, see wallet.AccessEvent.UnderStanding).
		Standing: e.UnderStanding()}
	if e.Unauthenticated {
		// The sender proved nothing: say so, never name who they claimed to be.
		out.Accessor = "Someone who could not prove who they are"
		if e.Count > 0 {
			out.Accessor = fmt.Sprintf("%d attempts by someone who could not prove who they are", e.Count)
		}
	}
	if e.Class != "" {
		out.Data = []string{classLabel(e.Class)}
	}
	if e.Outcome != trail.OutcomeGranted {
		out.Outcome = OutcomeDenied
	}
	return out
}

// classLabel is the app's word for a FHIR resource type (the type itself
// when the app has none).
func classLabel(class string) string {
	if l := wallet.LabelForClass(class); l != "" && slices.Contains(DataClasses, l) {
		return l
	}
	return class
}

// EmergencyAccessDuration is how long a standing emergency (break-glass)
// permission given in Settings lasts.
const EmergencyAccessDuration = 365 * 24 * time.Hour

// AllowEmergencyAccess gives the hospital whose vault is at VaultURL a
// standing break-glass permission: a grant to the vault's DID for every
// data class the app offers, purpose ETREAT, break-glass allowed, for
// EmergencyAccessDuration, anchored on the registry and deposited at the
// vault. The hospital's staff can then open the patient's records in an
// emergency; each opening is logged as an emergency override. Revoking the
// grant (it is listed with the others) withdraws the permission.
func (s *WalletServices) AllowEmergencyAccess(ctx context.Context) (ConsentGrant, error) {
	if s.VaultURL == "" {
		return ConsentGrant{}, ErrNoVault
	}
	vd, err := hospital.VaultDID(ctx, s.VaultURL, s.Wallet.HTTPClient())
	if err != nil {
		return ConsentGrant{}, err
	}
	c, err := hospital.GrantConsent(ctx, s.Wallet, s.Ledger, wallet.ConsentRequest{Provider: vd,
		Classes: wallet.ClassesForLabels(DataClasses), Purposes: []string{"ETREAT"},
		Duration: EmergencyAccessDuration, BreakGlass: true})
	if err != nil {
		return ConsentGrant{}, err
	}
	if err := hospital.AllowBreakGlass(ctx, s.Wallet, s.VaultURL, c); err != nil {
		return grantOf(c), fmt.Errorf("the permission is recorded but the hospital did not take it (take it back on the Consent screen, then try again): %w", err)
	}
	return grantOf(c), nil
}

// EmergencyAccess returns the standing emergency (break-glass) permission
// the wallet holds for the hospital whose vault is at VaultURL, as of now:
// a grant to the vault's DID with break-glass allowed that is neither taken
// back nor ended (the one running longest when there are several). ok is
// false when there is none. It asks the vault for its DID; errors wrap
// [ErrNoVault] without a vault address.
func (s *WalletServices) EmergencyAccess(ctx context.Context, now time.Time) (g ConsentGrant, ok bool, err error) {
	if s.VaultURL == "" {
		return ConsentGrant{}, false, ErrNoVault
	}
	vd, err := hospital.VaultDID(ctx, s.VaultURL, s.Wallet.HTTPClient())
	if err != nil {
		return ConsentGrant{}, false, err
	}
	gs, err := s.List(ctx)
	if err != nil {
		return ConsentGrant{}, false, err
	}
	g, ok = standingEmergency(gs, vd, now)
	return g, ok, nil
}

// standingEmergency picks from gs the break-glass grant to vaultDID that
// is in force at now (not revoked, not ended), the longest-running one
// when there are several.
func standingEmergency(gs []ConsentGrant, vaultDID string, now time.Time) (ConsentGrant, bool) {
	var best ConsentGrant
	found := false
	for _, g := range gs {
		if !g.BreakGlass || g.Provider != vaultDID || g.Revoked || !now.Before(g.Expires) {
			continue
		}
		if !found || g.Expires.After(best.Expires) {
			best, found = g, true
		}
	}
	return best, found
}

// naming names the parties of the wallet's sentences by the directory's
// rule; a representative with a verified identity by it.
func (s *WalletServices) naming(ctx context.Context) wallet.Naming {
	return wallet.Naming{
		Label: func(d string) string { return who(s.label(ctx, d), d) },
		Verified: func(d string) string {
			if s.Names == nil || d == "" {
				return ""
			}
			if id, _ := s.Names().Lookup(ctx, d); id.Verified() {
				return id.Label()
			}
			return ""
		},
	}
}

// label names did from the directory ("" without Names).
func (s *WalletServices) label(ctx context.Context, did string) string {
	if s.Names == nil || did == "" {
		return ""
	}
	id, _ := s.Names().Lookup(ctx, did)
	return nameFor(id)
}
