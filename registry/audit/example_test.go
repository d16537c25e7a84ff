package audit_test

import (
	"fmt"

	"github.com/medid/medid/registry/audit"
)

// A batch of three leaves: the root is what audit.anchor puts on the
// ledger; each leaf's audit path proves it is in the batch.
func ExampleVerifyInclusion() {
	data := [][]byte{[]byte("entry 0"), []byte("entry 1"), []byte("entry 2")}
	leaves := make([]audit.Hash, len(data))
	for i, d := range data {
		leaves[i] = audit.LeafHash(d)
	}
	root := audit.Root(leaves)
	proof := audit.Prove(leaves, 2)
	fmt.Println(len(proof), audit.VerifyInclusion(audit.LeafHash([]byte("entry 2")), 2, 3, proof, root))
	fmt.Println(audit.VerifyInclusion(audit.LeafHash([]byte("forged")), 2, 3, proof, root) != nil)
	// Output:
	// 1 <nil>
	// true
}
