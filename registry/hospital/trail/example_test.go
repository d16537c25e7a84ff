package trail_test

import (
	"fmt"

	"github.com/medid/medid/registry/hospital/trail"
)

// A batch of three leaves: the root is what audit.anchor puts on the
// ledger; each leaf's audit path proves it is in the batch.
func ExampleVerifyInclusion() {
	data := [][]byte{[]byte("entry 0"), []byte("entry 1"), []byte("entry 2")}
	leaves := make([]trail.Hash, len(data))
	for i, d := range data {
		leaves[i] = trail.LeafHash(d)
	}
	root := trail.Root(leaves)
	proof := trail.Prove(leaves, 2)
	fmt.Println(len(proof), trail.VerifyInclusion(trail.LeafHash([]byte("entry 2")), 2, 3, proof, root))
	fmt.Println(trail.VerifyInclusion(trail.LeafHash([]byte("forged")), 2, 3, proof, root) != nil)
	// Output:
	// 1 <nil>
	// true
}
