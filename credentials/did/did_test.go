package did

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want DID // zero = expect an error
	}{
		{"key", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", DID{"key", "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}},
		{"example", "did:example:123456789abcdefghi", DID{"example", "123456789abcdefghi"}},
		{"digits in method", "did:web3:abc", DID{"web3", "abc"}},
		{"colons inside id", "did:web:example.com:user:alice", DID{"web", "example.com:user:alice"}},
		{"empty segments", "did:x::a", DID{"x", ":a"}},
		{"pct-encoded", "did:web:localhost%3A8443", DID{"web", "localhost%3A8443"}},
		{"idchars", "did:x:A-z_0.9", DID{"x", "A-z_0.9"}},
		{"empty", "", DID{}},
		{"no prefix", "key:z6Mk", DID{}},
		{"uppercase scheme", "DID:key:abc", DID{}},
		{"uppercase method", "did:Key:abc", DID{}},
		{"method with dash", "did:my-method:abc", DID{}},
		{"empty method", "did::abc", DID{}},
		{"no id", "did:key", DID{}},
		{"empty id", "did:key:", DID{}},
		{"trailing colon", "did:key:abc:", DID{}},
		{"only colons", "did:key:::", DID{}},
		{"bad pct", "did:key:abc%2", DID{}},
		{"bad pct hex", "did:key:abc%zz", DID{}},
		{"space", "did:key:ab c", DID{}},
		{"unicode", "did:key:abé", DID{}},
		{"path is a URL", "did:key:abc/path", DID{}},
		{"fragment is a URL", "did:key:abc#frag", DID{}},
		{"query is a URL", "did:key:abc?versionId=1", DID{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.want.IsZero() {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want an error", tt.in, got)
				}
				if !errors.Is(err, ErrInvalidDID) {
					t.Fatalf("Parse(%q) error %v does not wrap ErrInvalidDID", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestParseURL(t *testing.T) {
	ex := DID{"example", "123"}
	tests := []struct {
		name    string
		in      string
		want    URL
		wantErr bool
		str     string // String() if it differs from in
	}{
		{name: "plain DID", in: "did:example:123", want: URL{DID: ex}},
		{name: "fragment", in: "did:example:123#key-1", want: URL{DID: ex, Fragment: "key-1"}},
		{name: "did:key vm", in: "did:key:z6Mkab#z6Mkab", want: URL{DID: DID{"key", "z6Mkab"}, Fragment: "z6Mkab"}},
		{name: "path", in: "did:example:123/path/to/x", want: URL{DID: ex, Path: "/path/to/x"}},
		{name: "query", in: "did:example:123?versionId=4", want: URL{DID: ex, Query: "versionId=4"}},
		{name: "all parts", in: "did:example:123/a?service=files&relativeRef=/r#f", want: URL{DID: ex, Path: "/a", Query: "service=files&relativeRef=/r", Fragment: "f"}},
		{name: "pct in path", in: "did:example:123/%20x", want: URL{DID: ex, Path: "/%20x"}},
		{name: "query with ? and /", in: "did:example:123?a=/b?c", want: URL{DID: ex, Query: "a=/b?c"}},
		{name: "fragment with ? and :", in: "did:example:123#a?b:c@d", want: URL{DID: ex, Fragment: "a?b:c@d"}},
		{name: "empty fragment dropped", in: "did:example:123#", want: URL{DID: ex}, str: "did:example:123"},
		{name: "empty query dropped", in: "did:example:123?#x", want: URL{DID: ex, Fragment: "x"}, str: "did:example:123#x"},
		{name: "root path", in: "did:example:123/", want: URL{DID: ex, Path: "/"}},
		{name: "bad DID", in: "did:Example:123#x", wantErr: true},
		{name: "trailing colon before fragment", in: "did:example:123:#x", wantErr: true},
		{name: "space in path", in: "did:example:123/a b", wantErr: true},
		{name: "second # in fragment", in: "did:example:123#a#b", wantErr: true},
		{name: "bad pct in query", in: "did:example:123?a=%g0", wantErr: true},
		{name: "bracket in fragment", in: "did:example:123#[x]", wantErr: true},
		{name: "no DID", in: "#key-1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseURL(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidDID) {
					t.Fatalf("ParseURL(%q) = %+v, %v; want ErrInvalidDID", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseURL(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			want := tt.in
			if tt.str != "" {
				want = tt.str
			}
			if got.String() != want {
				t.Fatalf("String() = %q, want %q", got.String(), want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, did string
		ok        bool
	}{
		{"ed25519 did:key", "did:key:z6MktgnF8bk6TFroq1CfUFvLDsUEj6Q3FUnmbEGuGxVuYCa8", true},
		{"did:medid", "did:medid:4mX1sTbq8ZxFqQvwU2fKJa", true},
		{"other method: syntax only", "did:example:123", true},
		{"did:key naming no key", "did:key:foo", false},
		{"did:key of the wrong size", "did:key:z6MktgnF8bk6TFroq1CfUFvLDsUEj6Q3FUnmbEGuGxVu", false},
		{"did:medid not base58", "did:medid:0OIl", false},
		{"did:medid of the wrong size", "did:medid:4mX1sTbq", false},
		{"not a DID", "hospital", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.did)
			if (err == nil) != tt.ok {
				t.Errorf("Check(%q) = %v, want ok %v", tt.did, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidDID) && !errors.Is(err, ErrInvalidPublicKeyLength) && !errors.Is(err, ErrUnsupportedPublicKeyType) {
				t.Errorf("Check(%q) = %v, want a did sentinel", tt.did, err)
			}
		})
	}
}
