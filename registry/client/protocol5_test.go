package client_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node/nodetest"
)

// TestApproveFilingBlockFromALyingNode: on a real node at protocol 5 a
// filing is named by the hash of its block, the hash CometBFT gave the
// block (as the light header the node serves hashes). A node that shows
// another block hash, or none (as if the filing were made before 5), is
// caught by the proving client (--genesis: the proof does not verify,
// nothing is signed); the plain client signs what it was shown and the
// network refuses the approval (it counts for nothing). The right name,
// read with a proof, counts.
func TestApproveFilingBlockFromALyingNode(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{})
	plain, proving := newClients(t, s)
	ctx := context.Background()
	through := throughNode(t, s)
	waitFirstBlock(t, s) // the genesis state is committed with the first block
	if v := s.App.Protocol().Version; v != ledger.FilingBlockProtocol {
		t.Fatalf("the node's chain runs protocol %d, want %d", v, ledger.FilingBlockProtocol)
	}
	two := fileWithTwoKeys(t, ctx, plain, s)
	gov2, add3, open := two.gov2, two.add3, two.open
	lb, err := plain.LightBlock(ctx, open.Height)
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(lb.Hash()); open.FilingBlock != want {
		t.Fatalf("the filing's block %q, and CometBFT's block %d has hash %s", open.FilingBlock, open.Height, want)
	}
	other, err := plain.LightBlock(ctx, open.Height-1)
	if err != nil {
		t.Fatal(err)
	}
	for _, lie := range []struct{ name, block, refusal string }{
		{"the block before's hash", hex.EncodeToString(other.Hash()), "an approval counts only for the filing it names"},
		{"zeros", strings.Repeat("0", 64), "an approval counts only for the filing it names"},
		{"none (as if filed before protocol 5)", "", "names none"},
	} {
		if rec, err := through(true, showFilingBlock(t, lie.block)).Proposal(ctx, add3.ID); !errors.Is(err, ledger.ErrProof) {
			t.Fatalf("%s: proving client: %+v, %v, want ledger.ErrProof", lie.name, rec, err)
		}
		rec, err := through(false, showFilingBlock(t, lie.block)).Proposal(ctx, add3.ID)
		if err != nil || rec.FilingBlock != lie.block {
			t.Fatalf("%s: plain client: %+v, %v", lie.name, rec, err)
		}
		if _, _, err := plain.ApproveFiling(ctx, gov2, rec); !errors.Is(err, ledger.ErrInvalid) || !strings.Contains(err.Error(), lie.refusal) {
			t.Fatalf("%s: approval: %v, want refused with %q", lie.name, err, lie.refusal)
		}
		if cur, err := plain.Proposal(ctx, add3.ID); err != nil || cur.Status != ledger.ProposalOpen || len(cur.Approvals) != 1 {
			t.Fatalf("%s: the proposal changed: %+v, %v", lie.name, cur, err)
		}
	}
	rec, err := proving.Proposal(ctx, add3.ID)
	if err != nil || rec.FilingBlock != open.FilingBlock {
		t.Fatalf("proven read: %+v, %v", rec, err)
	}
	if rec, _, err := plain.ApproveFiling(ctx, gov2, rec); err != nil || rec.Status != ledger.ProposalExecuted {
		t.Fatalf("the approval naming the filing: %+v, %v", rec, err)
	}
}
