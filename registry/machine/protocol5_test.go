package machine

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Protocol 5 (docs/design/0021, "Protocol 5"): a filing made under 5 is
// also named by the hash of its block, which no one knows before the
// block exists, and an approval of it must carry that hash. Each test
// plays the attacker's move at protocol 5, where it is refused;
// TestRedteam4PredictedFiling and TestProtocol4GovernanceGolden show
// protocol 4 unchanged.

// newNet5 is newNetHarness on a chain whose genesis starts at protocol 5
// (what registryd init and testnet write).
func newNet5(tb testing.TB, policy *ledger.NetworkPolicy) *netHarness {
	tb.Helper()
	return newNetHarnessWith(tb, policy, &harness{genesisProtocol: 5})
}

// approveOfBlock is key i's approval of proposal id naming the filing of
// height filing in the block of hash block (hex).
func (n *netHarness) approveOfBlock(i int, id string, filing int64, block string) []byte {
	return n.govTx(i, n.must(tx.NewNetworkApprovalOfBlock(n.gov(i), id, filing, block)))
}

// filingOf is the committed record's filing of proposal id: its height
// and its block's hash.
func (n *netHarness) filingOf(id string) (int64, string) {
	n.tb.Helper()
	rec, err := n.app.Proposal(id)
	if err != nil {
		n.tb.Fatal(err)
	}
	return rec.Height, rec.FilingBlock
}

// fileNamed commits a block of key by's filing of p and returns the
// filing's height and the hash of its block, checking that the record
// stores exactly the hash the block carried.
func (n *netHarness) fileNamed(t *testing.T, by int, p tx.Proposal) (int64, string) {
	t.Helper()
	raw := n.propose(by, p)
	want := hex.EncodeToString(n.nextBlockHash(raw))
	n.blockUpdates([]uint32{0}, raw)
	f, b := n.filingOf(p.ID)
	if f != n.height() || b != want {
		t.Fatalf("the filing of %s: height %d block %q, want %d %q", p.ID, f, b, n.height(), want)
	}
	return f, b
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// TestProtocol5ApprovalNamesTheFilingBlock: at protocol 5 an approval of
// a filing made under 5 counts only if it names the filing's height and
// the hash of its block. Naming none (the height only, as protocol 4
// did), the hash of the block before, of another block at the same
// height (a fork the approver was shown), of the block after, or the
// right hash with another height: refused in CheckTx and FinalizeBlock
// with the filing to sign, nothing recorded. The right name counts.
func TestProtocol5ApprovalNamesTheFilingBlock(t *testing.T) {
	n := newNet5(t, nil)
	p := byContent(govAdd(t, "", 90))
	prevState, prevHeight := n.hash(), n.height()
	f, fb := n.fileNamed(t, 1, p)
	fork := hexOf(testBlockHash(f, blockTime(f), prevState, [][]byte{n.propose(3, p)}))
	before := hexOf(testBlockHash(prevHeight, blockTime(prevHeight), nil, nil))
	sign := fmt.Sprintf("sign it again naming filing %d and filingBlock %s", f, fb)
	for _, c := range []refusal{
		{"names the height only", n.approveOf(2, p.ID, f), ledger.CodeInvalid,
			fmt.Sprintf("names none: proposal %s was filed at height %d in block %s", p.ID, f, fb)},
		{"the block before's hash", n.approveOfBlock(2, p.ID, f, before), ledger.CodeInvalid, sign},
		{"another block at the same height (a fork)", n.approveOfBlock(2, p.ID, f, fork), ledger.CodeInvalid, sign},
		{"a block after", n.approveOfBlock(2, p.ID, f, hexOf(testBlockHash(f+1, blockTime(f+1), n.hash(), nil))), ledger.CodeInvalid, sign},
		{"zeros", n.approveOfBlock(2, p.ID, f, strings.Repeat("0", 64)), ledger.CodeInvalid, sign},
		{"the right hash, the height before", n.approveOfBlock(2, p.ID, f-1, fb), ledger.CodeInvalid, "counts only for the filing it names"},
		{"the right hash, the height after", n.approveOfBlock(2, p.ID, f+1, fb), ledger.CodeInvalid, "counts only for the filing it names"},
	} {
		n.refuses(t, c.name, c.raw, c.code, c.want)
		if n.approvedBy(p.ID, 2) {
			t.Fatalf("%s: counted", c.name)
		}
	}
	good := n.approveOfBlock(2, p.ID, f, fb)
	if r := n.checkTx(good); r.Code != 0 {
		t.Fatalf("CheckTx of the approval naming the filing: %d (%s)", r.Code, r.Log)
	}
	n.blockUpdates([]uint32{0}, good)
	if !n.approvedBy(p.ID, 2) {
		t.Fatal("the approval naming the filing did not count")
	}
}

// TestProtocol5PredictedFiling: TestRedteam4PredictedFiling's attack at
// protocol 5. A node showed a key a false, future filing height G (and
// whatever block hash it liked, or none) and holds the signed approvals;
// the content is filed in exactly block G and the held approvals are put
// in that block after the filing (a Byzantine proposer) and offered again
// after it: each is refused, for no one could name block G's hash before
// G existed. An approval signed after the filing, naming it, counts.
func TestProtocol5PredictedFiling(t *testing.T) {
	n := newNet5(t, nil)
	x := byContent(govAdd(t, "", 85))
	removeX := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: x.Governance})
	_, first := n.fileNamed(t, 0, x)
	n.blockUpdates([]uint32{0, 0}, n.approveOpen(1, x.ID), n.approveOpen(2, x.ID))
	G := n.height() + 20
	predicted := []refusal{
		{"height G only (shown as a filing made before protocol 5)", n.approveOf(3, x.ID, G), ledger.CodeInvalid, "names none"},
		{"height G and the hash of the content's earlier filing block", n.approveOfBlock(3, x.ID, G, first), ledger.CodeInvalid, "an approval counts only for the filing it names"},
		{"height G and the current tip's next-block hash", n.approveOfBlock(3, x.ID, G, hexOf(n.nextBlockHash())), ledger.CodeInvalid, "an approval counts only for the filing it names"},
		{"height G and zeros", n.approveOfBlock(3, x.ID, G, strings.Repeat("0", 64)), ledger.CodeInvalid, "an approval counts only for the filing it names"},
	}
	n.carry(t, 0, removeX)
	for n.height() < G-1 {
		n.block()
	}
	// Block G: the attacker's filing, then the held approvals.
	txs := [][]byte{n.propose(0, x)}
	for _, c := range predicted {
		txs = append(txs, c.raw)
	}
	r := n.block(txs...)
	if r[0].Code != 0 {
		t.Fatalf("block G: the filing %d (%s)", r[0].Code, r[0].Log)
	}
	for i, c := range predicted {
		if got := r[i+1]; got.Code != c.code || !strings.Contains(got.Log, c.want) {
			t.Errorf("block G, %s: %d (%s), want %d with %q", c.name, got.Code, got.Log, c.code, c.want)
		}
	}
	if f, _ := n.filingOf(x.ID); f != G || n.approvedBy(x.ID, 3) {
		t.Fatalf("after block G: filed at %d, key 3's approval counted %v", f, n.approvedBy(x.ID, 3))
	}
	for _, c := range predicted {
		n.refuses(t, "after G: "+c.name, c.raw, c.code, c.want)
	}
	n.blockUpdates([]uint32{0}, n.approveOpen(3, x.ID))
	if !n.approvedBy(x.ID, 3) {
		t.Fatal("key 3's approval signed after the filing did not count")
	}
}

// TestProtocol5CopiedName: the name of an earlier filing of the same
// content (its height and block hash, which the approver may have seen
// and signed) does not name a later filing: after the earlier one
// expired, after it was carried (and the change undone), after an
// upgrade it scheduled was cancelled. The earlier block's hash with the
// new height is refused, the earlier name whole is refused, the new name
// counts.
func TestProtocol5CopiedName(t *testing.T) {
	check := func(t *testing.T, n *netHarness, id string, oldF int64, oldB string, by int) {
		t.Helper()
		f, b := n.filingOf(id)
		if f == oldF || b == oldB {
			t.Fatalf("the filing again shares a name with the earlier one: %d %s, %d %s", f, b, oldF, oldB)
		}
		n.refuses(t, "the earlier block's hash with the new height", n.approveOfBlock(by, id, f, oldB), ledger.CodeInvalid,
			fmt.Sprintf("and the open filing was made in block %s", b))
		n.refuses(t, "the earlier name whole", n.approveOfBlock(by, id, oldF, oldB), ledger.CodeInvalid, "counts only for the filing it names")
		if n.approvedBy(id, by) {
			t.Fatal("a copied name counted")
		}
		n.blockUpdates([]uint32{0}, n.approveOfBlock(by, id, f, b))
		if !n.approvedBy(id, by) {
			t.Fatal("the new name did not count")
		}
	}
	t.Run("expired", func(t *testing.T) {
		n := newNet5(t, &ledger.NetworkPolicy{ProposalLifetime: "5m"})
		p := byContent(govAdd(t, "", 91))
		oldF, oldB := n.fileNamed(t, 1, p)
		rec, _ := n.app.Proposal(p.ID)
		for !blockTime(n.height() + 1).After(rec.Expires) {
			n.block()
		}
		n.fileNamed(t, 0, p)
		check(t, n, p.ID, oldF, oldB, 2)
	})
	t.Run("carried, undone, filed again", func(t *testing.T) {
		n := newNet5(t, nil)
		x := byContent(govAdd(t, "", 92))
		removeX := byContent(tx.Proposal{Action: tx.ActionGovernanceRemove, Governance: x.Governance})
		oldF, oldB := n.fileNamed(t, 0, x)
		n.blockUpdates([]uint32{0, 0}, n.approveOpen(1, x.ID), n.approveOpen(2, x.ID))
		n.carry(t, 0, removeX)
		n.fileNamed(t, 0, x)
		check(t, n, x.ID, oldF, oldB, 3)
	})
	t.Run("an upgrade scheduled, cancelled, scheduled again", func(t *testing.T) {
		n := newNet5(t, nil)
		H := n.height() + 50 + ledger.MinScheduleLead
		up := byContent(upgradeProposal("", 999, H))
		oldF, oldB := n.fileNamed(t, 0, up)
		n.blockUpdates([]uint32{0, 0}, n.approveOpen(1, up.ID), n.approveOpen(2, up.ID))
		n.carry(t, 0, byContent(upgradeCancel("", 999, H)))
		n.fileNamed(t, 0, up)
		check(t, n, up.ID, oldF, oldB, 3)
	})
}

// TestProtocol5OneFilingABlock: one content is still filed at most once
// a block at 5 (two filings in one block would share height and hash).
func TestProtocol5OneFilingABlock(t *testing.T) {
	n := newNet5(t, nil)
	x := byContent(govAdd(t, "", 93))
	h := n.height() + 1
	b := hexOf(n.nextBlockHash()) // (not the block's: its txs differ; only the refusal matters)
	r := n.block(n.propose(0, x), n.approveOf(1, x.ID, h), n.approveOfBlock(2, x.ID, h, b), n.propose(1, x))
	if r[0].Code != 0 || r[1].Code != ledger.CodeInvalid || r[2].Code != ledger.CodeInvalid || r[3].Code != ledger.CodeExists ||
		!strings.Contains(r[3].Log, "filed in this block already") {
		t.Fatalf("block: %d, %d (%s), %d (%s), %d (%s)", r[0].Code, r[1].Code, r[1].Log, r[2].Code, r[2].Log, r[3].Code, r[3].Log)
	}
}

// blockSpelling is one way to write a "filingBlock" member (or something
// that might be read as one) into an approval of the filing at height F
// whose block hash is B.
type blockSpelling struct {
	name string
	// member is the text after "filing":F, in the payload ("" none), with
	// B standing for the hash and F for the height.
	member string
	// counts: at protocol 5 the approval is the canonical naming of the
	// open filing (a JSON text every reader reads as the member
	// filingBlock with the string B) and counts; every other spelling is
	// refused as malformed. Below 5 every one is refused as malformed.
	counts bool
}

// blockSpellings: the values, names and places of the member an attacker
// (or a sloppy client) might write. The release of protocol 4 refused
// each with tx.ErrMalformed (an unknown member), so at 4 each must be
// refused with CodeMalformed. Escapes in the member's name and space
// around its value are the same JSON text to every reader (as for
// filing, TestRedteam4FilingSpellings); the value has one spelling.
func blockSpellings() []blockSpelling {
	return []blockSpelling{
		{"canonical", `,"filingBlock":"B"`, true},
		{"whitespace around the value", `,"filingBlock" :  "B" `, true},
		{"name with a unicode escape", `,"\u0066ilingBlock":"B"`, true},
		{"upper-case hex", `,"filingBlock":"BU"`, false},
		{"one upper-case digit", `,"filingBlock":"B1"`, false},
		{"short (63 digits)", `,"filingBlock":"BS"`, false},
		{"long (65 digits)", `,"filingBlock":"B0"`, false},
		{"twice as long", `,"filingBlock":"BB"`, false},
		{"empty string", `,"filingBlock":""`, false},
		{"0x prefix", `,"filingBlock":"0xB"`, false},
		{"non-hex digit", `,"filingBlock":"BG"`, false},
		{"space inside", `,"filingBlock":" B"`, false},
		{"escaped digit in the value", `,"filingBlock":"BE"`, false},
		{"base64 of the hash", `,"filingBlock":"B64"`, false},
		{"null", `,"filingBlock":null`, false},
		{"number", `,"filingBlock":12345`, false},
		{"true", `,"filingBlock":true`, false},
		{"array", `,"filingBlock":["B"]`, false},
		{"object", `,"filingBlock":{"hash":"B"}`, false},
		{"twice, same value", `,"filingBlock":"B","filingBlock":"B"`, false},
		{"twice, second escaped", `,"filingBlock":"B","\u0066ilingBlock":"B"`, false},
		{"capital F", `,"FilingBlock":"B"`, false},
		{"lower-case b", `,"filingblock":"B"`, false},
		{"snake case", `,"filing_block":"B"`, false},
		{"escaped capital", `,"\u0046ilingBlock":"B"`, false},
		{"trailing NUL in the name", `,"filingBlock\u0000":"B"`, false},
		{"without filing", `-,"filingBlock":"B"`, false},
		{"on a propose", `propose`, false},
		{"inside the proposal of a propose", `proposal`, false},
	}
}

// spellingPayload writes s's payload for key did, nonce, proposal id,
// filing f in block b, and g (a governance key for a propose).
func spellingPayload(s blockSpelling, did, nonce, id string, f int64, b, g string) string {
	raw, err := hex.DecodeString(b)
	if err != nil {
		panic(err)
	}
	val := map[string]string{
		"BU": strings.ToUpper(b), "B1": strings.ToUpper(b[:1]) + b[1:], "BS": b[:63], "B0": b + "0", "BB": b + b,
		"BG": b[:63] + "g", "BE": fmt.Sprintf(`\u%04x`, b[0]) + b[1:], "B64": b64(raw),
	}
	member := s.member
	for k, v := range val {
		member = strings.ReplaceAll(member, `"`+k+`"`, `"`+v+`"`)
	}
	member = strings.ReplaceAll(member, `"B"`, `"`+b+`"`)
	member = strings.ReplaceAll(member, `" B"`, `" `+b+`"`)
	member = strings.ReplaceAll(member, `"0xB"`, `"0x`+b+`"`)
	pid := tx.ProposalID(&tx.Proposal{Action: tx.ActionGovernanceAdd, Governance: g})
	switch {
	case s.member == "propose":
		return fmt.Sprintf(`{"type":"network.propose","did":%q,"nonce":%q,"filing":%d,"filingBlock":%q,"proposal":{"id":%q,"action":"governance.add","governance":%q}}`, did, nonce, f, b, pid, g)
	case s.member == "proposal":
		return fmt.Sprintf(`{"type":"network.propose","did":%q,"nonce":%q,"proposal":{"id":%q,"action":"governance.add","governance":%q,"filingBlock":%q}}`, did, nonce, pid, g, b)
	case strings.HasPrefix(member, "-"):
		return fmt.Sprintf(`{"type":"network.approve","did":%q,"nonce":%q,"proposalId":%q%s}`, did, nonce, id, member[1:])
	}
	return fmt.Sprintf(`{"type":"network.approve","did":%q,"nonce":%q,"proposalId":%q,"filing":%d%s}`, did, nonce, id, f, member)
}

// spellingsBlock is the block hash the spellings name: the record's
// (protocol 5), or, for a filing that has none (protocol 4), a fixed one.
func spellingsBlock(n *netHarness, id string) string {
	if _, b := n.filingOf(id); b != "" {
		return b
	}
	return "7f3a9c01d2e4b5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e"
}

// blockSpellings4Hash is the app hash TestProtocol5FilingBlockSpellings
// reaches at protocol 4, as the release of protocol 4 (ba39832) reached
// it: this test's protocol 4 half run there (spellingsBlock returning its
// fixed hash), every spelling refused with CodeMalformed.
const blockSpellings4Hash = "6881843432c2c3122ab21f2547ea5ff30494a8a288911d180c40c97fe3ee0800"

// TestProtocol5FilingBlockSpellings: every spelling of the filingBlock
// member is refused as malformed at protocol 4 (in CheckTx and
// FinalizeBlock, state unchanged), as the release of protocol 4 refused
// it, with that release's app hash at the end, so a protocol-4 chain
// replays the same results; at protocol 5 only the spellings that read as
// the member with the one spelling of the open filing's block hash count,
// the others are refused as malformed, state unchanged.
func TestProtocol5FilingBlockSpellings(t *testing.T) {
	for _, protocol := range []uint64{4, 5} {
		t.Run(fmt.Sprintf("protocol %d", protocol), func(t *testing.T) {
			n := newNetHarnessWith(t, nil, &harness{genesisProtocol: protocol})
			for i, s := range blockSpellings() {
				p := byContent(govAdd(t, "", byte(100+i)))
				by := []int{0, 1, 3}[i%3] // (the cap of 16 open proposals a key)
				filing := n.must(tx.NewNetworkProposal(n.gov(by), p))
				filing.Nonce = fmt.Sprintf("rt5-filing-%d-%d", protocol, i) // fixed: the app hash is compared below
				n.blockUpdates([]uint32{0}, n.govTx(by, filing))
				f := n.height()
				g := did.KeyDID(testKey(t, byte(160+i)).Public())
				raw := n.rawGovTx(2, spellingPayload(s, n.gov(2), fmt.Sprintf("rt5-%d-%d", protocol, i), p.ID, f, spellingsBlock(n, p.ID), g))
				if protocol < 5 || !s.counts {
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
			if got := fmt.Sprintf("%x", n.hash()); protocol == 4 && got != blockSpellings4Hash {
				t.Fatalf("protocol 4: app hash %s after the spellings, and the release of protocol 4 (ba39832) reached %s: a protocol-4 chain would not replay", got, blockSpellings4Hash)
			}
		})
	}
}

// TestProtocol5UpgradeFourValidators: four Apps in lockstep (same
// blocks, app hashes and codes compared at every block) on a chain of
// protocol 4 that the quorum upgrades to 5 at H. Before H an approval
// carrying filingBlock is malformed (CheckTx for H-1, block H-1); from
// the CheckTx for H on (the mempool's recheck after H-1) it is judged by
// protocol 5: refused for a filing made before 5, which is approved by
// its height alone, and approvals recorded before H keep counting. An
// approval naming by height alone a filing made in block H (signed before
// H for a height still to come) is refused in block H; the filing of
// block H stores H's hash, the same on every node, and an approval naming
// it counts.
func TestProtocol5UpgradeFourValidators(t *testing.T) {
	var ls lockstep
	for range 4 {
		ls = append(ls, newNet4(t, nil))
	}
	n := ls[0]
	H := n.height() + 1 + ledger.MinScheduleLead
	up := byContent(upgradeProposal("", 5, H))
	h := n.height() + 1
	ls.block(t, n.propose(0, up), n.approveOf(1, up.ID, h), n.approveOf(2, up.ID, h))
	p, q := byContent(govAdd(t, "", 94)), byContent(govAdd(t, "", 95))
	ls.block(t, n.propose(1, p))
	f := n.height()
	ls.block(t, n.approveOf(0, p.ID, f)) // recorded at 4: keeps counting
	for n.height() < H-2 {
		ls.block(t)
	}
	withBlock := n.approveOfBlock(2, p.ID, f, strings.Repeat("ab", 32))
	plain := n.approveOf(3, p.ID, f)
	predicted := n.approveOf(2, q.ID, H) // q is filed in block H
	check := func(when string, want map[string]uint32) {
		t.Helper()
		for i, v := range ls {
			for name, raw := range map[string][]byte{"withBlock": withBlock, "plain": plain} {
				if r := v.checkTx(raw); r.Code != want[name] {
					t.Fatalf("%s, node %d, %s: CheckTx %d (%s), want %d", when, i, name, r.Code, r.Log, want[name])
				}
			}
		}
	}
	check("for block H-1 (protocol 4)", map[string]uint32{"withBlock": ledger.CodeMalformed, "plain": 0})
	if r := ls.block(t, withBlock); r[0].Code != ledger.CodeMalformed || n.app.Protocol().Version != 4 {
		t.Fatalf("block H-1: %d (%s), protocol %d", r[0].Code, r[0].Log, n.app.Protocol().Version)
	}
	check("for block H (protocol 5)", map[string]uint32{"withBlock": ledger.CodeInvalid, "plain": 0})
	if r := n.checkTx(withBlock); !strings.Contains(r.Log, "made before protocol 5 and is named by its height alone") {
		t.Fatalf("CheckTx for H: %s", r.Log)
	}
	txs := [][]byte{n.propose(0, q), predicted, withBlock, plain}
	hashH := hexOf(n.nextBlockHash(txs...))
	r := ls.block(t, txs...)
	for i, want := range []uint32{0, ledger.CodeInvalid, ledger.CodeInvalid, 0} {
		if r[i].Code != want {
			t.Fatalf("block H, tx %d: %d (%s), want %d", i, r[i].Code, r[i].Log, want)
		}
	}
	for i, v := range ls {
		if v.app.Protocol().Version != 5 {
			t.Fatalf("node %d at protocol %d after H", i, v.app.Protocol().Version)
		}
		if fq, bq := v.filingOf(q.ID); fq != H || bq != hashH {
			t.Fatalf("node %d: q filed at %d in block %q, want %d %q", i, fq, bq, H, hashH)
		}
		if rec, _ := v.app.Proposal(p.ID); rec.Status != ledger.ProposalExecuted || rec.FilingBlock != "" {
			t.Fatalf("node %d: p (filed at 4, approved at 4 and at H by height) not carried: %+v", i, rec)
		}
	}
	if n.approvedBy(q.ID, 2) {
		t.Fatal("the predicted approval counted")
	}
	ls.block(t, n.approveOpen(2, q.ID))
	if !n.approvedBy(q.ID, 2) {
		t.Fatal("the approval naming q's filing did not count")
	}
}

// TestProtocol5RestartAcrossTheUpgrade: TestRedteam4RestartAcrossTheUpgrade
// for 4 -> 5. The same approval bytes checked by the rules of protocol 4
// (malformed) and then by 5 on a warm node, on a node restarted before
// and after block H-1 (empty caches; the next block's protocol read back
// from the state) and on a node started from a snapshot of H-1 (state
// sync) give the same verdicts; block H (a filing, which stores H's hash)
// and block H+1 (an approval naming it) give the same codes and app
// hashes on all three.
func TestProtocol5RestartAcrossTheUpgrade(t *testing.T) {
	ctx := context.Background()
	warm, cold := newNet4(t, nil), netNode(t, 4, Config{SnapshotInterval: 1}, &Genesis{})
	ls := lockstep{warm, cold}
	H := warm.height() + 1 + ledger.MinScheduleLead
	up := byContent(upgradeProposal("", 5, H))
	h := warm.height() + 1
	ls.block(t, warm.propose(0, up), warm.approveOf(1, up.ID, h), warm.approveOf(2, up.ID, h))
	p, q := byContent(govAdd(t, "", 96)), byContent(govAdd(t, "", 97))
	ls.block(t, warm.propose(0, p))
	filed := warm.height()
	for warm.height() < H-2 {
		ls.block(t)
	}
	named := warm.approveOfBlock(3, p.ID, filed, strings.Repeat("cd", 32))
	plain := warm.approveOf(1, p.ID, filed)
	verdicts := func(when string, a *App, want map[string]uint32) {
		t.Helper()
		for name, raw := range map[string][]byte{"named": named, "plain": plain} {
			r, err := a.CheckTx(ctx, &abci.RequestCheckTx{Tx: raw})
			if err != nil || r.Code != want[name] {
				t.Fatalf("%s, %s approval: %+v, %v, want %d", when, name, r, err, want[name])
			}
		}
	}
	at4 := map[string]uint32{"named": ledger.CodeMalformed, "plain": 0}
	at5 := map[string]uint32{"named": ledger.CodeInvalid, "plain": 0}
	verdicts("for H-1, warm", warm.app, at4)
	verdicts("for H-1, cold", cold.app, at4)
	cold.reopen(t)
	verdicts("for H-1, cold restarted", cold.app, at4)
	if r := ls.block(t, named); r[0].Code != ledger.CodeMalformed {
		t.Fatalf("block H-1: %d (%s)", r[0].Code, r[0].Log)
	}
	snapshotNow(t, cold.harness)
	if cold.height() != H-1 {
		t.Fatalf("the snapshot is of %d, want H-1 = %d", cold.height(), H-1)
	}
	synced, res := restoreInto(t, cold.harness, nil, cold.hash())
	if res != abci.ResponseApplySnapshotChunk_ACCEPT {
		t.Fatalf("restore: %v", res)
	}
	verdicts("for H, warm", warm.app, at5)
	verdicts("for H, state-synced", synced, at5)
	cold.reopen(t)
	verdicts("for H, cold restarted", cold.app, at5)
	// Block H, then H+1, on the synced node as on the others.
	for _, txs := range [][][]byte{{plain, named, warm.propose(1, q)}, nil} {
		if txs == nil {
			fq, bq := warm.filingOf(q.ID)
			txs = [][]byte{warm.approveOfBlock(2, q.ID, fq, bq)}
		}
		height := warm.height() + 1
		req := &abci.RequestFinalizeBlock{Height: height, Time: blockTime(height), Txs: txs, Hash: warm.nextBlockHash(txs...)}
		got, err := synced.FinalizeBlock(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := synced.Commit(ctx, &abci.RequestCommit{}); err != nil {
			t.Fatal(err)
		}
		r := ls.block(t, txs...)
		for i := range r {
			if got.TxResults[i].Code != r[i].Code {
				t.Fatalf("block %d, tx %d: %d on the synced node, %d (%s) on the others", height, i, got.TxResults[i].Code, r[i].Code, r[i].Log)
			}
		}
		if !bytes.Equal(got.AppHash, warm.hash()) {
			t.Fatalf("block %d: the synced node's app hash differs", height)
		}
	}
	if !warm.approvedBy(p.ID, 1) || warm.approvedBy(p.ID, 3) || !warm.approvedBy(q.ID, 2) || warm.app.Protocol().Version != 5 {
		t.Fatal("the approvals at H and H+1")
	}
	if _, b := cold.filingOf(q.ID); b == "" {
		t.Fatal("q's filing has no block hash")
	}
}

// TestProtocol5EmptyBlockHash: from protocol 5 on a block without its
// 32-byte hash is refused before anything of it is written (every filing
// in it would be named alike); below 5, and at the block that would
// upgrade a release to a protocol it does not know, the hash is not
// asked for.
func TestProtocol5EmptyBlockHash(t *testing.T) {
	ctx := context.Background()
	n := newNet5(t, nil)
	before := n.hash()
	next := n.height() + 1
	for _, hash := range [][]byte{nil, make([]byte, 31), make([]byte, 33)} {
		_, err := n.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: next, Time: blockTime(next), Hash: hash, Txs: [][]byte{n.propose(0, byContent(govAdd(t, "", 98)))}})
		if err == nil || !strings.Contains(err.Error(), "names the filings made in it") {
			t.Fatalf("FinalizeBlock with a hash of %d bytes: %v", len(hash), err)
		}
	}
	if !bytes.Equal(n.hash(), before) || n.height() != next-1 {
		t.Fatal("a refused block changed the state")
	}
	n.block() // the same App goes on with the block's hash
	if n.height() != next {
		t.Fatalf("height %d after the refusals, want %d", n.height(), next)
	}
	n4 := newNet4(t, nil)
	next = n4.height() + 1
	if _, err := n4.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: next, Time: blockTime(next)}); err != nil {
		t.Fatalf("protocol 4, no hash: %v", err)
	}
}

// TestProtocol5FromProtocol2: a chain at protocol 2 schedules 5 directly
// and gets protocols 3's and 4's rules with it at H: a chosen id's
// proposal is refused, an approval naming no filing is refused, a filing
// of protocol 2 under its content's id is approved by its height alone
// (no block hash: it was made before 5, and one naming a block is
// refused), and a filing made at H is named by H's hash.
func TestProtocol5FromProtocol2(t *testing.T) {
	n := newNetHarness(t, nil)
	H := n.height() + 10 + ledger.MinScheduleLead
	n.carry(t, 0, byContent(upgradeProposal("", 5, H)))
	content := byContent(govAdd(t, "", 53))
	n.blockUpdates([]uint32{0}, n.propose(1, content))
	filed := n.height()
	for n.height() < H-1 {
		n.block()
	}
	later := byContent(govAdd(t, "", 54))
	txs := [][]byte{n.propose(2, govAdd(t, "chosen", 55)), n.approve(0, content.ID), n.approveOfBlock(0, content.ID, filed, strings.Repeat("ab", 32)),
		n.approveOf(0, content.ID, filed), n.propose(2, later)}
	hashH := hexOf(n.nextBlockHash(txs...))
	r := n.block(txs...)
	if n.app.Protocol().Version != 5 {
		t.Fatalf("protocol %d at H", n.app.Protocol().Version)
	}
	for i, want := range []struct {
		code uint32
		log  string
	}{
		{ledger.CodeInvalid, "from protocol 3 on a proposal's id is the hash of its content"},
		{ledger.CodeInvalid, "names none"},
		{ledger.CodeInvalid, "made before protocol 5 and is named by its height alone"},
		{0, ""},
		{0, ""},
	} {
		if r[i].Code != want.code || !strings.Contains(r[i].Log, want.log) {
			t.Fatalf("tx %d at H: %d (%s), want %d with %q", i, r[i].Code, r[i].Log, want.code, want.log)
		}
	}
	if f, b := n.filingOf(later.ID); f != H || b != hashH {
		t.Fatalf("the filing at H: %d %q, want %d %q", f, b, H, hashH)
	}
	if !n.approvedBy(content.ID, 0) {
		t.Fatal("the approval of protocol 2's filing by its height did not count")
	}
}
