package vaultclient

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/ledger"
)

// anchors is a ledger that anchored exactly the batches it holds.
type anchors map[string]*ledger.AuditRecord

func (a anchors) AuditAnchor(_ context.Context, vault, batchID string) (*ledger.AuditRecord, error) {
	if r, ok := a[batchID]; ok && r.Vault == vault {
		return r, nil
	}
	return nil, ledger.ErrNotFound
}

// TestVerifyTrailHostileLeaf: a malicious vault anchors a leaf crafted to
// crash a JOSE library (issue 11 item 10: an empty wrapped key made jwx
// panic inside the patient's app). The inclusion proof holds, so the leaf
// reaches decryption: the patient gets an error naming the entry, never a
// panic, and no entry of the trail is shown.
func TestVerifyTrailHostileLeaf(t *testing.T) {
	// The crasher the fuzzer found, kept in trail's seed corpus too
	// (registry/hospital/trail/testdata/fuzz/FuzzOpen/368569755c12bacc).
	leaf := []byte("eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImVuYyI6IkEyNTZHQ00iLCJlcGsiOnsiY3J2IjoiWDI1NTE5Iiwia1RZIjoiT0tQIiwieCI6Ik10X010Y010Y010Y000Z010Y010Y000Z010Y010Y010Y180Y010Y000Y00ifX0....")
	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := trail.DecryptionKey(k)
	if err != nil {
		t.Fatal(err)
	}
	root := trail.Root([]trail.Hash{trail.LeafHash(leaf)})
	resp := &vaultapi.AccessLogResponse{Vault: "did:key:zVault", Entries: []trail.Proved{{
		Batch: "b1", Index: 0, Count: 1, Root: hex.EncodeToString(root[:]), Proof: []string{}, Data: string(leaf)}}}
	src := anchors{"b1": {Vault: "did:key:zVault", BatchID: "b1", Root: hex.EncodeToString(root[:]), Count: 1}}
	got, err := VerifyTrail(context.Background(), resp, "did:key:zPatient", src, priv)
	if !errors.Is(err, trail.ErrDecrypt) || got != nil {
		t.Fatalf("VerifyTrail = %v, %v; want no entries and an error wrapping trail.ErrDecrypt", got, err)
	}
}
