package tx

// Consent transactions anchor a patient's consent grant (a vc+jwt the
// patient issued to a provider, see credentials/consent) by its hash, and
// revoke it. The ledger never sees the grant: only its hash, its period and
// the grant's anchor DID, a did:key the patient's wallet made for this grant
// alone and named in it. So no health data (not even which data classes the
// grant covers) and no identifier of the patient is written, and two
// anchors of one patient cannot be linked.
//
//   - [ConsentAnchor] ("consent.anchor"): grantHash, validFrom and optional
//     validUntil (RFC 3339, the grant's period); the acting DID is the
//     grant's anchor did:key, which signs. The ledger keys the anchor by
//     (acting DID, grantHash): each controller anchors a hash once, and an
//     anchor of the same hash by anyone else neither blocks nor counts.
//   - [ConsentRevoke] ("consent.revoke"): grantHash; signed by the anchor
//     DID that anchored it; final.

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
