package smart

import (
	"errors"
	"testing"
	"time"

	"github.com/medid/medid/credentials/key"
)

// FuzzParseAssertion: any input is refused with ErrInvalidClient or
// decoded into an assertion whose invariants hold.
func FuzzParseAssertion(f *testing.F) {
	k, _ := key.Generate(key.Ed25519)
	good := sign(f, k, map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": "did:medid:ehr1#k1"},
		map[string]any{"iss": "did:medid:ehr1", "sub": "did:medid:ehr1", "aud": []string{tokenURL}, "exp": time.Now().Unix(), "iat": 1.5, "jti": "x"})
	f.Add(good)
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAssertion(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidClient) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if a.Issuer != a.Subject || a.JTI == "" || len(a.Audience) == 0 || a.Expires.IsZero() || (a.Alg != "EdDSA" && a.Alg != "ES256") {
			t.Fatalf("accepted %+v", a)
		}
	})
}

// FuzzParseScopes: a scope string is refused with ErrInvalidScope, or
// parsed into scopes whose canonical form parses back to the same.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{"system/*.rs", "patient/AllergyIntolerance.rs system/Observation.cruds",
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory", "patient/Observation.read", "user/*.*", "openid"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ss, err := ParseScopes(s, types)
		if err != nil {
			if !errors.Is(err, ErrInvalidScope) {
				t.Fatalf("error %v", err)
			}
			return
		}
		again, err := ParseScopes(ss.String(), types)
		if err != nil || again.String() != ss.String() {
			t.Fatalf("%q -> %q -> %v %v", s, ss, again, err)
		}
		for _, sc := range ss {
			if sc.Perms == 0 || !ss.Covers(sc) {
				t.Fatalf("scope %+v", sc)
			}
		}
	})
}
