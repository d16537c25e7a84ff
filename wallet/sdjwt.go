package wallet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/vc"
)

// receiveSDJWT verifies and stores an SD-JWT VC. It must be bound to one
// of the wallet's DIDs: sub is that DID and cnf.jwk that DID's key, the
// key every presentation's Key Binding JWT is signed with.
func (w *Wallet) receiveSDJWT(ctx context.Context, token string) (Credential, error) {
	h, err := sdjwt.Open(token)
	if err != nil {
		return Credential{}, &RejectedError{Reason: "malformed", Detail: err.Error()}
	}
	subject, _ := h.Claims["sub"].(string)
	cnf, cnfErr := h.HolderKey()
	w.mu.Lock()
	if err := w.use(); err != nil {
		w.mu.Unlock()
		return Credential{}, err
	}
	bound := false
	if _, mine := w.dids[subject]; mine && cnfErr == nil {
		k, _, err := w.keyLocked(subject)
		bound = err == nil && k.Public().Equal(cnf)
	}
	w.mu.Unlock()
	if !bound {
		return Credential{}, fmt.Errorf("%w: its sub and cnf.jwk are not one of this wallet's DIDs and that DID's key", ErrNotForThisWallet)
	}
	if err := w.verifyToKeep(ctx, token); err != nil {
		return Credential{}, err
	}
	vct, _ := h.Claims["vct"].(string)
	issuer, _ := h.Claims["iss"].(string)
	paths := make([]string, len(h.Paths))
	for i, p := range h.Paths {
		paths[i] = p.String()
	}
	cr := &Credential{Token: token, Issuer: issuer, Types: []string{sdjwt.CredentialType(vct)},
		Subject: subject, Attributes: paths, Format: FormatSDJWT}
	_, cr.HasStatusList = h.Claims["status"]
	for _, f := range [...]struct {
		name string
		dst  **time.Time
	}{{"iat", &cr.ValidFrom}, {"nbf", &cr.ValidFrom}, {"exp", &cr.ValidUntil}} {
		if t, ok, _ := vc.NumericDate(h.Claims, f.name); ok {
			*f.dst = &t
		}
	}
	return w.store1(cr)
}

// PresentSDJWTRequest asks for a presentation of one SD-JWT VC.
type PresentSDJWTRequest struct {
	// CredentialID is the wallet's id of an SD-JWT VC.
	CredentialID string
	// Disclose are the claim paths to disclose (code.display,
	// reaction.*.manifestation); nothing else leaves the wallet.
	Disclose []sdjwt.Path
	// Audience and Nonce come from the verifier's request.
	Audience, Nonce string
	// Force presents a credential the wallet knows is revoked,
	// suspended, expired or invalid (see [PresentRequest.Force]).
	Force bool
}

// PresentSDJWT makes an SD-JWT+KB of one stored SD-JWT VC that discloses
// the claims at req.Disclose and nothing else, with a Key Binding JWT
// signed by the key of the credential's DID for req.Audience and
// req.Nonce. The result says which paths were disclosed and which
// withheld; the history records the presentation, with the disclosed paths
// as its attributes (names, never values). A path the credential does not
// hold wraps sdjwt.ErrNoSuchClaim; a credential that is not an SD-JWT VC
// is refused, and so, unless req.Force, is one the wallet knows is not
// current ([*NotPresentableError]).
func (w *Wallet) PresentSDJWT(ctx context.Context, req PresentSDJWTRequest) (*sdjwt.Presented, error) {
	if req.Audience == "" || req.Nonce == "" {
		return nil, errors.New("present: the verifier's audience and nonce are both required")
	}
	if len(req.Disclose) == 0 {
		return nil, errors.New("present: choose the claims to disclose")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	h, c, err := w.holdingLocked(req.CredentialID)
	if err != nil {
		return nil, err
	}
	if why := c.NotCurrent(w.cfg.now()); why != "" && !req.Force {
		return nil, &NotPresentableError{ID: c.ID, Why: why, CheckedAt: c.StatusCheckedAt}
	}
	k, _, err := w.keyLocked(c.Subject)
	if err != nil {
		return nil, err
	}
	p, err := h.Present(req.Disclose, &sdjwt.KeyBindingOptions{Key: k, Audience: req.Audience, Nonce: req.Nonce, IssuedAt: w.cfg.now()})
	if err != nil {
		return nil, fmt.Errorf("present: %w", err)
	}
	// Returned only once the patient's record of what was shared is durable.
	if err := w.recordSDJWTLocked(c, p, req.Audience); err != nil {
		return nil, err
	}
	w.cfg.log().Info("sd-jwt presented", "id", c.ID, "disclosed", len(p.Disclosed), "withheld", len(p.Withheld))
	return p, nil
}

// recordSDJWTLocked appends to the history that p, a presentation of the
// SD-JWT VC c, went to audience: the disclosed paths, never values. w.mu
// is held.
func (w *Wallet) recordSDJWTLocked(c *Credential, p *sdjwt.Presented, audience string) error {
	sh := shared(c)
	sh.Attributes = make([]string, len(p.Disclosed))
	for i, d := range p.Disclosed {
		sh.Attributes[i] = d.String()
	}
	slices.Sort(sh.Attributes)
	ev := w.newEventLocked(HistoryEntry{At: w.cfg.now().UTC(), Kind: EventPresented, Audience: audience,
		Holder: c.Subject, Credentials: []SharedCredential{sh}})
	return w.appendEventLocked(ev)
}
