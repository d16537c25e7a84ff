package machine

import (
	"crypto/sha256"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// generalKeyDocument is what the general path makes of a did.create's DID
// and document: the derivation verdict, the bytes stored and the parsed
// document (each nil when it fails).
func generalKeyDocument(id string, doc []byte) (checkErr error, stored []byte, parsed *did.Document, parseErr error) {
	checkErr = tx.CheckDID(id, doc)
	stored, _ = tx.Canonical(doc)
	parsed, parseErr = did.ParseDocument(doc)
	return
}

// assertSameAsGeneral fails unless keyDocument's answer for (id, doc), if
// it gives one, is exactly the general path's.
func assertSameAsGeneral(t *testing.T, id string, doc []byte) bool {
	t.Helper()
	got, ok := keyDocument(id, doc)
	if !ok {
		return false
	}
	checkErr, stored, parsed, parseErr := generalKeyDocument(id, doc)
	if checkErr != nil || parseErr != nil {
		t.Fatalf("keyDocument accepted %s / %s, which the general path refuses: derive %v, parse %v", id, doc, checkErr, parseErr)
	}
	if string(stored) != string(doc) {
		t.Fatalf("keyDocument stores the document as is, the general path stores %s", stored)
	}
	if !reflect.DeepEqual(got, parsed) {
		t.Fatalf("keyDocument parsed %+v, did.ParseDocument %+v", got, parsed)
	}
	return true
}

// TestKeyDocShapeLearned: the recogniser learned the builders' template
// (otherwise it silently declines everything).
func TestKeyDocShapeLearned(t *testing.T) {
	if keyDocErr != nil || keyDoc == nil || len(keyDoc.parts) < 5 {
		t.Fatalf("single-key document shape not learned: %v", keyDocErr)
	}
}

// TestKeyDocTemplateSum: the derivation hash of the recognised shape is
// sha256 of the placeholder template, for keys of the builders' length and
// for keys long enough to pass through the stack buffer several times, and
// takes no heap allocation.
func TestKeyDocTemplateSum(t *testing.T) {
	for _, mk := range []string{"z", "z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH", strings.Repeat("z6Mk", 130), strings.Repeat("a", 512), strings.Repeat("b", 1500)} {
		if got, want := keyDoc.templateSum(mk), sha256.Sum256(keyDoc.template(mk)); got != want {
			t.Errorf("key of %d bytes: templateSum %x, sha256 of the template %x", len(mk), got, want)
		}
	}
	mk := "z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"
	if a := testing.AllocsPerRun(100, func() { _ = keyDoc.templateSum(mk) }); a != 0 {
		t.Errorf("templateSum: %v allocations, want 0", a)
	}
}

// TestKeyDocumentOncePerNode: a single-key did.create seen by CheckTx and
// then committed costs one signature check, one recognition of its
// document (CheckTx again and FinalizeBlock's pre-pass take the parsed
// document from the cache) and no general document validation on the
// node, and is registered with its document as sent.
func TestKeyDocumentOncePerNode(t *testing.T) {
	h := newHarness(t)
	k := testKey(t, 7)
	p, kid, err := tx.NewKeyDIDCreate(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	raw := h.sign(p, k, kid)
	for range 2 {
		if got := h.checkTx(raw); got.Code != 0 {
			t.Fatalf("CheckTx: %d %s", got.Code, got.Log)
		}
	}
	h.mustBlock(raw)
	if s, d, r := h.app.sigChecks.Load(), h.app.docParses.Load(), h.app.keyDocs.Load(); s != 1 || d != 0 || r != 1 {
		t.Errorf("signature checks %d (want 1), general document validations %d (want 0), recognitions %d (want 1)", s, d, r)
	}
	res, err := h.app.ResolveDID(p.DID, ledger.ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Document) != string(p.Document) {
		t.Errorf("stored document %s, sent %s", res.Document, p.Document)
	}
}

// TestKeyDocumentMatchesGeneralPath: for the documents the builders write
// (tx.NewKeyDIDCreate: Ed25519 and P-256 keys) the recogniser answers, and
// answers what the general path does; for near misses it does not answer.
func TestKeyDocumentMatchesGeneralPath(t *testing.T) {
	var keys []key.PublicKey
	for i := range 50 {
		seed := sha256.Sum256([]byte(fmt.Sprint("ed", i)))
		k, err := key.NewEd25519FromSeed(seed[:])
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.Public())
	}
	for range 10 {
		k, err := key.Generate(key.P256)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.Public())
	}
	for _, pub := range keys {
		p, _, err := tx.NewKeyDIDCreate(pub)
		if err != nil {
			t.Fatal(err)
		}
		if !assertSameAsGeneral(t, p.DID, p.Document) {
			t.Fatalf("the document tx.NewKeyDIDCreate writes for %s was not recognised: %s", pub.Multikey(), p.Document)
		}
	}

	p, _, _ := tx.NewKeyDIDCreate(keys[0])
	other, _, _ := tx.NewKeyDIDCreate(keys[1])
	doc := string(p.Document)
	for _, c := range []struct {
		name string
		id   string
		doc  string
	}{
		{"another DID's document", other.DID, doc},
		{"DID swapped in the document", other.DID, strings.ReplaceAll(doc, p.DID, other.DID)},
		{"key changed", p.DID, strings.Replace(doc, keys[0].Multikey(), keys[1].Multikey(), 1)},
		{"key not Multikey", p.DID, strings.Replace(doc, "z6Mk", "z6Mj", 1)},
		{"key not base58", p.DID, strings.Replace(doc, keys[0].Multikey(), keys[0].Multikey()[:10]+"0"+keys[0].Multikey()[11:], 1)},
		{"leading 1 in the key", p.DID, strings.Replace(doc, `"z6Mk`, `"z16Mk`, 1)},
		{"whitespace", p.DID, strings.Replace(doc, `,"id"`, `, "id"`, 1)},
		{"members reordered", p.DID, strings.Replace(strings.Replace(doc, `"assertionMethod"`, `"x"`, 1), `"authentication"`, `"assertionMethod"`, 1)},
		{"extra member", p.DID, strings.TrimSuffix(doc, "}") + `,"service":[]}`},
		{"trailing byte", p.DID, doc + " "},
		{"truncated", p.DID, doc[:len(doc)-1]},
		{"empty key", p.DID, strings.Replace(doc, keys[0].Multikey(), "", 1)},
		{"not a did:medid", "did:key:" + keys[0].Multikey(), strings.ReplaceAll(doc, p.DID, "did:key:"+keys[0].Multikey())},
		{"DID with a quote", p.DID + `"`, strings.ReplaceAll(doc, p.DID, p.DID+`"`)},
		{"placeholder", tx.Placeholder, strings.ReplaceAll(doc, p.DID, tx.Placeholder)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := keyDocument(c.id, []byte(c.doc)); ok {
				t.Errorf("recognised %s with DID %s", c.doc, c.id)
			}
		})
	}
}

// FuzzKeyDocument: whatever the DID and document, the recogniser either
// declines or answers exactly what the general path would.
func FuzzKeyDocument(f *testing.F) {
	for i := range 3 {
		seed := sha256.Sum256([]byte{byte(i)})
		k, _ := key.NewEd25519FromSeed(seed[:])
		p, _, _ := tx.NewKeyDIDCreate(k.Public())
		f.Add(p.DID, string(p.Document))
		f.Add(p.DID, strings.Replace(string(p.Document), "z6Mk", "z6Mm", 1))
	}
	f.Add("did:medid:abc", `{}`)
	f.Fuzz(func(t *testing.T, id, doc string) {
		assertSameAsGeneral(t, id, []byte(doc))
	})
}
