package qr

import (
	"bytes"
	"errors"
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
