package vault

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// authenticator verifies requests: signature by the issuer's DID key,
// audience, freshness and single use.
type authenticator struct {
	aud      string
	resolver did.Resolver
	skew     time.Duration

	mu     sync.Mutex // guards nonces and sweep
	nonces map[string]time.Time
	sweep  time.Time
}

// authenticate returns the verified request or an error wrapping
// [ErrUnauthenticated], [ErrReplay] or [ErrBadRequest].
func (a *authenticator) authenticate(ctx context.Context, token string, now time.Time) (*vaultapi.Request, error) {
	p, err := vaultapi.ParseSigned(token)
	if err != nil {
		return nil, err
	}
	r := &p.Request
	if r.Audience != a.aud {
		return r, fmt.Errorf("%w: the request is for %.128q, this vault is %s", vaultapi.ErrUnauthenticated, r.Audience, a.aud)
	}
	at := time.Unix(r.IssuedAt, 0)
	if at.Before(now.Add(-a.skew)) || at.After(now.Add(a.skew)) {
		return r, fmt.Errorf("%w: request time %s is more than %s from the vault's clock", vaultapi.ErrUnauthenticated, at.UTC().Format(time.RFC3339), a.skew)
	}
	res, err := a.resolver.Resolve(ctx, r.Issuer)
	if err != nil {
		return r, fmt.Errorf("%w: resolve %.128s: %v", vaultapi.ErrUnauthenticated, r.Issuer, err)
	}
	pub, err := res.Document.Key(p.Kid, did.Authentication)
	if err != nil {
		return r, fmt.Errorf("%w: %v", vaultapi.ErrUnauthenticated, err)
	}
	if string(pub.Alg().JWS()) != p.Alg || !pub.Verify(p.SigningInput, p.Sig) {
		return r, fmt.Errorf("%w: bad signature by %s", vaultapi.ErrUnauthenticated, p.Kid)
	}
	// Single use: remember (issuer, nonce) until the request is stale anyway.
	nk := r.Issuer + "\x00" + r.Nonce
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.nonces == nil {
		a.nonces = map[string]time.Time{}
	}
	if now.Sub(a.sweep) > a.skew {
		for k, exp := range a.nonces {
			if now.After(exp) {
				delete(a.nonces, k)
			}
		}
		a.sweep = now
	}
	if _, seen := a.nonces[nk]; seen {
		return r, fmt.Errorf("%w: nonce %.32q of %s was used", vaultapi.ErrReplay, r.Nonce, r.Issuer)
	}
	a.nonces[nk] = at.Add(a.skew)
	return r, nil
}
