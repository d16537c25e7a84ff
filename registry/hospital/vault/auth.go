package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/internal/atomicfile"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// authenticator verifies requests: signature by the issuer's DID key,
// audience, freshness and single use, also across restarts.
//
// Single use across restarts: a clean shutdown ([authenticator.close])
// saves the nonces still inside their freshness window to nonces.json, and
// the next start loads and deletes that file. When a start finds no file
// (the first start, or the last run crashed and its nonces are lost) it
// refuses every request issued before it started (notBefore): such a
// request may have been used before the crash. A client whose request is
// refused that way signs a new one.
type authenticator struct {
	aud       string
	resolver  did.Resolver
	skew      time.Duration
	path      string
	notBefore time.Time

	mu     sync.Mutex // guards nonces and sweep
	nonces map[string]time.Time
	sweep  time.Time
}

// nonceFile is what a clean shutdown leaves for the next start.
type nonceFile struct {
	Saved  time.Time            `json:"saved"`
	Nonces map[string]time.Time `json:"nonces"` // hex SHA-256 of issuer and nonce -> expiry
}

func openAuthenticator(dir, aud string, resolver did.Resolver, skew time.Duration, now time.Time) (*authenticator, error) {
	a := &authenticator{aud: aud, resolver: resolver, skew: skew, path: filepath.Join(dir, "nonces.json"), nonces: map[string]time.Time{}}
	b, err := os.ReadFile(a.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		a.notBefore = now.Truncate(time.Second)
	case err != nil:
		return nil, err
	default:
		var f nonceFile
		if err := json.Unmarshal(b, &f); err != nil {
			// Unreadable: as if the last run crashed.
			a.notBefore = now.Truncate(time.Second)
			break
		}
		for k, exp := range f.Nonces {
			if now.Before(exp) {
				a.nonces[k] = exp
			}
		}
	}
	// The file is valid for this start only: a crash from now on must
	// not bring back a set that misses this run's nonces.
	if err := os.Remove(a.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	atomicfile.SyncDir(dir)
	return a, nil
}

// close saves the nonces still inside their window for the next start.
func (a *authenticator) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	f := nonceFile{Saved: now, Nonces: map[string]time.Time{}}
	for k, exp := range a.nonces {
		if now.Before(exp) {
			f.Nonces[k] = exp
		}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(a.path, b, 0o600)
}

// authenticate returns the verified request or an error wrapping
// [ErrUnauthenticated], [ErrReplay] or [ErrBadRequest].
func (a *authenticator) authenticate(ctx context.Context, token string, now time.Time) (*vaultapi.Request, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: no signed request: send \"Authorization: %s <JWS>\"", vaultapi.ErrUnauthenticated, vaultapi.AuthScheme)
	}
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
	if at.Before(a.notBefore) {
		return r, fmt.Errorf("%w: the request was signed at %s, before the vault restarted at %s; sign a new one", vaultapi.ErrReplay,
			at.UTC().Format(time.RFC3339), a.notBefore.UTC().Format(time.RFC3339))
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
	sum := sha256.Sum256([]byte(r.Issuer + "\x00" + r.Nonce))
	nk := hex.EncodeToString(sum[:])
	a.mu.Lock()
	defer a.mu.Unlock()
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
