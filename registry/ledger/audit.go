package ledger

import (
	"time"
)

// PrefixAudit keys audit anchors: aud/<vault DID>/<batch id> -> AuditRecord.
const PrefixAudit = "aud/"

// AuditKey returns the state key of a vault's anchored trail batch. Read it
// with a QueryKey query (which can be proven).
func AuditKey(vault, batchID string) []byte { return []byte(PrefixAudit + vault + "/" + batchID) }

// AuditRecord is one anchored batch of a vault's access trail: the Merkle
// root of its leaves and their count, as the vault signed them.
type AuditRecord struct {
	Vault   string `json:"vault"`
	BatchID string `json:"batchId"`
	Root    string `json:"root"` // hex SHA-256, RFC 6962 tree hash
	Count   int64  `json:"count"`
	// Anchored is the block time of the anchoring transaction.
	Anchored time.Time `json:"anchored"`
	Height   int64     `json:"height"`
}
