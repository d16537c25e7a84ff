package tx

// Consent transactions anchor a patient's consent grant (a vc+jwt the
// patient issued to a provider, see credentials/consent) by its hash, and
// revoke it. The ledger never sees the grant: only its hash, its period and
// the patient's DID, so no health data (not even which data classes the
// grant covers) is written.
//
//   - [ConsentAnchor] ("consent.anchor"): grantHash, validFrom and optional
//     validUntil (RFC 3339, the grant's period); signed by an authentication
//     key of the acting DID, which is the patient (the grant's issuer; a
//     did:key, e.g. a pairwise one, or a registered did:medid). A hash can
//     be anchored once.
//   - [ConsentRevoke] ("consent.revoke"): grantHash; signed by the DID that
//     anchored it; final.

// ValidGrantHash reports whether s is a grant hash as the ledger stores it:
// 64 lowercase hexadecimal digits (hex SHA-256 of the grant token).
func ValidGrantHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
