package tx

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/multiformats/go-multibase"
)

// MethodPrefix starts every did:medid identifier.
const MethodPrefix = "did:medid:"

// Placeholder stands for the DID inside the initial document from which a
// did:medid identifier is derived (see [DeriveDID]).
const Placeholder = "did:medid:_"

// DeriveDID computes the self-certifying did:medid identifier of an initial
// DID document template: a document in which every occurrence of the DID
// (its id, controller, verification method ids "did:medid:_#key-1", …) is
// written as [Placeholder].
//
//	id  = base58btc(SHA-256(Canonical(template))[:16])
//	DID = "did:medid:" + id
//
// Because the identifier commits to the initial keys, nobody can register a
// DID whose document they did not write, and a did.create whose document
// does not hash to its DID is rejected. Errors wrap [ErrMalformed].
func DeriveDID(template []byte) (string, error) {
	c, err := Canonical(template)
	if err != nil {
		return "", err
	}
	if !strings.Contains(string(c), `"`+Placeholder) {
		return "", fmt.Errorf("%w: the template must name the DID as %q", ErrMalformed, Placeholder)
	}
	return didFromCanonical(c), nil
}

func didFromCanonical(c []byte) string {
	sum := sha256.Sum256(c)
	s, _ := multibase.Encode(multibase.Base58BTC, sum[:16])
	return MethodPrefix + s[1:] // drop the multibase 'z'
}

// BindDocument derives the DID of template (see [DeriveDID]) and returns it
// with the document to register: the canonical template with [Placeholder]
// replaced by the DID in every string value.
func BindDocument(template []byte) (did string, doc []byte, err error) {
	did, err = DeriveDID(template)
	if err != nil {
		return "", nil, err
	}
	doc, err = canonical(template, func(s string) string { return strings.ReplaceAll(s, Placeholder, did) })
	if err != nil {
		return "", nil, err
	}
	return did, doc, nil
}

// CheckDID reports whether did is the identifier derived from doc, a
// document in which the DID is written out: it replaces did by [Placeholder]
// in every string value and recomputes [DeriveDID]. It returns nil on a match
// and an error wrapping [ErrWrongDID] or [ErrMalformed] otherwise.
func CheckDID(did string, doc []byte) error {
	if !strings.HasPrefix(did, MethodPrefix) || len(did) == len(MethodPrefix) {
		return fmt.Errorf("%w: %.128q is not a did:medid identifier", ErrWrongDID, did)
	}
	c, err := canonical(doc, func(s string) string { return strings.ReplaceAll(s, did, Placeholder) })
	if err != nil {
		return err
	}
	if got := didFromCanonical(c); got != did {
		return fmt.Errorf("%w: the document derives %s, not %.128s", ErrWrongDID, got, did)
	}
	return nil
}

// KeyFragment is the fragment of the first key of a single-key did:medid
// made by [KeyTemplate] ("did:medid:…#key-1").
const KeyFragment = "key-1"

// KeyTemplate is the initial document of a single-key did:medid for pub,
// with the DID written as [Placeholder]: one Multikey verification method
// "#key-1" for authentication and assertionMethod. It is a pure function of
// the key, so the derived identifier is too: every tool that registers a key
// (the medid CLI, the wallet) names the same DID for it, and a wallet can
// find its did:medid identities again from its recovery phrase.
func KeyTemplate(pub key.PublicKey) ([]byte, error) {
	vm := Placeholder + "#" + KeyFragment
	return json.Marshal(map[string]any{
		"@context": did.DefaultContext(),
		"id":       Placeholder,
		"verificationMethod": []map[string]string{{
			"id": vm, "type": "Multikey", "controller": Placeholder,
			"publicKeyMultibase": pub.Multikey(),
		}},
		"authentication":  []string{vm},
		"assertionMethod": []string{vm},
	})
}
