package jose

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/key"
)

func testKey(t testing.TB) *key.PrivateKey {
	t.Helper()
	k, err := key.NewEd25519FromSeed(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSplit(t *testing.T) {
	k := testKey(t)
	good, err := Sign([]byte(`{"alg":"EdDSA"}`), []byte(`{"a":1}`), k)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	h, p, s := parts[0], parts[1], parts[2]
	cases := []struct {
		name    string
		token   string
		max     int
		wantErr error
	}{
		{"good", good, 1 << 10, nil},
		{"at the size bound", good, len(good), nil},
		{"over the size bound", good, len(good) - 1, ErrTooLarge},
		{"one segment", h, 1 << 10, ErrMalformed},
		{"two segments", h + "." + p, 1 << 10, ErrMalformed},
		{"four segments", good + ".AAAA", 1 << 10, ErrMalformed},
		{"JWE", good + ".AAAA.AAAA", 1 << 10, ErrMalformed},
		{"empty header", "." + p + "." + s, 1 << 10, ErrMalformed},
		{"empty payload", h + ".." + s, 1 << 10, ErrMalformed},
		{"padding", h + "." + p + "." + s + "==", 1 << 10, ErrMalformed},
		{"padded header", h + "=." + p + "." + s, 1 << 10, ErrMalformed},
		{"standard alphabet", h + "." + p + ".+" + s[1:], 1 << 10, ErrMalformed},
		{"space", h + " ." + p + "." + s, 1 << 10, ErrMalformed},
		{"line break", h + "." + p[:2] + "\n" + p[2:] + "." + s, 1 << 10, ErrMalformed},
		{"carriage return", h + "\r." + p + "." + s, 1 << 10, ErrMalformed},
		// "eyJ9" would be "{}"... the last character of a 1-byte value
		// carries 4 bits that must be zero: "QQ" is "A", "QR" is not canonical.
		{"non-zero trailing bits", h + "." + p + "." + "QR", 1 << 10, ErrMalformed},
		{"impossible length", h + "." + p + "." + "Q", 1 << 10, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j, err := Split(tc.token, tc.max)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("Split = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), p) {
					t.Errorf("error quotes the token: %v", err)
				}
				return
			}
			if j.Header != `{"alg":"EdDSA"}` || j.Payload != `{"a":1}` || len(j.Signature) != 64 {
				t.Errorf("Split = %q %q %d-byte signature", j.Header, j.Payload, len(j.Signature))
			}
			if j.SigningInput != h+"."+p {
				t.Errorf("SigningInput = %q", j.SigningInput)
			}
			if !k.Public().Verify([]byte(j.SigningInput), j.Signature) {
				t.Error("the signature does not verify over SigningInput")
			}
		})
	}
}

func TestSplitUnsecured(t *testing.T) {
	tok := Unsecured([]byte(`{"alg":"none"}`), []byte(`{"a":1}`))
	if !strings.HasSuffix(tok, ".") {
		t.Fatalf("Unsecured = %q, want a trailing dot", tok)
	}
	j, err := Split(tok, 1<<10)
	if err != nil || j.Payload != `{"a":1}` || len(j.Signature) != 0 {
		t.Fatalf("Split = %+v, %v", j, err)
	}
}

// TestSplitLong: values longer than one decoding chunk come out whole, and
// the trailing-bits rule applies at their real end, not at a chunk's.
func TestSplitLong(t *testing.T) {
	for _, n := range []int{767, 768, 769, 3000} {
		payload := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		tok, err := Sign([]byte(`{"alg":"EdDSA"}`), payload, testKey(t))
		if err != nil {
			t.Fatal(err)
		}
		j, err := Split(tok, 1<<20)
		if err != nil || j.Payload != string(payload) {
			t.Fatalf("%d-byte payload: Split = %.40q…, %v", n, j.Payload, err)
		}
		if n%3 != 0 {
			// Set the lowest bit of the last character, which carries
			// no data when the length is not a multiple of 3.
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			parts := strings.Split(tok, ".")
			p := []byte(parts[1])
			p[len(p)-1] = alphabet[strings.IndexByte(alphabet, p[len(p)-1])|1]
			if _, err := Split(parts[0]+"."+string(p)+"."+parts[2], 1<<20); !errors.Is(err, ErrMalformed) {
				t.Errorf("%d-byte payload with non-zero trailing bits: %v, want ErrMalformed", n, err)
			}
		}
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"", "", true},
		{"QQ", "A", true},
		{"QUI", "AB", true},
		{"QR", "", false},
		{"QQ==", "", false},
		{"Q Q", "", false},
		{"Q\nQ", "", false},
		{"+/", "", false},
	} {
		got, err := Decode(tc.in)
		if (err == nil) != tc.ok || tc.ok && string(got) != tc.want {
			t.Errorf("Decode(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("Decode(%q) error %v does not wrap ErrMalformed", tc.in, err)
		}
	}
}

// FuzzSplit checks that Split never panics, that its errors wrap its
// sentinels, and that whatever it accepts has exactly one encoding: the
// three decoded parts encode back to the token, letter for letter.
func FuzzSplit(f *testing.F) {
	good, err := Sign([]byte(`{"alg":"EdDSA","typ":"vc+jwt"}`), []byte(`{"a":1}`), testKey(f))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, good + ".", "a.b.c", "..", "eyJhbGciOiJub25lIn0.e30.", "QQ.QQ.QR", "QQ==.QQ.QQ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		if got, want := lineBreak(token), strings.IndexAny(token, "\r\n"); got != want {
			t.Fatalf("lineBreak(%q) = %d, strings.IndexAny = %d", token, got, want)
		}
		j, err := Split(token, 1<<16)
		// SplitBytes is the same policy for a token held as bytes: the
		// same parts, signing input and error, to the message.
		bj, signed, berr := SplitBytes([]byte(token), 1<<16)
		if (err == nil) != (berr == nil) || err != nil && err.Error() != berr.Error() {
			t.Fatalf("Split error %v, SplitBytes error %v", err, berr)
		}
		if bj.Header != j.Header || bj.Payload != j.Payload || !bytes.Equal(bj.Signature, j.Signature) ||
			string(signed) != j.SigningInput || bj.SigningInput != "" || (err == nil) != (signed != nil) {
			t.Fatalf("SplitBytes = %+v, %q; Split = %+v", bj, signed, j)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		re := Encode([]byte(j.Header)) + "." + Encode([]byte(j.Payload)) + "." + Encode(j.Signature)
		if re != token {
			t.Fatalf("accepted %q, which re-encodes as %q", token, re)
		}
		if !strings.HasPrefix(token, j.SigningInput+".") || strings.Count(j.SigningInput, ".") != 1 {
			t.Fatalf("SigningInput %q is not the token's header.payload", j.SigningInput)
		}
		if len(j.Header) == 0 || len(j.Payload) == 0 {
			t.Fatal("accepted an empty header or payload")
		}
	})
}

func BenchmarkSplit(b *testing.B) {
	tok, err := Sign(bytes.Repeat([]byte("h"), 120), bytes.Repeat([]byte("p"), 900), testKey(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Split(tok, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLineBreak: lineBreak is strings.IndexAny(s, "\r\n"), which it
// replaces for speed, at every position and order of CR and LF.
func TestLineBreak(t *testing.T) {
	for _, s := range []string{"", "a", "abc", "\n", "\r", "\r\n", "\n\r", "ab\ncd\ref", "ab\rcd\nef",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r", strings.Repeat("x", 4000) + "\n" + "y\r",
		strings.Repeat("x", 4000) + "\r"} {
		if got, want := lineBreak(s), strings.IndexAny(s, "\r\n"); got != want {
			t.Errorf("lineBreak(%.20q…) = %d, want %d", s, got, want)
		}
	}
}
