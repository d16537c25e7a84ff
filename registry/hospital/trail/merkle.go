package trail

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"
)

// Hash is a SHA-256 digest: a leaf hash, an interior node or a root.
type Hash [sha256.Size]byte

// ErrInclusion reports an inclusion proof that does not lead to the root.
var ErrInclusion = errors.New("inclusion proof does not verify")

// LeafHash is the RFC 6962 leaf hash SHA-256(0x00 || data). The 0x00 and
// 0x01 prefixes separate leaves from interior nodes, so nobody can pass off
// an interior node as an entry (second-preimage attack on the tree).
func LeafHash(data []byte) Hash {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(data)
	var out Hash
	h.Sum(out[:0])
	return out
}

// nodeHash is the RFC 6962 interior node hash SHA-256(0x01 || l || r).
func nodeHash(l, r Hash) Hash {
	var buf [1 + 2*sha256.Size]byte
	buf[0] = 1
	copy(buf[1:], l[:])
	copy(buf[1+sha256.Size:], r[:])
	return sha256.Sum256(buf[:])
}

// split returns the largest power of two smaller than n (n >= 2).
func split(n int) int { return 1 << (bits.Len(uint(n-1)) - 1) }

// Root returns the RFC 6962 Merkle tree hash of leaves (leaf hashes). The
// root of no leaves is SHA-256 of the empty string.
func Root(leaves []Hash) Hash {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := split(len(leaves))
	return nodeHash(Root(leaves[:k]), Root(leaves[k:]))
}

// Prove returns the RFC 6962 audit path of leaf index in the tree of leaves,
// bottom up. It panics if index is out of range.
func Prove(leaves []Hash, index int) []Hash {
	if index < 0 || index >= len(leaves) {
		panic(fmt.Sprintf("audit.Prove: index %d out of range [0,%d)", index, len(leaves)))
	}
	if len(leaves) == 1 {
		return nil
	}
	k := split(len(leaves))
	if index < k {
		return append(Prove(leaves[:k], index), Root(leaves[k:]))
	}
	return append(Prove(leaves[k:], index-k), Root(leaves[:k]))
}

// ProveAll returns the audit paths of every leaf, in O(n log n) hashing
// (Prove for each leaf separately would cost O(n²)).
func ProveAll(leaves []Hash) [][]Hash {
	out := make([][]Hash, len(leaves))
	proveAll(leaves, 0, out)
	return out
}

func proveAll(leaves []Hash, offset int, out [][]Hash) Hash {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := split(len(leaves))
	l := proveAll(leaves[:k], offset, out)
	r := proveAll(leaves[k:], offset+k, out)
	for i := range k {
		out[offset+i] = append(out[offset+i], r)
	}
	for i := k; i < len(leaves); i++ {
		out[offset+i] = append(out[offset+i], l)
	}
	return nodeHash(l, r)
}

// VerifyInclusion checks that leaf is entry index of a tree of size leaves
// with the given root, following RFC 9162 section 2.1.3.2. It returns nil
// or an error wrapping [ErrInclusion].
func VerifyInclusion(leaf Hash, index, size int, proof []Hash, root Hash) error {
	if index < 0 || index >= size {
		return fmt.Errorf("%w: index %d is not in a tree of %d", ErrInclusion, index, size)
	}
	fn, sn := uint64(index), uint64(size-1)
	r := leaf
	for _, p := range proof {
		if sn == 0 {
			return fmt.Errorf("%w: proof longer than the tree is deep", ErrInclusion)
		}
		if fn&1 == 1 || fn == sn {
			r = nodeHash(p, r)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = nodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 || r != root {
		return fmt.Errorf("%w: entry %d of %d", ErrInclusion, index, size)
	}
	return nil
}
