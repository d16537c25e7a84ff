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
// issuer signs with vc.Issue. [FromCredential] decodes one after its signature
// has been checked, and [Check] (or [Decoded.Check]) looks up a credential's
// status entry in it.
//
// # Errors
//
// The spec's error names are sentinels: [ErrListLength]
// (STATUS_LIST_LENGTH_ERROR), [ErrRange] (RANGE_ERROR), [ErrMalformed]
// (MALFORMED_VALUE_ERROR) and [ErrPurposeMismatch] (STATUS_VERIFICATION_ERROR).
// [SpecCode] maps an error back to the spec's name.
package statuslist
