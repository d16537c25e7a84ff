package sdjwt

import (
	"context"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/jose"
)

// noReserved fails when a processed claim set still holds a name SD-JWT
// reserves: processing must remove every _sd, _sd_alg and "..." digest.
func noReserved(t *testing.T, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if k == sdKey || k == sdAlgKey || k == arrayKey {
				t.Fatalf("processed claims hold the reserved name %q", k)
			}
			noReserved(t, e)
		}
	case []any:
		for _, e := range v {
			noReserved(t, e)
		}
	}
}

// FuzzDisclosure: ParseDisclosure never panics, and what it accepts has the
// digest of exactly the text received and a well-formed shape.
func FuzzDisclosure(f *testing.F) {
	f.Add("WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd")
	f.Add("WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0")
	f.Add(jose.Encode([]byte(`["s","_sd",1]`)))
	f.Add(jose.Encode([]byte(`["s","a",{"_sd":["x"]},4]`)))
	f.Fuzz(func(t *testing.T, raw string) {
		d, err := ParseDisclosure(raw)
		if err != nil {
			if Reason(err) == "" {
				t.Fatalf("refusal without a reason code: %v", err)
			}
			return
		}
		if d.Digest != digest(raw) || d.Raw != raw || d.Salt == "" {
			t.Fatalf("accepted %q as %+v", raw, d)
		}
		if d.ArrayElement != (d.Name == "") && !(d.ArrayElement == false && d.Name == "") {
			t.Fatalf("array element with a name: %+v", d)
		}
		if d.Name == sdKey || d.Name == arrayKey {
			t.Fatalf("reserved name accepted: %q", d.Name)
		}
	})
}

// FuzzIssuerJWT varies the issuer-signed JWT in front of the RFC's own
// Disclosures: nothing panics, every refusal has a reason, and whatever
// verifies comes out without reserved names.
func FuzzIssuerJWT(f *testing.F) {
	issued := readVector(f, "sec5-issuance.txt")
	jwt, discs, _ := strings.Cut(issued, "~")
	f.Add(jwt)
	f.Add(strings.SplitN(readVector(f, "a3-issuance.txt"), "~", 2)[0])
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	keys := rfcKeys(f)
	f.Fuzz(func(t *testing.T, j string) {
		v, err := Verify(context.Background(), j+"~"+discs, keys, VerifyOptions{Typ: "example+sd-jwt", Now: rfcKBTime})
		if err != nil {
			if Reason(err) == "" {
				t.Fatalf("refusal without a reason code: %v", err)
			}
			return
		}
		noReserved(t, v.Claims)
	})
}

// FuzzKBJWT varies the Key Binding JWT of the RFC §5.2 presentation. The
// holder's key cannot be forged, so only the original may verify.
func FuzzKBJWT(f *testing.F) {
	pres := readVector(f, "sec5-presentation.txt")
	i := strings.LastIndexByte(pres, '~')
	sd, kb := pres[:i+1], pres[i+1:]
	f.Add(kb)
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoia2Irand0In0.e30.")
	f.Add(kb[:len(kb)-2])
	keys := rfcKeys(f)
	opts := VerifyOptions{Typ: "example+sd-jwt", Now: rfcKBTime, Audience: rfcAudience, Nonce: rfcNonce}
	f.Fuzz(func(t *testing.T, k string) {
		v, err := Verify(context.Background(), sd+k, keys, opts)
		if err != nil {
			if Reason(err) == "" {
				t.Fatalf("refusal without a reason code: %v", err)
			}
			return
		}
		if k != kb || v.KeyBinding == nil {
			t.Fatalf("a KB-JWT other than the holder's verified: %q", k)
		}
	})
}

// FuzzCombined varies a whole SD-JWT+KB: the split, every Disclosure, the
// processing, for both the verifier (Verify) and the holder (Open,
// Present). Whatever verifies carries exactly the Disclosures received.
func FuzzCombined(f *testing.F) {
	for _, name := range []string{"sec5-presentation.txt", "sec5-issuance.txt", "a1-presentation.txt", "a2-presentation.txt", "a4-issuance.txt"} {
		f.Add(readVector(f, name))
	}
	f.Add("~")
	f.Add("a~~b~")
	keys := rfcKeys(f)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Verify(context.Background(), s, keys, VerifyOptions{Typ: "example+sd-jwt", Now: rfcKBTime, Audience: rfcAudience, Nonce: rfcNonce})
		if err != nil {
			if Reason(err) == "" {
				t.Fatalf("refusal without a reason code: %v", err)
			}
		} else {
			noReserved(t, v.Claims)
			if n := strings.Count(s, "~") - 1; len(v.Disclosed) != n {
				t.Fatalf("%d Disclosures sent, %d reported disclosed", n, len(v.Disclosed))
			}
		}
		h, err := Open(s)
		if err != nil {
			return
		}
		noReserved(t, h.Claims)
		p, err := h.Present(h.Paths, nil)
		if err != nil {
			t.Fatalf("presenting every path of an opened SD-JWT: %v", err)
		}
		if len(p.Withheld) != 0 {
			t.Fatalf("presenting every path withheld %v", p.Withheld)
		}
	})
}

// FuzzPeek varies what a cache peeks at: Peek never panics, refuses with
// a reason code, and returns an issuer only when the token names one (and
// a status reference only when it has a valid one).
func FuzzPeek(f *testing.F) {
	for _, name := range []string{"sec5-presentation.txt", "sec5-issuance.txt", "a4-issuance.txt"} {
		f.Add(readVector(f, name))
	}
	f.Add("eyJhbGciOiJFZERTQSIsInR5cCI6ImRjK3NkLWp3dCJ9.eyJpc3MiOiJkaWQ6ZXhhbXBsZTpoIiwic3RhdHVzIjp7InN0YXR1c19saXN0Ijp7ImlkeCI6NywidXJpIjoiaHR0cHM6Ly9oLmV4YW1wbGUvMSJ9fX0.c2ln~")
	f.Add("~")
	f.Fuzz(func(t *testing.T, s string) {
		ev, err := Peek(s)
		if err != nil {
			if Reason(err) == "" {
				t.Fatalf("refusal without a reason code: %v", err)
			}
			return
		}
		if ev.Issuer == "" {
			t.Fatal("Peek returned no issuer without an error")
		}
		if ev.Status != nil && (ev.Status.Index < 0 || ev.Status.URI == "") {
			t.Fatalf("Peek returned a bad status reference %+v", ev.Status)
		}
	})
}
