package machine

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/multiformats/go-multibase"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/tx"
)

// The initial document of a single-key did:medid (tx.KeyTemplate bound to
// its DID by tx.BindDocument) is what the medid CLI and the wallet register,
// so it is nearly every did.create the ledger sees. Checking one the general
// way costs a strict JSON parse of the document into a DID document
// (did.ParseDocument), a canonicalisation with the DID replaced by the
// placeholder to derive the identifier (tx.CheckDID) and another to store it
// (tx.Canonical): about as much CPU as the signature check itself
// (BENCHMARKS.md, issue 19). Those three are pure functions of the
// document's bytes and the DID, and for this one shape their results are
// known in advance: the document is already canonical, derives the DID iff
// the placeholder form hashes to it, and parses to a document with one
// Multikey method listed for authentication and assertionMethod.
//
// keyDocShape is that shape, learned once from the builders themselves (a
// sample key bound by tx.NewKeyDIDCreate) rather than written out here, so
// it follows the template if the template changes: the document is the
// concatenation of literal segments and slots for the DID and the key's
// Multikey string.
type keyDocShape struct {
	parts []keyDocPart
}

type keyDocPart struct {
	lit  string
	slot byte // 0: literal; 'd': the DID; 'k': the Multikey string
}

// keyDoc is the shape; nil (keyDocErr says why) if the builders' template
// changed in a way this recogniser cannot describe, and then every document
// goes the general way (TestKeyDocShapeLearned fails on it).
var keyDoc, keyDocErr = learnKeyDocShape()

func learnKeyDocShape() (*keyDocShape, error) {
	seed := sha256.Sum256([]byte("registry/machine key document shape"))
	k, err := key.NewEd25519FromSeed(seed[:])
	if err != nil {
		return nil, err
	}
	p, _, err := tx.NewKeyDIDCreate(k.Public())
	if err != nil {
		return nil, err
	}
	doc, id, mk := string(p.Document), p.DID, k.Public().Multikey()
	if strings.Count(doc, mk) != 1 || strings.Contains(id, mk) || strings.Contains(mk, id) {
		return nil, fmt.Errorf("sample key %s appears %d times in %s", mk, strings.Count(doc, mk), doc)
	}
	s := &keyDocShape{}
	for len(doc) > 0 {
		i, j := strings.Index(doc, id), strings.Index(doc, mk)
		switch {
		case i < 0 && j < 0:
			s.parts = append(s.parts, keyDocPart{lit: doc})
			doc = ""
		case j < 0 || (i >= 0 && i < j):
			s.parts = append(s.parts, keyDocPart{lit: doc[:i]}, keyDocPart{slot: 'd'})
			doc = doc[i+len(id):]
		default:
			s.parts = append(s.parts, keyDocPart{lit: doc[:j]}, keyDocPart{slot: 'k'})
			doc = doc[j+len(mk):]
		}
	}
	// The key slot is read up to the next quote: the literal after it
	// must start with one.
	for i, pt := range s.parts {
		if pt.slot == 'k' && (i+1 >= len(s.parts) || !strings.HasPrefix(s.parts[i+1].lit, `"`)) {
			return nil, fmt.Errorf("the key is not followed by a closing quote in the template")
		}
	}
	return s, nil
}

// match reports whether doc is exactly the shape with id in every DID slot,
// and returns the Multikey string it holds.
func (s *keyDocShape) match(doc []byte, id string) (mk string, ok bool) {
	for i, pt := range s.parts {
		switch pt.slot {
		case 0:
			if !bytes.HasPrefix(doc, []byte(pt.lit)) {
				return "", false
			}
			doc = doc[len(pt.lit):]
		case 'd':
			if !bytes.HasPrefix(doc, []byte(id)) {
				return "", false
			}
			doc = doc[len(id):]
		case 'k':
			end := bytes.IndexByte(doc, '"')
			if end <= 0 || i+1 >= len(s.parts) {
				return "", false
			}
			mk, doc = string(doc[:end]), doc[end:]
		}
	}
	return mk, len(doc) == 0 && mk != ""
}

// template writes the shape with the placeholder for the DID: the canonical
// template the identifier is derived from.
func (s *keyDocShape) template(mk string) []byte {
	n := 0
	for _, pt := range s.parts {
		switch pt.slot {
		case 0:
			n += len(pt.lit)
		case 'd':
			n += len(tx.Placeholder)
		case 'k':
			n += len(mk)
		}
	}
	b := make([]byte, 0, n) // one allocation, not one per doubling
	for _, pt := range s.parts {
		b = append(b, s.piece(pt, mk)...)
	}
	return b
}

// piece is what part pt of the shape is in the template for key mk.
func (s *keyDocShape) piece(pt keyDocPart, mk string) string {
	switch pt.slot {
	case 'd':
		return tx.Placeholder
	case 'k':
		return mk
	}
	return pt.lit
}

// templateSum is sha256.Sum256(s.template(mk)) without the template on the
// heap: the pieces pass through a buffer on the stack into the digest
// (TestKeyDocTemplateSum).
func (s *keyDocShape) templateSum(mk string) [32]byte {
	h := sha256.New()
	var buf [512]byte
	n := 0
	for _, pt := range s.parts {
		for p := s.piece(pt, mk); p != ""; {
			if n == len(buf) {
				h.Write(buf[:])
				n = 0
			}
			c := copy(buf[n:], p)
			n += c
			p = p[c:]
		}
	}
	h.Write(buf[:n])
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// isBase58 reports whether s is non-empty and only base58btc digits (what
// a derived did:medid identifier is made of).
func isBase58(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '1' && c <= '9' || c >= 'A' && c <= 'H' || c >= 'J' && c <= 'N' || c >= 'P' && c <= 'Z' || c >= 'a' && c <= 'k' || c >= 'm' && c <= 'z') {
			return false
		}
	}
	return s != ""
}

// keyDocument recognises a did.create's document of the single-key shape
// whose DID it derives, and returns what the general checks would: the
// parsed document (did.ParseDocument's result for these bytes) and the
// bytes to store (tx.Canonical's result: the document itself). ok is false
// for every other document, which then goes the general way; a document of
// the shape that does not derive its DID also goes the general way, so the
// rejection and its message are the general path's.
//
// That this is exactly the general path wherever it answers is tested
// (TestKeyDocumentMatchesGeneralPath, FuzzKeyDocument): same document, same
// derivation verdict, same stored bytes.
func keyDocument(id string, doc []byte) (*did.Document, bool) {
	if keyDoc == nil {
		return nil, false
	}
	rest, ok := strings.CutPrefix(id, tx.MethodPrefix)
	if !ok || !isBase58(rest) || len(rest) > 64 {
		return nil, false
	}
	mk, ok := keyDoc.match(doc, id)
	if !ok || !isBase58(mk[1:]) {
		return nil, false
	}
	pub, err := key.ParseMultikey(mk)
	// The document must be what KeyTemplate writes for this key, to the
	// byte: a Multikey string that decodes but is not the key's own
	// encoding goes the general way.
	if err != nil || pub.Multikey() != mk {
		return nil, false
	}
	sum := keyDoc.templateSum(mk)
	enc, err := multibase.Encode(multibase.Base58BTC, sum[:16])
	if err != nil || enc[1:] != rest { // id is tx.MethodPrefix + rest
		return nil, false
	}
	vm := id + "#" + tx.KeyFragment
	return &did.Document{
		Context:            did.DefaultContext(),
		ID:                 id,
		VerificationMethod: []did.VerificationMethod{{ID: vm, Type: did.TypeMultikey, Controller: id, PublicKey: pub}},
		Authentication:     []string{vm},
		AssertionMethod:    []string{vm},
	}, true
}

// ownKeyDocument is keyDocument for a did.create: when its document is of
// the single-key shape and derives its DID, it records what the general
// checks would have (the parsed document by the document's hash, as
// parseDocument caches it, and the did.create check by replay id, as
// didCreate caches it) and returns the parsed document.
// k is the document's cache key (docKey), which the caller has.
func (a *App) ownKeyDocument(t *tx.Tx, k uint64) (*did.Document, bool) {
	if t.Payload.Type != tx.DIDCreate || a.generalOnly {
		return nil, false
	}
	d, ok := keyDocument(t.Payload.DID, t.Payload.Document)
	if !ok {
		return nil, false
	}
	a.keyDocs.Add(1)
	a.docs.put(k, parsedDoc{doc: d, src: t.Payload.Document})
	a.creates.put(t.ReplayID, createCheck{doc: t.Payload.Document})
	return d, true
}
