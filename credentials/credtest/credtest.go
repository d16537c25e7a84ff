// Package credtest is the credentials library's test kit: parties with
// reproducible did:key identities, a key function over them, and a settable
// clock, so that every package's tests use the same ones instead of copies.
//
// It imports only credentials/key, so that the tests of every credentials
// package (did and vc included) can use it. Higher-level kits build on it:
// wallet/wallettest (a test hospital that issues credentials, a verifier
// whose answers a test controls).
package credtest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/credentials/key"
)

// Party is a test issuer, holder or verifier: a key and its did:key
// identifiers.
type Party struct {
	Key *key.PrivateKey
	// DID is the did:key of Key ("did:key:z6Mk…" or "did:key:zDn…").
	DID string
	// Kid is the DID URL of Key in DID's document: DID#<multikey>.
	Kid string
}

// NewParty returns the party whose alg key is derived from seed (SHA-256 of
// it: an Ed25519 seed or a P-256 scalar), so the same seed gives the same
// DID on every run. It fails the test if the key cannot be made.
func NewParty(t testing.TB, alg key.Alg, seed string) Party {
	t.Helper()
	s := sha256.Sum256([]byte(seed))
	var k *key.PrivateKey
	var err error
	switch alg {
	case key.Ed25519:
		k, err = key.NewEd25519FromSeed(s[:])
	case key.P256:
		k, err = key.NewP256FromScalar(s[:])
	default:
		err = fmt.Errorf("no test keys of type %s", alg)
	}
	if err != nil {
		t.Fatalf("credtest.NewParty(%s, %q): %v", alg, seed, err)
	}
	return PartyOf(k)
}

// PartyOf returns the party of an existing key.
func PartyOf(k *key.PrivateKey) Party {
	mk := k.Public().Multikey()
	d := "did:key:" + mk
	return Party{Key: k, DID: d, Kid: d + "#" + mk}
}

// Keys returns a key function (the shape of vc.KeyFunc) that knows exactly
// the parties' kids: any other kid is an error.
func Keys(ps ...Party) func(context.Context, string) (key.PublicKey, error) {
	m := make(map[string]key.PublicKey, len(ps))
	for _, p := range ps {
		m[p.Kid] = p.Key.Public()
	}
	return func(_ context.Context, kid string) (key.PublicKey, error) {
		k, ok := m[kid]
		if !ok {
			return key.PublicKey{}, fmt.Errorf("credtest: no key %s", kid)
		}
		return k, nil
	}
}

// Clock is a settable clock, safe for concurrent use. Pass its Now method
// wherever a Config takes a clock.
type Clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d (backwards when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
