package verify

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
)

var ctx = context.Background()

// wantResult checks a Result's verdict, reason and the name of its first
// failing check, and that it serialises to JSON.
func wantResult(t *testing.T, r *Result, valid bool, reason, check string) {
	t.Helper()
	if r == nil {
		t.Fatal("Result is nil")
	}
	if r.Valid != valid || r.Reason != reason {
		b, _ := json.MarshalIndent(r, "", "  ")
		t.Fatalf("Valid, Reason = %v, %q; want %v, %q\n%s", r.Valid, r.Reason, valid, reason, b)
	}
	if f := r.Failed(); valid && f != nil || !valid && (f == nil || f.Name != check) {
		t.Errorf("first failing check = %+v, want %q", f, check)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("Result does not serialise: %v", err)
	}
}

func TestCredential(t *testing.T) {
	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		t.Run(string(alg), func(t *testing.T) { testCredential(t, alg) })
	}
}

func testCredential(t *testing.T, alg key.Alg) {
	w := newWorld(t, alg)
	other := credtest.NewParty(t, alg, "other issuer")
	// other publishes a list at a URL the issuer's credentials may point to.
	const otherURL = "https://registry.example/1.0/status-lists/other"
	w.publish(otherURL, other, statuslist.Revocation, w.revList, 0)
	// A list whose id differs from the URL it is served at.
	w.fetcher.set("https://registry.example/1.0/status-lists/moved", w.fetcher.lists[revURL])
	// A list whose signature does not verify.
	bad := w.fetcher.lists[revURL]
	w.fetcher.set("https://registry.example/1.0/status-lists/forged", bad[:strings.LastIndexByte(bad, '.')+1]+strings.Repeat("A", 86))

	// did:example:deactivated is deactivated; did:example:assertonly has the
	// issuer key for assertionMethod only.
	w.docs["did:example:assertonly"] = &did.Document{Context: did.DefaultContext(), ID: "did:example:assertonly",
		VerificationMethod: []did.VerificationMethod{{ID: "did:example:assertonly#k1", Type: "Multikey", Controller: "did:example:assertonly", PublicKey: w.issuer.Key.Public()}},
		Authentication:     []string{}, AssertionMethod: []string{"did:example:assertonly#k1"}}
	w.docs["did:example:authonly"] = &did.Document{Context: did.DefaultContext(), ID: "did:example:authonly",
		VerificationMethod: []did.VerificationMethod{{ID: "did:example:authonly#k1", Type: "Multikey", Controller: "did:example:authonly", PublicKey: w.issuer.Key.Public()}},
		Authentication:     []string{"did:example:authonly#k1"}}

	accredited := trust{ok: map[string]bool{w.issuer.DID + "|AllergyCredential": true}}
	hour := time.Hour
	tests := []struct {
		name   string
		token  func() string
		cfg    func(*Config)
		valid  bool
		reason string
		check  string
	}{
		{name: "valid", token: func() string { return w.issue(w.credential()) }, valid: true},
		{name: "valid without status", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) { c.Status = nil }))
		}, valid: true},
		{name: "valid issuer with did:example document", token: func() string {
			c := w.credential(func(c *vc.Credential) { c.Issuer = "did:example:assertonly"; c.Status = nil })
			return w.issueWith(c, w.issuer.Key, "did:example:assertonly#k1")
		}, valid: true},
		{name: "refresh purpose ignored", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) {
				c.Status = append(c.Status, entry("https://registry.example/refresh", "refresh", 1))
			}))
		}, valid: true},
		{name: "accredited", cfg: func(c *Config) { c.Trust = accredited }, token: func() string { return w.issue(w.credential()) }, valid: true},

		{name: "bad signature: signed by another key", token: func() string {
			return w.issueWith(w.credential(), other.Key, w.issuer.Kid)
		}, reason: ReasonBadSignature, check: CheckSignature},
		{name: "bad signature: tampered payload", token: func() string {
			a := strings.Split(w.issue(w.credential()), ".")
			b := strings.Split(w.issue(w.credential(func(c *vc.Credential) { c.Subject["allergy"] = "none" })), ".")
			return a[0] + "." + b[1] + "." + a[2]
		}, reason: ReasonBadSignature, check: CheckSignature},
		{name: "bad signature: kid of another DID", token: func() string {
			c := w.credential(func(c *vc.Credential) { c.Issuer = other.DID })
			tok := w.issueWith(c, other.Key, other.Kid)
			// Re-sign a payload naming w.issuer with other's key and kid.
			a := strings.Split(tok, ".")
			b := strings.Split(w.issue(w.credential()), ".")
			return a[0] + "." + b[1] + "." + a[2]
		}, reason: ReasonBadSignature, check: CheckSignature},
		{name: "bad signature: alg none", token: func() string {
			a := strings.Split(w.issue(w.credential()), ".")
			return "eyJhbGciOiJub25lIiwidHlwIjoidmMrand0In0." + a[1] + "." + a[2]
		}, reason: ReasonBadSignature, check: CheckSignature},
		{name: "unknown issuer: DID not found", token: func() string {
			c := w.credential(func(c *vc.Credential) { c.Issuer = "did:example:nobody" })
			return w.issueWith(c, w.issuer.Key, "did:example:nobody#k1")
		}, reason: ReasonUnknownIssuer, check: CheckIssuer},
		{name: "unknown issuer: no such key", token: func() string {
			return w.issueWith(w.credential(), w.issuer.Key, w.issuer.DID+"#other")
		}, reason: ReasonUnknownIssuer, check: CheckIssuer},
		{name: "unknown issuer: key only for authentication", token: func() string {
			c := w.credential(func(c *vc.Credential) { c.Issuer = "did:example:authonly" })
			return w.issueWith(c, w.issuer.Key, "did:example:authonly#k1")
		}, reason: ReasonUnknownIssuer, check: CheckIssuer},
		{name: "expired", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) {
				from, until := c.ValidFrom.Add(-48*hour), c.ValidFrom.Add(-hour)
				c.ValidFrom, c.ValidUntil = &from, &until
			}))
		}, reason: ReasonExpired, check: CheckValidity},
		{name: "not yet valid", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) {
				from := w.clock.Now().Add(hour)
				c.ValidFrom = &from
			}))
		}, reason: ReasonNotYetValid, check: CheckValidity},
		{name: "revoked", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) { c.Status[0] = entry(revURL, "revocation", revokedIndex) }))
		}, reason: ReasonRevoked, check: CheckStatus},
		{name: "suspended", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) { c.Status[1] = entry(susURL, "suspension", suspendedIndex) }))
		}, reason: ReasonSuspended, check: CheckStatus},
		{name: "suspended and revoked: first entry wins", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) {
				c.Status = []vc.Status{entry(susURL, "suspension", suspendedIndex), entry(revURL, "revocation", revokedIndex)}
			}))
		}, reason: ReasonSuspended, check: CheckStatus},
		{name: "not accredited", cfg: func(c *Config) { c.Trust = trust{ok: map[string]bool{}} }, token: func() string {
			return w.issue(w.credential())
		}, reason: ReasonIssuerNotAccredited, check: CheckAccreditation},
		{name: "not accredited for second type", cfg: func(c *Config) { c.Trust = accredited }, token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) { c.Type = append(c.Type, "PractitionerLicence") }))
		}, reason: ReasonIssuerNotAccredited, check: CheckAccreditation},
		{name: "accreditation source fails", cfg: func(c *Config) { c.Trust = trust{err: errors.New("registry down")} }, token: func() string {
			return w.issue(w.credential())
		}, reason: ReasonIssuerNotAccredited, check: CheckAccreditation},
		{name: "malformed: garbage", token: func() string { return "not a token" }, reason: ReasonMalformed, check: CheckFormat},
		{name: "malformed: empty", token: func() string { return "" }, reason: ReasonMalformed, check: CheckFormat},
		{name: "malformed: presentation given as credential", token: func() string {
			return w.present(w.holder, audience, nonce)
		}, reason: ReasonMalformed, check: CheckFormat},
		{name: "malformed: status index", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) { c.Status[0].StatusListIndex = "x1" }))
		}, reason: ReasonMalformed, check: CheckStatus},
		{name: "malformed: status index out of range", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) { c.Status[0].StatusListIndex = "131072" }))
		}, reason: ReasonMalformed, check: CheckStatus},
		{name: "malformed: purpose differs from the list's", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) { c.Status[0].StatusPurpose = "suspension" }))
		}, reason: ReasonMalformed, check: CheckStatus},
		{name: "status unavailable: unknown list", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) { c.Status[0] = entry("https://registry.example/none", "revocation", 1) }))
		}, reason: ReasonStatusUnavailable, check: CheckStatus},
		{name: "status unavailable: list of another issuer", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) { c.Status[0] = entry(otherURL, "revocation", 1) }))
		}, reason: ReasonStatusUnavailable, check: CheckStatus},
		{name: "status unavailable: list id differs from URL", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) {
				c.Status[0] = entry("https://registry.example/1.0/status-lists/moved", "revocation", 1)
			}))
		}, reason: ReasonStatusUnavailable, check: CheckStatus},
		{name: "status unavailable: forged list", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) {
				c.Status[0] = entry("https://registry.example/1.0/status-lists/forged", "revocation", 1)
			}))
		}, reason: ReasonStatusUnavailable, check: CheckStatus},
		{name: "status unavailable: unsupported status type", token: func() string {
			return w.issue(w.credential(func(c *vc.Credential) { c.Status[0].Type = "StatusList2021Entry" }))
		}, reason: ReasonStatusUnavailable, check: CheckStatus},
		{name: "status unavailable: no fetcher", cfg: func(c *Config) { c.Status = nil }, token: func() string {
			return w.issue(w.credential())
		}, reason: ReasonStatusUnavailable, check: CheckStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*Config)
			if tt.cfg != nil {
				mods = append(mods, tt.cfg)
			}
			v := w.verifier(mods...)
			r := v.Credential(ctx, tt.token())
			wantResult(t, r, tt.valid, tt.reason, tt.check)
			if r.Kind != KindCredential {
				t.Errorf("Kind = %q, want %q", r.Kind, KindCredential)
			}
		})
	}
}

func TestCredentialResultDetails(t *testing.T) {
	w := newWorld(t, key.Ed25519)
	v := w.verifier()
	r := v.Credential(ctx, w.issue(w.credential()))
	wantResult(t, r, true, "", "")
	var names []string
	for _, c := range r.Checks {
		names = append(names, c.Name)
	}
	want := "format issuer signature validity status status accreditation"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("checks = %s, want %s", got, want)
	}
	if acc := r.Checks[len(r.Checks)-1]; !acc.Skipped {
		t.Errorf("accreditation without a trust source not marked skipped: %+v", acc)
	}
	if r.Issuer != w.issuer.DID || r.Subject != w.holder.DID || r.Types[1] != "AllergyCredential" {
		t.Errorf("Result describes issuer %q subject %q types %v", r.Issuer, r.Subject, r.Types)
	}
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), "penicillin") {
		t.Errorf("Result JSON carries a claim value: %s", b)
	}
	if r.Credential == nil || r.Credential.SubjectID() != w.holder.DID {
		t.Errorf("Result.Credential = %v, want the verified credential", r.Credential)
	}
	forged := v.Credential(ctx, w.issueWith(w.credential(), credtest.NewParty(t, key.Ed25519, "x").Key, w.issuer.Kid))
	if forged.Credential != nil {
		t.Errorf("Result.Credential set although the signature failed")
	}
	if !strings.Contains(r.Checks[1].Detail, w.issuer.Kid) {
		t.Errorf("issuer check detail %q does not name the key", r.Checks[1].Detail)
	}
}

func TestNewConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without a resolver succeeded")
	}
	if _, err := New(Config{Resolver: did.KeyResolver{}, StatusCacheTTL: -time.Second}); err == nil {
		t.Error("New with a negative StatusCacheTTL succeeded")
	}
}

func TestDIDCache(t *testing.T) {
	w := newWorld(t, key.Ed25519)
	tok := w.issue(w.credential())
	v := w.verifier()
	for range 5 {
		wantResult(t, v.Credential(ctx, tok), true, "", "")
	}
	// One resolution of the issuer for the credential and the lists.
	if got := w.resolves.Load(); got != 1 {
		t.Errorf("issuer resolved %d times, want 1 (cached)", got)
	}
	uncached := w.verifier(func(c *Config) { c.NoDIDCache = true })
	w.resolves.Store(0)
	uncached.Credential(ctx, tok)
	uncached.Credential(ctx, tok)
	if got := w.resolves.Load(); got < 2 {
		t.Errorf("with NoDIDCache, resolved %d times, want at least 2", got)
	}
}

func TestStatusCache(t *testing.T) {
	w := newWorld(t, key.Ed25519)
	v := w.verifier(func(c *Config) { c.StatusCacheTTL = time.Minute })
	ok := w.issue(w.credential())
	revoke := w.issue(w.credential(func(c *vc.Credential) { c.Status[0] = entry(revURL, "revocation", 1) }))
	_ = revoke

	wantResult(t, v.Credential(ctx, ok), true, "", "")
	if got := w.fetcher.fetches.Load(); got != 2 {
		t.Fatalf("fetches after first verification = %d, want 2 (two lists)", got)
	}
	wantResult(t, v.Credential(ctx, ok), true, "", "")
	if got := w.fetcher.fetches.Load(); got != 2 {
		t.Fatalf("fetches after second verification = %d, want 2 (cached)", got)
	}

	// The issuer revokes index 1; within the TTL the cached list still says valid.
	w.revList.Set(1, true)
	w.publish(revURL, w.issuer, statuslist.Revocation, w.revList, 0)
	w.clock.Advance(30 * time.Second)
	wantResult(t, v.Credential(ctx, ok), true, "", "")

	// After the TTL the list is fetched again and the revocation is seen.
	w.clock.Advance(31 * time.Second)
	wantResult(t, v.Credential(ctx, ok), false, ReasonRevoked, CheckStatus)
	if got := w.fetcher.fetches.Load(); got != 4 {
		t.Errorf("fetches after TTL = %d, want 4", got)
	}
	w.revList.Set(1, false)
	w.publish(revURL, w.issuer, statuslist.Revocation, w.revList, 0)
	v.Forget(revURL)
	wantResult(t, v.Credential(ctx, ok), true, "", "")
}

func TestStatusListTTL(t *testing.T) {
	w := newWorld(t, key.Ed25519)
	// The list says ttl 10 s, shorter than the verifier default of 5 min.
	w.publish(revURL, w.issuer, statuslist.Revocation, w.revList, 10*time.Second)
	v := w.verifier()
	tok := w.issue(w.credential(func(c *vc.Credential) { c.Status = c.Status[:1] }))
	wantResult(t, v.Credential(ctx, tok), true, "", "")
	w.clock.Advance(9 * time.Second)
	v.Credential(ctx, tok)
	if got := w.fetcher.fetches.Load(); got != 1 {
		t.Errorf("fetches within ttl = %d, want 1", got)
	}
	w.clock.Advance(2 * time.Second)
	v.Credential(ctx, tok)
	if got := w.fetcher.fetches.Load(); got != 2 {
		t.Errorf("fetches after ttl = %d, want 2", got)
	}
}

func TestOffline(t *testing.T) {
	w := newWorld(t, key.Ed25519)
	v := w.verifier()
	ok := w.issue(w.credential())
	revoked := w.issue(w.credential(func(c *vc.Credential) { c.Status[0] = entry(revURL, "revocation", revokedIndex) }))

	// Online once, then the registry goes away and the cache expires.
	wantResult(t, v.Credential(ctx, ok), true, "", "")
	w.fetcher.setOffline(true)
	w.clock.Advance(time.Hour)

	r := v.Credential(ctx, ok)
	wantResult(t, r, true, "", "")
	stale := 0
	for _, c := range r.Checks {
		if c.Name == CheckStatus && strings.Contains(c.Detail, "offline") && strings.Contains(c.Detail, "registry unreachable") {
			stale++
		}
	}
	if stale != 2 {
		t.Errorf("status checks mentioning the offline cache = %d, want 2: %+v", stale, r.Checks)
	}
	// The cached list still knows what was revoked.
	wantResult(t, v.Credential(ctx, revoked), false, ReasonRevoked, CheckStatus)

	// A verifier that was never online has nothing to fall back on.
	fresh := w.verifier()
	wantResult(t, fresh.Credential(ctx, ok), false, ReasonStatusUnavailable, CheckStatus)

	// Back online: the list is fetched again and the note disappears.
	w.fetcher.setOffline(false)
	r = v.Credential(ctx, ok)
	wantResult(t, r, true, "", "")
	for _, c := range r.Checks {
		if strings.Contains(c.Detail, "offline") {
			t.Errorf("check still says offline after reconnecting: %+v", c)
		}
	}
}

func TestPresentation(t *testing.T) {
	w := newWorld(t, key.Ed25519)
	stranger := credtest.NewParty(t, key.Ed25519, "stranger")
	ok := func(i int) string {
		return w.issue(w.credential(func(c *vc.Credential) { c.ID = "urn:example:" + string(rune('a'+i)) }))
	}
	revoked := w.issue(w.credential(func(c *vc.Credential) { c.Status[0] = entry(revURL, "revocation", revokedIndex) }))
	expired := w.issue(w.credential(func(c *vc.Credential) {
		from, until := c.ValidFrom.Add(-48*time.Hour), c.ValidFrom.Add(-time.Hour)
		c.ValidFrom, c.ValidUntil = &from, &until
	}))
	forStranger := w.issue(w.credential(func(c *vc.Credential) { c.Subject["id"] = stranger.DID }))
	// did:example:holder-authonly has the holder key for authentication only.
	const authDID = "did:example:holder-authonly"
	w.docs[authDID] = &did.Document{Context: did.DefaultContext(), ID: authDID,
		VerificationMethod: []did.VerificationMethod{{ID: authDID + "#k1", Type: "Multikey", Controller: authDID, PublicKey: w.holder.Key.Public()}},
		Authentication:     []string{authDID + "#k1"}}
	authHolder := credtest.Party{Key: w.holder.Key, DID: authDID, Kid: authDID + "#k1"}
	forAuthHolder := w.issue(w.credential(func(c *vc.Credential) { c.Subject["id"] = authDID }))
	// did:example:holder-assertonly has it for assertionMethod only.
	const assertDID = "did:example:holder-assertonly"
	w.docs[assertDID] = &did.Document{Context: did.DefaultContext(), ID: assertDID,
		VerificationMethod: []did.VerificationMethod{{ID: assertDID + "#k1", Type: "Multikey", Controller: assertDID, PublicKey: w.holder.Key.Public()}},
		AssertionMethod:    []string{assertDID + "#k1"}}
	assertHolder := credtest.Party{Key: w.holder.Key, DID: assertDID, Kid: assertDID + "#k1"}

	tests := []struct {
		name       string
		token      func() string
		aud, nonce string
		valid      bool
		reason     string
		check      string
		// per-credential verdicts ("" valid, else reason); nil = no sub-results
		creds []string
	}{
		{name: "three valid", token: func() string { return w.present(w.holder, audience, nonce, ok(0), ok(1), ok(2)) },
			valid: true, creds: []string{"", "", ""}},
		{name: "no credentials", token: func() string { return w.present(w.holder, audience, nonce) }, valid: true, creds: []string{}},
		{name: "holder key for authentication only", token: func() string { return w.present(authHolder, audience, nonce, forAuthHolder) },
			valid: true, creds: []string{""}},
		{name: "one of three revoked", token: func() string { return w.present(w.holder, audience, nonce, ok(0), revoked, ok(2)) },
			reason: ReasonRevoked, check: CheckStatus, creds: []string{"", ReasonRevoked, ""}},
		{name: "one of three expired", token: func() string { return w.present(w.holder, audience, nonce, ok(0), expired, ok(2)) },
			reason: ReasonExpired, check: CheckValidity, creds: []string{"", ReasonExpired, ""}},
		{name: "credential of someone else", token: func() string { return w.present(w.holder, audience, nonce, ok(0), forStranger) },
			reason: ReasonHolderMismatch, check: CheckHolder, creds: []string{"", ReasonHolderMismatch}},
		{name: "audience mismatch", token: func() string { return w.present(w.holder, "https://other.example", nonce, ok(0)) },
			reason: ReasonAudienceMismatch, check: CheckAudience},
		{name: "nonce mismatch", token: func() string { return w.present(w.holder, audience, "old-nonce", ok(0)) },
			reason: ReasonNonceMismatch, check: CheckNonce},
		{name: "verifier gave no nonce", token: func() string { return w.present(w.holder, audience, nonce, ok(0)) }, nonce: "-",
			reason: ReasonAudienceMismatch, check: CheckAudience},
		{name: "holder key not for authentication", token: func() string {
			return w.present(assertHolder, audience, nonce, w.issue(w.credential(func(c *vc.Credential) { c.Subject["id"] = assertDID })))
		}, reason: ReasonHolderMismatch, check: CheckHolder},
		{name: "signed by a stranger's key under the holder's kid", token: func() string {
			vp := &vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation}, Holder: w.holder.DID, Credentials: []string{ok(0)}}
			tok, err := vc.SignPresentation(vp, stranger.Key, w.holder.Kid, audience, nonce, vc.WithIssuedAt(w.clock.Now()))
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}, reason: ReasonBadSignature, check: CheckSignature},
		{name: "expired presentation", token: func() string {
			vp := &vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation}, Holder: w.holder.DID}
			tok, err := vc.SignPresentation(vp, w.holder.Key, w.holder.Kid, audience, nonce, vc.WithIssuedAt(w.clock.Now().Add(-time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}, reason: ReasonExpired, check: CheckValidity},
		{name: "credential given as presentation", token: func() string { return ok(0) }, reason: ReasonMalformed, check: CheckFormat},
	}
	v := w.verifier()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			aud, n := audience, nonce
			if tt.nonce == "-" {
				n = ""
			}
			r := v.Presentation(ctx, tt.token(), aud, n)
			wantResult(t, r, tt.valid, tt.reason, tt.check)
			if r.Kind != KindPresentation {
				t.Errorf("Kind = %q", r.Kind)
			}
			if tt.creds == nil {
				if len(r.Credentials) != 0 {
					t.Errorf("sub-results = %d, want none", len(r.Credentials))
				}
				return
			}
			if len(r.Credentials) != len(tt.creds) {
				t.Fatalf("sub-results = %d, want %d", len(r.Credentials), len(tt.creds))
			}
			for i, want := range tt.creds {
				cr := r.Credentials[i]
				if cr.Valid != (want == "") || cr.Reason != want {
					t.Errorf("credential %d: Valid, Reason = %v, %q; want %q", i, cr.Valid, cr.Reason, want)
				}
				if cr.Valid && !hasCheck(cr, CheckHolder) {
					t.Errorf("credential %d has no holder check", i)
				}
			}
		})
	}
}

func hasCheck(r *Result, name string) bool {
	for _, c := range r.Checks {
		if c.Name == name && c.OK {
			return true
		}
	}
	return false
}

func TestStatusFetchers(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/list.jwt"
	if err := writeFile(path, "  tok.en.x\n"); err != nil {
		t.Fatal(err)
	}
	files := FileStatusFetcher{"https://a.example/1": path, "https://a.example/2": dir + "/missing"}
	static := StaticStatusFetcher{"https://a.example/1": "tok.en.x"}
	tests := []struct {
		name    string
		f       StatusFetcher
		url     string
		want    string
		wantErr error
	}{
		{"file", files, "https://a.example/1", "tok.en.x", nil},
		{"file unknown url", files, "https://a.example/3", "", ErrStatusListNotFound},
		{"file missing", files, "https://a.example/2", "", errNotExist},
		{"static", static, "https://a.example/1", "tok.en.x", nil},
		{"static unknown", static, "https://a.example/9", "", ErrStatusListNotFound},
		{"func", StatusFetcherFunc(func(context.Context, string) (string, error) { return "t", nil }), "x", "t", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f.FetchStatusList(ctx, tt.url)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("FetchStatusList = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestFileStatusFetcherEndToEnd(t *testing.T) {
	w := newWorld(t, key.Ed25519)
	dir := t.TempDir()
	files := FileStatusFetcher{}
	for _, u := range []string{revURL, susURL} {
		p := dir + "/" + u[strings.LastIndexByte(u, '/')+1:] + ".jwt"
		if err := writeFile(p, w.fetcher.lists[u]); err != nil {
			t.Fatal(err)
		}
		files[u] = p
	}
	v := w.verifier(func(c *Config) { c.Status = files })
	wantResult(t, v.Credential(ctx, w.issue(w.credential())), true, "", "")
	revoked := w.issue(w.credential(func(c *vc.Credential) { c.Status[0] = entry(revURL, "revocation", revokedIndex) }))
	wantResult(t, v.Credential(ctx, revoked), false, ReasonRevoked, CheckStatus)
}

func TestConcurrentVerification(t *testing.T) {
	w := newWorld(t, key.Ed25519)
	v := w.verifier()
	tok := w.issue(w.credential())
	done := make(chan *Result)
	for range 8 {
		go func() { done <- v.Credential(ctx, tok) }()
	}
	for range 8 {
		if r := <-done; !r.Valid {
			t.Errorf("concurrent verification: %s", r.Reason)
		}
	}
	if got := w.fetcher.fetches.Load(); got != 2 {
		t.Errorf("fetches = %d, want 2 (one per list, shared)", got)
	}
}

func TestStatusCacheBounds(t *testing.T) {
	const listBytes = statuslist.MinEntries / 8
	tests := []struct {
		name         string
		maxLists     int
		maxBytes     int
		wantFetches  int64 // after verifying the credential (two lists) three times
		wantEntries  int
		wantBytesMax int
	}{
		{"room for both", 0, 0, 2, 2, 2 * listBytes},
		{"one list by count", 1, 0, 6, 1, listBytes},
		{"one list by bytes", 0, listBytes + 1, 6, 1, listBytes},
		{"no list fits", 0, listBytes - 1, 6, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, key.Ed25519)
			v := w.verifier(func(c *Config) { c.MaxStatusLists, c.MaxStatusListBytes = tt.maxLists, tt.maxBytes })
			tok := w.issue(w.credential())
			for range 3 {
				wantResult(t, v.Credential(ctx, tok), true, "", "")
			}
			if got := w.fetcher.fetches.Load(); got != tt.wantFetches {
				t.Errorf("fetches = %d, want %d", got, tt.wantFetches)
			}
			v.lists.mu.Lock()
			defer v.lists.mu.Unlock()
			if len(v.lists.entries) != tt.wantEntries || v.lists.bytes > tt.wantBytesMax {
				t.Errorf("cache holds %d lists, %d bytes; want %d lists, at most %d bytes", len(v.lists.entries), v.lists.bytes, tt.wantEntries, tt.wantBytesMax)
			}
			sum := 0
			for _, e := range v.lists.entries {
				sum += e.list.List.Len() / 8
			}
			if sum != v.lists.bytes {
				t.Errorf("byte count %d differs from the lists' total %d", v.lists.bytes, sum)
			}
		})
	}
}
