package consent

import (
	"os"
	"reflect"
	"testing"
)

// FuzzParseFHIR: ParseFHIR never panics, and whatever it accepts exports
// and re-imports to the same grant and status.
func FuzzParseFHIR(f *testing.F) {
	pat, prov := newParty(f, 1), newParty(f, 2)
	for _, st := range []string{StatusActive, StatusInactive} {
		b, err := testGrant(pat, prov).MarshalFHIR(st)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if b, err := os.ReadFile("testdata/consent-foreign.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"resourceType":"Consent"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, status, err := ParseFHIR(data)
		if err != nil {
			return
		}
		out, err := g.MarshalFHIR(status)
		if err != nil {
			t.Fatalf("accepted grant does not export: %v", err)
		}
		g2, status2, err := ParseFHIR(out)
		if err != nil {
			t.Fatalf("exported grant does not import: %v\n%s", err, out)
		}
		n := g.normalized()
		if status2 != status || !reflect.DeepEqual(g2, n) {
			t.Fatalf("round trip:\n got %+v %s\nwant %+v %s", g2, status2, n, status)
		}
	})
}

// FuzzParse: Parse (grant tokens) never panics, and an accepted grant
// validates and re-encodes to a credential that reads back the same.
func FuzzParse(f *testing.F) {
	pat, prov := newParty(f, 1), newParty(f, 2)
	tok, err := Issue(testGrant(pat, prov), pat.Key, pat.Kid)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add("eyJhbGciOiJFZERTQSJ9.e30.AA")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		g, err := Parse(token)
		if err != nil {
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid grant: %v", err)
		}
		c, err := g.Credential()
		if err != nil {
			t.Fatalf("accepted grant does not re-encode: %v", err)
		}
		g2, err := FromCredential(c)
		if err != nil {
			t.Fatalf("re-encoded grant does not read back: %v", err)
		}
		want := g.normalized()
		want.Token = ""
		if !reflect.DeepEqual(g2, want) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", g2, want)
		}
	})
}
