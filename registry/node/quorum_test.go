package node_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/machine"
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
	out, res := newTestnet(t, "quorum", 4, 0, 0)
	var ms []*member
	for _, r := range res {
		ms = append(ms, startMember(t, r.Home, machine.Config{}))
	}
	stopAtEnd("quorum", out, ms)
	// The genesis state is committed with the first block, on each node.
	waitHeight(t, ms, 1)
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
	for i, m := range sameAppHash(ctx, t, ms, carried) {
		c, err := client.New(client.Config{URL: m.url})
		if err != nil {
			t.Fatal(err)
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

// waitHeight waits until every node of ms committed block h.
func waitHeight(t *testing.T, ms []*member, h int64) {
	t.Helper()
	waitFor(t, time.Minute, fmt.Sprintf("block %d on every node", h), func() bool {
		for _, m := range ms {
			if got, _ := m.app.LastCommit(); got < h {
				return false
			}
		}
		return true
	})
}

// sameAppHash waits until every node of ms is past block h and fails
// unless they all have the same app hash after it (the header of block
// h+1 carries it); it returns ms.
func sameAppHash(ctx context.Context, t *testing.T, ms []*member, h int64) []*member {
	t.Helper()
	waitHeight(t, ms, h+1)
	var want []byte
	for i, m := range ms {
		c, err := client.New(client.Config{URL: m.url})
		if err != nil {
			t.Fatal(err)
		}
		lb, err := c.LightBlock(ctx, h+1)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			want = lb.Header.AppHash
		} else if !bytes.Equal(lb.Header.AppHash, want) {
			t.Fatalf("node %d: app hash after block %d %X, node 0 %X", i, h, lb.Header.AppHash, want)
		}
	}
	return ms
}

// TestDirectoryQuorumTurnedOnInRunningNetwork: a four-validator network
// whose genesis names no directoryQuorum (as every chain before it) lets
// one governance key name an organisation; three keys carry
// policy.directoryQuorum; from then on one key's entry is refused and
// becomes a proposal, and the four validators agree on every app hash.
func TestDirectoryQuorumTurnedOnInRunningNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four nodes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, res := newTestnet(t, "quorum-on", 4, 0, 0)
	var ms []*member
	for _, r := range res {
		nodetest.SetNetworkPolicy(t, r.Home, nil)
		ms = append(ms, startMember(t, r.Home, machine.Config{}))
	}
	stopAtEnd("quorum-on", out, ms)
	waitHeight(t, ms, 1)
	c0, err := client.New(client.Config{URL: ms[0].url})
	if err != nil {
		t.Fatal(err)
	}
	govs := []*key.PrivateKey{govKey(t, res[0].Home), govKey(t, res[1].Home), govKey(t, res[2].Home), govKey(t, res[3].Home)}
	entry := func(name string) tx.DirectoryEntry {
		return tx.DirectoryEntry{LegalName: name + " Ltd", DisplayName: name, Kind: tx.KindClinic, Country: "GB"}
	}
	addBy := func(g int, org, name string) *tx.Payload {
		p, err := tx.NewDirectoryAdd(did.KeyDID(govs[g].Public()), org, entry(name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	orgA := did.KeyDID(nodetest.NewIdentity(t, "clinic-a").Key.Public())
	orgB := did.KeyDID(nodetest.NewIdentity(t, "clinic-b").Key.Public())

	// Before: one key writes (the rule of the chains before the policy).
	wrote, rec, err := c0.SubmitChange(ctx, govs[3], addBy(3, orgA, "Riverside Clinic"))
	if err != nil || rec != nil {
		t.Fatalf("one key's entry without the policy: %+v, %v; want written at once", rec, err)
	}
	sameAppHash(ctx, t, ms, wrote.Height)

	on := tx.Proposal{Action: tx.ActionDirectoryQuorum}
	on.ID = tx.ProposalID(&on) // (protocol 3: the content's id)
	if rec, _, err = c0.Propose(ctx, govs[0], on); err != nil {
		t.Fatal(err)
	}
	for _, g := range []int{1, 2} {
		if rec, _, err = c0.Approve(ctx, govs[g], on.ID); err != nil {
			t.Fatal(err)
		}
	}
	if rec.Status != ledger.ProposalExecuted {
		t.Fatalf("policy.directoryQuorum after three approvals: %+v", rec)
	}
	sameAppHash(ctx, t, ms, rec.Executed)
	for i, m := range ms {
		c, _ := client.New(client.Config{URL: m.url})
		if ni, err := c.Network(ctx); err != nil || !ni.Policy.DirectoryQuorum {
			t.Fatalf("node %d policy: %+v, %v", i, ni, err)
		}
	}

	// After: the same key's entry is refused as a plain transaction and
	// becomes a proposal.
	alone := addBy(3, orgB, "Hillside Clinic")
	signed, err := tx.Sign(alone, govs[3], did.KeyDID(govs[3].Public())+"#"+govs[3].Public().Multikey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c0.Submit(ctx, signed); !errors.Is(err, ledger.ErrUnauthorized) {
		t.Fatalf("one key's entry after the policy: %v, want unauthorized", err)
	}
	proposed, open, err := c0.SubmitChange(ctx, govs[3], addBy(3, orgB, "Hillside Clinic"))
	if err != nil || open == nil || open.Status != ledger.ProposalOpen {
		t.Fatalf("SubmitChange after the policy: %+v, %v; want an open proposal", open, err)
	}
	if _, err := c0.Directory(ctx, orgB); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("the proposed entry: %v, want not found", err)
	}
	sameAppHash(ctx, t, ms, proposed.Height)
}
