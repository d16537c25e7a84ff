package tx

import (
	"bytes"
	"testing"
)

// FuzzDecode checks that Decode never panics, that whatever it accepts is
// within the size limit, passes Payload.Validate, and keeps Raw, and that
// the canonical form of an accepted payload document is stable.
func FuzzDecode(f *testing.F) {
	k := testKey(f, 1)
	d, doc, err := BindDocument([]byte(template))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []*Payload{
		{Type: DIDCreate, DID: d, Nonce: "1", Document: doc},
		{Type: DIDUpdate, DID: d, Nonce: "2", Document: doc, PrevVersionID: "1"},
		{Type: DIDDeactivate, DID: d, Nonce: "3", PrevVersionID: "2"},
		{Type: IssuerAccredit, DID: d, Nonce: "4", Issuer: d, CredentialTypes: []string{"X"}, ValidFrom: "2026-01-01T00:00:00Z", AccreditationID: "a"},
		{Type: IssuerRevoke, DID: d, Nonce: "5", Issuer: d, AccreditationID: "a", RevokedAt: "2026-02-01T00:00:00Z"},
		{Type: StatusListPublish, DID: d, Nonce: "6", ListID: "l", Version: 1, Credential: "a.b.c"},
		{Type: DirectoryAdd, DID: d, Nonce: "7", Org: d, Entry: &DirectoryEntry{LegalName: "St Mary's", DisplayName: "St Mary's", Kind: KindHospital, Country: "GB",
			Roles: []Role{{Role: RoleVaultOperator, DID: "did:key:z6Mk"}}, Logo: &Logo{SHA256: "0000000000000000000000000000000000000000000000000000000000000000", MediaType: "image/png"}}},
		{Type: DirectorySuspend, DID: d, Nonce: "8", Org: d, Version: 2, Reason: "under review"},
	} {
		raw, err := Sign(p, k, d+"#key-1")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("a.b.c"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		tx, err := Decode(data)
		if err != nil {
			return
		}
		if len(data) > MaxSize {
			t.Fatalf("accepted %d bytes", len(data))
		}
		if !bytes.Equal(tx.Raw, data) {
			t.Fatal("Raw differs from input")
		}
		if err := tx.Payload.Validate(); err != nil {
			t.Fatalf("accepted payload fails Validate: %v", err)
		}
		if len(tx.Payload.Document) > 0 {
			c1, err := Canonical(tx.Payload.Document)
			if err != nil {
				t.Fatalf("accepted document is not canonicalisable: %v", err)
			}
			c2, err := Canonical(c1)
			if err != nil || !bytes.Equal(c1, c2) {
				t.Fatalf("canonical form not stable: %s vs %s (%v)", c1, c2, err)
			}
		}
		_ = tx.Verify(k.Public()) // must not panic
	})
}
