package tx_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/tx"
)

func seededKey(tb testing.TB, seed string) *key.PrivateKey {
	tb.Helper()
	s := sha256.Sum256([]byte(seed))
	k, err := key.NewEd25519FromSeed(s[:])
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// anchorOf is the grant anchor did:key a wallet would derive for patient.
func anchorOf(tb testing.TB, patient string) string {
	return did.KeyDID(seededKey(tb, "anchor of "+patient).Public())
}

// grantToken issues a consent grant by patient k for [from, until), anchored
// by anchorOf(patient).
func grantToken(tb testing.TB, k *key.PrivateKey, from, until time.Time) (*consent.Grant, string) {
	tb.Helper()
	patient := did.KeyDID(k.Public())
	g := &consent.Grant{Patient: patient, Anchor: anchorOf(tb, patient), Provider: "did:medid:2yqQkJBPyqgZ3Zz5oAhNqc",
		Actions: []consent.Action{consent.ActionAccess}, Purposes: []string{consent.PurposeTreatment},
		Classes: []string{"AllergyIntolerance"}, ValidFrom: from, ValidUntil: until}
	tok, err := consent.Issue(g, k, patient+"#"+k.Public().Multikey())
	if err != nil {
		tb.Fatal(err)
	}
	parsed, err := consent.Parse(tok)
	if err != nil {
		tb.Fatal(err)
	}
	return parsed, tok
}

// TestBuilders checks that every builder makes a payload of its type that
// signs, decodes to the same fields, and carries a fresh nonce.
func TestBuilders(t *testing.T) {
	k := seededKey(t, "builder")
	gov := did.KeyDID(k.Public())
	root := sha256.Sum256([]byte("root"))
	from := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	grant, tok := grantToken(t, k, from, from.AddDate(0, 1, 0))
	hash := consent.Hash(tok)

	cases := []struct {
		name  string
		build func() (*tx.Payload, error)
		want  tx.Payload // Nonce is not compared
	}{
		{"accredit", func() (*tx.Payload, error) {
			return tx.NewIssuerAccredit(gov, tx.Accreditation{Issuer: "did:medid:abc", Types: []string{"AllergyCredential"},
				From: from.Add(500 * time.Millisecond), Until: from.AddDate(1, 0, 0), ID: "acc-1"})
		}, tx.Payload{Type: tx.IssuerAccredit, DID: gov, Issuer: "did:medid:abc", CredentialTypes: []string{"AllergyCredential"},
			ValidFrom: "2026-03-01T08:00:00Z", ValidUntil: "2027-03-01T08:00:00Z", AccreditationID: "acc-1"}},
		{"accredit open-ended", func() (*tx.Payload, error) {
			return tx.NewIssuerAccredit(gov, tx.Accreditation{Issuer: "did:medid:abc", Types: []string{"A", "B"}, From: from.In(time.FixedZone("x", 3600)), ID: "a"})
		}, tx.Payload{Type: tx.IssuerAccredit, DID: gov, Issuer: "did:medid:abc", CredentialTypes: []string{"A", "B"},
			ValidFrom: "2026-03-01T08:00:00Z", AccreditationID: "a"}},
		{"revoke accreditation", func() (*tx.Payload, error) {
			return tx.NewIssuerRevoke(gov, "did:medid:abc", "acc-1", from)
		}, tx.Payload{Type: tx.IssuerRevoke, DID: gov, Issuer: "did:medid:abc", AccreditationID: "acc-1", RevokedAt: "2026-03-01T08:00:00Z"}},
		{"revoke accreditation at block time", func() (*tx.Payload, error) {
			return tx.NewIssuerRevoke(gov, "did:medid:abc", "acc-1", time.Time{})
		}, tx.Payload{Type: tx.IssuerRevoke, DID: gov, Issuer: "did:medid:abc", AccreditationID: "acc-1"}},
		{"deactivate", func() (*tx.Payload, error) { return tx.NewDIDDeactivate("did:medid:abc", "3") },
			tx.Payload{Type: tx.DIDDeactivate, DID: "did:medid:abc", PrevVersionID: "3"}},
		{"update", func() (*tx.Payload, error) {
			return tx.NewDIDUpdate("did:medid:abc", []byte(`{"id":"did:medid:abc"}`), "1")
		},
			tx.Payload{Type: tx.DIDUpdate, DID: "did:medid:abc", Document: json.RawMessage(`{"id":"did:medid:abc"}`), PrevVersionID: "1"}},
		{"publish", func() (*tx.Payload, error) { return tx.NewStatusListPublish("did:medid:abc", "list-1", 2, "a.b.c") },
			tx.Payload{Type: tx.StatusListPublish, DID: "did:medid:abc", ListID: "list-1", Version: 2, Credential: "a.b.c"}},
		{"consent anchor", func() (*tx.Payload, error) { return tx.NewConsentAnchor(grant) },
			tx.Payload{Type: tx.ConsentAnchor, DID: anchorOf(t, gov), GrantHash: hash, ValidFrom: "2026-03-01T08:00:00Z", ValidUntil: "2026-04-01T08:00:00Z"}},
		{"consent anchor by hash", func() (*tx.Payload, error) {
			return tx.NewConsentAnchorHash(gov, hash, from.Add(1500*time.Millisecond), time.Time{})
		}, tx.Payload{Type: tx.ConsentAnchor, DID: gov, GrantHash: hash, ValidFrom: "2026-03-01T08:00:01.5Z"}},
		{"consent revoke", func() (*tx.Payload, error) { return tx.NewConsentRevoke(gov, hash) },
			tx.Payload{Type: tx.ConsentRevoke, DID: gov, GrantHash: hash}},
		{"audit anchor", func() (*tx.Payload, error) { return tx.NewAuditAnchor(gov, "b-1", root, 3) },
			tx.Payload{Type: tx.AuditAnchor, DID: gov, BatchID: "b-1", Root: hex.EncodeToString(root[:]), Count: 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.build()
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			if len(p.Nonce) != 32 {
				t.Errorf("nonce %q, want 32 hex digits", p.Nonce)
			}
			again, _ := tc.build()
			if again.Nonce == p.Nonce {
				t.Errorf("two builds share nonce %q", p.Nonce)
			}
			got := *p
			got.Nonce = ""
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tc.want)
			if string(gb) != string(wb) {
				t.Errorf("payload\n got %s\nwant %s", gb, wb)
			}
			if p.DID == gov { // signable with k: round trip through Decode
				raw, err := tx.Sign(p, k, gov+"#"+k.Public().Multikey())
				if err != nil {
					t.Fatalf("Sign: %v", err)
				}
				dec, err := tx.Decode(raw)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if dec.Payload.Nonce != p.Nonce || dec.Payload.Type != p.Type {
					t.Errorf("decoded %+v", dec.Payload)
				}
			}
		})
	}
}

// TestBuilderErrors: a builder refuses what the ledger would refuse, with
// ErrMalformed naming the field, before anything is signed.
func TestBuilderErrors(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var root [32]byte
	cases := []struct {
		name  string
		build func() (*tx.Payload, error)
		want  string
	}{
		{"accredit without types", func() (*tx.Payload, error) {
			return tx.NewIssuerAccredit("did:key:z6Mk", tx.Accreditation{Issuer: "did:medid:a", From: from})
		}, "credentialTypes is required"},
		{"accredit with a bad id", func() (*tx.Payload, error) {
			return tx.NewIssuerAccredit("did:key:z6Mk", tx.Accreditation{Issuer: "did:medid:a", Types: []string{"A"}, ID: "a b"})
		}, "accreditationId must be"},
		{"accredit with a reversed period", func() (*tx.Payload, error) {
			return tx.NewIssuerAccredit("did:key:z6Mk", tx.Accreditation{Issuer: "did:medid:a", Types: []string{"A"}, From: from, Until: from.Add(-time.Hour)})
		}, "validUntil must be after"},
		{"accredit a non-DID", func() (*tx.Payload, error) {
			return tx.NewIssuerAccredit("did:key:z6Mk", tx.Accreditation{Issuer: "hospital", Types: []string{"A"}})
		}, "issuer must be a DID"},
		{"revoke without id", func() (*tx.Payload, error) { return tx.NewIssuerRevoke("did:key:z6Mk", "did:medid:a", "", time.Time{}) }, "accreditationId is required"},
		{"deactivate without version", func() (*tx.Payload, error) { return tx.NewDIDDeactivate("did:medid:a", "") }, "prevVersionId is required"},
		{"deactivate a non-DID", func() (*tx.Payload, error) { return tx.NewDIDDeactivate("medid:a", "1") }, "did must be a DID"},
		{"update without document", func() (*tx.Payload, error) { return tx.NewDIDUpdate("did:medid:a", nil, "1") }, "document is required"},
		{"update with a non-object", func() (*tx.Payload, error) { return tx.NewDIDUpdate("did:medid:a", []byte(`[]`), "1") }, "document must be a JSON object"},
		{"create without placeholder", func() (*tx.Payload, error) { return tx.NewDIDCreate([]byte(`{"id":"did:medid:x"}`)) }, "must name the DID"},
		{"publish version 0", func() (*tx.Payload, error) { return tx.NewStatusListPublish("did:medid:a", "l", 0, "a.b.c") }, "version must be 1 or more"},
		{"publish a bad list id", func() (*tx.Payload, error) { return tx.NewStatusListPublish("did:medid:a", "l/1", 1, "a.b.c") }, "listId must be"},
		{"anchor without a start", func() (*tx.Payload, error) {
			return tx.NewConsentAnchorHash("did:key:z6Mk", strings.Repeat("0f", 32), time.Time{}, from)
		}, "validFrom is required"},
		{"anchor a bad hash", func() (*tx.Payload, error) { return tx.NewConsentAnchorHash("did:key:z6Mk", "abc", from, time.Time{}) }, "grantHash must be"},
		{"revoke a bad hash", func() (*tx.Payload, error) { return tx.NewConsentRevoke("did:key:z6Mk", "ABC") }, "grantHash must be"},
		{"audit without batch", func() (*tx.Payload, error) { return tx.NewAuditAnchor("did:key:z6Mk", "", root, 1) }, "batchId is required"},
		{"audit of nothing", func() (*tx.Payload, error) { return tx.NewAuditAnchor("did:key:z6Mk", "b", root, 0) }, "count is required"},
		{"audit too large", func() (*tx.Payload, error) { return tx.NewAuditAnchor("did:key:z6Mk", "b", root, tx.MaxAuditCount+1) }, "count must be between"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.build()
			if err == nil || !errors.Is(err, tx.ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got (%v, %v), want ErrMalformed containing %q", p, err, tc.want)
			}
		})
	}
}

func TestNewConsentAnchorNeedsToken(t *testing.T) {
	k := seededKey(t, "patient")
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	g, _ := grantToken(t, k, from, time.Time{})
	p, err := tx.NewConsentAnchor(g)
	if err != nil || p.ValidUntil != "" {
		t.Fatalf("open-ended grant: %+v, %v", p, err)
	}
	g.Token = ""
	if _, err := tx.NewConsentAnchor(g); err == nil || !strings.Contains(err.Error(), "not read from a token") {
		t.Errorf("grant without token: %v", err)
	}
	if _, err := tx.NewConsentAnchor(nil); err == nil {
		t.Error("nil grant: no error")
	}
}

// TestNewKeyDIDCreate: the builder registers exactly the DID KeyTemplate
// derives, and the kid it returns is "#key-1" of that DID.
func TestNewKeyDIDCreate(t *testing.T) {
	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		t.Run(string(alg), func(t *testing.T) {
			k, err := key.Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			p, kid, err := tx.NewKeyDIDCreate(k.Public())
			if err != nil {
				t.Fatal(err)
			}
			tmpl, _ := tx.KeyTemplate(k.Public())
			want, _ := tx.DeriveDID(tmpl)
			if p.DID != want || kid != want+"#"+tx.KeyFragment || p.Type != tx.DIDCreate {
				t.Errorf("got DID %s kid %s, want %s", p.DID, kid, want)
			}
			if err := tx.CheckDID(p.DID, p.Document); err != nil {
				t.Errorf("CheckDID: %v", err)
			}
			raw, err := tx.Sign(p, k, kid)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Decode(raw); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// resolution returns a live resolution of a document with the given key
// fragments (all for authentication) and a service.
func resolution(t *testing.T, frags ...string) (*did.Resolution, []*key.PrivateKey) {
	t.Helper()
	const id = "did:medid:2yqQkJBPyqgZ3Zz5oAhNqc"
	doc := map[string]any{"@context": did.DefaultContext(), "id": id,
		"service": []map[string]string{{"id": id + "#vault", "type": "RecordVault", "serviceEndpoint": "https://vault.example"}}}
	var vms []map[string]string
	var refs []string
	var keys []*key.PrivateKey
	for _, f := range frags {
		k := seededKey(t, f)
		keys = append(keys, k)
		vms = append(vms, map[string]string{"id": id + "#" + f, "type": "Multikey", "controller": id, "publicKeyMultibase": k.Public().Multikey()})
		refs = append(refs, id+"#"+f)
	}
	doc["verificationMethod"] = vms
	doc["authentication"] = refs[:1]
	doc["assertionMethod"] = refs
	doc["capabilityInvocation"] = refs
	b, _ := json.Marshal(doc)
	d, err := did.ParseDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	return &did.Resolution{Document: d, Metadata: did.DocumentMetadata{VersionID: "4"}}, keys
}

func TestNewKeyRotation(t *testing.T) {
	cases := []struct {
		name    string
		frags   []string
		wantKID string
	}{
		{"first rotation", []string{"key-1"}, "#key-2"},
		{"after gaps", []string{"key-3", "key-1"}, "#key-4"},
		{"foreign fragments", []string{"signing", "key-x"}, "#key-1"},
	}
	newKey := seededKey(t, "new")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, keys := resolution(t, tc.frags...)
			p, kid, err := tx.NewKeyRotation(res, newKey.Public())
			if err != nil {
				t.Fatal(err)
			}
			if kid != res.Document.ID+tc.wantKID || p.PrevVersionID != "4" || p.DID != res.Document.ID || p.Type != tx.DIDUpdate {
				t.Fatalf("kid %s, payload %+v", kid, p)
			}
			doc, err := did.ParseDocument(p.Document)
			if err != nil {
				t.Fatalf("rotated document: %v", err)
			}
			if len(doc.VerificationMethod) != 1 || !doc.VerificationMethod[0].PublicKey.Equal(newKey.Public()) {
				t.Errorf("verification methods %+v", doc.VerificationMethod)
			}
			for _, rel := range []did.Relationship{did.Authentication, did.AssertionMethod} {
				if got, err := doc.Key(kid, rel); err != nil || !got.Equal(newKey.Public()) {
					t.Errorf("%s: %v", rel, err)
				}
			}
			if len(doc.Refs(did.CapabilityInvocation)) != 0 || len(doc.Service) != 1 {
				t.Errorf("capabilityInvocation %v services %v: want none and the one kept", doc.Refs(did.CapabilityInvocation), doc.Service)
			}
			// The old authentication key signs the update.
			old, ok := tx.ControllerKID(res.Document, keys[0].Public())
			if !ok {
				t.Fatal("ControllerKID: the authentication key is not found")
			}
			if _, err := tx.Sign(p, keys[0], old); err != nil {
				t.Errorf("Sign: %v", err)
			}
		})
	}
	res, _ := resolution(t, "key-1")
	res.Metadata.Deactivated = true
	if _, _, err := tx.NewKeyRotation(res, newKey.Public()); !errors.Is(err, tx.ErrMalformed) {
		t.Errorf("deactivated: %v", err)
	}
	if _, _, err := tx.NewKeyRotation(nil, newKey.Public()); !errors.Is(err, tx.ErrMalformed) {
		t.Errorf("nil: %v", err)
	}
	res.Metadata.Deactivated = false
	if _, _, err := tx.NewKeyRotation(res, key.PublicKey{}); !errors.Is(err, tx.ErrMalformed) {
		t.Errorf("zero key: %v", err)
	}
}

func TestControllerKID(t *testing.T) {
	res, keys := resolution(t, "key-1", "key-2")
	cases := []struct {
		name   string
		pub    key.PublicKey
		wantOK bool
	}{
		{"authentication key", keys[0].Public(), true},
		{"assertion-only key", keys[1].Public(), false},
		{"stranger", seededKey(t, "stranger").Public(), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kid, ok := tx.ControllerKID(res.Document, tc.pub)
			if ok != tc.wantOK || (ok && kid != res.Document.ID+"#key-1") {
				t.Errorf("got (%q, %v), want ok=%v", kid, ok, tc.wantOK)
			}
		})
	}
	if _, ok := tx.ControllerKID(nil, keys[0].Public()); ok {
		t.Error("nil document: ok")
	}
}

func TestValidID(t *testing.T) {
	for s, want := range map[string]bool{"acc-1": true, "urn:uuid:1": true, "a.b_c": true, "": false, "a/b": false, "a b": false,
		strings.Repeat("x", tx.MaxIDLen): true, strings.Repeat("x", tx.MaxIDLen+1): false} {
		if got := tx.ValidID(s); got != want {
			t.Errorf("ValidID(%.20q) = %v, want %v", s, got, want)
		}
	}
}

// TestNewIssuerAccreditDefaults: no id means a random "acc-…" id, no start
// means now (whole seconds).
func TestNewIssuerAccreditDefaults(t *testing.T) {
	before := time.Now().UTC().Truncate(time.Second)
	p, err := tx.NewIssuerAccredit("did:key:z6Mk", tx.Accreditation{Issuer: "did:medid:a", Types: []string{"A"}})
	if err != nil {
		t.Fatal(err)
	}
	from, err := tx.ParseTime(p.ValidFrom)
	if err != nil || from.Before(before) || from.After(time.Now()) {
		t.Errorf("validFrom %s, want now", p.ValidFrom)
	}
	if !strings.HasPrefix(p.AccreditationID, "acc-") || len(p.AccreditationID) != 4+16 || !tx.ValidID(p.AccreditationID) {
		t.Errorf("accreditationId %q", p.AccreditationID)
	}
	q, _ := tx.NewIssuerAccredit("did:key:z6Mk", tx.Accreditation{Issuer: "did:medid:a", Types: []string{"A"}})
	if q.AccreditationID == p.AccreditationID {
		t.Error("two random accreditation ids are equal")
	}
}

// TestNewNetworkApprovalOfBlock: the builder of protocol 5's approval
// takes a filing height from 1 to tx.MaxFilingHeight and a block hash of 64
// lowercase hex digits only, and writes the one spelling the decoder
// reads back.
func TestNewNetworkApprovalOfBlock(t *testing.T) {
	h := strings.Repeat("0a", 32)
	for _, tc := range []struct {
		name   string
		filing int64
		block  string
		ok     bool
	}{
		{"valid", 7, h, true},
		{"max height", tx.MaxFilingHeight, h, true},
		{"height 0", 0, h, false},
		{"height too big", tx.MaxFilingHeight + 1, h, false},
		{"upper case", 7, strings.ToUpper(h), false},
		{"short", 7, h[:62], false},
		{"long", 7, h + "00", false},
		{"empty", 7, "", false},
		{"non-hex", 7, h[:63] + "x", false},
		{"quoted", 7, `"` + h[:62] + `"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tx.NewNetworkApprovalOfBlock("did:key:z6Mk", "p", tc.filing, tc.block)
			if tc.ok != (err == nil) {
				t.Fatalf("err %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, tx.ErrMalformed) {
					t.Fatalf("err %v does not wrap tx.ErrMalformed", err)
				}
				return
			}
			b, ok := p.FilingBlockHash()
			f, okF := p.FilingHeight()
			if !ok || b != tc.block || !okF || f != tc.filing || string(p.FilingBlock) != `"`+tc.block+`"` {
				t.Fatalf("got %q %v, %d %v", b, ok, f, okF)
			}
		})
	}
}
