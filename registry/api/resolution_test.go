package api

import (
	"bytes"
	"encoding/json"
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
