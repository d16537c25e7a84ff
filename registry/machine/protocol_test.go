package machine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/internal/logbuf"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

func upgradeProposal(id string, version uint64, height int64) tx.Proposal {
	return tx.Proposal{ID: id, Action: tx.ActionProtocolSchedule, Protocol: &tx.ProposedProtocol{Version: version, Height: height}}
}

func upgradeCancel(id string, version uint64, height int64) tx.Proposal {
	return tx.Proposal{ID: id, Action: tx.ActionProtocolCancel, Protocol: &tx.ProposedProtocol{Version: version, Height: height}}
}

// logCount is how many times s occurs in what l collected.
func logCount(l *logbuf.Buffer, s string) int { return strings.Count(l.String(), s) }

// TestProtocolUpgradeRefusals: what a protocol.schedule or protocol.cancel
// is refused for, in CheckTx and FinalizeBlock alike, each refusal
// changing nothing; one governance key of four schedules nothing; the
// quorum schedules (a version this release does not know included) and
// cancels; an approval that comes after the lead ran out is refused.
func TestProtocolUpgradeRefusals(t *testing.T) {
	n := newNetHarness(t, nil)
	next := func() int64 { return n.height() + 1 }
	lead := ledger.MinScheduleLead
	refuse := n.refuses
	for _, tc := range []refusal{
		{"not a governance key", n.outsiderPropose(upgradeProposal("x", 3, next()+lead)), ledger.CodeUnauthorized, ""},
		{"version of the chain", n.propose(0, upgradeProposal("v2", 2, next()+lead)), ledger.CodeInvalid, "runs protocol 2: an upgrade must name a higher version"},
		{"version below the chain's", n.propose(0, upgradeProposal("v1", 1, next()+lead)), ledger.CodeInvalid, "higher version"},
		{"height one block short of the lead", n.propose(0, upgradeProposal("s1", 3, next()+lead-1)), ledger.CodeInvalid, "too close"},
		{"height of this block", n.propose(0, upgradeProposal("s2", 3, next())), ledger.CodeInvalid, "too close"},
		{"height in the past", n.propose(0, upgradeProposal("s3", 3, 1)), ledger.CodeInvalid, "too close"},
		{"cancel with nothing scheduled", n.propose(0, upgradeCancel("c1", 3, next()+lead)), ledger.CodeNotFound, "no protocol upgrade is scheduled"},
	} {
		refuse(t, tc.name, tc.raw, tc.code, tc.want)
	}
	// Malformed proposals never reach the state: tx.Decode refuses them.
	for _, tc := range []struct {
		name string
		p    tx.Proposal
		want string
	}{
		{"no protocol", tx.Proposal{ID: "m1", Action: tx.ActionProtocolSchedule}, "protocol is required"},
		{"version 0", upgradeProposal("m2", 0, 500), "version must be"},
		{"version above 2^53", upgradeProposal("m3", 1<<60, 500), "version must be"},
		{"height 0", upgradeCancel("m4", 3, 0), "height must be"},
		{"negative height", upgradeProposal("m5", 3, -5), "height must be"},
		{"with a validator", tx.Proposal{ID: "m6", Action: tx.ActionProtocolSchedule, Protocol: &tx.ProposedProtocol{Version: 3, Height: 500}, Validator: &tx.ProposedValidator{PubKey: b64(consensusKey(1))}}, "only protocol"},
		{"with a layout", tx.Proposal{ID: "m7", Action: tx.ActionProtocolSchedule, Protocol: &tx.ProposedProtocol{Version: 3, Height: 500}, Layout: &tx.ProposedLayout{Layout: 2, Height: 500}}, "layout is not allowed"},
		{"protocol on a layout action", tx.Proposal{ID: "m8", Action: tx.ActionLayoutSchedule, Layout: &tx.ProposedLayout{Layout: 2, Height: 500}, Protocol: &tx.ProposedProtocol{Version: 3, Height: 500}}, "protocol is not allowed"},
	} {
		t.Run("malformed: "+tc.name, func(t *testing.T) {
			if _, err := tx.NewNetworkProposal(n.gov(0), tc.p); err == nil || !errors.Is(err, tx.ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewNetworkProposal: %v, want malformed with %q", err, tc.want)
			}
		})
	}

	// One key of four records a proposal and schedules nothing, even
	// of a version this release (protocol 2) does not know.
	h1 := next() + lead + 5
	n.blockUpdates([]uint32{0}, n.propose(0, upgradeProposal("to-7", 7, h1)))
	if p := n.app.Protocol(); p.Upgrade != nil || p.Version != 2 {
		t.Fatalf("one approval of four scheduled an upgrade: %+v", p)
	}
	if r := n.checkTx(n.approve(0, "to-7")); r.Code != ledger.CodeExists {
		t.Fatalf("second approval by the proposer: code %d (%s)", r.Code, r.Log)
	}
	n.blockUpdates([]uint32{0, 0}, n.approve(1, "to-7"), n.approve(2, "to-7"))
	p := n.app.Protocol()
	if u := p.Upgrade; p.Version != 2 || p.NodeMax != MaxProtocol || u == nil || u.Version != 7 || u.Height != h1 || u.Proposal != "to-7" || u.Scheduled != n.height() {
		t.Fatalf("after the quorum: %+v (upgrade %+v)", p, p.Upgrade)
	}
	if v, h := n.app.UpgradePending(); v != 7 || h != h1 {
		t.Fatalf("UpgradePending: %d at %d, want 7 at %d", v, h, h1)
	}
	refuse(t, "a second schedule while one is scheduled", n.propose(0, upgradeProposal("s4", 8, next()+lead+50)), ledger.CodeExists, "cancel it first")
	refuse(t, "cancel naming another height", n.propose(0, upgradeCancel("c2", 7, h1+1)), ledger.CodeInvalid, "scheduled is to protocol 7 at height")
	refuse(t, "cancel naming another version", n.propose(0, upgradeCancel("c3", 4, h1)), ledger.CodeInvalid, "scheduled is to protocol 7 at height")

	// A cancel needs the quorum too.
	n.blockUpdates([]uint32{0, 0}, n.propose(3, upgradeCancel("cancel", 7, h1)), n.approve(1, "cancel"))
	if n.app.Protocol().Upgrade == nil {
		t.Fatal("two approvals of four cancelled the upgrade")
	}
	n.blockUpdates([]uint32{0}, n.approve(0, "cancel"))
	if u := n.app.Protocol().Upgrade; u != nil {
		t.Fatalf("the quorum's cancel left %+v", u)
	}
	if v, _ := n.app.UpgradePending(); v != 0 {
		t.Fatalf("UpgradePending after the cancel: %d", v)
	}
	// Nothing happens at the cancelled height: this release (protocol 2)
	// goes on.
	for n.height() < h1+1 {
		n.block()
	}
	if p := n.app.Protocol(); p.Version != 2 || p.Upgrade != nil {
		t.Fatalf("a cancelled upgrade happened: %+v", p)
	}

	// A schedule whose approvals come after the lead has run out is
	// refused at the approval that would carry it.
	h2 := next() + lead
	n.blockUpdates([]uint32{0, 0}, n.propose(0, upgradeProposal("late", 3, h2)), n.approve(1, "late"))
	n.block()
	refuse(t, "carried too late", n.approve(2, "late"), ledger.CodeInvalid, "too close")
}

// TestProtocolUpgradeAtHeight plays two validators of one chain: v3, whose
// release knows protocol 3 (Config.MaxProtocol, with a test rule of
// protocol 3: no did.create), and v2, whose release knows protocol 2. The
// quorum schedules protocol 3 at H. From the carrying block on, v2 warns
// at every commit and says the upgrade is pending. At H, v3 upgrades
// before the block's transactions (the create of block H is refused,
// creates before H were accepted, CheckTx for block H already refuses),
// returns app version 3 to CometBFT and reports it in Info; v2 stops
// before executing H with one line saying what to do, having written
// nothing. Reopened with a release that knows 3, v2 executes H to v3's app
// hash; a release that knows 2 refuses the upgraded state; a snapshot
// after H restores on a release that knows 3 (Info's app version 3, what
// CometBFT's state sync compares with the header) and is refused by one
// that knows 2.
func TestProtocolUpgradeAtHeight(t *testing.T) {
	protocolRule = func(env *execEnv, t *tx.Tx) error {
		if env.protocolAtLeast(3) && t.Payload.Type == tx.DIDCreate {
			return fmt.Errorf("%w: test rule of protocol 3: no did.create", ledger.ErrInvalid)
		}
		return nil
	}
	defer func() { protocolRule = nil }()
	ctx := context.Background()
	log3, log2 := &logbuf.Buffer{}, &logbuf.Buffer{}
	v3 := newNetHarnessWith(t, nil, &harness{maxProtocol: 3, logger: slog.New(slog.NewTextHandler(log3, nil))})
	v2 := newNetHarnessWith(t, nil, &harness{maxProtocol: 2, logger: slog.New(slog.NewTextHandler(log2, nil))})
	if !bytes.Equal(v3.hash(), v2.hash()) {
		t.Fatal("the two validators start apart")
	}
	// block runs the same block on both and checks they agree.
	block := func(txs ...[]byte) []*abci.ExecTxResult {
		t.Helper()
		r := v3.block(txs...)
		r2 := v2.block(txs...)
		if !bytes.Equal(v3.hash(), v2.hash()) {
			t.Fatalf("the validators disagree at height %d", v3.height())
		}
		for i := range r {
			if r[i].Code != r2[i].Code {
				t.Fatalf("tx %d: code %d and %d", i, r[i].Code, r2[i].Code)
			}
		}
		return r
	}
	for _, v := range []*netHarness{v3, v2} {
		if info, _ := v.app.Info(ctx, &abci.RequestInfo{}); info.AppVersion != 2 {
			t.Fatalf("Info's app version %d before any upgrade, want 2", info.AppVersion)
		}
	}
	H := v3.height() + 1 + ledger.MinScheduleLead + 3
	block(v3.propose(0, upgradeProposal("to-3", 3, H)))
	block(v3.approve(1, "to-3"), v3.approve(2, "to-3"))
	carried := v3.height()
	pending := "protocol upgrade pending: the network moves to protocol 3 at height " + fmt.Sprint(H)
	if logCount(log2, pending) != 1 || logCount(log3, pending) != 0 {
		t.Fatalf("after the carrying block: %d warnings from the release of protocol 2 (want 1), %d from 3 (want 0)", logCount(log2, pending), logCount(log3, pending))
	}
	if v, h := v2.app.UpgradePending(); v != 3 || h != H {
		t.Fatalf("v2 UpgradePending: %d at %d", v, h)
	}
	if v, _ := v3.app.UpgradePending(); v != 0 {
		t.Fatalf("v3 says it cannot run protocol 3")
	}
	var seed byte = 10
	for v3.height() < H-1 {
		if r := block(v3.createTx(newIdentity(t, seed))); r[0].Code != 0 {
			t.Fatalf("a create before H: code %d (%s)", r[0].Code, r[0].Log)
		}
		seed++
	}
	if got, want := logCount(log2, pending), int(H-1-carried)+1; got != want {
		t.Errorf("%d warnings from the release of protocol 2, want one per block from the carrying one (%d)", got, want)
	}
	// CheckTx judges for the next block: H, by protocol 3.
	late := v3.createTx(newIdentity(t, 200))
	if r := v3.checkTx(late); r.Code != ledger.CodeInvalid || !strings.Contains(r.Log, "test rule of protocol 3") {
		t.Fatalf("CheckTx for block H on v3: code %d (%s)", r.Code, r.Log)
	}
	if r := v2.checkTx(late); r.Code != 0 {
		t.Fatalf("CheckTx on v2 (no rule of protocol 3): code %d (%s)", r.Code, r.Log)
	}

	// Block H.
	before := v2.hash()
	req := &abci.RequestFinalizeBlock{Height: H, Time: blockTime(H), Txs: [][]byte{late}}
	res, err := v3.app.FinalizeBlock(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if cp := res.ConsensusParamUpdates; cp == nil || cp.Version == nil || cp.Version.App != 3 || cp.Block != nil || cp.Validator != nil || cp.Evidence != nil || cp.Abci != nil {
		t.Fatalf("block H's consensus param updates: %+v, want the app version 3 alone", cp)
	}
	if res.TxResults[0].Code != ledger.CodeInvalid {
		t.Fatalf("the create of block H: code %d (%s), want refused by protocol 3's rule", res.TxResults[0].Code, res.TxResults[0].Log)
	}
	v3.commit()
	if info, _ := v3.app.Info(ctx, &abci.RequestInfo{}); info.AppVersion != 3 || info.LastBlockHeight != H {
		t.Fatalf("v3 Info after H: app version %d at %d", info.AppVersion, info.LastBlockHeight)
	}
	if p := v3.app.Protocol(); p.Version != 3 || p.Upgrade != nil {
		t.Fatalf("v3 after H: %+v", p)
	}
	if !strings.Contains(log3.String(), fmt.Sprintf("msg=\"protocol upgraded\" height=%d from=2 protocol=3 proposal=to-3", H)) {
		t.Errorf("v3 did not log the upgrade:\n%s", log3.String())
	}
	_, err = v2.app.FinalizeBlock(ctx, req)
	var ue *UpgradeRequiredError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUpgradeRequired) || ue.Height != H || ue.Version != 3 || ue.Max != 2 {
		t.Fatalf("v2 FinalizeBlock H: %v, want an UpgradeRequiredError", err)
	}
	line := fmt.Sprintf("protocol upgrade required at height %d: the network executes blocks from this one on by protocol 3 (proposal to-3), this release of registryd executes protocols up to 2: stop the node, install a release that knows protocol 3 and start it again", H)
	if logCount(log2, line) != 1 {
		t.Fatalf("v2 logged %d lines %q:\n%s", logCount(log2, line), line, log2.String())
	}
	if err := v2.app.CheckProtocol(ctx); !errors.Is(err, ErrUpgradeRequired) || v3.app.CheckProtocol(ctx) != nil {
		t.Fatalf("readiness: v2 %v, v3 %v", err, v3.app.CheckProtocol(ctx))
	}
	if h, x := v2.app.LastCommit(); h != H-1 || !bytes.Equal(x, before) {
		t.Fatalf("v2 after stopping: height %d, hash changed %v", h, !bytes.Equal(x, before))
	}
	if _, err := v2.app.Commit(ctx, &abci.RequestCommit{}); err == nil {
		t.Fatal("v2 committed a block it did not execute")
	}

	// The release is replaced: v2 reopens its state with protocol 3 known
	// and executes block H (CometBFT's handshake replays it) to v3's hash.
	if err := v2.app.Close(); err != nil {
		t.Fatal(err)
	}
	v2.maxProtocol = 3
	v2.open()
	if p := v2.app.Protocol(); p.Version != 2 || p.Upgrade == nil || p.Upgrade.Version != 3 {
		t.Fatalf("v2 reopened: %+v", p)
	}
	res2, err := v2.app.FinalizeBlock(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	v2.commit()
	if !bytes.Equal(v2.hash(), v3.hash()) || res2.ConsensusParamUpdates.GetVersion().GetApp() != 3 || res2.TxResults[0].Code != res.TxResults[0].Code {
		t.Fatalf("v2 replayed block H to another result: %X vs %X", v2.hash(), v3.hash())
	}
	// Both go on by protocol 3, with no upgrade params any more.
	block()
	if v3.app.Protocol().Version != 3 || v2.app.Protocol().Version != 3 {
		t.Fatal("a validator left protocol 3")
	}

	// An older release refuses the upgraded state, saying what to install.
	v3.app.Close()
	_, err = New(Config{Dir: v3.dir, MaxProtocol: 2})
	if !errors.Is(err, ErrUpgradeRequired) || !strings.Contains(err.Error(), "the state is at protocol 3 and this release of registryd executes protocols up to 2: install a release that knows protocol 3") {
		t.Fatalf("opening the upgraded state with a release of protocol 2: %v", err)
	}
	v3.maxProtocol = 3
	v3.open()
}

// TestProtocolUpgradeStateSync: a snapshot taken after an upgrade to
// protocol 3 restores on a release that knows protocol 3 or 4, whose Info
// then reports app version 3 (CometBFT's state sync compares it with the app
// version of the header above the snapshot, which the upgrade block's
// consensus param update set), and is refused, without a state left, by a
// release that knows protocol 2.
func TestProtocolUpgradeStateSync(t *testing.T) {
	h := newHarnessLayout(t, Config{SnapshotInterval: 1, MaxProtocol: 3}, nil, ledger.CurrentLayout)
	h.block()
	H := h.height() + 1 + ledger.MinScheduleLead
	h.mustBlock(h.propose1(upgradeProposal("to-3", 3, H)))
	for h.height() < H+1 {
		h.block()
	}
	snapshotNow(t, h)
	for _, max := range []uint64{3, 4} {
		dst, res := restoreIntoWith(t, h, nil, h.hash(), func(a *App) { a.maxProtocol = max })
		if res != abci.ResponseApplySnapshotChunk_ACCEPT {
			t.Fatalf("restore on a release of protocol %d: %v", max, res)
		}
		// The state's protocol, not the release's highest.
		info, _ := dst.Info(context.Background(), &abci.RequestInfo{})
		if info.AppVersion != 3 || !bytes.Equal(info.LastBlockAppHash, h.hash()) {
			t.Fatalf("restored on a release of protocol %d, Info: app version %d", max, info.AppVersion)
		}
	}
	old, res := restoreIntoWith(t, h, nil, h.hash(), func(a *App) { a.maxProtocol = 2 })
	if res != abci.ResponseApplySnapshotChunk_ABORT {
		t.Fatalf("restore on a release of protocol 2: %v, want ABORT", res)
	}
	if hh, _ := old.LastCommit(); hh != 0 {
		t.Fatalf("the refused restore left a state at height %d", hh)
	}
}

// TestGenesisProtocol: a genesis naming no app version or version 2 (every
// genesis before upgrades, and registryd's now) writes nothing of the
// protocol (the app hash of before); one naming a version this release
// knows starts there and tells CometBFT; others are refused.
func TestGenesisProtocol(t *testing.T) {
	g, err := (&Genesis{Governance: []string{did.KeyDID(testKey(t, 200).Public())}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var base []byte
	for _, tc := range []struct {
		name      string
		app, max  uint64
		want      uint64
		wantErr   string
		sameAsOld bool
	}{
		{"none", 0, 0, 2, "", true},
		{"2", 2, 0, 2, "", true},
		{"3 known", 3, 3, 3, "", false},
		{"3 unknown", 3, 2, 0, "genesis consensus_params.version.app is 3 and this release of registryd executes protocols up to 2", false},
		{"3, this release", 3, 0, 3, "", false},
		{"4 unknown", 4, 3, 0, "genesis consensus_params.version.app is 4 and this release of registryd executes protocols up to 3", false},
		{"4, this release", 4, 0, 4, "", false},
		{"5 unknown", 5, 4, 0, "genesis consensus_params.version.app is 5 and this release of registryd executes protocols up to 4", false},
		{"5, this release", 5, 0, 5, "", false},
		{"6 unknown", 6, 0, 0, "genesis consensus_params.version.app is 6 and this release of registryd executes protocols up to 5", false},
		{"1", 1, 3, 0, "protocols start at 2", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(Config{Dir: t.TempDir(), MaxProtocol: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			res, err := a.InitChain(context.Background(), &abci.RequestInitChain{AppStateBytes: g, InitialHeight: 1, Time: t0,
				ConsensusParams: &cmtproto.ConsensusParams{Version: &cmtproto.VersionParams{App: tc.app}}})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("InitChain: %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "none" {
				base = res.AppHash
			}
			if tc.sameAsOld != bytes.Equal(res.AppHash, base) {
				t.Errorf("genesis app hash equal to a genesis without a version: %v, want %v", !tc.sameAsOld, tc.sameAsOld)
			}
			if got := res.ConsensusParams.GetVersion().GetApp(); (tc.want == 2 && res.ConsensusParams != nil) || (tc.want != 2 && got != tc.want) {
				t.Errorf("InitChain's consensus params %+v, want app version %d (none for 2)", res.ConsensusParams, tc.want)
			}
			if info, _ := a.Info(context.Background(), &abci.RequestInfo{}); info.AppVersion != tc.want {
				t.Errorf("Info's app version %d, want %d", info.AppVersion, tc.want)
			}
		})
	}
}
