// Package tokenstatus implements the IETF Token Status List
// (draft-ietf-oauth-status-list, "TSL"): the status of many tokens in one
// compressed byte array, published as a signed Status List Token, beside
// W3C Bitstring Status List (credentials/statuslist).
//
// # Status list
//
// A [List] holds one status of [List.Bits] bits (1, 2, 4 or 8) per
// Referenced Token. Entry i occupies bits (i*bits mod 8) and up of byte
// i*bits/8, least significant bit first, as the specification packs them.
// [List.Encode] gives the "lst" value: ZLIB (DEFLATE, best compression),
// then base64url without padding. [Decode] is its strict inverse and caps
// the decompressed size at [MaxDecodedBytes], so that a small hostile
// list cannot exhaust memory.
//
// # Status List Token
//
// [Sign] makes a JWT with typ statuslist+jwt whose claims are sub (the
// list's URI), iat, exp, ttl, iss (the issuer's DID) and status_list
// {bits, lst}. [Verify] checks it with the issuer's key and returns the
// decoded [Token]. A Referenced Token (an SD-JWT VC) points at one entry
// with a [Reference]: "status": {"status_list": {"idx", "uri"}}.
//
// # Herd privacy
//
// Indexes handed out in issuance order would tell anyone who sees two
// credentials which was issued first, and a list's set bits would date the
// revoked credentials. An [Allocator] therefore draws each index uniformly
// at random among the free entries of a list of at least [MinEntries]; a
// [FileAllocator] keeps which are taken in a file, saved before each index
// is handed out, so that an issuer restarting never hands one out twice.
//
// # Changing an entry
//
// [List.Apply] makes an owner's change to one entry: [Revoke] (to INVALID,
// final), [Suspend] (VALID to SUSPENDED, in lists of 2 bits or more),
// [Reinstate] (SUSPENDED to VALID); a change that does not apply to the
// entry as it is returns a [*ChangeError] and changes nothing. The owner
// then signs the next version with [Sign].
package tokenstatus

import "errors"

// Errors returned by this package. Callers branch on them with errors.Is.
var (
	// ErrMalformed reports a status list, token or reference that cannot
	// be parsed or breaks a rule of the specification.
	ErrMalformed = errors.New("malformed token status list")
	// ErrRange reports an index outside the list, or a status value that
	// does not fit in the list's bits.
	ErrRange = errors.New("status list index or value out of range")
	// ErrListFull reports an Allocator with no free entry left.
	ErrListFull = errors.New("status list full")
)
