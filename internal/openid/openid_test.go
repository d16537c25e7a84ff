package openid

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSecureURL(t *testing.T) {
	tests := []struct {
		name string
		u    string
		want bool
	}{
		{"https", "https://issuer.example/x", true},
		{"http localhost", "http://localhost:8080/x", true},
		{"http loopback v4", "http://127.0.0.1:9/x", true},
		{"http loopback v6", "http://[::1]:9/x", true},
		{"http remote", "http://issuer.example/x", false},
		{"http private address", "http://10.0.0.1/x", false},
		{"no host", "https:///x", false},
		{"other scheme", "ftp://issuer.example/x", false},
		{"not a URL", "://", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SecureURL(tt.u); got != tt.want {
				t.Errorf("SecureURL(%q) = %v, want %v", tt.u, got, tt.want)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteJSON(rec, http.StatusCreated, map[string]string{"a": "b"})
	if got, want := rec.Code, http.StatusCreated; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got, want := rec.Body.String(), "{\"a\":\"b\"}\n"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}
