package did_test

import (
	"context"
	"fmt"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
)

func ExampleKeyDID() {
	// A fixed seed for a reproducible example; real keys come from key.Generate.
	k, err := key.NewEd25519FromSeed(make([]byte, 32))
	if err != nil {
		panic(err)
	}
	id := did.KeyDID(k.Public())
	fmt.Println(id)

	// Anyone can resolve the DID to its document, without a network.
	res, err := did.KeyResolver{}.Resolve(context.Background(), id)
	if err != nil {
		panic(err)
	}
	vm := res.Document.VerificationMethod[0]
	fmt.Println(vm.Type, vm.ID == id+"#"+k.Public().Multikey())

	// A verifier finds the key a credential's JWS names and checks it may
	// sign assertions.
	pub, err := res.Document.Key("#"+k.Public().Multikey(), did.AssertionMethod)
	if err != nil {
		panic(err)
	}
	fmt.Println(pub.Equal(k.Public()))
	// Output:
	// did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp
	// Multikey true
	// true
}

func ExampleParseURL() {
	u, err := did.ParseURL("did:example:123/records?versionId=4#key-1")
	if err != nil {
		panic(err)
	}
	fmt.Println(u.DID, u.Path, u.Query, u.Fragment)
	// Output: did:example:123 /records versionId=4 key-1
}

func ExampleNewCache() {
	router := did.NewRouter(map[string]did.Resolver{"key": did.KeyResolver{}})
	cache := did.NewCache(router, did.CacheConfig{MaxEntries: 10_000})
	res, err := cache.Resolve(context.Background(), "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169")
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Document.VerificationMethod[0].PublicKey.Alg())
	// Output: p256
}
