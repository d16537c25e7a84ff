package trail

import (
	"encoding/hex"
	"fmt"
)

// Proved is a stored entry with what a patient needs to check it: its batch,
// position, the batch size and root, and the RFC 6962 audit path.
type Proved struct {
	Batch string   `json:"batch"`
	Index int      `json:"index"`
	Count int      `json:"count"`
	Root  string   `json:"root"`  // hex
	Proof []string `json:"proof"` // hex, bottom up
	// Data is the leaf data: a sealed entry (compact JWE) or a public
	// record event (JSON).
	Data string `json:"data"`
}

// Verify checks p's inclusion proof against root and count (those anchored
// on the ledger for p.Batch). It returns nil or an error wrapping
// [ErrInclusion].
func (p *Proved) Verify(root Hash, count int) error {
	if p.Count != count {
		return fmt.Errorf("%w: entry claims a batch of %d, the ledger anchored %d", ErrInclusion, p.Count, count)
	}
	path := make([]Hash, len(p.Proof))
	for i, s := range p.Proof {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != len(Hash{}) {
			return fmt.Errorf("%w: proof element %d is not a hex SHA-256", ErrInclusion, i)
		}
		copy(path[i][:], b)
	}
	return VerifyInclusion(LeafHash([]byte(p.Data)), p.Index, count, path, root)
}
