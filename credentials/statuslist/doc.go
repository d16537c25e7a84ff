// Package statuslist implements W3C Bitstring Status List v1.0: a compressed
// bitstring, published inside a signed status list credential, in which bit i
// tells whether the credential holding status entry i is revoked (or
// suspended).
//
// # Bitstring
//
// A [List] holds at least [MinEntries] entries (the spec's minimum, which
// gives group privacy: one list covers 131,072 credentials). Entry 0 is the
// most significant bit of byte 0, entry 7 the least significant bit of byte 0,
// entry 8 the most significant bit of byte 1. [List.Encode] produces the
// spec's encodedList: GZIP, then base64url without padding, then the multibase
// prefix "u". [Decode] is its strict inverse and caps the decompressed size at
// [MaxDecodedBytes] so that a small hostile list cannot exhaust memory.
//
// # Status list credentials
//
// [NewCredential] builds the VC 2.0 credential (types VerifiableCredential and
// BitstringStatusListCredential, subject of type BitstringStatusList) that an
// issuer signs with [Sign] (vc.Issue after backdating validFrom by
// [ClockSkew], so that clocks a little behind the issuer's accept it). [FromCredential] decodes one after its signature
// has been checked, and [Check] (or [Decoded.Check]) looks up a credential's
// status entry in it.
//
// # The issuer's side
//
// An issuer reads back the list it signed with [ParseToken] (no signature
// check: it is the owner), gives each new credential the entry of one index
// with [Entry] or [Decoded.EntryFor] (which refuses another issuer's list:
// verifiers would), or hands indices out in order with a [FileAllocator]
// (crash-safe: an index is never handed out twice), and changes an entry
// with [Decoded.Apply] ([Revoke], [Suspend], [Reinstate]; revocation is
// final) before signing the next version. Publishing a version on the
// registry is registry/client's job (PlanStatusListPublish).
//
// # Errors
//
// The spec's error names are sentinels: [ErrListLength]
// (STATUS_LIST_LENGTH_ERROR), [ErrRange] (RANGE_ERROR), [ErrMalformed]
// (MALFORMED_VALUE_ERROR) and [ErrPurposeMismatch] (STATUS_VERIFICATION_ERROR).
// [SpecCode] maps an error back to the spec's name.
package statuslist
