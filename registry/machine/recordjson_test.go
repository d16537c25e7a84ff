package machine

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// checkRecordJSON fails t unless marshalDIDRecord(rec) is json.Marshal's
// output (or both fail), and reports whether the fast path took it.
func checkRecordJSON(t *testing.T, rec *ledger.DIDRecord) bool {
	t.Helper()
	want, werr := json.Marshal(rec)
	got, gerr := marshalDIDRecord(rec)
	if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
		t.Fatalf("record %+v:\ngot  %s (%v)\nwant %s (%v)", rec, got, gerr, want, werr)
	}
	_, fast := appendDIDRecord(nil, rec)
	return fast
}

func checkReceiptJSON(t *testing.T, rc *receipt) bool {
	t.Helper()
	want, werr := json.Marshal(rc)
	got, gerr := marshalReceipt(rc)
	if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
		t.Fatalf("receipt %+v:\ngot  %s (%v)\nwant %s (%v)", rc, got, gerr, want, werr)
	}
	if rc == nil {
		return false
	}
	_, fast := appendReceipt(nil, rc)
	return fast
}

func TestRecordJSONMatchesEncodingJSON(t *testing.T) {
	created := time.Date(2026, 12, 3, 16, 4, 5, 123456789, time.UTC)
	updated := time.Date(2027, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	farFuture := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	doc := []byte(`{"@context":["https://www.w3.org/ns/did/v1"],"id":"did:medid:abc","authentication":["did:medid:abc#key-1"]}`)
	id := newIdentity(t, 7)
	canon, err := tx.Canonical([]byte(id.doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		rec  ledger.DIDRecord
		fast bool
	}{
		{"did.create as stored", ledger.DIDRecord{DID: id.did, Document: canon, Height: 12, Metadata: ledger.DocumentMetadata{Created: &created, VersionID: "1"}}, true},
		{"superseded version", ledger.DIDRecord{DID: "did:medid:abc", Document: doc, Height: 3, Metadata: ledger.DocumentMetadata{Created: &created, Updated: &updated, VersionID: "2", NextVersionID: "3"}}, true},
		{"deactivated", ledger.DIDRecord{DID: "did:medid:abc", Document: doc, Height: 1 << 40, Metadata: ledger.DocumentMetadata{Created: &created, Updated: &created, VersionID: "9", Deactivated: true}}, true},
		{"empty metadata", ledger.DIDRecord{DID: "did:medid:abc", Document: doc}, true},
		{"negative height", ledger.DIDRecord{DID: "d", Document: []byte(`1`), Height: -5}, true},
		{"no document", ledger.DIDRecord{DID: "did:medid:abc"}, false},
		{"spaces in the document", ledger.DIDRecord{DID: "did:medid:abc", Document: []byte(`{ "id" : "a b" }`)}, false},
		{"html in the document", ledger.DIDRecord{DID: "did:medid:abc", Document: []byte(`{"id":"<a>&"}`)}, false},
		{"non-ASCII in the document", ledger.DIDRecord{DID: "did:medid:abc", Document: []byte("{\"id\":\"\u2028é\"}")}, false},
		{"escapes in the document", ledger.DIDRecord{DID: "did:medid:abc", Document: []byte(`{"id":"\"\\\u0041"}`)}, true},
		{"html in the DID", ledger.DIDRecord{DID: "did:medid:<x>", Document: doc}, false},
		{"quote in the versionId", ledger.DIDRecord{DID: "d", Document: doc, Metadata: ledger.DocumentMetadata{VersionID: `1"`}}, false},
		{"invalid UTF-8 in the DID", ledger.DIDRecord{DID: "did:\xff", Document: doc}, false},
		{"year 10000", ledger.DIDRecord{DID: "d", Document: doc, Metadata: ledger.DocumentMetadata{Created: &farFuture}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if fast := checkRecordJSON(t, &tc.rec); fast != tc.fast {
				t.Errorf("fast path = %v, want %v", fast, tc.fast)
			}
		})
	}
	for _, rc := range []*receipt{
		nil,
		{Type: tx.DIDCreate, DID: id.did, VersionID: "1"},
		{Type: tx.IssuerAccredit, DID: "did:key:z6Mk", Issuer: "did:medid:x", AccreditationID: "a1"},
		{Type: tx.StatusListPublish, DID: "did:medid:x", ListID: "did:medid:x:l1", Version: 3},
		{Type: tx.ConsentAnchor, DID: "did:medid:x", GrantHash: "ab12"},
		{Type: tx.NetworkApprove, DID: "did:key:z6Mk", ProposalID: "p1", Executed: true, Org: "did:medid:org"},
		{Type: tx.DirectoryAdd, DID: "did:key:z6Mk", Org: "did:medid:<org>"},
		{Type: "x", DID: "", Version: -1},
	} {
		checkReceiptJSON(t, rc)
	}
}

// FuzzRecordJSONMatchesEncodingJSON: for any record with a valid JSON
// document and any receipt, the encoders write json.Marshal's bytes.
func FuzzRecordJSONMatchesEncodingJSON(f *testing.F) {
	f.Add("did:medid:abc", []byte(`{"id":"did:medid:abc"}`), int64(1764777600123456789), true, int64(0), false, "1", "", false, int64(5), "did.create", "", int64(0))
	f.Add("did:medid:<", []byte(`[1, 2]`), int64(-62135596800000000), true, int64(1), true, "2", "3", true, int64(-1), "x", "l&1", int64(7))
	f.Fuzz(func(t *testing.T, did string, doc []byte, created int64, hasCreated bool, updated int64, hasUpdated bool, version, next string, deactivated bool, height int64, typ, list string, ver int64) {
		if json.Valid(doc) {
			rec := ledger.DIDRecord{DID: did, Document: doc, Height: height,
				Metadata: ledger.DocumentMetadata{VersionID: version, NextVersionID: next, Deactivated: deactivated}}
			c, u := time.Unix(0, created).UTC(), time.Unix(updated, 0).In(time.FixedZone("Z", int(updated%50000)))
			if hasCreated {
				rec.Metadata.Created = &c
			}
			if hasUpdated {
				rec.Metadata.Updated = &u
			}
			checkRecordJSON(t, &rec)
		}
		checkReceiptJSON(t, &receipt{Type: tx.Type(typ), DID: did, VersionID: version, Issuer: next, AccreditationID: list,
			ListID: list, Version: ver, GrantHash: version, ProposalID: next, Executed: deactivated, Org: did})
	})
}

// BenchmarkMarshalDIDRecord compares the record a did.create stores
// written by marshalDIDRecord and by encoding/json (the "before"), with a
// bare ed25519.Verify in the same run: BenchmarkEd25519Verify.
func BenchmarkMarshalDIDRecord(b *testing.B) {
	id := newIdentity(b, 7)
	canon, err := tx.Canonical([]byte(id.doc))
	if err != nil {
		b.Fatal(err)
	}
	created := time.Date(2026, 12, 3, 16, 4, 5, 123456789, time.UTC)
	rec := &ledger.DIDRecord{DID: id.did, Document: canon, Height: 12, Metadata: ledger.DocumentMetadata{Created: &created, VersionID: "1"}}
	rc := &receipt{Type: tx.DIDCreate, DID: id.did, VersionID: "1"}
	for _, c := range []struct {
		name string
		f    func() ([]byte, error)
	}{
		{"record/encoding-json", func() ([]byte, error) { return marshal(rec) }},
		{"record/direct", func() ([]byte, error) { return marshalDIDRecord(rec) }},
		{"receipt/encoding-json", func() ([]byte, error) { return marshal(rc) }},
		{"receipt/direct", func() ([]byte, error) { return marshalReceipt(rc) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := c.f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
