package machine

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// netHarness is a chain with four governance keys and four validators
// (power 10), as `registryd testnet -n 4` writes it.
type netHarness struct {
	*harness
	govs []*key.PrivateKey
}

func consensusKey(b byte) []byte {
	s := sha256.Sum256([]byte{'v', b})
	return s[:] // any 32 bytes are an Ed25519 public key for the ledger's purposes
}

func newNetHarness(tb testing.TB, policy *ledger.NetworkPolicy) *netHarness {
	tb.Helper()
	return newNetHarnessWith(tb, policy, &harness{})
}

// newNetHarnessWith is newNetHarness on h (whose maxProtocol and logger
// open uses; the rest is filled in).
func newNetHarnessWith(tb testing.TB, policy *ledger.NetworkPolicy, h *harness) *netHarness {
	tb.Helper()
	return newNetHarnessGenesis(tb, &Genesis{Network: policy}, h)
}

// newNetHarnessGenesis opens h in a new folder and starts the four-key
// network of g (its governance filled in) on it.
func newNetHarnessGenesis(tb testing.TB, g *Genesis, h *harness) *netHarness {
	tb.Helper()
	h.tb, h.dir, h.gov = tb, tb.TempDir(), testKey(tb, 200)
	h.govDID = did.KeyDID(h.gov.Public())
	h.open()
	return initNetwork(tb, h, g)
}

// initNetwork starts on h's open App (governance key h.gov) a chain of g
// with four governance keys (h.gov and keys 201-203) and four validators
// of power 10, and commits its first block.
func initNetwork(tb testing.TB, h *harness, g *Genesis) *netHarness {
	tb.Helper()
	n := &netHarness{harness: h, govs: []*key.PrivateKey{h.gov, testKey(tb, 201), testKey(tb, 202), testKey(tb, 203)}}
	for _, k := range n.govs {
		g.Governance = append(g.Governance, did.KeyDID(k.Public()))
	}
	raw, err := g.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	var vals []abci.ValidatorUpdate
	for i := byte(0); i < 4; i++ {
		vals = append(vals, abci.ValidatorUpdate{PubKey: cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: consensusKey(i)}}, Power: 10})
	}
	req := &abci.RequestInitChain{AppStateBytes: raw, InitialHeight: 1, Time: t0, Validators: vals}
	if h.genesisProtocol != 0 {
		req.ConsensusParams = &cmtproto.ConsensusParams{Version: &cmtproto.VersionParams{App: h.genesisProtocol}}
	}
	if _, err := h.app.InitChain(context.Background(), req); err != nil {
		tb.Fatal(err)
	}
	h.block() // genesis state is committed with the first block
	return n
}

func (n *netHarness) govTx(i int, p *tx.Payload) []byte {
	n.tb.Helper()
	k := n.govs[i]
	d := did.KeyDID(k.Public())
	if p.DID != d {
		n.tb.Fatalf("payload DID %s, signer %s", p.DID, d)
	}
	return n.sign(p, k, d+"#"+k.Public().Multikey())
}

func (n *netHarness) gov(i int) string { return did.KeyDID(n.govs[i].Public()) }

func (n *netHarness) propose(i int, p tx.Proposal) []byte {
	return n.govTx(i, n.must(tx.NewNetworkProposal(n.gov(i), p)))
}

func (n *netHarness) approve(i int, id string) []byte {
	return n.govTx(i, n.must(tx.NewNetworkApproval(n.gov(i), id)))
}

// refusal is a transaction a table of refuses cases expects refused with
// code and a log containing want.
type refusal struct {
	name string
	raw  []byte
	code uint32
	want string
}

// outsiderPropose is p proposed by a did:key that does not govern.
func (n *netHarness) outsiderPropose(p tx.Proposal) []byte {
	k := testKey(n.tb, 99)
	d := did.KeyDID(k.Public())
	return n.sign(n.must(tx.NewNetworkProposal(d, p)), k, d+"#"+k.Public().Multikey())
}

// refuses runs raw as subtest name: CheckTx and FinalizeBlock must both
// refuse it with code and a log containing want, and the refusal must
// leave the state unchanged.
func (n *netHarness) refuses(t *testing.T, name string, raw []byte, code uint32, want string) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		if r := n.checkTx(raw); r.Code != code || !strings.Contains(r.Log, want) {
			t.Fatalf("CheckTx: code %d (%s), want %d with %q", r.Code, r.Log, code, want)
		}
		before := n.hash()
		if res := n.block(raw); res[0].Code != code || !strings.Contains(res[0].Log, want) {
			t.Fatalf("FinalizeBlock: code %d (%s), want %d with %q", res[0].Code, res[0].Log, code, want)
		}
		if got := n.hash(); !sameBytes(got, before) {
			t.Fatal("a refused proposal changed the state")
		}
	})
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// blockUpdates commits txs, requires the codes given (0 = accepted) and
// returns the block's validator updates.
func (n *netHarness) blockUpdates(codes []uint32, txs ...[]byte) []abci.ValidatorUpdate {
	n.tb.Helper()
	resp := n.finalize(txs...)
	n.commit()
	for i, r := range resp.TxResults {
		if r.Code != codes[i] {
			n.tb.Fatalf("tx %d: code %d (%s), want %d", i, r.Code, r.Log, codes[i])
		}
	}
	return resp.ValidatorUpdates
}

func (n *netHarness) activeValidators() map[string]int64 {
	n.tb.Helper()
	vals, err := n.app.Validators()
	if err != nil {
		n.tb.Fatal(err)
	}
	out := map[string]int64{}
	for _, v := range vals {
		if v.Power > 0 {
			out[v.Address] = v.Power
		}
	}
	return out
}

func TestValidatorJoinsWithQuorum(t *testing.T) {
	n := newNetHarness(t, nil)
	if got := len(n.activeValidators()); got != 4 {
		t.Fatalf("genesis validators in state: %d, want 4", got)
	}
	org := n.register(7)
	newKey := consensusKey(9)
	addr := ledger.ValidatorAddress(newKey)
	add := tx.Proposal{ID: "join-st-marys", Action: tx.ActionValidatorAdd,
		Validator: &tx.ProposedValidator{PubKey: b64(newKey), Power: 10, Org: org.did, Name: "st-marys"}}

	// 3 of 4 governance keys are needed (ceil(4 x 2/3)).
	if ups := n.blockUpdates([]uint32{0}, n.propose(0, add)); len(ups) != 0 {
		t.Fatalf("a proposal with one approval changed the set: %v", ups)
	}
	if ups := n.blockUpdates([]uint32{0}, n.approve(1, add.ID)); len(ups) != 0 {
		t.Fatalf("two approvals of four changed the set: %v", ups)
	}
	if r := n.checkTx(n.approve(1, add.ID)); r.Code != ledger.CodeExists {
		t.Fatalf("a second approval by the same key: code %d (%s), want exists", r.Code, r.Log)
	}
	ups := n.blockUpdates([]uint32{0}, n.approve(2, add.ID))
	if len(ups) != 1 || ups[0].Power != 10 || string(ups[0].PubKey.GetEd25519()) != string(newKey) {
		t.Fatalf("the third approval's block updates: %v, want the new validator at power 10", ups)
	}
	if p := n.activeValidators()[addr]; p != 10 {
		t.Fatalf("state has the new validator at power %d", p)
	}
	prop, err := n.app.Proposal(add.ID)
	if err != nil || prop.Status != ledger.ProposalExecuted || prop.Executed != n.height() || len(prop.Approvals) != 3 {
		t.Fatalf("proposal after carrying: %+v, %v", prop, err)
	}
	if r := n.checkTx(n.approve(3, add.ID)); r.Code != ledger.CodeExists {
		t.Fatalf("approving a carried proposal: code %d, want exists", r.Code)
	}
	vals, _ := n.app.Validators()
	var rec *ledger.ValidatorRecord
	for i := range vals {
		if vals[i].Address == addr {
			rec = &vals[i]
		}
	}
	if rec == nil || rec.Org != org.did || rec.Name != "st-marys" || len(rec.History) != 1 || rec.History[0].Proposal != add.ID {
		t.Fatalf("validator record: %+v", rec)
	}

	// Power change, then removal: both carried by three approvals in one block.
	pw := tx.Proposal{ID: "more-power", Action: tx.ActionValidatorPower, Validator: &tx.ProposedValidator{PubKey: b64(newKey), Power: 20}}
	ups = n.blockUpdates([]uint32{0, 0, 0}, n.propose(3, pw), n.approve(0, pw.ID), n.approve(1, pw.ID))
	if len(ups) != 1 || ups[0].Power != 20 {
		t.Fatalf("power change updates: %v", ups)
	}
	rm := tx.Proposal{ID: "leave", Action: tx.ActionValidatorRemove, Validator: &tx.ProposedValidator{PubKey: b64(newKey)}}
	ups = n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, rm), n.approve(1, rm.ID), n.approve(2, rm.ID))
	if len(ups) != 1 || ups[0].Power != 0 {
		t.Fatalf("removal updates: %v", ups)
	}
	vals, _ = n.app.Validators()
	for _, v := range vals {
		if v.Address == addr && (v.Power != 0 || len(v.History) != 3) {
			t.Fatalf("a removed validator keeps its record with its history: %+v", v)
		}
	}
	// Re-adding it is a new add of the same record.
	again := add
	again.ID = "rejoin"
	if ups := n.blockUpdates([]uint32{0, 0, 0}, n.propose(2, again), n.approve(3, again.ID), n.approve(0, again.ID)); len(ups) != 1 {
		t.Fatalf("re-adding: %v", ups)
	}
}

func TestNetworkProposalRefusals(t *testing.T) {
	n := newNetHarness(t, nil)
	outsider := testKey(t, 99)
	outsiderDID := did.KeyDID(outsider.Public())
	genesisVal := b64(consensusKey(0))
	org := n.register(7)
	p := func(id, action string, v *tx.ProposedValidator) tx.Proposal {
		return tx.Proposal{ID: id, Action: action, Validator: v}
	}
	outsiderTx := n.sign(n.must(tx.NewNetworkProposal(outsiderDID, p("x", tx.ActionValidatorRemove, &tx.ProposedValidator{PubKey: genesisVal}))),
		outsider, outsiderDID+"#"+outsider.Public().Multikey())
	for _, tc := range []struct {
		name string
		raw  []byte
		code uint32
	}{
		{"not a governance key", outsiderTx, ledger.CodeUnauthorized},
		{"remove below four", n.propose(0, p("r1", tx.ActionValidatorRemove, &tx.ProposedValidator{PubKey: genesisVal})), ledger.CodeInvalid},
		{"remove an unknown validator", n.propose(0, p("r2", tx.ActionValidatorRemove, &tx.ProposedValidator{PubKey: b64(consensusKey(50))})), ledger.CodeNotFound},
		{"add a validator twice", n.propose(0, p("a1", tx.ActionValidatorAdd, &tx.ProposedValidator{PubKey: genesisVal, Power: 5, Org: org.did})), ledger.CodeExists},
		{"add with an unknown org", n.propose(0, p("a2", tx.ActionValidatorAdd, &tx.ProposedValidator{PubKey: b64(consensusKey(51)), Power: 5, Org: "did:medid:nobody"})), ledger.CodeNotFound},
		{"add above the maximum power", n.propose(0, p("a3", tx.ActionValidatorAdd, &tx.ProposedValidator{PubKey: b64(consensusKey(52)), Power: 5000, Org: org.did})), ledger.CodeInvalid},
		{"unchanged power", n.propose(0, p("p1", tx.ActionValidatorPower, &tx.ProposedValidator{PubKey: genesisVal, Power: 10})), ledger.CodeInvalid},
		{"approve an unknown proposal", n.approve(1, "nothing"), ledger.CodeNotFound},
		{"remove a governance key that is not one", n.govTx(0, n.must(tx.NewNetworkProposal(n.gov(0), tx.Proposal{ID: "g1", Action: tx.ActionGovernanceRemove, Governance: outsiderDID}))), ledger.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := n.checkTx(tc.raw); r.Code != tc.code {
				t.Fatalf("CheckTx: code %d (%s), want %d", r.Code, r.Log, tc.code)
			}
			before := n.hash()
			if res := n.block(tc.raw); res[0].Code != tc.code {
				t.Fatalf("FinalizeBlock: code %d (%s), want %d", res[0].Code, res[0].Log, tc.code)
			}
			if got := n.hash(); !sameBytes(got, before) {
				t.Fatal("a refused proposal changed the state")
			}
		})
	}
	// With the explicit override a removal may go below four, never to none.
	rmOK := tx.Proposal{ID: "r-override", Action: tx.ActionValidatorRemove, AllowBelowMinimum: true, Validator: &tx.ProposedValidator{PubKey: genesisVal}}
	if ups := n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, rmOK), n.approve(1, rmOK.ID), n.approve(2, rmOK.ID)); len(ups) != 1 || ups[0].Power != 0 {
		t.Fatalf("removal with override: %v", ups)
	}
	for i := byte(1); i < 3; i++ {
		id := "r-more-" + string('0'+i)
		pr := tx.Proposal{ID: id, Action: tx.ActionValidatorRemove, AllowBelowMinimum: true, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(i))}}
		n.blockUpdates([]uint32{0, 0, 0}, n.propose(0, pr), n.approve(1, id), n.approve(2, id))
	}
	last := tx.Proposal{ID: "r-last", Action: tx.ActionValidatorRemove, AllowBelowMinimum: true, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(3))}}
	if r := n.checkTx(n.propose(0, last)); r.Code != ledger.CodeInvalid {
		t.Fatalf("removing the last validator: code %d (%s), want invalid", r.Code, r.Log)
	}
}

func TestGovernanceKeyRotation(t *testing.T) {
	n := newNetHarness(t, &ledger.NetworkPolicy{Quorum: ledger.Fraction{Numerator: 1, Denominator: 2}})
	// 2 of 4 needed with a quorum of 1/2.
	newGov := testKey(t, 210)
	newDID := did.KeyDID(newGov.Public())
	add := tx.Proposal{ID: "rotate-in", Action: tx.ActionGovernanceAdd, Governance: newDID}
	n.blockUpdates([]uint32{0, 0}, n.propose(3, add), n.approve(2, add.ID))
	govs, _ := n.app.Governance()
	if len(govs) != 5 {
		t.Fatalf("governance keys after adding one: %d", len(govs))
	}
	// Retire gov 3: it approved "rotate-out-0" before, its approval stops counting once it is gone.
	rm := tx.Proposal{ID: "rotate-out", Action: tx.ActionGovernanceRemove, Governance: n.gov(3)}
	pending := tx.Proposal{ID: "pending", Action: tx.ActionGovernanceRemove, Governance: n.gov(0)}
	n.blockUpdates([]uint32{0, 0}, n.propose(3, pending), n.propose(1, rm))
	n.blockUpdates([]uint32{0}, n.approve(2, rm.ID)) // 2 of 5 needs 3: still open
	n.blockUpdates([]uint32{0}, n.approve(0, rm.ID)) // 3 of 5: carried
	govs, _ = n.app.Governance()
	if len(govs) != 4 {
		t.Fatalf("governance keys after retiring one: %v", govs)
	}
	// The retired key can no longer sign.
	if r := n.checkTx(n.approve(3, pending.ID)); r.Code != ledger.CodeUnauthorized {
		t.Fatalf("a retired governance key approving: code %d (%s)", r.Code, r.Log)
	}
	// "pending" has gov 3's approval, which no longer counts: one more approval (of 2 needed of 4) is not enough.
	n.blockUpdates([]uint32{0}, n.approve(2, pending.ID))
	if p, _ := n.app.Proposal(pending.ID); p.Status != ledger.ProposalOpen {
		t.Fatalf("a proposal carried by a retired key's approval: %+v", p)
	}
	// The new key signs like any other.
	k := newGov
	approval := n.sign(n.must(tx.NewNetworkApproval(newDID, pending.ID)), k, newDID+"#"+k.Public().Multikey())
	n.blockUpdates([]uint32{0}, approval)
	if p, _ := n.app.Proposal(pending.ID); p.Status != ledger.ProposalExecuted {
		t.Fatalf("pending after the new key approved: %+v", p)
	}
}

func TestProposalExpires(t *testing.T) {
	n := newNetHarness(t, &ledger.NetworkPolicy{ProposalLifetime: "3m"})
	org := n.register(7)
	add := tx.Proposal{ID: "slow", Action: tx.ActionValidatorAdd, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(9)), Power: 1, Org: org.did}}
	n.blockUpdates([]uint32{0}, n.propose(0, add)) // block h: time t0+h minutes
	n.blockUpdates([]uint32{0}, n.approve(1, add.ID))
	n.block()
	n.block()
	if res := n.block(n.approve(2, add.ID)); res[0].Code != ledger.CodeInvalid {
		t.Fatalf("approving an expired proposal: code %d (%s)", res[0].Code, res[0].Log)
	}
}

func TestNetworkPolicyValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    ledger.NetworkPolicy
		ok   bool
	}{
		{"defaults", ledger.NetworkPolicy{}, true},
		{"unanimity", ledger.NetworkPolicy{Quorum: ledger.Fraction{Numerator: 1, Denominator: 1}}, true},
		{"more than all", ledger.NetworkPolicy{Quorum: ledger.Fraction{Numerator: 3, Denominator: 2}}, false},
		{"zero denominator", ledger.NetworkPolicy{Quorum: ledger.Fraction{Numerator: 1}}, false},
		{"negative minimum", ledger.NetworkPolicy{MinValidators: -1}, false},
		{"bad lifetime", ledger.NetworkPolicy{ProposalLifetime: "soon"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.p.Effective()
			if (err == nil) != tc.ok {
				t.Fatalf("Effective() = %v, want ok=%v", err, tc.ok)
			}
			_, gerr := ParseGenesis([]byte(`{"governance":[],"network":` + string(mustJSON(t, tc.p)) + `}`))
			if (gerr == nil) != tc.ok {
				t.Fatalf("ParseGenesis = %v, want ok=%v", gerr, tc.ok)
			}
		})
	}
	for n, want := range map[int]int{1: 1, 2: 2, 3: 2, 4: 3, 5: 4, 6: 4, 7: 5} {
		if got := ledger.DefaultNetworkPolicy.Needed(n); got != want {
			t.Errorf("Needed(%d) = %d, want %d", n, got, want)
		}
	}
}
