package wallet

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/internal/randid"
)

// Sharing an SD-JWT VC by hand: without a verifier's request, the patient
// picks the details to disclose and names who receives them (or shares
// unbound). Nothing is disclosed unless it is chosen.

// SDField is one detail of an SD-JWT VC that can be disclosed on its own:
// a leaf claim (a value, not an object or array) and its value.
type SDField struct {
	Path  sdjwt.Path
	Value any
}

// SDJWTFields lists the details of the wallet's SD-JWT VC id that can be
// disclosed one by one, in path order: every leaf claim the credential
// holds behind a Disclosure. The always-visible claims (issuer, type,
// dates, holder key, status) are not listed: they leave with any
// presentation. Errors: [ErrNotFound], a credential that is not an SD-JWT
// VC, a locked wallet.
func (w *Wallet) SDJWTFields(id string) ([]SDField, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h, _, err := w.holdingLocked(id)
	if err != nil {
		return nil, err
	}
	return fieldsOf(h), nil
}

func fieldsOf(h *sdjwt.Holding) []SDField {
	var out []SDField
	for _, p := range h.Paths {
		v, _ := p.Lookup(h.Claims)
		switch v.(type) {
		case map[string]any, []any:
			continue // a container: its leaves are listed
		}
		out = append(out, SDField{Path: p, Value: v})
	}
	return out
}

// holdingLocked opens the stored SD-JWT VC id; w.mu is held.
func (w *Wallet) holdingLocked(id string) (*sdjwt.Holding, *Credential, error) {
	if err := w.use(); err != nil {
		return nil, nil, err
	}
	c, err := w.findLocked(id)
	if err != nil {
		return nil, nil, err
	}
	if c.Format != FormatSDJWT {
		return nil, nil, fmt.Errorf("credential %s is a vc+jwt, which is shared whole (it has no details to choose): use Present", c.ID)
	}
	tok, err := w.tokenLocked(c.ID)
	if err != nil {
		return nil, nil, err
	}
	h, err := sdjwt.Open(tok)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: stored SD-JWT VC %s: %v", ErrCorrupt, c.ID, err)
	}
	return h, c, nil
}

// ShareSDJWTRequest asks to share one SD-JWT VC by hand.
type ShareSDJWTRequest struct {
	// CredentialID is the wallet's id of an SD-JWT VC (or a unique prefix).
	CredentialID string
	// Disclose are the details to disclose (paths of [SDJWTFields], or
	// of objects to disclose whole); at least one. Nothing else leaves.
	Disclose []sdjwt.Path
	// Audience names who receives it (their DID, web address or name, as
	// the patient gives it): the Key Binding JWT is made for it, with a
	// nonce of the wallet's, so the receiver can check that the holder
	// made it for them and nobody can pass it on as made for someone else.
	// Empty requires Unbound.
	Audience string
	// Unbound shares without a Key Binding JWT: whoever holds the
	// result can show it as theirs to anyone. The patient must ask for
	// it explicitly.
	Unbound bool
	// Force shares a credential the wallet knows is revoked, suspended,
	// expired or invalid (see [PresentRequest.Force]).
	Force bool
}

// SharedSDJWT is an SD-JWT VC shared by hand, or its preview.
type SharedSDJWT struct {
	// Token is the SD-JWT+KB (or, unbound, the SD-JWT ending in "~") to
	// give; empty in a preview.
	Token string
	// Audience and Nonce are the Key Binding JWT's aud and nonce; both
	// empty when unbound. The nonce is drawn by the wallet (there is no
	// verifier's request): a receiver that remembers it can spot a copy.
	Audience, Nonce string
	// Disclosed and Withheld are the Disclosures' paths sent and kept.
	Disclosed, Withheld []sdjwt.Path
	// Seen is exactly what the receiver reconstructs: the always-visible
	// claims (iss, vct, iat, exp, cnf, status) and the disclosed details.
	Seen map[string]any
}

// Bound reports whether the share carries a Key Binding JWT.
func (s *SharedSDJWT) Bound() bool { return s.Audience != "" }

// ErrNothingChosen is returned by [Wallet.PreviewShare] and
// [Wallet.ShareSDJWT] when no detail is chosen: sharing by hand discloses
// only what the patient ticks.
var ErrNothingChosen = errors.New("share: choose at least one detail to disclose")

func (r *ShareSDJWTRequest) valid() error {
	if len(r.Disclose) == 0 {
		return ErrNothingChosen
	}
	r.Audience = strings.TrimSpace(r.Audience)
	switch {
	case r.Audience == "" && !r.Unbound:
		return errors.New("share: name who receives it (the key binding is made for them), or share unbound, which anyone holding it can pass on")
	case r.Audience != "" && r.Unbound:
		return errors.New("share: a named receiver and unbound contradict each other: choose one")
	case len(r.Audience) > 512 || strings.ContainsFunc(r.Audience, func(c rune) bool { return c < ' ' || c == 0x7f }):
		return errors.New("share: the receiver's name is longer than 512 characters or holds control characters")
	}
	return nil
}

// PreviewShare returns what [Wallet.ShareSDJWT] would give for req,
// without the token: the details disclosed and kept, and exactly what the
// receiver would see. It signs nothing and records nothing. Errors: those
// of ShareSDJWT.
func (w *Wallet) PreviewShare(req ShareSDJWTRequest) (*SharedSDJWT, error) {
	if err := req.valid(); err != nil {
		return nil, err
	}
	w.mu.Lock()
	h, _, err := w.holdingLocked(req.CredentialID)
	w.mu.Unlock()
	if err != nil {
		return nil, err
	}
	p, err := h.Present(req.Disclose, nil)
	if err != nil {
		return nil, fmt.Errorf("share: %w", err)
	}
	seen, err := p.Seen()
	if err != nil {
		return nil, err
	}
	return &SharedSDJWT{Audience: req.Audience, Disclosed: p.Disclosed, Withheld: p.Withheld, Seen: seen}, nil
}

// ShareSDJWT makes a presentation of the wallet's SD-JWT VC that
// discloses req.Disclose and nothing else, for sharing by hand (a file, a
// QR code): with a Key Binding JWT signed by the credential DID's key for
// req.Audience and a fresh nonce, or without one when req.Unbound. The
// history records the share (the disclosed paths, never values; the
// audience, or that it was unbound) before the token is returned.
// Errors: [ErrNothingChosen]; no audience without Unbound (or both); a
// path the credential does not hold (wraps sdjwt.ErrNoSuchClaim); a
// credential that is not an SD-JWT VC; one the wallet knows is not current
// unless req.Force ([*NotPresentableError]).
func (w *Wallet) ShareSDJWT(ctx context.Context, req ShareSDJWTRequest) (*SharedSDJWT, error) {
	if err := req.valid(); err != nil {
		return nil, err
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
	out := &SharedSDJWT{Audience: req.Audience}
	var kb *sdjwt.KeyBindingOptions
	if !req.Unbound {
		k, _, err := w.keyLocked(c.Subject)
		if err != nil {
			return nil, err
		}
		out.Nonce = randid.Hex(16)
		kb = &sdjwt.KeyBindingOptions{Key: k, Audience: req.Audience, Nonce: out.Nonce, IssuedAt: w.cfg.now()}
	}
	p, err := h.Present(req.Disclose, kb)
	if err != nil {
		return nil, fmt.Errorf("share: %w", err)
	}
	if out.Seen, err = p.Seen(); err != nil {
		return nil, err
	}
	out.Token, out.Disclosed, out.Withheld = p.Token, p.Disclosed, p.Withheld
	audience := req.Audience
	if req.Unbound {
		audience = UnboundAudience
	}
	if err := w.recordSDJWTLocked(c, p, audience); err != nil {
		return nil, err
	}
	w.cfg.log().Info("sd-jwt shared by hand", "id", c.ID, "disclosed", len(p.Disclosed), "withheld", len(p.Withheld), "bound", !req.Unbound)
	return out, nil
}

// UnboundAudience is the history's audience of an unbound share: anyone
// who holds the file or code.
const UnboundAudience = "anyone holding it (shared without key binding)"
