package tx

// The audit transaction anchors one batch of a record vault's access trail
// (see registry/hospital/trail): the RFC 6962 Merkle root of the batch's leaves and
// their count. The ledger never sees an entry: leaves are ciphertext sealed
// to each patient, or record events that the vault keeps.
//
//   - [AuditAnchor] ("audit.anchor"): batchId ([A-Za-z0-9._:-], at most
//     [MaxIDLen] bytes), root (64 lowercase hex digits) and count (1 to
//     [MaxAuditCount]); signed by an authentication key of the acting DID,
//     the vault's DID. A (vault, batchId) pair is anchored once.

// MaxAuditCount bounds the leaves of one anchored batch.
const MaxAuditCount = 1 << 24

// validAudit checks the audit.anchor specific fields of p.
func validAudit(p *Payload) string {
	if !validID(p.BatchID) {
		return "batchId must be 1 to 128 of [A-Za-z0-9._:-]"
	}
	if !ValidGrantHash(p.Root) {
		return "root must be 64 lowercase hex digits (a SHA-256 Merkle root)"
	}
	if p.Count < 1 || p.Count > MaxAuditCount {
		return "count must be between 1 and 16777216"
	}
	return ""
}
