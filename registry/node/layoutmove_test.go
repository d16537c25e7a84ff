package node_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/internal/logbuf"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/machine"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

// startLayout1Member is startMember for a chain whose genesis names layout
// 1, as registryd runs it (App.ExpectLayout from the genesis), logging the
// app to log.
func startLayout1Member(t *testing.T, home string, cfg machine.Config, log *logbuf.Buffer) *member {
	t.Helper()
	return startLoggedMember(t, home, cfg, log, ledger.LayoutEveryVersion)
}

// startLoggedMember is startMember logging the app to log, with the
// layout the genesis names (0: the current one).
func startLoggedMember(t *testing.T, home string, cfg machine.Config, log *logbuf.Buffer, layout ledger.StateLayout) *member {
	t.Helper()
	cfg.Dir = filepath.Join(home, "data", "registry")
	cfg.Logger = slog.New(slog.NewTextHandler(log, nil))
	a, err := machine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if layout != 0 {
		a.ExpectLayout(layout)
	}
	return serveMember(t, home, a)
}

// TestLayoutMoveFourNodes: a four-validator network in state layout 1
// schedules the move to layout 2 by three of four governance keys; every
// validator moves at the start of the same block, they keep agreeing on
// every app hash after it (CometBFT checks each block's app hash against
// each node's own state), each holds the state of layout 2, and a fifth
// node that joins by state sync after the move restores a layout 2
// snapshot and answers the same.
func TestLayoutMoveFourNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five nodes and makes over a hundred blocks")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, res := newTestnet(t, "move", 5, ledger.LayoutEveryVersion, ledger.BaseProtocol) // a chain of before layout 2 and protocol 3
	var ms []*member
	logs := make([]*logbuf.Buffer, 5)
	for i, r := range res {
		logs[i] = &logbuf.Buffer{}
		ms = append(ms, startLayout1Member(t, r.Home, machine.Config{SnapshotInterval: 40}, logs[i]))
	}
	waitFor(t, time.Minute, "the first block", func() bool { h, _ := ms[0].app.LastCommit(); return h >= 1 })
	c0, err := client.New(client.Config{URL: ms[0].url})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if l := m.app.StateLayout(); l != ledger.LayoutEveryVersion {
			t.Fatalf("node %d starts in layout %d", i, l)
		}
	}
	// Some DIDs, two of them deactivated (a superseded version each).
	var ids []*nodetest.Identity
	create := func(name string) {
		t.Helper()
		id := nodetest.NewIdentity(t, name)
		if _, err := c0.Submit(ctx, id.CreateTx(t)); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		ids = append(ids, id)
	}
	for i := range 6 {
		create(fmt.Sprintf("before-%d", i))
	}
	for _, id := range ids[:2] {
		if _, err := c0.Submit(ctx, id.DeactivateTx(t, "1")); err != nil {
			t.Fatal(err)
		}
	}

	H := ms[0].node.Height() + ledger.MinLayoutMoveLead + 20
	carryByThree(ctx, t, c0, res, tx.Proposal{ID: "move-to-2", Action: tx.ActionLayoutSchedule, Layout: &tx.ProposedLayout{Layout: tx.MoveToLayout, Height: H}})
	ni, err := c0.Network(ctx)
	if err != nil || ni.StateLayout != ledger.LayoutEveryVersion || ni.LayoutMove == nil || ni.LayoutMove.Height != H {
		t.Fatalf("GET /1.0/network after the schedule: %+v (%v)", ni, err)
	}
	t.Logf("move scheduled at height %d (carried at %d)", H, ni.LayoutMove.Scheduled)

	// Blocks up to and past H: each write makes a block (and the block
	// after an app hash change one more).
	writeUntil(ctx, t, ms[:4], H+6, create)
	// A deactivation after the move runs in layout 2.
	if _, err := c0.Submit(ctx, ids[2].DeactivateTx(t, "1")); err != nil {
		t.Fatal(err)
	}
	// All four at one height agree on its app hash, and each moved at H.
	waitAgree(t, time.Minute, "the four validators at one height", ms[:4]...)
	for i, m := range ms[:4] {
		if l := m.app.StateLayout(); l != ledger.LayoutRecordsOnce {
			t.Errorf("node %d in layout %d after the move", i, l)
		}
		if want := fmt.Sprintf("msg=\"moved the state layout\" height=%d layout=2 proposal=move-to-2", H); !strings.Contains(logs[i].String(), want) {
			t.Errorf("node %d did not log %q", i, want)
		}
		checkLayout2(t, fmt.Sprintf("node %d", i), m.app, ids, 3)
	}
	if ni, err := c0.Network(ctx); err != nil || ni.StateLayout != ledger.LayoutRecordsOnce || ni.LayoutMove != nil {
		t.Errorf("GET /1.0/network after the move: %+v (%v)", ni, err)
	}

	// A fifth node joins by state sync from a snapshot made after H.
	// (Writes make the blocks the snapshots are taken at.)
	snapshotAbove(ctx, t, ms, H, create)
	logs[4] = &logbuf.Buffer{}
	joined := joinByStateSync(ctx, t, out, res, ms, c0, machine.Config{SnapshotInterval: -1}, logs[4], ledger.LayoutEveryVersion, create)
	if l := joined.app.StateLayout(); l != ledger.LayoutRecordsOnce {
		t.Errorf("the joined node is in layout %d", l)
	}
	checkLayout2(t, "the joined node", joined.app, ids, 3)
	waitAgree(t, time.Minute, "the joined node to agree", ms[0], joined)
	// (Without it, the nodes outlived the removal of their folder and a
	// later test of the process ended in their WAL's panic.)
	stopAtEnd("move", out, append(ms, joined))
}

// checkLayout2 checks that a holds ids in layout 2: the first deactivated
// ones at version 2 with version 1 under didv/ (nextVersionId 2), the rest
// at version 1 with nothing under didv/, and that each resolves alike
// through the latest index and through a proof.
func checkLayout2(t *testing.T, who string, a *machine.App, ids []*nodetest.Identity, deactivated int) {
	t.Helper()
	var didv []string
	if err := a.Scan(ledger.PrefixDIDVersion, func(k, _ []byte) error { didv = append(didv, string(k)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(didv) != deactivated {
		t.Errorf("%s: %d keys under %s, want %d (the superseded versions only): %q", who, len(didv), ledger.PrefixDIDVersion, deactivated, didv)
	}
	for i, id := range ids {
		rec, err := a.ResolveDID(id.DID, ledger.ResolveOptions{})
		wantVersion := "1"
		if i < deactivated {
			wantVersion = "2"
			if !errors.Is(err, ledger.ErrDeactivated) {
				t.Errorf("%s: %s: %v, want deactivated", who, id.DID, err)
			}
			old, err := a.ResolveDID(id.DID, ledger.ResolveOptions{VersionID: "1"})
			if err != nil || old.Metadata.NextVersionID != "2" {
				t.Errorf("%s: %s version 1: %+v (%v)", who, id.DID, old, err)
			}
		} else if err != nil {
			t.Errorf("%s: %s: %v", who, id.DID, err)
		}
		if rec == nil || rec.Metadata.VersionID != wantVersion {
			t.Errorf("%s: %s resolves to %+v, want version %s", who, id.DID, rec, wantVersion)
		}
	}
}
