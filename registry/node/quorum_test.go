package node_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/node"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

// TestDirectoryQuorumOnFourValidators: a new four-hospital network (its
// genesis from node.Testnet, directoryQuorum on) takes no directory entry
// from one governance key; the entry proposed by one key and approved by
// two more is written, and all four validators reach the same app hash and
// serve the same entry.
func TestDirectoryQuorumOnFourValidators(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four nodes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := processDir(t, "quorum")
	base, err := node.FreeBasePort(4)
	if err != nil {
		t.Fatal(err)
	}
	res, err := node.Testnet(node.TestnetConfig{Validators: 4, OutDir: out, BasePort: base, BlockTime: 30 * time.Millisecond, ChainID: "medid-quorum"})
	if err != nil {
		t.Fatal(err)
	}
	var ms []*member
	for _, r := range res {
		ms = append(ms, startMember(t, r.Home, machine.Config{}))
	}
	stopAtEnd("quorum", out, ms)
	// The genesis state is committed with the first block, on each node.
	waitFor(t, time.Minute, "the first block on every node", func() bool {
		for _, m := range ms {
			if h, _ := m.app.LastCommit(); h < 1 {
				return false
			}
		}
		return true
	})
	c0, err := client.New(client.Config{URL: ms[0].url})
	if err != nil {
		t.Fatal(err)
	}
	if ni, err := c0.Network(ctx); err != nil || !ni.Policy.DirectoryQuorum || !ni.Policy.QuorumFor(len(ni.Governance)) {
		t.Fatalf("a new testnet's policy: %+v, %v; want directoryQuorum on with 4 keys", ni, err)
	}
	gov0, gov3 := govKey(t, res[0].Home), govKey(t, res[3].Home)
	org := did.KeyDID(nodetest.NewIdentity(t, "st-marys").Key.Public())
	entry := tx.DirectoryEntry{LegalName: "St Mary's Hospital NHS Trust", DisplayName: "St Mary's Hospital", Kind: tx.KindHospital, Country: "GB"}

	// One key alone: refused.
	alone, err := tx.NewDirectoryAdd(did.KeyDID(gov3.Public()), org, entry)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := tx.Sign(alone, gov3, did.KeyDID(gov3.Public())+"#"+gov3.Public().Multikey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c0.Submit(ctx, signed); !errors.Is(err, ledger.ErrUnauthorized) {
		t.Fatalf("directory.add by one key of four: %v, want unauthorized", err)
	}

	// Proposed by one, approved by two more: written.
	add, err := tx.NewDirectoryAdd(did.KeyDID(gov0.Public()), org, entry)
	if err != nil {
		t.Fatal(err)
	}
	prop, err := tx.NewChangeProposal(add)
	if err != nil {
		t.Fatal(err)
	}
	rec, _, err := c0.Propose(ctx, gov0, *prop.Proposal)
	if err != nil || rec.Status != ledger.ProposalOpen {
		t.Fatalf("propose: %+v, %v", rec, err)
	}
	if _, err := c0.Directory(ctx, org); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("the entry after one approval: %v, want not found", err)
	}
	for _, i := range []int{1, 2} {
		if rec, _, err = c0.Approve(ctx, govKey(t, res[i].Home), rec.ID); err != nil {
			t.Fatal(err)
		}
	}
	if rec.Status != ledger.ProposalExecuted {
		t.Fatalf("after three approvals: %+v", rec)
	}
	carried := rec.Executed
	waitFor(t, time.Minute, "every node past the carrying block", func() bool {
		for _, m := range ms {
			if h, _ := m.app.LastCommit(); h < carried+1 {
				return false
			}
		}
		return true
	})
	var want []byte
	for i, m := range ms {
		c, err := client.New(client.Config{URL: m.url})
		if err != nil {
			t.Fatal(err)
		}
		// The header of the next block carries the app hash after it.
		lb, err := c.LightBlock(ctx, carried+1)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			want = lb.Header.AppHash
		} else if !bytes.Equal(lb.Header.AppHash, want) {
			t.Fatalf("node %d: app hash after block %d %X, node 0 %X", i, carried, lb.Header.AppHash, want)
		}
		d, err := c.Directory(ctx, org)
		if err != nil || d.Current().Entry.DisplayName != "St Mary's Hospital" || d.Current().Proposal != rec.ID {
			t.Fatalf("node %d: entry %+v, %v", i, d, err)
		}
	}
	// client.SubmitChange proposes what one key signs on such a network:
	// a suspension by the fourth key is an open proposal, the entry stays.
	suspend, err := tx.NewDirectorySuspend(did.KeyDID(gov3.Public()), org, 2, "under review")
	if err != nil {
		t.Fatal(err)
	}
	_, open, err := c0.SubmitChange(ctx, gov3, suspend)
	if err != nil || open == nil || open.Status != ledger.ProposalOpen || open.Action != tx.ActionDirectorySuspend || open.ID != open.ChangeID() {
		t.Fatalf("SubmitChange of a suspension: %+v, %v; want an open proposal under its content's id", open, err)
	}
	if d, err := c0.Directory(ctx, org); err != nil || d.Current().Status != ledger.DirectoryActive {
		t.Fatalf("after one key's suspension: %+v, %v", d, err)
	}
}
