package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/medid/medid/registry/ledger"
)

// AuditAnchor returns the anchored root and count of batch batchID of
// vault's access trail. An unknown batch is an error wrapping ErrNotFound.
// With proofs on, the record is taken from the proven value only.
func (c *Client) AuditAnchor(ctx context.Context, vault, batchID string) (*ledger.AuditRecord, error) {
	resp, body, err := c.get(ctx, c.endpoint("/1.0/audit/"+vault+"/"+batchID, nil), "application/json")
	if err != nil {
		return nil, err
	}
	var value []byte
	if c.verify {
		p, err := c.proven(ctx, resp, ledger.AuditKey(vault, batchID))
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, problemFrom(resp, body)
		}
		if p.Value == nil {
			return nil, fmt.Errorf("%w: audit batch %s of %s", ledger.ErrNotFound, batchID, vault)
		}
		value = p.Value
	} else {
		if resp.StatusCode != http.StatusOK {
			return nil, problemFrom(resp, body)
		}
		value = body
	}
	var rec ledger.AuditRecord
	if err := json.Unmarshal(value, &rec); err != nil || rec.Vault != vault || rec.BatchID != batchID {
		return nil, fmt.Errorf("%w: audit record for batch %s of %s", ErrUnexpected, batchID, vault)
	}
	return &rec, nil
}
