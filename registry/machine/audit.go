package machine

import (
	"fmt"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// auditAnchor applies audit.anchor: the acting DID is the vault.
func (a *App) auditAnchor(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	p := &t.Payload
	if !ledger.ValidKeyPart(p.DID) {
		return nil, nil, fmt.Errorf("%w: vault DID %.128q", ledger.ErrInvalid, p.DID)
	}
	k := ledger.AuditKey(p.DID, p.BatchID)
	if v, err := r.Get(k); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ledger.ErrInternal, err)
	} else if v != nil {
		return nil, nil, fmt.Errorf("%w: batch %s of %s is anchored", ledger.ErrExists, p.BatchID, p.DID)
	}
	rec := ledger.AuditRecord{Vault: p.DID, BatchID: p.BatchID, Root: p.Root, Count: p.Count, Anchored: env.time, Height: env.height}
	v, err := marshal(rec)
	if err != nil {
		return nil, nil, err
	}
	return []write{{k, v}}, &receipt{Type: p.Type, DID: p.DID}, nil
}

// AuditAnchor returns an anchored trail batch from the latest committed
// state, or an error wrapping [ErrNotFound].
func (a *App) AuditAnchor(vault, batchID string) (*ledger.AuditRecord, error) {
	if !ledger.ValidKeyPart(vault) || !ledger.ValidKeyPart(batchID) {
		return nil, fmt.Errorf("%w: audit batch %.128q of %.128q", ledger.ErrNotFound, batchID, vault)
	}
	view, _ := a.view()
	rec, err := getJSON[ledger.AuditRecord](view, ledger.AuditKey(vault, batchID))
	if err != nil {
		return nil, fmt.Errorf("%w: audit batch %s of %s", err, batchID, vault)
	}
	return rec, nil
}
