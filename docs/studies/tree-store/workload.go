package main

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"
)

// The keys and value sizes of one did.create in state layout 2, as
// registry/machine writes them (measured from a real state: 100 did.create
// through machine.RunNodePath, then the tree of the last version and the
// LevelDB beside it listed):
//
//   - the tree: did/<did> (35-36 bytes) = the DID record JSON (576-582
//     bytes); no version copy (layout 2 writes didv/ only when a DID is
//     updated) and no replay record (a did.create writes none, 0005);
//   - once a block, the tree: quota/origin/self-made/did.create (33 bytes)
//     = the block's origin counter (46 bytes);
//   - outside the tree, in the same LevelDB, the latest-DID index:
//     x/did/<did> = a 16-byte leaf pointer, and its height mark.
//
// Before writing, the application reads did/<did> from the working tree
// (the create must not exist). CheckTx answers from the index, so it
// reads no tree node and is left out.

// didOf returns the deterministic DID of identity n: did:medid: and
// base58 of 16 bytes, as the real did:medid ids are (the SHA-256 of a
// JCS document cut to 16 bytes).
func didOf(n uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	h := sha256.Sum256(append([]byte("tree-store-study"), b[:]...))
	return "did:medid:" + base58(h[:16])
}

// pubOf is a z6Mk-shaped multibase key of 48 characters for identity n.
func pubOf(n uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	h := sha256.Sum256(append([]byte("tree-store-study-key"), b[:]...))
	k := "z6Mk" + base58(h[:])
	for len(k) < 48 {
		k += "1"
	}
	return k[:48]
}

// recordOf is a DID record of the shape and size registry/machine stores
// for a did.create of a did:key-style document (576-582 bytes).
func recordOf(n uint64, height int64) []byte {
	d := didOf(n)
	return fmt.Appendf(nil, `{"did":%q,"document":{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],"assertionMethod":["%s#key-1"],"authentication":["%s#key-1"],"id":%q,"verificationMethod":[{"controller":%q,"id":"%s#key-1","publicKeyMultibase":%q,"type":"Multikey"}]},"metadata":{"created":"2026-01-01T00:00:02Z","versionId":"1"},"height":%d}`,
		d, d, d, d, d, d, pubOf(n), height)
}

// didKey is the tree key of identity n's record.
func didKey(n uint64) []byte { return []byte("did/" + didOf(n)) }

// indexKey is the latest-DID index's key of a tree key (outside the tree).
func indexKey(k []byte) []byte { return append([]byte("x/"), k...) }

// quotaKey is the block's origin counter of self-made did.create.
var quotaKey = []byte("quota/origin/self-made/did.create")

// quotaValue is the counter's value after txs creates (46 bytes in the
// real state at small counts; its size grows with the count's digits).
func quotaValue(window int64, txs, bytes int64) []byte {
	return fmt.Appendf(nil, `{"window":%d,"txs":%d,"bytes":%d}`, window, txs, bytes)
}

const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func base58(b []byte) string {
	x := new(big.Int).SetBytes(b)
	var out []byte
	mod := new(big.Int)
	radix := big.NewInt(58)
	for x.Sign() > 0 {
		x.DivMod(x, radix, mod)
		out = append(out, alphabet[mod.Int64()])
	}
	for _, c := range b {
		if c != 0 {
			break
		}
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}
