package verify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
)

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
	clock   *credtest.Clock
	issuer  credtest.Party
	holder  credtest.Party
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
		clock:   credtest.NewClock(time.Now().UTC().Truncate(time.Second).Add(time.Second)),
		issuer:  credtest.NewParty(t, issuerAlg, "issuer"),
		holder:  credtest.NewParty(t, key.Ed25519, "holder"),
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
func (w *world) publish(url string, by credtest.Party, p statuslist.Purpose, l *statuslist.List, ttl time.Duration) string {
	w.t.Helper()
	c, err := statuslist.NewCredential(url, by.DID, p, l, ttl)
	if err != nil {
		w.t.Fatal(err)
	}
	tok, err := vc.Issue(c, by.Key, by.Kid)
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
	cfg := Config{Resolver: w.resolver(), Status: w.fetcher, Now: w.clock.Now}
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
	from := w.clock.Now().Add(-time.Hour)
	until := from.Add(365 * 24 * time.Hour)
	c := &vc.Credential{
		Context:    []string{vc.ContextV2},
		ID:         "urn:uuid:6c9a5e0e-8f7b-4d3c-a1b2-3c4d5e6f7a8b",
		Type:       []string{vc.TypeCredential, "AllergyCredential"},
		Issuer:     w.issuer.DID,
		ValidFrom:  &from,
		ValidUntil: &until,
		Subject:    map[string]any{"id": w.holder.DID, "allergy": "penicillin"},
		Status:     []vc.Status{entry(revURL, "revocation", 1), entry(susURL, "suspension", 1)},
	}
	for _, m := range mod {
		m(c)
	}
	return c
}

func (w *world) issue(c *vc.Credential) string {
	w.t.Helper()
	return w.issueWith(c, w.issuer.Key, w.issuer.Kid)
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
func (w *world) present(p credtest.Party, aud, n string, tokens ...string) string {
	w.t.Helper()
	vp := &vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation}, Holder: p.DID, Credentials: tokens}
	tok, err := vc.SignPresentation(vp, p.Key, p.Kid, aud, n, vc.WithIssuedAt(w.clock.Now()))
	if err != nil {
		w.t.Fatalf("vc.SignPresentation: %v", err)
	}
	return tok
}
