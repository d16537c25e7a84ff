package verify

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/tokenstatus"
)

const (
	tslURL = "https://registry.example/1.0/token-status-lists/1"
	// Entries of the test Token Status List.
	tslValid, tslRevoked, tslSuspended = 3, 7, 8
)

// publishTSL signs a 2-bit Token Status List by `by` and serves it at url.
func (w *world) publishTSL(url string, by credtest.Party) {
	w.t.Helper()
	l, err := tokenstatus.New(tokenstatus.MinEntries, 2)
	if err != nil {
		w.t.Fatal(err)
	}
	l.Set(tslRevoked, tokenstatus.Invalid)
	l.Set(tslSuspended, tokenstatus.Suspended)
	tok, err := tokenstatus.Sign(&tokenstatus.Token{Issuer: by.DID, URI: url, IssuedAt: w.clock.Now().Add(-time.Minute), TTL: time.Hour, List: l}, by.Key, by.Kid)
	if err != nil {
		w.t.Fatal(err)
	}
	w.fetcher.set(url, tok)
}

// issueSD issues an allergy SD-JWT VC to the holder, pointing at entry idx
// of the Token Status List at url.
func (w *world) issueSD(by credtest.Party, url string, idx int, mod ...func(*sdjwt.Credential)) string {
	w.t.Helper()
	exp := w.clock.Now().Add(365 * 24 * time.Hour)
	c := &sdjwt.Credential{
		Issuer: by.DID, VCT: sdjwt.VCT("AllergyCredential"), Subject: w.holder.DID,
		IssuedAt: w.clock.Now().Add(-time.Hour), Expires: &exp, Holder: w.holder.Key.Public(),
		Status: &tokenstatus.Reference{Index: idx, URI: url},
		Claims: map[string]any{
			"criticality": "high",
			"code":        map[string]any{"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"},
			"reaction":    []any{"anaphylaxis", "urticaria", "nausea"},
		},
	}
	for _, m := range mod {
		m(c)
	}
	tok, err := sdjwt.IssueVC(c, by.Key, by.Kid, sdjwt.IssueOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

// presentSD discloses paths with a KB-JWT for aud and n.
func (w *world) presentSD(tok string, aud, n string, paths ...string) string {
	w.t.Helper()
	h, err := sdjwt.Open(tok)
	if err != nil {
		w.t.Fatal(err)
	}
	var ps []sdjwt.Path
	for _, p := range paths {
		pp, err := sdjwt.ParsePath(p)
		if err != nil {
			w.t.Fatal(err)
		}
		ps = append(ps, pp)
	}
	p, err := h.Present(ps, &sdjwt.KeyBindingOptions{Key: w.holder.Key, Audience: aud, Nonce: n, IssuedAt: w.clock.Now()})
	if err != nil {
		w.t.Fatal(err)
	}
	return p.Token
}

func TestDetectFormat(t *testing.T) {
	w := newWorld(t, key.Ed25519)
	w.publishTSL(tslURL, w.issuer)
	vcTok := w.issue(w.credential())
	sd := w.issueSD(w.issuer, tslURL, tslValid)
	for _, tc := range []struct{ tok, want string }{
		{vcTok, FormatVCJWT},
		{w.present(w.holder, audience, nonce, vcTok), FormatVPJWT},
		{sd, FormatSDJWT},
		{w.presentSD(sd, audience, nonce, "code.display"), FormatSDJWT},
		{w.fetcher.lists[tslURL], FormatTokenStatusList},
		{strings.SplitN(sd, "~", 2)[0], ""}, // an SD-JWT's JWT without its '~'
		{"not a token", ""},
		{"", ""},
	} {
		if got := DetectFormat(tc.tok); got != tc.want {
			t.Errorf("DetectFormat(%.30q) = %q, want %q", tc.tok, got, tc.want)
		}
	}
}

// TestSDJWTPresentation: the verifier of an SD-JWT VC presentation gets
// exactly the disclosed claims and says what was withheld; every failure
// has its reason and its check, and "could not check" differs from
// "checked and failed".
func TestSDJWTPresentation(t *testing.T) {
	w := newWorld(t, key.Ed25519)
	other := credtest.NewParty(t, key.Ed25519, "other issuer")
	w.publishTSL(tslURL, w.issuer)
	const otherTSL = "https://registry.example/1.0/token-status-lists/other"
	w.publishTSL(otherTSL, other)
	v := w.verifier(func(c *Config) {
		c.Trust = trust{ok: map[string]bool{w.issuer.DID + "|AllergyCredential": true}}
	})
	good := w.issueSD(w.issuer, tslURL, tslValid)

	r := v.Presentation(ctx, w.presentSD(good, audience, nonce, "code.display"), audience, nonce)
	wantResult(t, r, true, "", "")
	if r.Format != FormatSDJWT || len(r.Credentials) != 1 || r.Holder == "" {
		t.Fatalf("presentation result = %+v", r)
	}
	cr := r.Credentials[0]
	if !slices.Equal(cr.Disclosed, []string{"code", "code.display"}) || len(cr.Withheld) == 0 {
		t.Errorf("Disclosed %v, Withheld %v", cr.Disclosed, cr.Withheld)
	}
	if got, _ := json.Marshal(cr.SDJWT.Credential.Claims); string(got) != `{"code":{"display":"Penicillin"}}` {
		t.Errorf("claims = %s", got)
	}
	if cr.Subject != "" || !slices.Equal(cr.Types, []string{"AllergyCredential"}) || cr.Issuer != w.issuer.DID {
		t.Errorf("credential result = %+v", cr)
	}
	js, _ := json.Marshal(r)
	if strings.Contains(string(js), "Penicillin") {
		t.Error("the JSON result carries a claim value")
	}
	for _, name := range []string{CheckDisclosures, CheckStatus, CheckAccreditation} {
		if !slices.ContainsFunc(cr.Checks, func(c Check) bool { return c.Name == name && c.OK && !c.Skipped }) {
			t.Errorf("no passing %s check in %+v", name, cr.Checks)
		}
	}

	pres := w.presentSD(good, audience, nonce, "code.display")
	cut := strings.LastIndexByte(pres, '~')
	var extra string // a genuine Disclosure the holder did not present
	for _, d := range strings.Split(strings.TrimSuffix(good, "~"), "~")[1:] {
		if !strings.Contains(pres, d) {
			extra = d
			break
		}
	}
	unknownIssuer := credtest.NewParty(t, key.Ed25519, "unknown")
	unknownIssuer.DID, unknownIssuer.Kid = "did:example:nobody", "did:example:nobody#k1"
	expired := w.issueSD(w.issuer, tslURL, tslValid, func(c *sdjwt.Credential) {
		e := w.clock.Now().Add(-time.Minute)
		c.Expires = &e
	})
	for _, tc := range []struct {
		name          string
		token         string
		aud, nonce    string
		reason, check string
		inCredential  bool // the failure is in the credential's sub-result
	}{
		{"revoked", w.presentSD(w.issueSD(w.issuer, tslURL, tslRevoked), audience, nonce, "criticality"), audience, nonce, ReasonRevoked, CheckStatus, true},
		{"suspended", w.presentSD(w.issueSD(w.issuer, tslURL, tslSuspended), audience, nonce, "criticality"), audience, nonce, ReasonSuspended, CheckStatus, true},
		{"status list of another issuer", w.presentSD(w.issueSD(w.issuer, otherTSL, tslValid), audience, nonce, "criticality"), audience, nonce, ReasonStatusUnavailable, CheckStatus, true},
		{"status list missing", w.presentSD(w.issueSD(w.issuer, tslURL+"x", tslValid), audience, nonce, "criticality"), audience, nonce, ReasonStatusUnavailable, CheckStatus, true},
		{"index past the list", w.presentSD(w.issueSD(w.issuer, tslURL, tokenstatus.MinEntries), audience, nonce, "criticality"), audience, nonce, ReasonMalformed, CheckStatus, true},
		{"not accredited", w.presentSD(w.issueSD(other, otherTSL, tslValid), audience, nonce, "criticality"), audience, nonce, ReasonIssuerNotAccredited, CheckAccreditation, true},
		{"expired", w.presentSD(expired, audience, nonce, "criticality"), audience, nonce, ReasonExpired, CheckValidity, true},
		{"unknown issuer", w.presentSD(w.issueSD(unknownIssuer, tslURL, tslValid), audience, nonce, "criticality"), audience, nonce, ReasonUnknownIssuer, CheckIssuer, true},
		{"disclosure added after key binding", pres[:cut] + "~" + extra + "~" + pres[cut+1:], audience, nonce, ReasonInvalidDisclosure, CheckDisclosures, false},
		{"disclosure sent twice", pres[:cut] + "~" + strings.Split(pres, "~")[1] + "~" + pres[cut+1:], audience, nonce, ReasonInvalidDisclosure, CheckDisclosures, true},
		{"other audience", pres, "https://evil.example", nonce, ReasonAudienceMismatch, CheckAudience, false},
		{"other nonce", pres, audience, "another-request", ReasonNonceMismatch, CheckNonce, false},
		{"no key binding", pres[:cut+1], audience, nonce, ReasonHolderMismatch, CheckHolder, false},
		{"no audience given", pres, "", "", ReasonAudienceMismatch, CheckAudience, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := v.Presentation(ctx, tc.token, tc.aud, tc.nonce)
			wantResult(t, r, false, tc.reason, tc.check)
			if tc.inCredential != (len(r.Credentials) == 1) {
				t.Errorf("credential sub-results: %d", len(r.Credentials))
			}
			for _, c := range r.Credentials {
				if c.SDJWT != nil && !c.Valid && c.Failed().Name != CheckStatus && c.Failed().Name != CheckAccreditation {
					t.Error("claims kept for a credential whose verification failed before status")
				}
			}
		})
	}
}

// TestSDJWTCredentialAndOffline: a stored SD-JWT VC verifies with
// Credential (every claim disclosed), and a status list that cannot be
// fetched is "could not check"; once the cached copy has expired, its
// VALID is "could not check" too, last known good when it was fetched.
func TestSDJWTCredentialAndOffline(t *testing.T) {
	w := newWorld(t, key.P256)
	w.publishTSL(tslURL, w.issuer)
	tok := w.issueSD(w.issuer, tslURL, tslValid)
	w.fetcher.setOffline(true)
	v := w.verifier()
	r := v.Credential(ctx, tok)
	wantResult(t, r, false, ReasonStatusUnavailable, CheckStatus)
	if !r.Unavailable {
		t.Errorf("unfetchable token status list: Unavailable false")
	}
	w.fetcher.setOffline(false)
	fetched := w.clock.Now()
	r = v.Credential(ctx, tok)
	wantResult(t, r, true, "", "")
	if r.Format != FormatSDJWT || len(r.Disclosed) < 8 || r.Subject != w.holder.DID {
		t.Errorf("result = %+v", r)
	}
	w.fetcher.setOffline(true)
	w.clock.Advance(2 * time.Hour) // past the list's ttl
	r = v.Credential(ctx, tok)
	wantResult(t, r, false, ReasonStatusUnavailable, CheckStatus)
	if st := r.Checks[slices.IndexFunc(r.Checks, func(c Check) bool { return c.Name == CheckStatus })]; !strings.Contains(st.Detail, "was VALID in the copy fetched") {
		t.Errorf("stale status list not reported: %q", st.Detail)
	}
	if !r.Unavailable || r.LastGood == nil || !r.LastGood.Equal(fetched) {
		t.Errorf("stale copy: Unavailable %v, LastGood %v; want true, %v", r.Unavailable, r.LastGood, fetched)
	}
	// A presentation given to Credential is refused: nobody checks its KB-JWT.
	wantResult(t, v.Credential(ctx, w.presentSD(tok, audience, nonce, "code")), false, ReasonAudienceMismatch, CheckAudience)
}

// TestTokenStatusListRefetch: a cached Token Status List is used until its
// ttl, or its exp when that comes first, or the verifier's default when it
// names neither; then it is fetched again, so a revocation published
// meanwhile is seen. When that fetch fails, the entry is "could not
// check", last known good when the copy was fetched, never invalid.
func TestTokenStatusListRefetch(t *testing.T) {
	const idx = 11
	tests := []struct {
		name     string
		ttl      time.Duration
		exp      time.Duration // from the list's signing; 0: no exp
		fresh    time.Duration // how long the verifier may use its copy
		defaultT time.Duration // the verifier's StatusCacheTTL
	}{
		{"ttl", 10 * time.Second, 0, 10 * time.Second, time.Hour},
		{"exp before ttl", time.Hour, 20 * time.Second, 20 * time.Second, time.Hour},
		{"ttl before exp", 15 * time.Second, time.Hour, 15 * time.Second, time.Hour},
		{"neither: the verifier default", 0, 0, 30 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, key.Ed25519)
			l, err := tokenstatus.New(tokenstatus.MinEntries, 2)
			if err != nil {
				t.Fatal(err)
			}
			sign := func() {
				t.Helper()
				tok := &tokenstatus.Token{Issuer: w.issuer.DID, URI: tslURL, IssuedAt: w.clock.Now(), TTL: tt.ttl, List: l}
				if tt.exp > 0 {
					exp := w.clock.Now().Add(tt.exp)
					tok.Expires = &exp
				}
				s, err := tokenstatus.Sign(tok, w.issuer.Key, w.issuer.Kid)
				if err != nil {
					t.Fatal(err)
				}
				w.fetcher.set(tslURL, s)
			}
			sign()
			cred := w.issueSD(w.issuer, tslURL, idx)
			v := w.verifier(func(c *Config) { c.StatusCacheTTL = tt.defaultT })
			fetched := w.clock.Now()
			wantResult(t, v.Credential(ctx, cred), true, "", "")

			// The issuer revokes the entry; the copy is still fresh.
			if _, err := l.Apply(tokenstatus.Revoke, idx); err != nil {
				t.Fatal(err)
			}
			sign()
			w.clock.Advance(tt.fresh - time.Second)
			wantResult(t, v.Credential(ctx, cred), true, "", "")
			if got := w.fetcher.fetches.Load(); got != 1 {
				t.Errorf("fetches while fresh = %d, want 1", got)
			}

			// Past its freshness, with the registry unreachable: could not
			// check, last known good at the first fetch.
			w.clock.Advance(2 * time.Second)
			w.fetcher.setOffline(true)
			r := v.Credential(ctx, cred)
			wantResult(t, r, false, ReasonStatusUnavailable, CheckStatus)
			if !r.Unavailable || r.LastGood == nil || !r.LastGood.Equal(fetched) {
				t.Errorf("offline past freshness: Unavailable %v, LastGood %v; want true, %v", r.Unavailable, r.LastGood, fetched)
			}

			// Back online (the registry serves a list signed since): fetched
			// again, and the revocation is seen.
			sign()
			w.fetcher.setOffline(false)
			wantResult(t, v.Credential(ctx, cred), false, ReasonRevoked, CheckStatus)
			if got := w.fetcher.fetches.Load(); got != 3 {
				t.Errorf("fetches = %d, want 3 (first, failed, again)", got)
			}
		})
	}
}

// TestCacheSDJWT: a cache filled from an SD-JWT VC (as issued, or
// presented with a KB-JWT) holds its issuer's DID document and its Token
// Status List, and verifies it with no network.
func TestCacheSDJWT(t *testing.T) {
	w := newWorld(t, key.Ed25519)
	const hosp = "did:example:hospital"
	h := credtest.Party{Key: w.issuer.Key, DID: hosp, Kid: hosp + "#k1"}
	w.docs[hosp] = &did.Document{Context: did.DefaultContext(), ID: hosp,
		VerificationMethod: []did.VerificationMethod{{ID: h.Kid, Type: "Multikey", Controller: hosp, PublicKey: h.Key.Public()}},
		AssertionMethod:    []string{h.Kid}}
	w.publishTSL(tslURL, h)
	ok, revoked := w.issueSD(h, tslURL, tslValid), w.issueSD(h, tslURL, tslRevoked)
	for _, tt := range []struct{ name, token string }{
		{"as issued", ok},
		{"presented", w.presentSD(ok, audience, nonce, "code")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := OpenCache(filepath.Join(t.TempDir(), "cache"))
			if err != nil {
				t.Fatal(err)
			}
			saved, err := c.Fill(ctx, w.resolver(), w.fetcher, tt.token, w.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Join(saved, " "), tslURL+" "+hosp; got != want {
				t.Errorf("Fill saved %q, want %q", got, want)
			}
			src := c.Source()
			v, err := New(Config{Resolver: did.NewRouter(map[string]did.Resolver{"key": did.KeyResolver{}, "example": src}), Status: src, Now: w.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			wantResult(t, v.Credential(ctx, ok), true, "", "")
			wantResult(t, v.Credential(ctx, revoked), false, ReasonRevoked, CheckStatus)
		})
	}
	c, _ := OpenCache(filepath.Join(t.TempDir(), "cache"))
	if _, err := c.Fill(ctx, w.resolver(), w.fetcher, "eyJhbGciOiJFZERTQSIsInR5cCI6ImRjK3NkLWp3dCJ9.e30.c2ln~", w.clock.Now()); err == nil {
		t.Error("Fill accepted an SD-JWT without iss")
	}
}
