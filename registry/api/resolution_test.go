package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
)

// TestResolutionBody: the spliced resolution result is byte for byte what
// encoding/json writes for resolutionResult.
func TestResolutionBody(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	updated := created.Add(time.Hour)
	docs := []string{
		`{"@context":["https://www.w3.org/ns/did/v1"],"id":"did:medid:abc"}`,
		`{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],"authentication":["did:medid:x#key-1"],"id":"did:medid:x","verificationMethod":[{"controller":"did:medid:x","id":"did:medid:x#key-1","publicKeyMultibase":"z6Mknxmgk1QXCwhMyzSZ3YA6Mrqr5CLPcuLWSEGunqYSyqu9","type":"Multikey"}]}`,
		`{"id":"did:medid:\u00e9","note":"quote \" backslash \\ unicode é"}`,
	}
	mds := []did.DocumentMetadata{
		{},
		{Created: &created, VersionID: "1"},
		{Created: &created, Updated: &updated, VersionID: "2", NextVersionID: "3", Deactivated: true},
	}
	for _, d := range docs {
		for _, md := range mds {
			want, err := json.Marshal(resolutionResult{Context: ContextDIDResolution, DIDDocument: json.RawMessage(d),
				DIDResolutionMetadata: resolutionMetadata{ContentType: MediaDIDLDJSON}, DIDDocumentMetadata: md})
			if err != nil {
				t.Fatal(err)
			}
			got, err := resolutionBody(json.RawMessage(d), md)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("resolutionBody:\n%s\nencoding/json:\n%s", got, want)
			}
		}
	}
}

// TestResolutionErrors (issue 15): a failed resolution asked for as a DID
// Resolution result comes back as one, with didResolutionMetadata.error and
// the same HTTP status, as Universal-Resolver-style clients expect; a
// client that asks for application/problem+json (or for the document
// alone, which has no metadata) gets the RFC 9457 problem.
func TestResolutionErrors(t *testing.T) {
	s := newTestServer(t, &fakeLedger{})
	for _, tc := range []struct {
		name, path, accept string
		status             int
		problem            bool
		errType            string
	}{
		{"not found, default", "/1.0/identifiers/did:medid:AAAAAAAAAAAAAAAAAAAAAA", "", 404, false, "NOT_FOUND"},
		{"not found, did-resolution", "/1.0/identifiers/did:medid:AAAAAAAAAAAAAAAAAAAAAA", "application/did-resolution", 404, false, "NOT_FOUND"},
		{"not found, ld+json profile", "/1.0/identifiers/did:medid:AAAAAAAAAAAAAAAAAAAAAA", `application/ld+json;profile="https://w3id.org/did-resolution"`, 404, false, "NOT_FOUND"},
		{"invalid DID", "/1.0/identifiers/did:Bad", "application/did-resolution", 400, false, "INVALID_DID"},
		{"method not supported", "/1.0/identifiers/did:web:example.org", "application/did-resolution", 501, false, "METHOD_NOT_SUPPORTED"},
		{"problem asked for", "/1.0/identifiers/did:medid:AAAAAAAAAAAAAAAAAAAAAA", "application/did-resolution, application/problem+json", 404, true, "NOT_FOUND"},
		{"document only", "/1.0/identifiers/did:medid:AAAAAAAAAAAAAAAAAAAAAA", "application/did+json", 404, true, "NOT_FOUND"},
		{"nothing acceptable", "/1.0/identifiers/did:medid:AAAAAAAAAAAAAAAAAAAAAA", "text/html", 406, true, "REPRESENTATION_NOT_SUPPORTED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			var body struct {
				Type string `json:"type"`
				Doc  *json.RawMessage
				Meta struct {
					Error *struct{ Type, Title, Detail string } `json:"error"`
				} `json:"didResolutionMetadata"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			ct := w.Header().Get("Content-Type")
			if tc.problem {
				if ct != "application/problem+json" || body.Type != didErrorBase+tc.errType {
					t.Errorf("got %s %s, want a problem of type %s", ct, w.Body, tc.errType)
				}
				return
			}
			if body.Meta.Error == nil || body.Meta.Error.Type != didErrorBase+tc.errType || ct == "application/problem+json" {
				t.Errorf("got %s %s, want a resolution result with error %s", ct, w.Body, tc.errType)
			}
		})
	}
}
