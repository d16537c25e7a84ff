package sdjwt

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/key"
)

const (
	rfcAudience = "https://verifier.example.org"
	rfcNonce    = "1234567890"
)

var rfcKBTime = time.Unix(1748536865, 0)

func readVector(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "rfc9901", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// rfcIssuerKey returns the key of RFC 9901 Appendix A.5.
func rfcIssuerKey(t testing.TB) key.PublicKey {
	t.Helper()
	pub, err := key.ParsePublicJWK([]byte(readVector(t, "issuer-key.jwk")))
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func rfcKeys(t testing.TB) func(context.Context, string) (key.PublicKey, error) {
	pub := rfcIssuerKey(t)
	return func(_ context.Context, kid string) (key.PublicKey, error) {
		if kid != "" {
			t.Errorf("the RFC examples have no kid, got %q", kid)
		}
		return pub, nil
	}
}

// sameJSON compares two claim sets as JSON values (numbers by value).
func sameJSON(t *testing.T, got map[string]any, wantJSON string) {
	t.Helper()
	gb, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(gb, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(wantJSON), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("processed payload\n got %s\nwant %s", gb, wantJSON)
	}
}

// TestRFC9901Presentations verifies every SD-JWT+KB and presentation of
// RFC 9901 and compares the processed payload with the one the RFC gives.
func TestRFC9901Presentations(t *testing.T) {
	for _, tc := range []struct {
		name, typ string
		kb        bool
	}{
		{"sec5", "example+sd-jwt", true},
		{"a1", "example+sd-jwt", false},
		{"a2", "example+sd-jwt", false},
		{"a3", "dc+sd-jwt", true},
		{"a4", "example+sd-jwt", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := VerifyOptions{Typ: tc.typ, Now: rfcKBTime}
			if tc.kb {
				opts.Audience, opts.Nonce = rfcAudience, rfcNonce
			}
			v, err := Verify(context.Background(), readVector(t, tc.name+"-presentation.txt"), rfcKeys(t), opts)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			sameJSON(t, v.Claims, readVector(t, tc.name+"-processed.json"))
			if tc.kb && (v.KeyBinding == nil || v.KeyBinding.Nonce != rfcNonce) {
				t.Errorf("KeyBinding = %+v, want one with nonce %s", v.KeyBinding, rfcNonce)
			}
			if len(v.Withheld) == 0 {
				t.Error("Withheld is empty, but every RFC presentation withholds something")
			}
		})
	}
}

// TestRFC9901Section5 checks the issued SD-JWT of §5.1: the digests the
// RFC lists, and that presenting the §5.2 choice of claims gives the §5.2
// processed payload.
func TestRFC9901Section5(t *testing.T) {
	issued := readVector(t, "sec5-issuance.txt")
	for raw, want := range map[string]string{
		"WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd": "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4",
		"WyJBSngtMDk1VlBycFR0TjRRTU9xUk9BIiwgImFkZHJlc3MiLCB7InN0cmVldF9hZGRyZXNzIjogIjEyMyBNYWluIFN0IiwgImxvY2FsaXR5IjogIkFueXRvd24iLCAicmVnaW9uIjogIkFueXN0YXRlIiwgImNvdW50cnkiOiAiVVMifV0": "XzFrzwscM6Gn6CJDc6vVK8BkMnfG8vOSKfpPIZdAfdE",
		"WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0": "pFndjkZ_VCzmyTa6UjlZo3dh-ko8aIKQc9DlGzhaVYo",
	} {
		d, err := ParseDisclosure(raw)
		if err != nil {
			t.Fatal(err)
		}
		if d.Digest != want {
			t.Errorf("digest of %s = %s, want %s", raw[:20], d.Digest, want)
		}
	}
	v, err := Verify(context.Background(), issued, rfcKeys(t), VerifyOptions{Typ: "example+sd-jwt", Now: rfcKBTime})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Disclosed) != 10 || len(v.Withheld) != 0 {
		t.Errorf("issued SD-JWT: %d disclosed, %d withheld groups; want 10 and 0", len(v.Disclosed), len(v.Withheld))
	}
	h, err := Open(issued)
	if err != nil {
		t.Fatal(err)
	}
	// given_name, family_name, address and the first nationality, as §5.2.
	p, err := h.Present([]Path{{"given_name"}, {"family_name"}, {"address"}, {"nationalities", 0}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(context.Background(), p.Token, rfcKeys(t), VerifyOptions{Typ: "example+sd-jwt", Now: rfcKBTime})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, got.Claims, readVector(t, "sec5-processed.json"))
	if len(p.Disclosed) != 4 || len(p.Withheld) != 6 {
		t.Errorf("Present: %d disclosed, %d withheld; want 4 and 6", len(p.Disclosed), len(p.Withheld))
	}
}

// TestRFC9901Refusals tampers with the RFC's own presentations: each
// change must be refused with its reason code.
func TestRFC9901Refusals(t *testing.T) {
	pres := readVector(t, "sec5-presentation.txt")
	issued := readVector(t, "sec5-issuance.txt")
	parts := strings.Split(pres, "~")
	jwt, kb := parts[0], parts[len(parts)-1]
	discs := parts[1 : len(parts)-1]
	allDiscs := strings.Split(strings.TrimSuffix(issued, "~"), "~")[1:]
	opts := VerifyOptions{Typ: "example+sd-jwt", Now: rfcKBTime, Audience: rfcAudience, Nonce: rfcNonce}
	join := func(d ...string) string { return jwt + "~" + strings.Join(d, "~") + "~" }
	forged, err := newDisclosure(strings.NewReader(strings.Repeat("x", 64)), "given_name", false, "Mallory")
	if err != nil {
		t.Fatal(err)
	}
	hdr, _, _ := strings.Cut(jwt, ".")
	noneJWT := jose.Encode([]byte(`{"alg":"none","typ":"example+sd-jwt"}`)) + jwt[len(hdr):]
	for _, tc := range []struct {
		name   string
		token  string
		opts   VerifyOptions
		reason string
	}{
		{"forged disclosure", join(append(append([]string{}, discs...), forged.Raw)...) + kb, opts, ReasonUnreferencedDisclosure},
		{"duplicate disclosure", join(append(append([]string{}, discs...), discs[0])...) + kb, opts, ReasonDuplicateDisclosure},
		{"disclosure added after KB", join(append(append([]string{}, discs...), allDiscs[2])...) + kb, opts, ReasonKBSDHash},
		{"disclosure removed after KB", join(discs[1:]...) + kb, opts, ReasonKBSDHash},
		{"disclosures reordered after KB", join(append(append([]string{}, discs[1:]...), discs[0])...) + kb, opts, ReasonKBSDHash},
		{"other audience", pres, VerifyOptions{Typ: "example+sd-jwt", Now: rfcKBTime, Audience: "https://evil.example", Nonce: rfcNonce}, ReasonKBAudience},
		{"other nonce", pres, VerifyOptions{Typ: "example+sd-jwt", Now: rfcKBTime, Audience: rfcAudience, Nonce: "replayed"}, ReasonKBNonce},
		{"stale KB-JWT", pres, VerifyOptions{Typ: "example+sd-jwt", Now: rfcKBTime.Add(time.Hour), Audience: rfcAudience, Nonce: rfcNonce}, ReasonKBNotFresh},
		{"KB-JWT from the future", pres, VerifyOptions{Typ: "example+sd-jwt", Now: rfcKBTime.Add(-time.Hour), Audience: rfcAudience, Nonce: rfcNonce}, ReasonKBNotFresh},
		{"KB-JWT missing", join(discs...), opts, ReasonKBMissing},
		{"KB-JWT without a request to check", pres, VerifyOptions{Typ: "example+sd-jwt", Now: rfcKBTime}, ReasonKBAudience},
		{"KB-JWT tampered", pres[:len(pres)-4] + "AAAA", opts, ReasonKBBadSignature},
		{"issuer JWT tampered", strings.Replace(pres, jwt, jwt[:len(jwt)-4]+"AAAA", 1), opts, ReasonBadSignature},
		{"alg none", strings.Replace(pres, jwt, noneJWT, 1), opts, ReasonUnsupportedAlg},
		{"wrong typ", pres, VerifyOptions{Typ: "dc+sd-jwt", Now: rfcKBTime, Audience: rfcAudience, Nonce: rfcNonce}, ReasonWrongType},
		{"empty disclosure", jwt + "~~" + strings.Join(discs, "~") + "~", VerifyOptions{Typ: "example+sd-jwt", Now: rfcKBTime}, ReasonDisclosureMalformed},
		{"no tilde", jwt, VerifyOptions{Typ: "example+sd-jwt", Now: rfcKBTime}, ReasonMalformed},
		{"expired", issued, VerifyOptions{Typ: "example+sd-jwt", Now: time.Unix(1883000000, 0)}, ReasonExpired},
		{"issued in the future", issued, VerifyOptions{Typ: "example+sd-jwt", Now: time.Unix(1683000000-3600, 0)}, ReasonNotYetValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Verify(context.Background(), tc.token, rfcKeys(t), tc.opts)
			if got := Reason(err); got != tc.reason {
				t.Fatalf("reason = %q (err %v), want %q", got, err, tc.reason)
			}
			if v != nil {
				t.Error("a refused SD-JWT returned claims")
			}
		})
	}
}
