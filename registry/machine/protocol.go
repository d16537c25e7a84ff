package machine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Protocol upgrades at a height (docs/design/0021, "Protocol upgrades at a
// height"). The rules by which this state machine executes transactions
// are numbered (the protocol version, CometBFT's app version). A
// governance proposal carried by the network's quorum schedules an upgrade
// (ledger.KeyProtocolUpgrade); at the start of block Height, before
// anything else of that block, every validator whose release knows the
// version writes ledger.KeyProtocol, removes the upgrade, returns the new
// app version to CometBFT (ConsensusParamUpdates.Version, in the header of
// block Height+1 on) and executes the block by the new rules. A validator
// whose release does not know the version stops before it executes block
// Height, writing nothing of it; once its release is replaced, CometBFT's
// handshake replays block Height through the new release.
//
// Every change of the state transition rules from protocol 3 on MUST be
// gated by [execEnv.protocolAtLeast], so that a release that knows the new
// rules executes the blocks before the upgrade exactly as the release of
// before did (replays and state sync from old snapshots depend on it).

// MaxProtocol is the highest protocol version this release executes
// (ledger.CurrentProtocol). Raise that, with the new rules gated by
// execEnv.protocolAtLeast, when the state transition rules change.
const MaxProtocol = ledger.CurrentProtocol

// UpgradeRequiredError is the error FinalizeBlock returns, before it
// executes anything of block Height, when the chain's protocol becomes
// Version at that block and this release executes protocols up to Max
// only. The node cannot go on: its release must be replaced by one that
// knows Version.
type UpgradeRequiredError struct {
	Height   int64
	Version  uint64
	Max      uint64
	Proposal string
}

func (e *UpgradeRequiredError) Error() string {
	return fmt.Sprintf("protocol upgrade required at height %d: the network executes blocks from this one on by protocol %d (proposal %s), this release of registryd executes protocols up to %d: stop the node, install a release that knows protocol %d and start it again (it replays block %d by the new rules; nothing of that block was written)",
		e.Height, e.Version, e.Proposal, e.Max, e.Version, e.Height)
}

// ErrUpgradeRequired is wrapped by [UpgradeRequiredError].
var ErrUpgradeRequired = errors.New("protocol upgrade required")

func (e *UpgradeRequiredError) Unwrap() error { return ErrUpgradeRequired }

// protocolOf reads the protocol version a state says (absent:
// ledger.BaseProtocol).
func protocolOf(r reader) (uint64, error) {
	v, err := r.Get([]byte(ledger.KeyProtocol))
	if err != nil {
		return 0, fmt.Errorf("%w: read the protocol version: %v", ledger.ErrInternal, err)
	}
	if v == nil {
		return ledger.BaseProtocol, nil
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil || n <= ledger.BaseProtocol {
		return 0, fmt.Errorf("%w: the state's protocol version is %.24q", ledger.ErrInternal, v)
	}
	return n, nil
}

// protocolUpgradeOf reads the scheduled upgrade (nil: none).
func protocolUpgradeOf(r reader) (*ledger.ProtocolUpgrade, error) {
	u, err := getJSON[ledger.ProtocolUpgrade](r, []byte(ledger.KeyProtocolUpgrade))
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, nil
	}
	return u, err
}

// scheduleLead refuses a scheduled network change (a protocol upgrade, a
// move of the state layout) at a height closer than
// ledger.MinScheduleLead blocks after env's block, which proposes it or,
// at an approval, may carry it.
func scheduleLead(env *execEnv, height int64) error {
	if env.height > math.MaxInt64-ledger.MinScheduleLead {
		// (A chain whose genesis starts near the largest height: the sum
		// below would wrap around and accept a height in the past.)
		return fmt.Errorf("%w: height %d is too close: no block height is %d blocks after this one (%d)",
			ledger.ErrInvalid, height, ledger.MinScheduleLead, env.height)
	}
	if earliest := env.height + ledger.MinScheduleLead; height < earliest {
		return fmt.Errorf("%w: height %d is too close: it must be at least %d blocks after the block that schedules it (this one is %d), so at %d or later",
			ledger.ErrInvalid, height, ledger.MinScheduleLead, env.height, earliest)
	}
	return nil
}

// staleCancel refuses a cancel proposal rec of a scheduled change (what:
// "upgrade", "move") that the block scheduled carried, by proposal
// proposal. A cancel names the change by its content only (version,
// layout, height), so a cancel proposal left open from an earlier change
// (cancelled by another proposal) would cancel a later one scheduled with
// the same content, with approvals given before the network decided it.
// Only a cancel proposed after the block that carried the change counts
// (one proposed in that block may stand before the carrying approval).
func staleCancel(rec *ledger.ProposalRecord, what string, scheduled int64, proposal string) error {
	if rec.Height <= scheduled {
		return fmt.Errorf("%w: cancel %s was proposed at height %d, and the %s it names was scheduled at height %d (proposal %s): only a cancel proposed after that block cancels it (propose it again)",
			ledger.ErrInvalid, rec.ID, rec.Height, what, scheduled, proposal)
	}
	return nil
}

// protocolWrites checks a protocol.schedule or protocol.cancel proposal
// against state r in the block env (when it is proposed, and again at each
// approval, so in the block that carries it) and returns its writes. The
// version need not be one this release knows: every node records the
// upgrade, and a node that cannot execute it warns from then on and stops
// at its height.
func protocolWrites(r reader, rec *ledger.ProposalRecord, env *execEnv) ([]write, error) {
	pu := rec.Protocol
	if pu == nil {
		return nil, fmt.Errorf("%w: %s needs a protocol version and a height", ledger.ErrMalformed, rec.Action)
	}
	cur, err := protocolUpgradeOf(r)
	if err != nil {
		return nil, err
	}
	if rec.Action == ledger.ActionProtocolCancel {
		if cur == nil {
			return nil, fmt.Errorf("%w: no protocol upgrade is scheduled: nothing to cancel", ledger.ErrNotFound)
		}
		if cur.Height != pu.Height || cur.Version != pu.Version {
			return nil, fmt.Errorf("%w: the upgrade scheduled is to protocol %d at height %d (proposal %s), not to %d at %d",
				ledger.ErrInvalid, cur.Version, cur.Height, cur.Proposal, pu.Version, pu.Height)
		}
		if err := staleCancel(rec, "upgrade", cur.Scheduled, cur.Proposal); err != nil {
			return nil, err
		}
		return []write{{[]byte(ledger.KeyProtocolUpgrade), nil}}, nil
	}
	if cur != nil {
		return nil, fmt.Errorf("%w: an upgrade to protocol %d is scheduled at height %d (proposal %s): cancel it first (protocol.cancel)",
			ledger.ErrExists, cur.Version, cur.Height, cur.Proposal)
	}
	p, err := protocolOf(r)
	if err != nil {
		return nil, err
	}
	if pu.Version <= p {
		return nil, fmt.Errorf("%w: the chain runs protocol %d: an upgrade must name a higher version", ledger.ErrInvalid, p)
	}
	if err := scheduleLead(env, pu.Height); err != nil {
		return nil, err
	}
	b, err := marshal(ledger.ProtocolUpgrade{Version: pu.Version, Height: pu.Height, Proposal: rec.ID, Scheduled: env.height})
	if err != nil {
		return nil, err
	}
	return []write{{[]byte(ledger.KeyProtocolUpgrade), b}}, nil
}

// upgradeProtocol makes the upgrade u scheduled (protocolUpgradeOf the
// working tree; nil: none) if it is at block height, at the start of that
// block in the working tree (still the state of height-1), and returns the
// consensus parameters that tell CometBFT the new app version (nil: no
// upgrade at this block). If this release does not know the version it
// returns an *UpgradeRequiredError having written nothing. Called with
// wmu held.
func (a *App) upgradeProtocol(height int64, u *ledger.ProtocolUpgrade) (*cmtproto.ConsensusParams, error) {
	if u == nil || u.Height > height {
		return nil, nil
	}
	if u.Height < height {
		// It cannot be: block Height makes the upgrade or stops the node.
		return nil, fmt.Errorf("%w: the protocol upgrade scheduled at height %d was not made (block %d)", ledger.ErrInternal, u.Height, height)
	}
	if u.Version > a.maxProtocol {
		e := &UpgradeRequiredError{Height: height, Version: u.Version, Max: a.maxProtocol, Proposal: u.Proposal}
		a.log.Error(e.Error(), "height", height, "protocol", u.Version, "release_max_protocol", a.maxProtocol)
		a.upgradeStop.Store(e)
		return nil, e
	}
	if _, err := a.tree.Set([]byte(ledger.KeyProtocol), []byte(strconv.FormatUint(u.Version, 10))); err != nil {
		return nil, err
	}
	if _, _, err := a.tree.Remove([]byte(ledger.KeyProtocolUpgrade)); err != nil {
		return nil, err
	}
	from := a.protocol
	a.protocol = u.Version
	a.log.Info("protocol upgraded", "height", height, "from", from, "protocol", u.Version, "proposal", u.Proposal)
	return &cmtproto.ConsensusParams{Version: &cmtproto.VersionParams{App: u.Version}}, nil
}

// checkBlockHash refuses, from protocol 5 on (the protocol block
// req.Height executes by, an upgrade at its height included), a block
// without its 32-byte hash (RequestFinalizeBlock.Hash): a filing made in
// it is named by that hash (ledger.FilingBlockProtocol), and a block
// without one would name every filing alike. CometBFT passes every block's
// hash, in consensus, block sync and replay alike; a caller that drives
// the App itself must pass one that differs from block to block as
// CometBFT's does. u is the upgrade scheduled (nil: none). It writes
// nothing: the node stops before the block. Called with wmu held.
func (a *App) checkBlockHash(req *abci.RequestFinalizeBlock, u *ledger.ProtocolUpgrade) error {
	p := a.protocol
	if p < ledger.FilingBlockProtocol {
		p = ledger.ProtocolAt(p, u, req.Height)
	}
	if p > a.maxProtocol {
		return nil // (upgradeProtocol stops the node at this block)
	}
	if p >= ledger.FilingBlockProtocol && len(req.Hash) != tx.FilingBlockSize {
		return fmt.Errorf("FinalizeBlock for height %d with a block hash of %d bytes: from protocol %d on the block's hash (%d bytes) names the filings made in it, so every block must carry it",
			req.Height, len(req.Hash), ledger.FilingBlockProtocol, tx.FilingBlockSize)
	}
	return nil
}

// setProtocol reads the protocol version and the scheduled upgrade of a
// state this App opens or restored, and refuses a state whose protocol
// this release does not execute.
func (a *App) setProtocol(view reader) error {
	p, err := protocolOf(view)
	if err != nil {
		return err
	}
	if p > a.maxProtocol {
		return fmt.Errorf("%w: the state is at protocol %d and this release of registryd executes protocols up to %d: install a release that knows protocol %d",
			ErrUpgradeRequired, p, a.maxProtocol, p)
	}
	u, err := protocolUpgradeOf(view)
	if err != nil {
		return err
	}
	a.protocol = p
	a.mu.Lock()
	a.committedProtocol, a.committedUpgrade = p, u
	a.mu.Unlock()
	return nil
}

// afterCommitProtocol publishes the committed state's protocol and
// upgrade for CheckTx and readers, and warns, at every block from the one
// that carried it, of an upgrade this release cannot make. Called by
// Commit with wmu held, after the view of version is published.
func (a *App) afterCommitProtocol(version int64) {
	view, _ := a.view()
	u, err := protocolUpgradeOf(view)
	if err != nil {
		a.log.Warn("read the scheduled protocol upgrade", "height", version, "err", err)
	}
	a.mu.Lock()
	a.committedProtocol, a.committedUpgrade = a.protocol, u
	a.mu.Unlock()
	if u != nil && u.Version > a.maxProtocol {
		a.log.Warn(fmt.Sprintf("protocol upgrade pending: the network moves to protocol %d at height %d (proposal %s) and this release of registryd executes protocols up to %d: install a release that knows protocol %d before then, or this node stops at that height",
			u.Version, u.Height, u.Proposal, a.maxProtocol, u.Version),
			"height", version, "protocol", u.Version, "upgrade_height", u.Height, "blocks_to_go", u.Height-version, "release_max_protocol", a.maxProtocol)
	}
}

// protocolAtLeast reports whether the transaction is checked or executed
// by the rules of protocol n or later: in FinalizeBlock the block's
// protocol (an upgrade at the block's height is made before its
// transactions), in CheckTx the protocol of the next block. Every rule
// added or changed from protocol 3 on MUST be gated by it.
func (env *execEnv) protocolAtLeast(n uint64) bool { return env.protocol >= n }

// protocolRule, if set, is a rule of a protocol above MaxProtocol that
// tests enable with Config.MaxProtocol (nil in production: there is no
// such rule). check applies it to every transaction after the signature.
var protocolRule func(env *execEnv, t *tx.Tx) error

// Protocol returns the committed state's protocol version, the upgrade
// scheduled (nil: none) and the highest version this release executes.
func (a *App) Protocol() ledger.ProtocolStatus {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var u *ledger.ProtocolUpgrade
	if a.committedUpgrade != nil {
		c := *a.committedUpgrade
		u = &c
	}
	return ledger.ProtocolStatus{Version: a.committedProtocol, Upgrade: u, NodeMax: a.maxProtocol}
}

// CheckProtocol is a readiness check: it returns the
// *UpgradeRequiredError with which this App refused a block (the node
// commits no more blocks until its release is replaced), nil otherwise. An
// upgrade pending is not a failure: the node serves until its height
// ([App.UpgradePending] says it).
func (a *App) CheckProtocol(context.Context) error {
	if e := a.upgradeStop.Load(); e != nil {
		return e
	}
	return nil
}

// UpgradePending reports an upgrade scheduled in the committed state to a
// protocol this release does not execute, and its height (0: none): the
// node stops at that height unless its release is replaced before.
func (a *App) UpgradePending() (version uint64, height int64) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if u := a.committedUpgrade; u != nil && u.Version > a.maxProtocol {
		return u.Version, u.Height
	}
	return 0, 0
}

// genesisProtocol is the protocol a chain starts at: its genesis
// consensus_params.version.app (0, as in every genesis written before
// upgrades at a height: ledger.BaseProtocol). A version this release does
// not execute is refused.
func genesisProtocol(params *cmtproto.ConsensusParams, max uint64) (uint64, error) {
	p := ledger.BaseProtocol
	if params != nil && params.Version != nil && params.Version.App != 0 {
		p = params.Version.App
	}
	switch {
	case p < ledger.BaseProtocol:
		return 0, fmt.Errorf("genesis consensus_params.version.app %d: the registry's protocols start at %d", p, ledger.BaseProtocol)
	case p > max:
		return 0, fmt.Errorf("%w: genesis consensus_params.version.app is %d and this release of registryd executes protocols up to %d: install a release that knows protocol %d",
			ErrUpgradeRequired, p, max, p)
	}
	return p, nil
}
