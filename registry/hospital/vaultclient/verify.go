package vaultclient

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/ledger"
)

// AnchorSource returns what the ledger anchored for a batch of a vault's
// trail; *registry/client.Client implements it (with proofs when
// configured).
type AnchorSource interface {
	AuditAnchor(ctx context.Context, vault, batchID string) (*ledger.AuditRecord, error)
}

// VerifiedEntry is a trail entry that was proven included in an anchored
// batch and decrypted: the one type of an access event on the patient's
// side (wallet.AccessEvent wraps it; the app converts from that in one
// place). Its JSON is the entry's, with where it was proven.
type VerifiedEntry struct {
	trail.Entry
	// Vault is the DID of the vault whose trail holds the entry.
	Vault string `json:"vault"`
	// Batch and Index are the anchored batch the entry was proven in and
	// its leaf index there.
	Batch string `json:"batch"`
	Index int    `json:"index"`
}

// VerifyTrail checks every entry of an access-log answer against the root
// and count the ledger anchored for its batch (one ledger read per batch),
// and decrypts it with the patient's key (from trail.DecryptionKey). It
// fails on the first entry that is not proven or cannot be read, or that is
// about another patient: a trail is trusted whole or not at all.
func VerifyTrail(ctx context.Context, resp *vaultapi.AccessLogResponse, patient string, anchors AnchorSource, priv any) ([]VerifiedEntry, error) {
	type batch struct {
		root  trail.Hash
		count int
	}
	roots := map[string]batch{}
	opener := &trail.Opener{Key: priv}
	out := make([]VerifiedEntry, 0, len(resp.Entries))
	for i := range resp.Entries {
		p := &resp.Entries[i]
		b, ok := roots[p.Batch]
		if !ok {
			rec, err := anchors.AuditAnchor(ctx, resp.Vault, p.Batch)
			if err != nil {
				return nil, fmt.Errorf("trail batch %s: %w", p.Batch, err)
			}
			rb, err := hex.DecodeString(rec.Root)
			if err != nil || len(rb) != len(trail.Hash{}) {
				return nil, fmt.Errorf("trail batch %s: anchored root is not a SHA-256", p.Batch)
			}
			copy(b.root[:], rb)
			b.count = int(rec.Count)
			roots[p.Batch] = b
		}
		if err := p.Verify(b.root, b.count); err != nil {
			return nil, fmt.Errorf("trail entry %s/%d: %w", p.Batch, p.Index, err)
		}
		e, err := opener.Open([]byte(p.Data))
		if err != nil {
			return nil, fmt.Errorf("trail entry %s/%d: %w", p.Batch, p.Index, err)
		}
		if e.Patient != patient {
			return nil, fmt.Errorf("trail entry %s/%d is about another patient", p.Batch, p.Index)
		}
		out = append(out, VerifiedEntry{Entry: *e, Vault: resp.Vault, Batch: p.Batch, Index: p.Index})
	}
	return out, nil
}
