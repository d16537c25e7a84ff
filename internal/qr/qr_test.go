package qr

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
	}{
		{"offer", "openid-credential-offer://?credential_offer=%7B%22credential_issuer%22%3A%22http%3A%2F%2F127.0.0.1%3A8080%22%7D"},
		{"short", "hello"},
		{"level L", strings.Repeat("eyJhbGciOiJFZERTQSJ9.", 130)[:2600]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			png, err := PNG(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(bytes.NewReader(png))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.text {
				t.Errorf("got %q, want %q", got, tc.text)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	_, err := PNG(strings.Repeat("x", MaxBytes+1))
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("got %v, want ErrTooLarge", err)
	}
}

func TestTerminal(t *testing.T) {
	s, err := Terminal("hello")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(s, "\n"); lines < 10 {
		t.Errorf("got %d lines, want a drawn code", lines)
	}
}

func TestDecodeNotACode(t *testing.T) {
	if _, err := Decode(strings.NewReader("not an image")); err == nil {
		t.Error("decoded text from something that is not an image")
	}
}

func FuzzDecode(f *testing.F) {
	png, _ := PNG("seed")
	f.Add(png)
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Decode(bytes.NewReader(data)) // must not panic
	})
}

func TestCompact(t *testing.T) {
	for _, text := range []string{"", "a", "ab", "eyJhbGciOiJFZERTQSJ9." + strings.Repeat("eyJ2cCI6eyJAY29udGV4dCI6", 150)} {
		c := Compact(text)
		for _, r := range c {
			if !strings.ContainsRune(base45Alphabet, r) && !strings.ContainsRune(CompactPrefix, r) {
				t.Fatalf("compacted text holds %q, outside the QR alphanumeric set", r)
			}
		}
		got, err := Expand(c)
		if err != nil || got != text {
			t.Errorf("Expand(Compact(%d bytes)) = %d bytes, %v", len(text), len(got), err)
		}
	}
	// A long compacted text round-trips through a QR code image.
	long := Compact(strings.Repeat("eyJhbGciOiJFZERTQSJ9.abcdefghijklmnopqrstuvwxyz0123456789", 90))
	png, err := PNG(long)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(png))
	if err != nil || got != long {
		t.Errorf("QR round trip of a compacted text: %v", err)
	}
	if s, err := Expand("plain"); s != "plain" || err != nil {
		t.Errorf("Expand of a plain text: %q, %v", s, err)
	}
	if _, err := Expand(CompactPrefix + "a"); err == nil {
		t.Error("Expand accepted lowercase Base45")
	}
}

func FuzzExpand(f *testing.F) {
	f.Add(Compact("hello"))
	f.Add(CompactPrefix + "GGW")
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Expand(s)
		if err == nil && len(out) > maxExpanded {
			t.Fatal("expanded beyond the bound")
		}
	})
}

// TestDecodeLarge reads back large compacted codes with varied content:
// the finder-pattern detector alone misses some of them.
func TestDecodeLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		b := make([]byte, 1800+rng.IntN(900))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		s := CompactPrefix + base45Encode(b)
		png, err := PNG(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(bytes.NewReader(png))
		if err != nil || got != s {
			t.Errorf("code %d (%d characters): %v", i, len(s), err)
		}
	}
}
