package machine

import (
	"fmt"
	"time"

	"github.com/medid/medid/registry/tx"
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

// auditAnchor applies audit.anchor: the acting DID is the vault.
func (a *App) auditAnchor(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	p := &t.Payload
	if !validKeyPart(p.DID) {
		return nil, nil, fmt.Errorf("%w: vault DID %.128q", ErrInvalid, p.DID)
	}
	k := AuditKey(p.DID, p.BatchID)
	if v, err := r.Get(k); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInternal, err)
	} else if v != nil {
		return nil, nil, fmt.Errorf("%w: batch %s of %s is anchored", ErrExists, p.BatchID, p.DID)
	}
	rec := AuditRecord{Vault: p.DID, BatchID: p.BatchID, Root: p.Root, Count: p.Count, Anchored: env.time, Height: env.height}
	v, err := marshal(rec)
	if err != nil {
		return nil, nil, err
	}
	return []write{{k, v}}, &receipt{Type: p.Type, DID: p.DID}, nil
}

// AuditAnchor returns an anchored trail batch from the latest committed
// state, or an error wrapping [ErrNotFound].
func (a *App) AuditAnchor(vault, batchID string) (*AuditRecord, error) {
	if !validKeyPart(vault) || !validKeyPart(batchID) {
		return nil, fmt.Errorf("%w: audit batch %.128q of %.128q", ErrNotFound, batchID, vault)
	}
	view, _ := a.view()
	rec, err := getJSON[AuditRecord](view, AuditKey(vault, batchID))
	if err != nil {
		return nil, fmt.Errorf("%w: audit batch %s of %s", err, batchID, vault)
	}
	return rec, nil
}
