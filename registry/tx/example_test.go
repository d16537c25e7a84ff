package tx_test

import (
	"crypto/sha256"
	"fmt"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/tx"
)

// Example registers a did:medid identifier: write the initial document with
// the DID as tx.Placeholder, bind it (which derives the DID from the
// document), and sign a did.create with a key listed in authentication.
func Example() {
	seed := sha256.Sum256([]byte("example"))
	k, _ := key.NewEd25519FromSeed(seed[:])
	template := fmt.Sprintf(`{
	  "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
	  "id": "did:medid:_",
	  "verificationMethod": [{"id": "did:medid:_#key-1", "type": "Multikey",
	    "controller": "did:medid:_", "publicKeyMultibase": %q}],
	  "authentication": ["did:medid:_#key-1"],
	  "assertionMethod": ["did:medid:_#key-1"]
	}`, k.Public().Multikey())

	did, doc, err := tx.BindDocument([]byte(template))
	if err != nil {
		panic(err)
	}
	raw, err := tx.Sign(&tx.Payload{Type: tx.DIDCreate, DID: did, Nonce: "1", Document: doc}, k, did+"#key-1")
	if err != nil {
		panic(err)
	}
	t, err := tx.Decode(raw)
	if err != nil {
		panic(err)
	}
	fmt.Println(t.Payload.Type, t.Payload.DID == did, t.Verify(k.Public()) == nil, tx.CheckDID(did, doc) == nil)
	// Output: did.create true true true
}

// ExampleNewKeyDIDCreate registers the did:medid of a key with the typed
// builder: the DID is derived from the key's one-key document, and the
// builder returns the kid to sign with.
func ExampleNewKeyDIDCreate() {
	seed := sha256.Sum256([]byte("example"))
	k, _ := key.NewEd25519FromSeed(seed[:])
	p, kid, err := tx.NewKeyDIDCreate(k.Public())
	if err != nil {
		panic(err)
	}
	raw, err := tx.Sign(p, k, kid)
	if err != nil {
		panic(err)
	}
	t, _ := tx.Decode(raw)
	fmt.Println(t.Payload.Type, kid == p.DID+"#key-1", len(p.Nonce), t.Verify(k.Public()) == nil)
	// Output: did.create true 32 true
}
