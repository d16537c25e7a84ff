package smart

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/key"
)

var types = []string{"Patient", "AllergyIntolerance", "Observation", "Condition"}

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{"patient/AllergyIntolerance.rs", "patient/AllergyIntolerance.rs", false},
		{"system/*.rs", "system/*.rs", false},
		{"system/*.cruds", "system/*.cruds", false},
		{"system/Observation.c", "system/Observation.c", false},
		{"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory", "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory", false},
		{"patient/Observation.read", "patient/Observation.rs", false},
		{"system/Condition.write", "system/Condition.cud", false},
		{"system/*.*", "system/*.cruds", false},
		{"user/Observation.rs", "", true},
		{"launch", "", true},
		{"openid", "", true},
		{"patient/Practitioner.rs", "", true},
		{"patient/Observation.sr", "", true},
		{"patient/Observation.rr", "", true},
		{"patient/Observation.x", "", true},
		{"patient/Observation.", "", true},
		{"patient/Observation", "", true},
		{"patient/Observation.rs?code=http://loinc.org|1", "", true},
		{"patient/Observation.rs?category=laboratory", "", true},
		{"patient/*.rs?category=a|b", "", true},
		{"patient/Observation.read?category=a|b", "", true},
		{"patient/Observation.rs?category=a|b&category=c|d", "", true},
		{"system/" + strings.Repeat("A", 300) + ".rs", "", true},
	} {
		s, err := ParseScope(tc.in, types)
		if (err != nil) != tc.err || (err == nil && s.String() != tc.want) {
			t.Errorf("%q: got %v, %v; want %q (error %v)", tc.in, s, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, ErrInvalidScope) {
			t.Errorf("%q: %v does not wrap ErrInvalidScope", tc.in, err)
		}
	}
}

func mustScope(s string) Scope {
	sc, err := ParseScope(s, types)
	if err != nil {
		panic(err)
	}
	return sc
}

func TestScopeCovers(t *testing.T) {
	lab := "?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"system/*.rs", "system/AllergyIntolerance.rs", true},
		{"system/*.rs", "system/AllergyIntolerance.r", true},
		{"system/*.rs", "system/AllergyIntolerance.c", false},
		{"system/*.rs", "patient/AllergyIntolerance.rs", false},
		{"system/Observation.rs", "system/Condition.rs", false},
		{"system/Observation.rs", "system/Observation.rs" + lab, true},
		{"system/Observation.rs" + lab, "system/Observation.rs", false},
		{"system/Observation.rs" + lab, "system/Observation.r" + lab, true},
	} {
		if got := mustScope(tc.a).Covers(mustScope(tc.b)); got != tc.want {
			t.Errorf("%s covers %s = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	ss := Scopes{mustScope("system/Observation.rs" + lab), mustScope("system/AllergyIntolerance.rs")}
	labCat := []Category{{"http://terminology.hl7.org/CodeSystem/observation-category", "laboratory"}}
	if !ss.Allows("Observation", PermRead, labCat) || ss.Allows("Observation", PermRead, nil) || ss.Allows("Condition", PermRead, nil) ||
		!ss.Allows("AllergyIntolerance", PermRead|PermSearch, nil) || ss.Allows("AllergyIntolerance", PermCreate, nil) {
		t.Error("Allows")
	}
	if !ss.Permits("Observation", PermSearch) || ss.Permits("Condition", PermSearch) {
		t.Error("Permits")
	}
}

// client is a registered client whose DID document the test can change.
type client struct {
	did string
	key *key.PrivateKey
	kid string
	doc *did.Document
}

func newClient(t *testing.T, id string) *client {
	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{did: id, key: k, kid: id + "#k1"}
	c.doc = &did.Document{ID: id, VerificationMethod: []did.VerificationMethod{{ID: c.kid, Controller: id, PublicKey: k.Public()}}, Authentication: []string{c.kid}}
	return c
}

// rotate replaces the client's key in its DID document.
func (c *client) rotate(t *testing.T) {
	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	c.key, c.kid = k, c.did+"#k2"
	c.doc = &did.Document{ID: c.did, VerificationMethod: []did.VerificationMethod{{ID: c.kid, Controller: c.did, PublicKey: k.Public()}}, Authentication: []string{c.kid}}
}

func sign(t testing.TB, k *key.PrivateKey, header, claims map[string]any) string {
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	in := jose.Encode(hb) + "." + jose.Encode(cb)
	sig, err := k.Sign([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + jose.Encode(sig)
}

const tokenURL = "https://vault.example/fhir/token"

type fixture struct {
	s       *Server
	ehr     *client
	now     time.Time
	clients map[string]*client
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), clients: map[string]*client{}}
	f.ehr = newClient(t, "did:medid:ehr1")
	f.clients[f.ehr.did] = f.ehr
	res := did.ResolverFunc(func(ctx context.Context, id string) (*did.Resolution, error) {
		if c, ok := f.clients[id]; ok {
			return &did.Resolution{Document: c.doc}, nil
		}
		return nil, did.ErrNotFound
	})
	s, err := New(Config{TokenURL: tokenURL, Resolver: res, Types: types, Now: func() time.Time { return f.now },
		Clients: map[string][]string{f.ehr.did: {"system/AllergyIntolerance.cruds", "system/Observation.rs"}, "did:medid:other": {"system/*.rs"}}})
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	return f
}

var jtiN int

func (f *fixture) assertion(t testing.TB, c *client, edit func(h, cl map[string]any)) string {
	jtiN++
	h := map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": c.kid}
	cl := map[string]any{"iss": c.did, "sub": c.did, "aud": tokenURL, "exp": f.now.Add(4 * time.Minute).Unix(), "jti": "j" + string(rune('a'+jtiN%26)) + time.Duration(jtiN).String()}
	if edit != nil {
		edit(h, cl)
	}
	return sign(t, c.key, h, cl)
}

func form(assertion, scope string) map[string][]string {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {scope}, "client_assertion_type": {AssertionType}, "client_assertion": {assertion}}
}

func TestToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	resp, err := f.s.Token(ctx, form(f.assertion(t, f.ehr, nil), "system/AllergyIntolerance.rs system/Observation.read"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.TokenType != "bearer" || resp.ExpiresIn != 300 || resp.Scope != "system/AllergyIntolerance.rs system/Observation.rs" {
		t.Errorf("response %+v", resp)
	}
	tok, err := f.s.Introspect(resp.AccessToken)
	if err != nil || tok.Client != f.ehr.did || !tok.Scopes.Allows("AllergyIntolerance", PermRead, nil) || tok.Scopes.Allows("AllergyIntolerance", PermCreate, nil) {
		t.Errorf("introspect %+v, %v", tok, err)
	}

	replayed := f.assertion(t, f.ehr, nil)
	if _, err := f.s.Token(ctx, form(replayed, "system/Observation.rs")); err != nil {
		t.Fatal(err)
	}
	other := newClient(t, "did:medid:other")
	unregistered := newClient(t, "did:medid:stranger")
	f.clients[unregistered.did] = unregistered
	for _, tc := range []struct {
		name string
		form map[string][]string
		code string
	}{
		{"replayed jti", form(replayed, "system/Observation.rs"), CodeInvalidClient},
		{"expired", form(f.assertion(t, f.ehr, func(h, c map[string]any) { c["exp"] = f.now.Add(-time.Minute).Unix() }), "system/Observation.rs"), CodeInvalidClient},
		{"exp too far", form(f.assertion(t, f.ehr, func(h, c map[string]any) { c["exp"] = f.now.Add(10 * time.Minute).Unix() }), "system/Observation.rs"), CodeInvalidClient},
		{"no exp", form(f.assertion(t, f.ehr, func(h, c map[string]any) { delete(c, "exp") }), "system/Observation.rs"), CodeInvalidClient},
		{"no jti", form(f.assertion(t, f.ehr, func(h, c map[string]any) { delete(c, "jti") }), "system/Observation.rs"), CodeInvalidClient},
		{"wrong aud", form(f.assertion(t, f.ehr, func(h, c map[string]any) { c["aud"] = "https://other.example/token" }), "system/Observation.rs"), CodeInvalidClient},
		{"aud array", form(f.assertion(t, f.ehr, func(h, c map[string]any) { c["aud"] = []string{"x", tokenURL} }), "system/Observation.rs"), ""},
		{"sub differs", form(f.assertion(t, f.ehr, func(h, c map[string]any) { c["sub"] = "did:medid:other" }), "system/Observation.rs"), CodeInvalidClient},
		{"kid of another DID", form(f.assertion(t, f.ehr, func(h, c map[string]any) { h["kid"] = "did:medid:other#k1" }), "system/Observation.rs"), CodeInvalidClient},
		{"unknown kid", form(f.assertion(t, f.ehr, func(h, c map[string]any) { h["kid"] = f.ehr.did + "#nope" }), "system/Observation.rs"), CodeInvalidClient},
		{"alg none", form(f.assertion(t, f.ehr, func(h, c map[string]any) { h["alg"] = "none" }), "system/Observation.rs"), CodeInvalidClient},
		{"alg HS256", form(f.assertion(t, f.ehr, func(h, c map[string]any) { h["alg"] = "HS256" }), "system/Observation.rs"), CodeInvalidClient},
		{"alg mismatch", form(f.assertion(t, f.ehr, func(h, c map[string]any) { h["alg"] = "ES256" }), "system/Observation.rs"), CodeInvalidClient},
		{"jku", form(f.assertion(t, f.ehr, func(h, c map[string]any) { h["jku"] = "https://evil.example/jwks" }), "system/Observation.rs"), CodeInvalidClient},
		{"signed by another key", form(sign(t, other.key, map[string]any{"alg": "EdDSA", "kid": f.ehr.kid}, map[string]any{"iss": f.ehr.did, "sub": f.ehr.did, "aud": tokenURL, "exp": f.now.Add(time.Minute).Unix(), "jti": "forged"}), "system/Observation.rs"), CodeInvalidClient},
		{"unregistered client", form(f.assertion(t, unregistered, nil), "system/Observation.rs"), CodeInvalidClient},
		{"nbf in the future", form(f.assertion(t, f.ehr, func(h, c map[string]any) { c["nbf"] = f.now.Add(time.Hour).Unix() }), "system/Observation.rs"), CodeInvalidClient},
		{"garbage assertion", form("a.b.c", "system/Observation.rs"), CodeInvalidClient},
		{"wider scope", form(f.assertion(t, f.ehr, nil), "system/*.rs"), CodeInvalidScope},
		{"other type", form(f.assertion(t, f.ehr, nil), "system/Condition.rs"), CodeInvalidScope},
		{"more permissions", form(f.assertion(t, f.ehr, nil), "system/Observation.c"), CodeInvalidScope},
		{"patient context not registered", form(f.assertion(t, f.ehr, nil), "patient/Observation.rs"), CodeInvalidScope},
		{"openid", form(f.assertion(t, f.ehr, nil), "openid system/Observation.rs"), CodeInvalidScope},
		{"no scope", form(f.assertion(t, f.ehr, nil), ""), CodeInvalidScope},
		{"wrong grant", map[string][]string{"grant_type": {"authorization_code"}}, CodeUnsupportedGrantType},
		{"no assertion", map[string][]string{"grant_type": {"client_credentials"}, "scope": {"system/Observation.rs"}}, CodeInvalidClient},
		{"repeated parameter", map[string][]string{"grant_type": {"client_credentials", "client_credentials"}}, CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.Token(ctx, tc.form)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var oe *OAuthError
			if !errors.As(err, &oe) || oe.Code != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
		})
	}
}

// TestKeyRotation: after the client's DID document rotates its key, the
// old key's assertions are refused and the new key's accepted.
func TestKeyRotation(t *testing.T) {
	f := newFixture(t)
	old := f.assertion(t, f.ehr, nil)
	f.ehr.rotate(t)
	if _, err := f.s.Token(context.Background(), form(old, "system/Observation.rs")); !errors.Is(err, ErrInvalidClient) {
		t.Errorf("old key: got %v, want invalid_client", err)
	}
	if _, err := f.s.Token(context.Background(), form(f.assertion(t, f.ehr, nil), "system/Observation.rs")); err != nil {
		t.Errorf("new key: %v", err)
	}
}

func TestIntrospectExpiry(t *testing.T) {
	f := newFixture(t)
	resp, err := f.s.Token(context.Background(), form(f.assertion(t, f.ehr, nil), "system/Observation.rs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Introspect(resp.AccessToken + "x"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("unknown token: %v", err)
	}
	f.now = f.now.Add(DefaultTokenTTL)
	if _, err := f.s.Introspect(resp.AccessToken); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("expired token: %v", err)
	}
}

func TestHandlers(t *testing.T) {
	f := newFixture(t)
	mux := http.NewServeMux()
	mux.Handle("/fhir/.well-known/smart-configuration", f.s.ConfigurationHandler())
	mux.Handle("/fhir/token", f.s.TokenHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/fhir/.well-known/smart-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var conf Configuration
	json.NewDecoder(res.Body).Decode(&conf)
	res.Body.Close()
	if conf.TokenEndpoint != tokenURL || conf.GrantTypesSupported[0] != "client_credentials" || conf.TokenEndpointAuthMethods[0] != "private_key_jwt" {
		t.Errorf("configuration %+v", conf)
	}
	res, err = http.PostForm(srv.URL+"/fhir/token", form(f.assertion(t, f.ehr, nil), "system/Observation.rs"))
	if err != nil {
		t.Fatal(err)
	}
	var tr TokenResponse
	json.NewDecoder(res.Body).Decode(&tr)
	res.Body.Close()
	if res.StatusCode != 200 || tr.AccessToken == "" || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("token: %d %+v", res.StatusCode, tr)
	}
	res, _ = http.PostForm(srv.URL+"/fhir/token", form("x.y.z", "system/Observation.rs"))
	var oe OAuthError
	json.NewDecoder(res.Body).Decode(&oe)
	res.Body.Close()
	if res.StatusCode != 401 || oe.Code != CodeInvalidClient {
		t.Errorf("bad assertion: %d %+v", res.StatusCode, oe)
	}
	res, _ = http.Post(srv.URL+"/fhir/token", "application/json", strings.NewReader(`{}`))
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("JSON body: %d", res.StatusCode)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"empty":     {},
		"bad scope": {TokenURL: tokenURL, Resolver: did.KeyResolver{}, Types: types, Clients: map[string][]string{"did:key:x": {"user/*.rs"}}},
		"bad DID":   {TokenURL: tokenURL, Resolver: did.KeyResolver{}, Types: types, Clients: map[string][]string{"ehr": {"system/*.rs"}}},
		"long TTL":  {TokenURL: tokenURL, Resolver: did.KeyResolver{}, Types: types, Clients: map[string][]string{"did:key:x": {"system/*.rs"}}, TokenTTL: 2 * time.Hour},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestNoReplayAcrossRestarts: an assertion accepted once is refused after
// the server restarts (its jti kept in Config.UsedFile), within the same
// exp that made it acceptable; a new assertion works; a write cut short by
// a crash is skipped, other damage stops the server from starting; and an
// assertion that cannot be recorded gets no token.
func TestNoReplayAcrossRestarts(t *testing.T) {
	f := newFixture(t)
	used := filepath.Join(t.TempDir(), "used")
	cfg := f.s.cfg
	cfg.UsedFile = used
	start := func() *Server {
		t.Helper()
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := start()
	a := f.assertion(t, f.ehr, nil)
	if _, err := s.Token(context.Background(), form(a, "system/Observation.rs")); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	for _, tc := range []struct {
		name    string
		damage  func()
		replay  string
		wantErr error
	}{
		{"restart", func() {}, a, ErrInvalidClient},
		{"restart after a write cut short", func() { appendFile(t, used, "1234 ab") }, a, ErrInvalidClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.damage()
			s := start()
			_, err := s.Token(context.Background(), form(tc.replay, "system/Observation.rs"))
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), "jti was already used") {
				t.Fatalf("replay after %s: %v, want invalid_client (jti used)", tc.name, err)
			}
			if _, err := s.Token(context.Background(), form(f.assertion(t, f.ehr, nil), "system/Observation.rs")); err != nil {
				t.Fatalf("a new assertion: %v", err)
			}
		})
	}
	appendFile(t, used, "\nnot a line\n")
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("a damaged file: %v, want a refusal to start", err)
	}
	// A file that cannot be written: no token, and the jti is not burnt.
	os.Remove(used)
	s = start()
	if err := os.Mkdir(used+".d", 0o700); err != nil {
		t.Fatal(err)
	}
	cfg.UsedFile = filepath.Join(used+".d", "missing-dir", "used")
	s.cfg.UsedFile = cfg.UsedFile
	b := f.assertion(t, f.ehr, nil)
	if _, err := s.Token(context.Background(), form(b, "system/Observation.rs")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("unrecordable assertion: %v, want temporarily_unavailable", err)
	}
	s.cfg.UsedFile = ""
	if _, err := s.Token(context.Background(), form(b, "system/Observation.rs")); err != nil {
		t.Fatalf("the assertion after a failed record: %v", err)
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if _, err := fh.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
