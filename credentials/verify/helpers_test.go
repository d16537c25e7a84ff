package verify

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
)

// party is a test issuer or holder: a key and its DID identifiers.
type party struct {
	k   *key.PrivateKey
	did string
	kid string
}

// keyParty makes a did:key party from a seed, so runs are reproducible.
func keyParty(t testing.TB, alg key.Alg, seed string) party {
	t.Helper()
	s := sha256.Sum256([]byte(seed))
	var k *key.PrivateKey
	var err error
	if alg == key.Ed25519 {
		k, err = key.NewEd25519FromSeed(s[:])
	} else {
		k, err = key.NewP256FromScalar(s[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	d := did.KeyDID(k.Public())
	mk := k.Public().Multikey()
	return party{k: k, did: d, kid: d + "#" + mk}
}

// clock is an injectable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fetcher serves status lists from a map, counts fetches, and can be made
// to fail (offline).
type fetcher struct {
	mu      sync.Mutex
	lists   map[string]string
	offline bool
	fetches atomic.Int64
}

func (f *fetcher) FetchStatusList(_ context.Context, url string) (string, error) {
	f.fetches.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.offline {
		return "", errors.New("registry unreachable")
	}
	tok, ok := f.lists[url]
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrStatusListNotFound, url)
	}
	return tok, nil
}

func (f *fetcher) set(url, tok string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists[url] = tok
}

func (f *fetcher) setOffline(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offline = v
}

// trust is an Accreditations over a fixed set of "issuer|type" pairs.
type trust struct {
	ok  map[string]bool
	err error
}

func (t trust) Accredited(_ context.Context, issuer, typ string, _ time.Time) (bool, error) {
	if t.err != nil {
		return false, t.err
	}
	return t.ok[issuer+"|"+typ], nil
}

// world is a test setting: an issuer with revocation and suspension lists,
// a holder, a verifier clock, a fetcher and a resolver.
type world struct {
	t       testing.TB
	clock   *clock
	issuer  party
	holder  party
	fetcher *fetcher
	// resolver resolves did:key, plus did:example DIDs registered in docs.
	docs     map[string]*did.Document
	resolves atomic.Int64
	revList  *statuslist.List
	susList  *statuslist.List
}

const (
	revURL = "https://registry.example/1.0/status-lists/rev"
	susURL = "https://registry.example/1.0/status-lists/sus"
	// Indexes set in the test lists.
	revokedIndex   = 5
	suspendedIndex = 9
)

func newWorld(t testing.TB, issuerAlg key.Alg) *world {
	t.Helper()
	w := &world{
		t:       t,
		clock:   &clock{t: time.Now().UTC().Truncate(time.Second).Add(time.Second)},
		issuer:  keyParty(t, issuerAlg, "issuer"),
		holder:  keyParty(t, key.Ed25519, "holder"),
		fetcher: &fetcher{lists: map[string]string{}},
		docs:    map[string]*did.Document{},
	}
	var err error
	if w.revList, err = statuslist.New(statuslist.MinEntries); err != nil {
		t.Fatal(err)
	}
	if w.susList, err = statuslist.New(statuslist.MinEntries); err != nil {
		t.Fatal(err)
	}
	w.revList.Set(revokedIndex, true)
	w.susList.Set(suspendedIndex, true)
	w.publish(revURL, w.issuer, statuslist.Revocation, w.revList, 0)
	w.publish(susURL, w.issuer, statuslist.Suspension, w.susList, 0)
	return w
}

// publish signs a status list credential and makes the fetcher serve it.
func (w *world) publish(url string, by party, p statuslist.Purpose, l *statuslist.List, ttl time.Duration) string {
	w.t.Helper()
	c, err := statuslist.NewCredential(url, by.did, p, l, ttl)
	if err != nil {
		w.t.Fatal(err)
	}
	tok, err := vc.Issue(c, by.k, by.kid)
	if err != nil {
		w.t.Fatal(err)
	}
	w.fetcher.set(url, tok)
	return tok
}

func (w *world) resolver() did.Resolver {
	return did.ResolverFunc(func(ctx context.Context, d string) (*did.Resolution, error) {
		w.resolves.Add(1)
		if doc, ok := w.docs[d]; ok {
			return &did.Resolution{Document: doc}, nil
		}
		parsed, err := did.Parse(d)
		if err != nil {
			return nil, err
		}
		if parsed.Method == "key" {
			return did.KeyResolver{}.Resolve(ctx, d)
		}
		return nil, fmt.Errorf("%w: %s", did.ErrNotFound, d)
	})
}

func (w *world) verifier(mod ...func(*Config)) *Verifier {
	w.t.Helper()
	cfg := Config{Resolver: w.resolver(), Status: w.fetcher, Now: w.clock.now}
	for _, m := range mod {
		m(&cfg)
	}
	v, err := New(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

func entry(url, purpose string, index int) vc.Status {
	i := strconv.Itoa(index)
	return vc.Status{ID: url + "#" + i, Type: statuslist.TypeEntry, StatusPurpose: purpose,
		StatusListIndex: i, StatusListCredential: url}
}

// credential returns an allergy credential for the holder with one
// revocation and one suspension entry (both clear), valid for a year from
// an hour ago; mod changes it before signing.
func (w *world) credential(mod ...func(*vc.Credential)) *vc.Credential {
	from := w.clock.now().Add(-time.Hour)
	until := from.Add(365 * 24 * time.Hour)
	c := &vc.Credential{
		Context:    []string{vc.ContextV2},
		ID:         "urn:uuid:6c9a5e0e-8f7b-4d3c-a1b2-3c4d5e6f7a8b",
		Type:       []string{vc.TypeCredential, "AllergyCredential"},
		Issuer:     w.issuer.did,
		ValidFrom:  &from,
		ValidUntil: &until,
		Subject:    map[string]any{"id": w.holder.did, "allergy": "penicillin"},
		Status:     []vc.Status{entry(revURL, "revocation", 1), entry(susURL, "suspension", 1)},
	}
	for _, m := range mod {
		m(c)
	}
	return c
}

func (w *world) issue(c *vc.Credential) string {
	w.t.Helper()
	return w.issueWith(c, w.issuer.k, w.issuer.kid)
}

func (w *world) issueWith(c *vc.Credential, k *key.PrivateKey, kid string) string {
	w.t.Helper()
	tok, err := vc.Issue(c, k, kid)
	if err != nil {
		w.t.Fatalf("vc.Issue: %v", err)
	}
	return tok
}

const (
	audience = "https://er.hospital-b.example"
	nonce    = "n-0S6_WzA2Mj"
)

// present wraps tokens in a vp+jwt signed by p for audience and nonce.
func (w *world) present(p party, aud, n string, tokens ...string) string {
	w.t.Helper()
	vp := &vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation}, Holder: p.did, Credentials: tokens}
	tok, err := vc.SignPresentation(vp, p.k, p.kid, aud, n, vc.WithIssuedAt(w.clock.now()))
	if err != nil {
		w.t.Fatalf("vc.SignPresentation: %v", err)
	}
	return tok
}
