package sdjwt

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/tokenstatus"
	"github.com/medid/medid/credentials/vc"
)

const (
	verifierAud = "https://er.example.org"
	reqNonce    = "n-0S6_WzA2Mj"
)

var issuedAt = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

// keysOf serves the issuer's key for its kid and nothing else.
func keysOf(p credtest.Party) vc.KeyFunc {
	return func(_ context.Context, kid string) (key.PublicKey, error) {
		if kid != p.Kid {
			return key.PublicKey{}, fmt.Errorf("unknown key %s", kid)
		}
		return p.Key.Public(), nil
	}
}

// allergy is a synthetic FHIR-shaped AllergyIntolerance.
func allergy() map[string]any {
	return map[string]any{
		"clinicalStatus": "active",
		"criticality":    "high",
		"code":           map[string]any{"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"},
		"reaction":       []any{map[string]any{"manifestation": "anaphylaxis", "severity": "severe"}, map[string]any{"manifestation": "urticaria"}},
		"note":           "SYNTHETIC TEST DATA",
	}
}

func issueAllergy(t testing.TB, iss, holder credtest.Party) string {
	t.Helper()
	exp := issuedAt.Add(365 * 24 * time.Hour)
	tok, err := IssueVC(&Credential{
		Issuer: iss.DID, VCT: VCT("AllergyIntoleranceCredential"), Subject: holder.DID,
		IssuedAt: issuedAt, Expires: &exp, Holder: holder.Key.Public(),
		Status: &tokenstatus.Reference{Index: 94567, URI: "https://registry.example/status/tsl/1"},
		Claims: allergy(),
	}, iss.Key, iss.Kid, IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func pathStrings(ps []Path) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	slices.Sort(out)
	return out
}

// TestIssuePresentVerify issues an allergy SD-JWT VC with both key types,
// presents only chosen claims with key binding, and checks the verifier
// gets exactly those, and what it reports as disclosed.
func TestIssuePresentVerify(t *testing.T) {
	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		iss, holder := credtest.NewParty(t, alg, "iss"), credtest.NewParty(t, alg, "holder")
		tok := issueAllergy(t, iss, holder)
		h, err := Open(tok)
		if err != nil {
			t.Fatal(err)
		}
		// Every clinical claim is disclosable on its own, at every depth.
		for _, want := range []string{"code", "code.display", "code.system", "criticality", "reaction", "reaction.0", "reaction.0.severity", "reaction.1.manifestation", "sub", "note"} {
			if !slices.Contains(pathStrings(h.Paths), want) {
				t.Errorf("%s: %s is not selectively disclosable; paths %v", alg, want, pathStrings(h.Paths))
			}
		}
		for _, tc := range []struct {
			name          string
			paths         string
			wantDisclosed []string
			wantClaims    string
		}{
			{"substance only", "code.display", []string{"code", "code.display"}, `{"code":{"display":"Penicillin"}}`},
			{"whole code", "code", []string{"code", "code.code", "code.display", "code.system"}, `{"code":{"code":"764146007","display":"Penicillin","system":"http://snomed.info/sct"}}`},
			{"every manifestation", "reaction.*.manifestation", []string{"reaction", "reaction.0", "reaction.0.manifestation", "reaction.1", "reaction.1.manifestation"}, `{"reaction":[{"manifestation":"anaphylaxis"},{"manifestation":"urticaria"}]}`},
			{"second reaction only", "reaction.1", []string{"reaction", "reaction.0", "reaction.0.manifestation"}, `{"reaction":[{"manifestation":"urticaria"}]}`},
			{"two claims", "criticality,code.display", []string{"code", "code.display", "criticality"}, `{"code":{"display":"Penicillin"},"criticality":"high"}`},
		} {
			t.Run(string(alg)+"/"+tc.name, func(t *testing.T) {
				paths, err := ParsePaths(tc.paths)
				if err != nil {
					t.Fatal(err)
				}
				p, err := h.Present(paths, &KeyBindingOptions{Key: holder.Key, Audience: verifierAud, Nonce: reqNonce, IssuedAt: issuedAt.Add(time.Minute)})
				if err != nil {
					t.Fatal(err)
				}
				v, err := VerifyVC(context.Background(), p.Token, keysOf(iss), VerifyOptions{Audience: verifierAud, Nonce: reqNonce, Now: issuedAt.Add(2 * time.Minute)})
				if err != nil {
					t.Fatal(err)
				}
				sameJSON(t, v.Credential.Claims, tc.wantClaims)
				if got := pathStrings(v.Disclosed); !slices.Equal(got, tc.wantDisclosed) {
					t.Errorf("verifier's Disclosed = %v, want %v", got, tc.wantDisclosed)
				}
				if len(p.Disclosed)+len(p.Withheld) != len(h.Paths) {
					t.Errorf("holder: %d disclosed + %d withheld != %d disclosures", len(p.Disclosed), len(p.Withheld), len(h.Paths))
				}
				if v.Credential.Subject != "" {
					t.Errorf("sub was not asked for but the verifier got %q", v.Credential.Subject)
				}
				c := v.Credential
				if c.Issuer != iss.DID || c.VCT != VCT("AllergyIntoleranceCredential") || c.Status == nil || c.Status.Index != 94567 || !c.Holder.Equal(holder.Key.Public()) || c.Expires == nil || !c.IssuedAt.Equal(issuedAt) {
					t.Errorf("credential fields = %+v", c)
				}
				if v.KeyBinding == nil || v.KeyBinding.Audience != verifierAud {
					t.Errorf("KeyBinding = %+v", v.KeyBinding)
				}
				if len(v.Withheld) == 0 {
					t.Error("nothing reported withheld")
				}
			})
		}
	}
}

// TestPresentRefuses covers the holder's mistakes.
func TestPresentRefuses(t *testing.T) {
	iss, holder, other := credtest.NewParty(t, key.Ed25519, "iss"), credtest.NewParty(t, key.Ed25519, "holder"), credtest.NewParty(t, key.Ed25519, "other")
	h, err := Open(issueAllergy(t, iss, holder))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Present([]Path{{"bloodType"}}, nil); err == nil || !strings.Contains(err.Error(), "bloodType") {
		t.Errorf("unknown claim: err = %v", err)
	}
	if _, err := h.Present([]Path{{"reaction", 5}}, nil); err == nil {
		t.Error("index out of range was accepted")
	}
	if _, err := h.Present([]Path{{"code"}}, &KeyBindingOptions{Key: other.Key, Audience: verifierAud, Nonce: reqNonce}); err == nil {
		t.Error("key binding with a key other than cnf.jwk was accepted")
	}
	if _, err := Open(issueAllergy(t, iss, holder) + "eyJ.eyJ.sig"); err == nil {
		t.Error("Open accepted a token with a KB-JWT")
	}
}

// signed builds an SD-JWT from a hand-made payload and Disclosures, signed
// by iss: the way to reach the rules a correct issuer never breaks.
func signed(t *testing.T, iss credtest.Party, payload map[string]any, discs ...string) string {
	t.Helper()
	b, err := marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := vc.SignJWS(b, iss.Key, MediaType, "", iss.Kid)
	if err != nil {
		t.Fatal(err)
	}
	return jwt + "~" + strings.Join(append(discs, ""), "~")
}

func disc(t *testing.T, name string, element bool, v any) *Disclosure {
	t.Helper()
	d, err := newDisclosure(defaultRand, name, element, v)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCraftedRefusals: every RFC 9901 and SD-JWT VC rule, broken by a
// validly signed token, is refused with its reason code.
func TestCraftedRefusals(t *testing.T) {
	iss := credtest.NewParty(t, key.Ed25519, "iss")
	base := func(extra map[string]any) map[string]any {
		m := map[string]any{"iss": iss.DID, "vct": VCT("AllergyIntoleranceCredential"), "_sd_alg": "sha-256"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	name := disc(t, "criticality", false, "high")
	elem := disc(t, "", true, "anaphylaxis")
	inner := disc(t, "display", false, "Penicillin")
	outer := disc(t, "code", false, map[string]any{"_sd": []any{inner.Digest}})
	issDisc := disc(t, "iss", false, iss.DID)
	cnfDisc := disc(t, "cnf", false, map[string]any{"jwk": map[string]any{"kty": "OKP"}})
	statusDisc := disc(t, "status", false, map[string]any{})
	reserved := disc(t, "x", false, "y")
	reservedRaw := jose.Encode([]byte(`["c2FsdA","_sd","y"]`))
	collide := disc(t, "criticality", false, "low")
	other := credtest.NewParty(t, key.Ed25519, "other")
	for _, tc := range []struct {
		name   string
		token  string
		reason string
	}{
		{"valid nested (control)", signed(t, iss, base(map[string]any{"_sd": []any{outer.Digest}}), outer.Raw, inner.Raw), ""},
		{"digest twice in _sd", signed(t, iss, base(map[string]any{"_sd": []any{name.Digest, name.Digest}}), name.Raw), ReasonDuplicateDigest},
		{"undisclosed digest in _sd and in an array", signed(t, iss, base(map[string]any{"_sd": []any{name.Digest}, "r": []any{map[string]any{"...": name.Digest}}})), ReasonDuplicateDigest},
		{"digest twice across Disclosures", signed(t, iss, base(map[string]any{"_sd": []any{outer.Digest, inner.Digest}}), outer.Raw, inner.Raw), ReasonDuplicateDigest},
		{"array element from _sd", signed(t, iss, base(map[string]any{"_sd": []any{elem.Digest}}), elem.Raw), ReasonMisplacedDisclosure},
		{"object property in an array", signed(t, iss, base(map[string]any{"r": []any{map[string]any{"...": name.Digest}}}), name.Raw), ReasonMisplacedDisclosure},
		{"nested Disclosure never referenced", signed(t, iss, base(map[string]any{"_sd": []any{name.Digest}}), name.Raw, inner.Raw), ReasonUnreferencedDisclosure},
		{"sha-512", signed(t, iss, base(map[string]any{"_sd_alg": "sha-512"})), ReasonUnsupportedSDAlg},
		{"_sd_alg nested", signed(t, iss, base(map[string]any{"o": map[string]any{"_sd_alg": "sha-256"}})), ReasonUnsupportedSDAlg},
		{"_sd not an array", signed(t, iss, base(map[string]any{"_sd": "x"})), ReasonReservedClaimName},
		{"_sd holding a number", signed(t, iss, base(map[string]any{"_sd": []any{7}})), ReasonReservedClaimName},
		{"... beside other members", signed(t, iss, base(map[string]any{"r": []any{map[string]any{"...": elem.Digest, "x": 1}}}), elem.Raw), ReasonReservedClaimName},
		{"... as an object member", signed(t, iss, base(map[string]any{"o": map[string]any{"...": "x"}})), ReasonReservedClaimName},
		{"Disclosure of _sd", signed(t, iss, base(map[string]any{"_sd": []any{digest(reservedRaw)}}), reservedRaw), ReasonReservedClaimName},
		{"disclosed name already present", signed(t, iss, base(map[string]any{"criticality": "high", "_sd": []any{collide.Digest}}), collide.Raw), ReasonClaimCollision},
		{"iss selectively disclosable", signed(t, iss, map[string]any{"iss": iss.DID, "vct": "x", "_sd": []any{issDisc.Digest}}, issDisc.Raw), ReasonNotDisclosable},
		{"cnf selectively disclosable", signed(t, iss, base(map[string]any{"_sd": []any{cnfDisc.Digest}}), cnfDisc.Raw), ReasonNotDisclosable},
		{"status selectively disclosable", signed(t, iss, base(map[string]any{"_sd": []any{statusDisc.Digest}}), statusDisc.Raw), ReasonNotDisclosable},
		{"no iss", signed(t, iss, map[string]any{"vct": "x"}), ReasonMalformed},
		{"no vct", signed(t, iss, map[string]any{"iss": iss.DID}), ReasonMalformed},
		{"kid of another DID", signed(t, iss, map[string]any{"iss": other.DID, "vct": "x"}), ReasonIssuerMismatch},
		{"bad status reference", signed(t, iss, base(map[string]any{"status": map[string]any{"status_list": map[string]any{"idx": -1, "uri": "https://x"}}})), ReasonMalformed},
		{"private cnf.jwk with KB", signed(t, iss, base(map[string]any{"cnf": map[string]any{"jwk": map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}}})) + "e30.e30.AA", ReasonHolderKey},
		{"unreferenced with valid one", signed(t, iss, base(map[string]any{"_sd": []any{name.Digest}}), name.Raw, reserved.Raw), ReasonUnreferencedDisclosure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := VerifyVC(context.Background(), tc.token, keysOf(iss), VerifyOptions{Now: issuedAt})
			if got := Reason(err); got != tc.reason {
				t.Fatalf("reason = %q (err %v), want %q", got, err, tc.reason)
			}
			if (v != nil) != (tc.reason == "") {
				t.Errorf("claims returned = %v for reason %q", v != nil, tc.reason)
			}
		})
	}
}

// TestDecoys: two issuances of the same claims differ in digest counts
// often enough that the count does not reveal the number of claims, and
// never reveal claim order.
func TestDecoys(t *testing.T) {
	iss, holder := credtest.NewParty(t, key.Ed25519, "iss"), credtest.NewParty(t, key.Ed25519, "holder")
	counts := map[int]bool{}
	for range 20 {
		tok := issueAllergy(t, iss, holder)
		j, err := vc.ParseJWS(strings.SplitN(tok, "~", 2)[0], MediaType, "")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := vc.ParseJSON(j.Payload)
		sd := v.(map[string]any)["_sd"].([]any)
		counts[len(sd)] = true
		if !slices.IsSortedFunc(sd, func(a, b any) int { return strings.Compare(a.(string), b.(string)) }) {
			t.Fatal("_sd is not sorted: the digests' order would reveal the claims' order")
		}
		if len(sd) <= 6 { // sub, clinicalStatus, criticality, code, reaction, note
			t.Fatalf("_sd has %d digests: no decoy", len(sd))
		}
	}
	if len(counts) < 2 {
		t.Errorf("20 issuances all have the same number of digests %v: decoys are not random", counts)
	}
}

func TestPathParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		err  bool
	}{
		{"code.display", "code.display", false},
		{"reaction.*.severity", "reaction.*.severity", false},
		{"reaction.0", "reaction.0", false},
		{`["a.b", 0, null]`, `["a.b",0,null]`, false},
		{"", "", true},
		{"a..b", "", true},
		{`[-1]`, "", true},
		{`[{}]`, "", true},
	} {
		p, err := ParsePath(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParsePath(%q) err = %v", tc.in, err)
			continue
		}
		if err == nil && p.String() != tc.want {
			t.Errorf("ParsePath(%q) = %s, want %s", tc.in, p, tc.want)
		}
	}
}
