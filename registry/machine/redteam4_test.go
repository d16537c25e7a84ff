package machine

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Red team of protocol 4 (issue 18; docs/design/0013, "Attacks"): the
// rule that an approval names its filing, played against the real state
// machine. Each test fails if the defence it names is removed.

// filingSpelling is one way to write a "filing" member (or something
// that might be read as one) into a payload signed by a governance key.
type filingSpelling struct {
	name string
	// payload returns the payload text: did and nonce of the signer, the
	// proposal id approved and F, the open filing's height.
	payload func(did, nonce, id string, f int64) string
	// counts: at protocol 4 the approval is the canonical naming of the
	// open filing (a JSON spelling of member and value that every reader
	// reads as the name "filing" and the integer F) and counts; every
	// other spelling is refused as malformed. Below 4 every one is
	// refused as malformed.
	counts bool
}

func approveWith(member string) func(did, nonce, id string, f int64) string {
	return func(did, nonce, id string, f int64) string {
		return fmt.Sprintf(`{"type":"network.approve","did":%q,"nonce":%q,"proposalId":%q,%s}`, did, nonce, id, strings.ReplaceAll(member, "F", fmt.Sprint(f)))
	}
}

// filingSpellings: the values, names and places of the member an
// attacker (or a sloppy client) might write. The release of before
// protocol 4 (0f9cab6) refused each of these payloads with
// tx.ErrMalformed (checked by decoding them with that commit's tx.Decode:
// docs/design/0013), so below 4 each must be refused with CodeMalformed.
func filingSpellings(tb testing.TB) []filingSpelling {
	gov := func(b byte) string { return did.KeyDID(testKey(tb, b).Public()) }
	return []filingSpelling{
		{"canonical", approveWith(`"filing":F`), true},
		{"whitespace around the value", approveWith(`"filing" :  F `), true},
		{"name with a unicode escape", approveWith(`"\u0066iling":F`), true},
		{"exponent", approveWith(`"filing":Fe0`), false},
		{"1e3", approveWith(`"filing":1e3`), false},
		{"fraction", approveWith(`"filing":F.0`), false},
		{"leading zero", approveWith(`"filing":0F`), false},
		{"plus sign", approveWith(`"filing":+F`), false},
		{"minus zero", approveWith(`"filing":-0`), false},
		{"zero", approveWith(`"filing":0`), false},
		{"negative", approveWith(`"filing":-F`), false},
		{"2^53", approveWith(`"filing":9007199254740992`), false},
		{"2^63", approveWith(`"filing":9223372036854775808`), false},
		{"huge", approveWith(`"filing":1` + strings.Repeat("0", 400)), false},
		{"string", approveWith(`"filing":"F"`), false},
		{"null", approveWith(`"filing":null`), false},
		{"true", approveWith(`"filing":true`), false},
		{"array", approveWith(`"filing":[F]`), false},
		{"object", approveWith(`"filing":{"height":F}`), false},
		{"empty object", approveWith(`"filing":{}`), false},
		{"twice, same value", approveWith(`"filing":F,"filing":F`), false},
		{"twice, second escaped", approveWith(`"filing":F,"\u0066iling":F`), false},
		{"capital F", approveWith(`"Filing":F`), false},
		{"all capitals", approveWith(`"FILING":F`), false},
		{"escaped capital", approveWith(`"\u0046iling":F`), false},
		{"dotless i (a look-alike)", approveWith(`"f\u0131ling":F`), false},
		{"trailing NUL in the name", approveWith(`"filing\u0000":F`), false},
		{"on a propose", func(did, nonce, _ string, f int64) string {
			g := gov(75)
			return fmt.Sprintf(`{"type":"network.propose","did":%q,"nonce":%q,"filing":%d,"proposal":{"id":%q,"action":"governance.add","governance":%q}}`,
				did, nonce, f, tx.ProposalID(&tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: g}), g)
		}, false},
		{"inside the proposal of a propose", func(did, nonce, _ string, f int64) string {
			g := gov(76)
			return fmt.Sprintf(`{"type":"network.propose","did":%q,"nonce":%q,"proposal":{"id":%q,"action":"governance.add","governance":%q,"filing":%d}}`,
				did, nonce, tx.ProposalID(&tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: g}), g, f)
		}, false},
	}
}

// filingSpellings3Hash is the app hash TestRedteam4FilingSpellings
// reaches at protocol 3, as the release of before protocol 4 (0f9cab6)
// reached it: this test run there (with the protocol 4 half and the
// FilingProtocol constant taken out), every spelling refused with
// CodeMalformed.
const filingSpellings3Hash = "45601ba613ed34c4ba90ac9b17bf0eb032fe5382d2f899d22b5bddd3a2bff2d5"

// TestRedteam4FilingSpellings: every spelling of the filing member is
// refused as malformed at protocol 3 (in CheckTx and FinalizeBlock,
// state unchanged), as the release of before protocol 4 refused it, so a
// protocol-3 chain replays the same results; at protocol 4 only the
// spellings that read as the integer naming the open filing count, and
// the others are refused as malformed, state unchanged.
func TestRedteam4FilingSpellings(t *testing.T) {
	for _, protocol := range []uint64{3, 4} {
		t.Run(fmt.Sprintf("protocol %d", protocol), func(t *testing.T) {
			n := newNetHarnessWith(t, nil, &harness{genesisProtocol: protocol})
			for i, s := range filingSpellings(t) {
				p := byContent(govAdd(t, "", byte(100+i)))
				by := []int{0, 1, 3}[i%3] // (the cap of 16 open proposals a key)
				filing := n.must(tx.NewNetworkProposal(n.gov(by), p))
				filing.Nonce = fmt.Sprintf("rt4-filing-%d-%d", protocol, i) // fixed: the app hash is compared below
				n.blockUpdates([]uint32{0}, n.govTx(by, filing))
				f := n.height()
				raw := n.rawGovTx(2, s.payload(n.gov(2), fmt.Sprintf("rt4-%d-%d", protocol, i), p.ID, f))
				if protocol < ledger.FilingProtocol || !s.counts {
					n.refuses(t, s.name, raw, ledger.CodeMalformed, "")
					if n.approvedBy(p.ID, 2) {
						t.Fatalf("%s: a refused approval counted", s.name)
					}
					continue
				}
				if r := n.checkTx(raw); r.Code != 0 {
					t.Fatalf("%s: CheckTx %d (%s)", s.name, r.Code, r.Log)
				}
				n.blockUpdates([]uint32{0}, raw)
				if !n.approvedBy(p.ID, 2) {
					t.Fatalf("%s: the approval naming the open filing did not count", s.name)
				}
			}
			if got := fmt.Sprintf("%x", n.hash()); protocol == 3 && got != filingSpellings3Hash {
				t.Fatalf("protocol 3: app hash %s after the spellings, and the release of before protocol 4 (0f9cab6) reached %s: a protocol-3 chain would not replay", got, filingSpellings3Hash)
			}
		})
	}
}

// TestRedteam4FilingIdentity: (id, height) names one filing whatever
// rewrites the record of a content. An approval naming the record's
// earlier filing never counts after the record was replaced: a squatter
// filed under protocol 2 with other content under the content's id and
// replaced at protocol 4; a filing that expired and was filed again in
// the very block of its expiry (the held approval placed after the new
// filing in that block); a filing carried in its own block and filed
// again in the next. The approval naming the new filing counts.
func TestRedteam4FilingIdentity(t *testing.T) {
	t.Run("a protocol-2 squatter replaced at 4", func(t *testing.T) {
		n := newNetHarness(t, nil)
		H := n.height() + 10 + ledger.MinScheduleLead
		n.carry(t, 0, byContent(upgradeProposal("", 4, H)))
		c := byContent(govAdd(t, "", 80))
		squat := govAdd(t, c.ID, 81) // protocol 2: any id, here c's, over other content
		n.blockUpdates([]uint32{0}, n.propose(0, squat))
		h0 := n.height()
		for n.height() < H {
			n.block()
		}
		if v := n.app.Protocol().Version; v != 4 {
			t.Fatalf("protocol %d after H", v)
		}
		n.refuses(t, "approval of the squatter naming its filing", n.approveOf(2, c.ID, h0), ledger.CodeInvalid, "filed under an id its proposer chose")
		held := n.approveOf(2, c.ID, h0)
		n.blockUpdates([]uint32{0}, n.propose(1, c))
		h1 := n.height()
		if rec, _ := n.app.Proposal(c.ID); rec.Height != h1 || rec.Governance != c.Governance || len(rec.Approvals) != 1 {
			t.Fatalf("the squatter not replaced: %+v", rec)
		}
		n.refuses(t, "the approval naming the squatter's filing, on the new filing", held, ledger.CodeInvalid, "counts only for the filing it names")
		n.blockUpdates([]uint32{0}, n.approveOf(2, c.ID, h1))
		if !n.approvedBy(c.ID, 2) {
			t.Fatal("the approval naming the new filing did not count")
		}
	})
	t.Run("expired and filed again in the block of its expiry", func(t *testing.T) {
		n := newNet4(t, &ledger.NetworkPolicy{ProposalLifetime: "3m"})
		c := byContent(govAdd(t, "", 82))
		n.blockUpdates([]uint32{0}, n.propose(0, c))
		f := n.height()
		held := n.approveOf(2, c.ID, f)
		rec, _ := n.app.Proposal(c.ID)
		for blockTime(n.height() + 1).Before(rec.Expires) {
			n.block()
		}
		exp := n.height() + 1 // the first block in which it has expired
		r := n.block(held, n.propose(1, c), held, n.approveOf(3, c.ID, exp))
		for i, want := range []struct {
			code uint32
			log  string
		}{{ledger.CodeInvalid, "expired"}, {0, ""}, {ledger.CodeInvalid, "counts only for the filing it names"}, {0, ""}} {
			if r[i].Code != want.code || !strings.Contains(r[i].Log, want.log) {
				t.Fatalf("tx %d: %d (%s), want %d with %q", i, r[i].Code, r[i].Log, want.code, want.log)
			}
		}
		if rec, _ := n.app.Proposal(c.ID); rec.Height != exp || n.approvedBy(c.ID, 2) || !n.approvedBy(c.ID, 3) {
			t.Fatalf("after the block of the expiry: %+v", rec)
		}
	})
	t.Run("carried in its block, filed again in the next", func(t *testing.T) {
		n := newNet4(t, nil)
		x := byContent(govAdd(t, "", 83))
		removeX := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: x.Governance})
		h := n.height() + 1
		held := n.approveOf(3, x.ID, h) // signed for the first filing, not submitted
		n.blockUpdates([]uint32{0, 0, 0, 0, 0, 0, 0}, n.propose(0, x), n.approveOf(1, x.ID, h), n.approveOf(2, x.ID, h),
			n.propose(0, removeX), n.approveOf(1, removeX.ID, h), n.approveOf(2, removeX.ID, h), n.approveOf(3, removeX.ID, h))
		n.blockUpdates([]uint32{0}, n.propose(1, x))
		n.refuses(t, "the held approval on the filing of the next block", held, ledger.CodeInvalid, "counts only for the filing it names")
		if rec, _ := n.app.Proposal(x.ID); rec.Status != ledger.ProposalOpen || rec.Height != h+1 || n.approvedBy(x.ID, 3) {
			t.Fatalf("the held approval counted: %+v", rec)
		}
	})
}

// reopen closes n's App and opens its directory again: empty decode and
// verdict caches, the protocol and the upgrade read from the state.
func (n *netHarness) reopen(t *testing.T) {
	t.Helper()
	n.app.Close()
	a, err := New(Config{Dir: n.dir, SnapshotInterval: 1})
	if err != nil {
		t.Fatal(err)
	}
	n.app = a
	t.Cleanup(func() { a.Close() })
}

// TestRedteam4RestartAcrossTheUpgrade: the same approval bytes checked
// by the rules of protocol 3 (malformed: the decode is cached, the
// verdict on the signature never taken) and then executed at 4 on that
// node, on a node restarted before and after the last block of protocol
// 3 (empty caches; the protocol of the next block read back from the
// state) and on a node started from a snapshot of that block (state
// sync): the same verdicts in CheckTx and the block, the same app hash. And protocol 3's approval naming no filing is refused at 4
// on both.
func TestRedteam4RestartAcrossTheUpgrade(t *testing.T) {
	warm, cold := newNet3(t, nil), netNode(t, 3, Config{SnapshotInterval: 1}, &Genesis{})
	ls := lockstep{warm, cold}
	H := warm.height() + 1 + ledger.MinScheduleLead
	up := byContent(upgradeProposal("", 4, H))
	ls.block(t, warm.propose(0, up), warm.approve(1, up.ID), warm.approve(2, up.ID))
	p := byContent(govAdd(t, "", 84))
	ls.block(t, warm.propose(0, p))
	filed := warm.height()
	for warm.height() < H-2 {
		ls.block(t)
	}
	named := warm.approveOf(3, p.ID, filed)
	plain := warm.approve(1, p.ID)
	check := func(when string, want map[string]uint32) {
		t.Helper()
		for i, n := range ls {
			for name, raw := range map[string][]byte{"named": named, "plain": plain} {
				if r := n.checkTx(raw); r.Code != want[name] {
					t.Fatalf("%s, node %d, %s approval: CheckTx %d (%s), want %d", when, i, name, r.Code, r.Log, want[name])
				}
			}
		}
	}
	check("for block H-1 (protocol 3)", map[string]uint32{"named": ledger.CodeMalformed, "plain": 0})
	cold.reopen(t)
	check("for block H-1, cold node restarted", map[string]uint32{"named": ledger.CodeMalformed, "plain": 0})
	if r := ls.block(t, named); r[0].Code != ledger.CodeMalformed {
		t.Fatalf("block H-1: %d (%s)", r[0].Code, r[0].Log)
	}
	// A node started from a snapshot of H-1 (state sync).
	snapshotNow(t, cold.harness)
	synced, res := restoreInto(t, cold.harness, nil, cold.hash())
	if res != abci.ResponseApplySnapshotChunk_ACCEPT {
		t.Fatalf("restore: %v", res)
	}
	check("for block H (protocol 4)", map[string]uint32{"named": 0, "plain": ledger.CodeInvalid})
	cold.reopen(t)
	check("for block H, cold node restarted", map[string]uint32{"named": 0, "plain": ledger.CodeInvalid})
	for name, want := range map[string]uint32{"named": 0, "plain": ledger.CodeInvalid} {
		raw := map[string][]byte{"named": named, "plain": plain}[name]
		if r, err := synced.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: raw}); err != nil || r.Code != want {
			t.Fatalf("for block H, node restored from a snapshot, %s approval: %+v, %v, want %d", name, r, err, want)
		}
	}
	req := &abci.RequestFinalizeBlock{Height: H, Time: blockTime(H).Add(cold.skew), Txs: [][]byte{plain, named}}
	got, err := synced.FinalizeBlock(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	r := ls.block(t, plain, named)
	if r[0].Code != ledger.CodeInvalid || r[1].Code != 0 || warm.app.Protocol().Version != 4 || cold.app.Protocol().Version != 4 {
		t.Fatalf("block H: %d (%s), %d (%s)", r[0].Code, r[0].Log, r[1].Code, r[1].Log)
	}
	if got.TxResults[0].Code != r[0].Code || got.TxResults[1].Code != r[1].Code || !bytes.Equal(got.AppHash, warm.hash()) {
		t.Fatalf("block H on the node restored from a snapshot: %+v, app hash equal %v", got.TxResults, bytes.Equal(got.AppHash, warm.hash()))
	}
	if !warm.approvedBy(p.ID, 3) || warm.approvedBy(p.ID, 1) || !cold.approvedBy(p.ID, 3) {
		t.Fatal("the approvals at H")
	}
}

// TestRedteam4PredictedFiling: the limit 0013 keeps for approvals signed
// without --genesis. A node that showed a key a false, future filing
// height G (and received the signed approval, so may hold it) gets that
// approval counted only for a filing of the same content in exactly block
// G: in any other block it is refused. The height of a filing is known
// before the filing exists: the limit holds at protocol 4 (this test),
// and protocol 5 closes it by naming a filing by its block's hash too
// (TestProtocol5PredictedFiling; docs/design/0021, "Protocol 5").
func TestRedteam4PredictedFiling(t *testing.T) {
	n := newNet4(t, nil)
	x := byContent(govAdd(t, "", 85))
	removeX := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: x.Governance})
	n.blockUpdates([]uint32{0}, n.propose(0, x))
	n.blockUpdates([]uint32{0, 0}, n.approveOpen(1, x.ID), n.approveOpen(2, x.ID))
	G := n.height() + 20
	predicted := n.approveOf(3, x.ID, G) // signed for "filing G", shown by a lying node
	n.carry(t, 0, removeX)
	n.blockUpdates([]uint32{0}, n.propose(1, x)) // filed before G
	n.refuses(t, "on a filing in another block", predicted, ledger.CodeInvalid, "counts only for the filing it names")
	n.blockUpdates([]uint32{0, 0}, n.approveOpen(0, x.ID), n.approveOpen(2, x.ID))
	n.carry(t, 0, removeX)
	if n.height() >= G-1 {
		t.Fatalf("at height %d, G is %d", n.height(), G)
	}
	for n.height() < G-1 {
		n.block()
	}
	// Block G: the attacker's filing, then the held approval.
	r := n.block(n.propose(0, x), predicted)
	if r[0].Code != 0 || r[1].Code != 0 || !n.approvedBy(x.ID, 3) {
		t.Fatalf("block G: %d (%s), %d (%s)", r[0].Code, r[0].Log, r[1].Code, r[1].Log)
	}
}
