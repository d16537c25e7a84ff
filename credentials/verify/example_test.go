package verify_test

import (
	"context"
	"fmt"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
)

// A hospital with a did:key issues a credential and publishes a revocation
// list; a verifier checks the credential before and after revocation.
func Example() {
	ctx := context.Background()
	k, _ := key.Generate(key.Ed25519)
	issuer := did.KeyDID(k.Public())
	kid := issuer + "#" + k.Public().Multikey()
	const listURL = "https://registry.example/1.0/status-lists/1"

	list, _ := statuslist.New(statuslist.MinEntries)
	publish := func() string {
		c, _ := statuslist.NewCredential(listURL, issuer, statuslist.Revocation, list, 0)
		tok, _ := vc.Issue(c, k, kid)
		return tok
	}
	lists := verify.StaticStatusFetcher{listURL: publish()}

	tok, _ := vc.Issue(&vc.Credential{
		Context: []string{vc.ContextV2},
		Type:    []string{vc.TypeCredential, "AllergyCredential"},
		Issuer:  issuer,
		Subject: map[string]any{"id": "did:example:patient"},
		Status: []vc.Status{{Type: statuslist.TypeEntry, StatusPurpose: "revocation",
			StatusListIndex: "42", StatusListCredential: listURL}},
	}, k, kid)

	v, _ := verify.New(verify.Config{Resolver: did.KeyResolver{}, Status: lists})
	r := v.Credential(ctx, tok)
	fmt.Println("valid:", r.Valid)

	list.Set(42, true)
	lists[listURL] = publish()
	v.Forget(listURL) // or wait for the cached list to expire
	r = v.Credential(ctx, tok)
	fmt.Println("valid:", r.Valid, "reason:", r.Reason)
	for _, c := range r.Checks {
		fmt.Printf("%s ok=%v", c.Name, c.OK)
		if !c.OK {
			fmt.Print(" ", c.Reason)
		}
		fmt.Println()
	}
	// Output:
	// valid: true
	// valid: false reason: revoked
	// format ok=true
	// issuer ok=true
	// signature ok=true
	// validity ok=true
	// status ok=false revoked
	// accreditation ok=true
}
