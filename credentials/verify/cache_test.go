package verify

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
)

// TestCache: a cache filled while online verifies the same credential with
// no network; what it lacks is named (ErrNotCached, never "unknown
// issuer"); what it serves is re-verified; its fetch times are kept.
func TestCache(t *testing.T) {
	w := newWorld(t, key.Ed25519)
	const hosp = "did:example:hospital"
	h := credtest.Party{Key: w.issuer.Key, DID: hosp, Kid: hosp + "#k1"}
	w.docs[hosp] = &did.Document{Context: did.DefaultContext(), ID: hosp,
		VerificationMethod: []did.VerificationMethod{{ID: h.Kid, Type: "Multikey", Controller: hosp, PublicKey: h.Key.Public()}},
		AssertionMethod:    []string{h.Kid}}
	const listURL = "https://registry.example/1.0/status-lists/hosp"
	l, _ := statuslist.New(statuslist.MinEntries)
	l.Set(revokedIndex, true)
	w.publish(listURL, h, statuslist.Revocation, l, 0)
	issue := func(index int) string {
		return w.issueWith(w.credential(func(c *vc.Credential) {
			c.Issuer = hosp
			c.Status = []vc.Status{entry(listURL, "revocation", index)}
		}), h.Key, h.Kid)
	}
	ok, revoked := issue(1), issue(revokedIndex)

	dir := filepath.Join(t.TempDir(), "cache")
	c, err := OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	filled := w.clock.Now()
	saved, err := c.Fill(ctx, w.resolver(), w.fetcher, w.present(w.holder, audience, nonce, ok), filled)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(saved, " ") != listURL+" "+hosp {
		t.Errorf("Fill saved %q, want the list and the issuer", saved)
	}
	if d, n := c.Len(); d != 1 || n != 1 {
		t.Errorf("Len = %d DIDs, %d lists; want 1, 1", d, n)
	}

	// Reopened from disk, with no network at all, a day later.
	w.clock.Advance(24 * time.Hour)
	c, err = OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	offline := func() (*Verifier, *CacheSource) {
		src := c.Source()
		v, err := New(Config{Resolver: did.NewRouter(map[string]did.Resolver{"key": did.KeyResolver{}, "example": src}), Status: src, Now: w.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return v, src
	}
	v, src := offline()
	wantResult(t, v.Credential(ctx, ok), true, "", "")
	if !src.Oldest().Equal(filled) {
		t.Errorf("Oldest = %v, want the fill time %v", src.Oldest(), filled)
	}
	v, _ = offline()
	wantResult(t, v.Credential(ctx, revoked), false, ReasonRevoked, CheckStatus)
	if got, ok := c.Fetched(hosp); !ok || !got.Equal(filled) {
		t.Errorf("Fetched(%s) = %v, %v", hosp, got, ok)
	}

	tests := []struct {
		name, reason, check, hint string
		token                     func() string
	}{
		{"issuer not cached", ReasonIssuerUnavailable, CheckIssuer, "medid cache update --dir " + dir + " --issuer did:example:other", func() string {
			return w.issueWith(w.credential(func(c *vc.Credential) { c.Issuer = "did:example:other" }), h.Key, "did:example:other#k1")
		}},
		{"list not cached", ReasonStatusUnavailable, CheckStatus, "save the status list https://registry.example/1.0/status-lists/none", func() string {
			return w.issueWith(w.credential(func(c *vc.Credential) {
				c.Issuer = hosp
				c.Status = []vc.Status{entry("https://registry.example/1.0/status-lists/none", "revocation", 1)}
			}), h.Key, h.Kid)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := offline()
			r := v.Credential(ctx, tt.token())
			wantResult(t, r, false, tt.reason, tt.check)
			if !r.Unavailable || !strings.Contains(r.Cause, tt.hint) {
				t.Errorf("Unavailable %v, Cause %q; want the hint %q", r.Unavailable, r.Cause, tt.hint)
			}
		})
	}

	// The cache is not a trust anchor: a list altered on disk fails.
	other := credtest.NewParty(t, key.Ed25519, "forger")
	forged, err := statuslist.NewCredential(listURL, hosp, statuslist.Revocation, l, 0)
	if err != nil {
		t.Fatal(err)
	}
	ftok, err := vc.Issue(forged, other.Key, hosp+"#k1")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SaveStatusList(listURL, ftok, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	v, _ = offline()
	r := v.Credential(ctx, ok)
	wantResult(t, r, false, ReasonStatusUnavailable, CheckStatus)
	if r.Unavailable {
		t.Errorf("a forged cached list is unavailable (%q); want checked and failed", r.Cause)
	}

	if err := os.WriteFile(filepath.Join(dir, cacheIndexFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCache(dir); err == nil || !strings.Contains(err.Error(), "delete the folder") {
		t.Errorf("OpenCache of a damaged index: %v", err)
	}
	if _, err := c.Source().Resolve(ctx, "did:example:nobody"); !errors.Is(err, ErrNotCached) || errors.Is(err, did.ErrNotFound) {
		t.Errorf("Resolve of an uncached DID: %v, want ErrNotCached only", err)
	}
}
