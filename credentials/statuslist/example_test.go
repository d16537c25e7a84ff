package statuslist_test

import (
	"fmt"

	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
)

// An issuer revokes the credential holding index 42 and publishes the list;
// a verifier checks an entry against it.
func Example() {
	l, err := statuslist.New(statuslist.MinEntries)
	if err != nil {
		panic(err)
	}
	if err := l.Set(42, true); err != nil {
		panic(err)
	}
	id := "https://registry.example/1.0/status-lists/1"
	cred, err := statuslist.NewCredential(id, "did:example:hospital", statuslist.Revocation, l, 0)
	if err != nil {
		panic(err)
	}
	// The issuer signs cred with vc.Issue; a verifier checks it with
	// vc.Verify before looking inside.
	for _, index := range []string{"41", "42"} {
		revoked, err := statuslist.Check(vc.Status{
			Type:                 statuslist.TypeEntry,
			StatusPurpose:        "revocation",
			StatusListIndex:      index,
			StatusListCredential: id,
		}, cred)
		fmt.Println(index, revoked, err)
	}
	// Output:
	// 41 false <nil>
	// 42 true <nil>
}
