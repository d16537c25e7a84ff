package openid

import "testing"

func TestProblemError(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		code    string
		desc    string
		problem bool
	}{
		{"client certificate required", 403, `{"type":"https://medid.dev/problems/client-certificate-required","title":"Forbidden","status":403,"detail":"needs a client certificate"}`, "access_denied", "needs a client certificate", true},
		{"too large", 413, `{"type":"https://medid.dev/problems/too-large","status":413,"detail":"bodies are limited"}`, "invalid_request", "bodies are limited", true},
		{"server failure", 503, `{"type":"x","detail":"down"}`, "server_error", "down", true},
		{"an OAuth error", 400, `{"error":"invalid_grant"}`, "", "", false},
		{"not JSON", 502, `bad gateway`, "", "", false},
		{"a problem without detail", 404, `{"type":"x"}`, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, desc, ok := ProblemError(tc.status, []byte(tc.body))
			if code != tc.code || desc != tc.desc || ok != tc.problem {
				t.Errorf("got %q %q %v, want %q %q %v", code, desc, ok, tc.code, tc.desc, tc.problem)
			}
		})
	}
}
