package machine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Red team 5 (issue 18): attacks on protocol 5, where an approval names
// its filing by the filing block's hash too. TestRedteam5ReplayNamesTheSameBlock
// (registry/node) runs CometBFT's replay paths; these play the rest
// against the state machine. docs/design/0013 lists them.

// synced is a node restored from a snapshot of ls[0] (state sync), as a
// netHarness with its keys: the nodes of ls commit empty blocks in
// lockstep until ls[0] has a snapshot of its height.
func synced(t *testing.T, ls lockstep) *netHarness {
	t.Helper()
	src := ls[0]
	for i := 0; ; i++ {
		if err := src.app.WaitSnapshots(context.Background()); err != nil {
			t.Fatal(err)
		}
		if hs, _ := src.app.LastSnapshot(); hs == src.height() {
			break
		}
		if i == 100 {
			t.Fatal("no snapshot of the current height after 100 blocks")
		}
		ls.block(t)
	}
	a, res := restoreInto(t, src.harness, nil, src.hash())
	if res.String() != "ACCEPT" {
		t.Fatalf("restore: %v", res)
	}
	return &netHarness{harness: &harness{tb: t, app: a, gov: src.harness.gov, govDID: src.govDID}, govs: src.govs}
}

// TestRedteam5SnapshotKeepsTheName: open filings of protocol 5 survive
// every way a node gets its state other than executing the blocks. On a
// chain in state layout 1, two filings stay open while: a node is
// restored from a snapshot (state sync) and compared byte for byte; the
// quorum moves the state to layout 2 (run on the original, a node
// restarted during the move with empty caches, and the synced node, in
// lockstep); a second node is restored from a snapshot taken after the
// move. Every node then holds each record's filingBlock as filed, refuses
// an approval naming the other open filing's block or none, and counts
// the one naming it, with the same codes and app hashes.
func TestRedteam5SnapshotKeepsTheName(t *testing.T) {
	n := netNode(t, ledger.FilingBlockProtocol, Config{SnapshotInterval: 1}, &Genesis{StateLayout: ledger.LayoutEveryVersion})
	p, q := byContent(govAdd(t, "", 110)), byContent(govAdd(t, "", 111))
	fp, bp := n.fileNamed(t, 1, p)
	fq, bq := n.fileNamed(t, 2, q)
	keys := [][]byte{ledger.ProposalKey(p.ID), ledger.ProposalKey(q.ID)}
	want := n.stateOf(keys...)
	one := synced(t, lockstep{n})
	for i, v := range one.stateOf(keys...) {
		if !bytes.Equal(v, want[i]) {
			t.Fatalf("record %d after state sync:\n%s\nwant\n%s", i, v, want[i])
		}
	}
	ls := lockstep{n, one}
	M := n.height() + 2 + ledger.MinLayoutMoveLead // (filed in the next block, carried in the one after)
	move := byContent(scheduleProposal("", M))
	h := n.height() + 1
	if r := ls.block(t, n.propose(0, move)); r[0].Code != 0 {
		t.Fatalf("file the move: %d (%s)", r[0].Code, r[0].Log)
	}
	if r := ls.block(t, n.approveOfBlock(1, move.ID, h, n.mustFilingBlock(move.ID)), n.approveOfBlock(3, move.ID, h, n.mustFilingBlock(move.ID))); r[0].Code != 0 || r[1].Code != 0 {
		t.Fatalf("carry the move: %d (%s), %d (%s)", r[0].Code, r[0].Log, r[1].Code, r[1].Log)
	}
	for n.height() < M+3 {
		if n.height() == M-1 {
			n.reopen(t) // empty caches, the move read back from the state
		}
		ls.block(t)
	}
	for i, v := range ls {
		if l, mv, _ := v.app.LayoutMove(); l != ledger.LayoutRecordsOnce || mv != nil {
			t.Fatalf("node %d in layout %d after the move (%+v)", i, l, mv)
		}
	}
	two := synced(t, ls)
	ls = append(ls, two)
	for i, v := range ls {
		got := v.stateOf(keys...)
		for j := range got {
			if !bytes.Equal(got[j], want[j]) {
				t.Fatalf("node %d, record %d after the move:\n%s\nwant\n%s", i, j, got[j], want[j])
			}
		}
	}
	r := ls.block(t,
		n.approveOfBlock(3, p.ID, fp, bq), // q's name on p, both open
		n.approveOfBlock(3, q.ID, fp, bp), // p's name on q
		n.approveOf(3, p.ID, fp),          // none
		n.approveOfBlock(0, p.ID, fp, bp),
		n.approveOfBlock(0, q.ID, fq, bq))
	for i, code := range []uint32{ledger.CodeInvalid, ledger.CodeInvalid, ledger.CodeInvalid, 0, 0} {
		if r[i].Code != code {
			t.Fatalf("tx %d: %d (%s), want %d", i, r[i].Code, r[i].Log, code)
		}
	}
	for i, v := range ls {
		if !v.approvedBy(p.ID, 0) || !v.approvedBy(q.ID, 0) || v.approvedBy(p.ID, 3) || v.approvedBy(q.ID, 3) {
			t.Fatalf("node %d: the approvals", i)
		}
	}
}

// mustFilingBlock is the committed record's filingBlock of proposal id,
// which must be set.
func (n *netHarness) mustFilingBlock(id string) string {
	n.tb.Helper()
	_, b := n.filingOf(id)
	if !tx.ValidFilingBlock(b) {
		n.tb.Fatalf("proposal %s names block %q", id, b)
	}
	return b
}

// TestRedteam5ProposerKnowsItsBlock pins what protocol 5 leaves open. The
// proposer of block G builds it (with a filing of the content in it)
// before any other node sees it, and every node sees it at its proposal,
// before it is committed: so G's hash is known while G is voted on. A node
// can show an approver the filing, named by G's height and hash, and have
// the approval signed then; once G is committed that approval counts. The
// window runs from building G to committing it: CometBFT fixes G's header
// but for the transactions once G-1 is committed (its time is the median
// of G-1's commit votes, not the proposer's choice), so the name cannot
// be had before G-1's commit, and an approval held for a block proposed
// but not committed (another block made at G, in a later round) names no
// filing.
func TestRedteam5ProposerKnowsItsBlock(t *testing.T) {
	n := newNet5(t, nil)
	x, y := byContent(govAdd(t, "", 112)), byContent(govAdd(t, "", 113)) // (y: only so round 0's block differs)
	G := n.height() + 1
	// Round 0 of G: the proposer's block, filing x and y, known to it.
	round0 := [][]byte{n.propose(0, x), n.propose(0, y)}
	b0 := hexOf(n.nextBlockHash(round0...))
	early := n.approveOfBlock(1, x.ID, G, b0)
	// Another block is committed at G (a later round's, here filing x
	// alone: the harness's hash of a block depends on its txs, as
	// CometBFT's does).
	n.blockUpdates([]uint32{0}, round0[0])
	if _, b := n.filingOf(x.ID); b == b0 {
		t.Fatal("the committed block has round 0's hash though its txs differ")
	}
	n.refuses(t, "an approval naming a block proposed at G and not committed", early, ledger.CodeInvalid, "an approval counts only for the filing it names")

	// The proposer's block committed as built: the approval signed from
	// its hash before the commit counts.
	z := byContent(govAdd(t, "", 114))
	G = n.height() + 1
	block := [][]byte{n.propose(0, z)}
	bz := hexOf(n.nextBlockHash(block...))
	signedBefore := n.approveOfBlock(2, z.ID, G, bz)
	n.blockUpdates([]uint32{0}, block...)
	if _, b := n.filingOf(z.ID); b != bz {
		t.Fatalf("z filed in block %s, the proposer built %s", b, bz)
	}
	n.blockUpdates([]uint32{0}, signedBefore)
	if !n.approvedBy(z.ID, 2) {
		t.Fatal("the approval signed from the proposer's block before its commit did not count")
	}
}

// TestRedteam5FilingBlockOnOtherTypes: the filingBlock member on every
// transaction type other than network.approve (a valid payload of each,
// with the member added) is refused as malformed at protocol 4 and at 5,
// state unchanged: the member is approve's alone. (gov5's spellings test
// covers it on a propose and inside a proposal.)
func TestRedteam5FilingBlockOnOtherTypes(t *testing.T) {
	for _, protocol := range []uint64{4, 5} {
		t.Run(fmt.Sprintf("protocol %d", protocol), func(t *testing.T) {
			n := newNetHarnessWith(t, nil, &harness{genesisProtocol: protocol})
			block := strings.Repeat("5e", 32)
			id := newIdentity(t, 40)
			gd := n.gov(0)
			var payloads []*tx.Payload
			add := func(p *tx.Payload, err error) { payloads = append(payloads, n.must(p, err)) }
			at := blockTime(1)
			add(tx.NewDIDCreate(id.tmpl))
			add(tx.NewDIDUpdate(id.did, id.doc, "1"))
			add(tx.NewDIDDeactivate(id.did, "1"))
			add(tx.NewIssuerRevoke(gd, id.did, "acc-1", at))
			add(tx.NewStatusListPublish(id.did, "list-1", 1, "e30.e30.sig"))
			anchor := did.KeyDID(testKey(t, 41).Public())
			add(tx.NewConsentAnchorHash(anchor, strings.Repeat("ab", 32), at, at.Add(time.Hour)))
			add(tx.NewConsentRevoke(anchor, strings.Repeat("ab", 32)))
			add(tx.NewAuditAnchor(id.did, "batch-1", [32]byte{1}, 3))
			add(tx.NewDirectorySuspend(gd, id.did, 2, "a reason"))
			add(tx.NewDirectoryRemove(gd, id.did, 2, "a reason"))
			add(tx.NewNetworkProposal(gd, byContent(govAdd(t, "", 115))))
			for _, p := range payloads {
				raw, err := json.Marshal(p)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasSuffix(raw, []byte("}")) {
					t.Fatalf("payload %s", raw)
				}
				with := string(raw[:len(raw)-1]) + fmt.Sprintf(`,"filing":%d,"filingBlock":%q}`, n.height(), block)
				n.refuses(t, string(p.Type), n.rawGovTx(0, with), ledger.CodeMalformed, "filing")
			}
		})
	}
}

// TestRedteam5ApprovalFromAnotherChain: a signed transaction names no
// chain (its JWS header and payload carry none), so an approval signed
// for one chain (a staging network, say, whose governance keys include a
// production key, and whose proposer filed the same content at the same
// height) reads the same on another. Under protocol 4 it counts there for
// a filing of that content at that height; from protocol 5 on a filing is
// named by its block's hash, and CometBFT's header, which that hash
// commits to, carries the chain id and the chain's own history: the
// approval names the other chain's block and is refused. (A filing made
// before 5 stays named by height alone on a chain at 5: there the replay
// still counts, as at 4.)
func TestRedteam5ApprovalFromAnotherChain(t *testing.T) {
	for _, protocol := range []uint64{4, 5} {
		t.Run(fmt.Sprintf("protocol %d", protocol), func(t *testing.T) {
			// Two chains with the same four governance keys; the harness
			// blocks of the two differ (as two chains' block hashes do)
			// because their states differ: staging has one more DID.
			prod := newNetHarnessWith(t, nil, &harness{genesisProtocol: protocol})
			staging := newNetHarnessWith(t, nil, &harness{genesisProtocol: protocol})
			staging.mustBlock(staging.createTx(newIdentity(t, 50)))
			prod.block()
			x := byContent(govAdd(t, "", 116))
			prod.blockUpdates([]uint32{0}, prod.propose(0, x))
			staging.blockUpdates([]uint32{0}, staging.propose(0, x))
			f, _ := prod.filingOf(x.ID)
			if g, _ := staging.filingOf(x.ID); g != f {
				t.Fatalf("filed at %d and %d", f, g)
			}
			signed := staging.approveOpen(1, x.ID) // key 1 approves x on staging
			staging.blockUpdates([]uint32{0}, signed)
			r := prod.block(signed) // the same bytes on production
			switch {
			case protocol < ledger.FilingBlockProtocol && (r[0].Code != 0 || !prod.approvedBy(x.ID, 1)):
				t.Fatalf("protocol %d: the replayed approval: %d (%s), counted %v; want it counted (the limit at 4)", protocol, r[0].Code, r[0].Log, prod.approvedBy(x.ID, 1))
			case protocol >= ledger.FilingBlockProtocol && (r[0].Code != ledger.CodeInvalid || prod.approvedBy(x.ID, 1)):
				t.Fatalf("protocol %d: the replayed approval: %d (%s), counted %v; want refused", protocol, r[0].Code, r[0].Log, prod.approvedBy(x.ID, 1))
			}
		})
	}
}
