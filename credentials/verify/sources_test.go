package verify

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
)

// fakeRegistry is a Registry over a world: its resolver, its fetcher and a
// fixed set of accreditations.
type fakeRegistry struct {
	w     *world
	trust trust
}

func (r fakeRegistry) Resolve(ctx context.Context, d string) (*did.Resolution, error) {
	return r.w.resolver().Resolve(ctx, d)
}

func (r fakeRegistry) FetchStatusList(ctx context.Context, url string) (string, error) {
	return r.w.fetcher.FetchStatusList(ctx, url)
}

func (r fakeRegistry) Accredited(ctx context.Context, issuer, typ string, at time.Time) (bool, error) {
	return r.trust.Accredited(ctx, issuer, typ, at)
}

func TestSources(t *testing.T) {
	w := newWorld(t, key.Ed25519)
	// did:example:hospital is a registry DID with the issuer's key.
	const hospital = "did:example:hospital"
	w.docs[hospital] = &did.Document{Context: did.DefaultContext(), ID: hospital,
		VerificationMethod: []did.VerificationMethod{{ID: hospital + "#k1", Type: "Multikey", Controller: hospital, PublicKey: w.issuer.Key.Public()}},
		AssertionMethod:    []string{hospital + "#k1"}}
	fromHospital := w.issueWith(w.credential(func(c *vc.Credential) { c.Issuer, c.Status = hospital, nil }), w.issuer.Key, hospital+"#k1")
	noStatus := w.issue(w.credential(func(c *vc.Credential) { c.Status = nil }))
	withStatus := w.issue(w.credential())
	revoked := w.issue(w.credential(func(c *vc.Credential) { c.Status[0] = entry(revURL, "revocation", revokedIndex) }))

	accredited := &fakeRegistry{w: w, trust: trust{ok: map[string]bool{
		w.issuer.DID + "|AllergyCredential": true, hospital + "|AllergyCredential": true}}}
	notAccredited := &fakeRegistry{w: w}
	// A revocation list that exists only on disk, with index 1 revoked.
	const localURL = "https://hospital.example/status/local"
	path := t.TempDir() + "/local.jwt"
	if err := writeFile(path, w.publish(localURL, w.issuer, statuslist.Revocation, w.revList, 0)); err != nil {
		t.Fatal(err)
	}
	delete(w.fetcher.lists, localURL)
	localRevoked := w.issue(w.credential(func(c *vc.Credential) { c.Status[0] = entry(localURL, "revocation", revokedIndex) }))
	files := FileStatusFetcher{localURL: path}

	offlineDocs := did.ResolverFunc(func(ctx context.Context, d string) (*did.Resolution, error) {
		if d == hospital {
			return &did.Resolution{Document: w.docs[hospital]}, nil
		}
		return nil, did.ErrNotFound
	})

	tests := []struct {
		name   string
		src    Sources
		token  string
		valid  bool
		reason string
		check  string
	}{
		{"zero: did:key without status", Sources{}, noStatus, true, "", ""},
		{"zero: a status list cannot be fetched", Sources{}, withStatus, false, ReasonStatusUnavailable, CheckStatus},
		{"zero: the registry's DIDs do not resolve", Sources{Method: "example"}, fromHospital, false, ReasonUnknownIssuer, CheckIssuer},
		{"registry: its DIDs, lists and accreditations", Sources{Registry: accredited, Method: "example"}, fromHospital, true, "", ""},
		{"registry: did:key still resolves", Sources{Registry: accredited, Method: "example"}, withStatus, true, "", ""},
		{"registry: revoked on the ledger", Sources{Registry: accredited}, revoked, false, ReasonRevoked, CheckStatus},
		{"registry: accreditation is checked", Sources{Registry: notAccredited}, withStatus, false, ReasonIssuerNotAccredited, CheckAccreditation},
		{"registry under another method only", Sources{Registry: accredited}, fromHospital, false, ReasonUnknownIssuer, CheckIssuer},
		{"files: a local list", Sources{StatusFiles: files}, localRevoked, false, ReasonRevoked, CheckStatus},
		{"files: no file and no registry", Sources{StatusFiles: files}, withStatus, false, ReasonStatusUnavailable, CheckStatus},
		{"files first, then the registry", Sources{StatusFiles: files, Registry: accredited}, withStatus, true, "", ""},
		{"files and the registry", Sources{StatusFiles: files, Registry: accredited}, localRevoked, false, ReasonRevoked, CheckStatus},
		{"offline DID documents", Sources{DIDs: offlineDocs, Method: "example"}, fromHospital, true, "", ""},
		{"offline DID documents are ignored beside a registry", Sources{DIDs: offlineDocs, Registry: notAccredited}, fromHospital, false, ReasonUnknownIssuer, CheckIssuer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewFor(tt.src, Config{Now: w.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			wantResult(t, v.Credential(ctx, tt.token), tt.valid, tt.reason, tt.check)
		})
	}
}

func TestSourcesStatusFetcher(t *testing.T) {
	w := newWorld(t, key.Ed25519)
	if f := (Sources{}).StatusFetcher(); f != nil {
		t.Errorf("zero Sources fetcher = %v, want nil", f)
	}
	reg := &fakeRegistry{w: w}
	if f := (Sources{Registry: reg}).StatusFetcher(); f != StatusFetcher(reg) {
		t.Errorf("registry-only fetcher = %v, want the registry itself", f)
	}
	other := FileStatusFetcher{"https://hospital.example/status/other": "/nonexistent"}
	_, err := (Sources{StatusFiles: other}).StatusFetcher().FetchStatusList(ctx, revURL)
	if !errors.Is(err, ErrStatusListNotFound) {
		t.Errorf("unknown list with files only: %v, want ErrStatusListNotFound", err)
	}
	tok, err := (Sources{StatusFiles: other, Registry: reg}).StatusFetcher().FetchStatusList(ctx, revURL)
	if err != nil || tok != w.fetcher.lists[revURL] {
		t.Errorf("fallback to the registry = %.20q, %v", tok, err)
	}
	// A file that exists in the map but cannot be read is an error, not a
	// reason to ask the registry for another copy.
	_, err = (Sources{StatusFiles: FileStatusFetcher{revURL: t.TempDir() + "/missing"}, Registry: reg}).StatusFetcher().FetchStatusList(ctx, revURL)
	if err == nil || errors.Is(err, ErrStatusListNotFound) {
		t.Errorf("unreadable local file: %v, want its read error", err)
	}
}

func TestNewForRefusesPresetSources(t *testing.T) {
	for name, cfg := range map[string]Config{
		"resolver": {Resolver: did.KeyResolver{}},
		"status":   {Status: StaticStatusFetcher{}},
		"trust":    {Trust: trust{}},
	} {
		if _, err := NewFor(Sources{}, cfg); err == nil {
			t.Errorf("NewFor with Config.%s set succeeded", name)
		}
	}
}
