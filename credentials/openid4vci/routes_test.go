package openid4vci

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestMethodNotAllowed: a wrong method on any endpoint is 405 with Allow
// and an OAuth error object; an unknown path is 404.
func TestMethodNotAllowed(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		method, path, allow string
		status              int
	}{
		{"POST", WellKnownIssuer, "GET, HEAD, OPTIONS", 405},
		{"DELETE", WellKnownAS, "GET, HEAD, OPTIONS", 405},
		{"GET", "/token", "POST, OPTIONS", 405},
		{"GET", "/nonce", "POST, OPTIONS", 405},
		{"PUT", "/credential", "POST, OPTIONS", 405},
		{"GET", "/admin/offers", "POST, OPTIONS", 405},
		{"GET", "/nothing", "", 404},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, f.srv.URL+tc.path, strings.NewReader(""))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e ProtocolError
			_ = json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != tc.status || resp.Header.Get("Allow") != tc.allow || e.Code != ErrCodeInvalidRequest {
				t.Errorf("got %d Allow %q error %q, want %d Allow %q invalid_request", resp.StatusCode, resp.Header.Get("Allow"), e.Code, tc.status, tc.allow)
			}
		})
	}
}
