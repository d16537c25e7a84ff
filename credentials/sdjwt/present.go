package sdjwt

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

// Holding is an SD-JWT as its holder keeps it: every Disclosure, and the
// path each one discloses. It is made by [Open] and checks structure only;
// the holder verifies the issuer's signature with [Verify] or [VerifyVC]
// when the credential arrives.
type Holding struct {
	// Claims is the fully disclosed claim set.
	Claims map[string]any
	// Paths lists the path of every Disclosure, sorted: what can be
	// disclosed one by one.
	Paths []Path
	// Header is the issuer-signed JWT's header.
	Header vc.Header
	t      *token
	placed []placed
}

// Open parses an SD-JWT as issued (combined format, every Disclosure, no
// KB-JWT) for its holder: the Disclosures must satisfy every rule Verify
// enforces, so the holder never stores what no verifier would accept.
// Errors are [*RefusalError]s.
func Open(sdjwt string) (*Holding, error) {
	t, err := parse(sdjwt, "")
	if err != nil {
		return nil, err
	}
	if t.parts.kb != "" {
		return nil, refuse(ReasonMalformed, "an SD-JWT as issued ends with '~'; this one carries a Key Binding JWT (it is a presentation)")
	}
	claims, proc, err := process(t.payload, t.discs)
	if err != nil {
		return nil, err
	}
	return &Holding{Claims: claims, Paths: proc.disclosedPaths(), Header: t.jws.Header, t: t, placed: proc.placed}, nil
}

// KeyBindingOptions makes the Key Binding JWT of a presentation.
type KeyBindingOptions struct {
	// Key is the holder's key, the one cnf.jwk names.
	Key *key.PrivateKey
	// Audience and Nonce come from the verifier's request.
	Audience, Nonce string
	// IssuedAt is the KB-JWT's iat; zero means now.
	IssuedAt time.Time
}

// Presented is a presentation made by [Holding.Present].
type Presented struct {
	// Token is the SD-JWT+KB (or the SD-JWT, without key binding) to send.
	Token string
	// Disclosed and Withheld are the paths of the Disclosures sent and
	// kept back, sorted, so that a wallet can show the holder exactly what
	// leaves.
	Disclosed, Withheld []Path
}

// Present selects the Disclosures that reveal the claims at paths (and
// nothing else): for each path, the Disclosures of the objects and arrays
// on the way to it, and every Disclosure at or below it. A nil element in
// a path selects every element of an array. A path that selects no claim
// of the credential is an error wrapping [ErrNoSuchClaim]; an empty paths
// discloses nothing but the always-visible claims. With kb set, a Key
// Binding JWT over the result is appended (typ kb+jwt, aud, nonce, iat,
// sd_hash); kb.Key must be the key cnf.jwk names.
func (h *Holding) Present(paths []Path, kb *KeyBindingOptions) (*Presented, error) {
	for _, p := range paths {
		if len(p) == 0 {
			return nil, fmt.Errorf("sd-jwt: an empty path would disclose everything; name the claims to disclose")
		}
		if !h.has(p) {
			return nil, fmt.Errorf("%w: %s is not in this credential", ErrNoSuchClaim, p)
		}
	}
	out := &Presented{}
	var b strings.Builder
	b.WriteString(h.t.parts.jwt)
	b.WriteByte('~')
	at := make(map[*Disclosure]Path, len(h.placed))
	for _, pl := range h.placed {
		at[pl.d] = pl.path
	}
	// In the order issued, which is not the order of the claims (the
	// issuer sorted them by name), so the order reveals nothing more.
	for _, d := range h.t.discs {
		pl := placed{d: d, path: at[d]}
		keep := false
		for _, p := range paths {
			if p.Within(pl.path) {
				keep = true
				break
			}
		}
		if keep {
			b.WriteString(pl.d.Raw)
			b.WriteByte('~')
			out.Disclosed = append(out.Disclosed, pl.path)
		} else {
			out.Withheld = append(out.Withheld, pl.path)
		}
	}
	out.Token = b.String()
	byName := func(a, b Path) int { return cmp.Compare(a.String(), b.String()) }
	slices.SortFunc(out.Disclosed, byName)
	slices.SortFunc(out.Withheld, byName)
	if kb == nil {
		return out, nil
	}
	holder, err := holderKey(h.Claims)
	if err != nil {
		return nil, err
	}
	if kb.Key == nil || !kb.Key.Public().Equal(holder) {
		return nil, fmt.Errorf("sd-jwt: the key binding key is not the holder key the credential's cnf.jwk names")
	}
	jwt, err := KeyBindingJWT(out.Token, kb)
	if err != nil {
		return nil, err
	}
	out.Token += jwt
	return out, nil
}

// HolderKey returns the key cnf.jwk names: the one a presentation's Key
// Binding JWT must be signed with. Errors are [*RefusalError]s
// ([ReasonHolderKey]).
func (h *Holding) HolderKey() (key.PublicKey, error) { return holderKey(h.Claims) }

// has reports whether p selects at least one claim of the credential.
func (h *Holding) has(p Path) bool {
	return hasPath(h.Claims, p)
}

func hasPath(v any, p Path) bool {
	if len(p) == 0 {
		return true
	}
	switch v := v.(type) {
	case map[string]any:
		name, ok := p[0].(string)
		if !ok {
			return false
		}
		e, ok := v[name]
		return ok && hasPath(e, p[1:])
	case []any:
		switch i := p[0].(type) {
		case nil:
			for _, e := range v {
				if hasPath(e, p[1:]) {
					return true
				}
			}
		case int:
			return i < len(v) && hasPath(v[i], p[1:])
		}
	}
	return false
}

// KeyBindingJWT signs the Key Binding JWT for sdjwt, an SD-JWT in the
// combined format ending with "~" (the issuer-signed JWT and the
// Disclosures chosen, each followed by "~"): header {alg, typ: kb+jwt},
// payload {iat, aud, nonce, sd_hash}, where sd_hash is base64url(SHA-256)
// of sdjwt's ASCII bytes.
func KeyBindingJWT(sdjwt string, kb *KeyBindingOptions) (string, error) {
	if kb == nil || kb.Key == nil {
		return "", fmt.Errorf("sd-jwt: no key binding key")
	}
	if kb.Audience == "" || kb.Nonce == "" {
		return "", fmt.Errorf("sd-jwt: a Key Binding JWT needs the verifier's audience and nonce")
	}
	if !strings.HasSuffix(sdjwt, "~") {
		return "", fmt.Errorf("sd-jwt: the SD-JWT to bind must end with '~'")
	}
	iat := kb.IssuedAt
	if iat.IsZero() {
		iat = time.Now()
	}
	body, err := marshal(map[string]any{
		"iat": iat.Unix(), "aud": kb.Audience, "nonce": kb.Nonce, "sd_hash": digest(sdjwt),
	})
	if err != nil {
		return "", err
	}
	return vc.SignJWS(body, kb.Key, KBMediaType, "", "")
}

// Seen returns the claim set a verifier of p reconstructs: the same
// processing [Verify] does (without the signatures, which are the
// issuer's and the holder's own), so the always-visible claims and
// exactly the disclosed ones, without SD-JWT's own members. A wallet shows
// it as the preview of what leaves. Errors are [*RefusalError]s (never
// for a presentation [Holding.Present] made).
func (p *Presented) Seen() (map[string]any, error) {
	t, err := parse(p.Token, "")
	if err != nil {
		return nil, err
	}
	claims, _, err := process(t.payload, t.discs)
	if err != nil {
		return nil, err
	}
	delete(claims, sdAlgKey)
	return claims, nil
}
