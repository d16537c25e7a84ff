package ledger

// Protocol upgrades at a height (docs/design/0021, "Protocol upgrades at a
// height"). The rules by which transactions execute are numbered: the
// protocol version. A governance proposal (action [ActionProtocolSchedule],
// carried by the network's quorum) writes a [ProtocolUpgrade] at
// [KeyProtocolUpgrade]; at the start of block Height every validator whose
// release knows the version writes [KeyProtocol] = Version, removes the
// upgrade and executes the block, and every block after it, by the rules of
// that version; a validator whose release does not know it stops before
// executing block Height. A proposal of [ActionProtocolCancel] carried
// before Height removes the upgrade.
const (
	// KeyProtocol holds the chain's protocol version in decimal once an
	// upgrade moved it past [BaseProtocol] (absent before, so chains that
	// never upgrade keep their app hashes).
	KeyProtocol = "state/protocol"
	// KeyProtocolUpgrade holds the scheduled [ProtocolUpgrade] until its
	// block (absent when none is scheduled).
	KeyProtocolUpgrade = "state/upgrade"
	// BaseProtocol is the protocol version of a state without
	// [KeyProtocol]: the rules every chain ran before upgrades at a height
	// existed (CometBFT's app version 2, which Info reported from the
	// start). New chains start at it too.
	BaseProtocol uint64 = 2
	// CurrentProtocol is the protocol version of this release's rules: the
	// version new genesis documents name (consensus_params.version.app) and
	// the highest one this release's state machine executes.
	CurrentProtocol uint64 = 5
	// ContentIDProtocol is the protocol from which every proposal's id is
	// the hash of its content (tx.ProposalID) and one governance key has
	// at most [MaxOpenProposals] open proposals (docs/design/0021,
	// "Protocol 3").
	ContentIDProtocol uint64 = 3
	// FilingProtocol is the protocol from which an approval names the
	// filing it approves (tx.Payload.Filing: the height of the block that
	// filed the proposal, ProposalRecord.Height) and counts for that filing
	// only; the same content is filed at most once a block, so the height
	// names one filing; and a governance key's open-proposal list is
	// deleted with the key (docs/design/0021, "Protocol 4"). Below it a
	// transaction carrying the filing member is refused as malformed, as
	// the decoder of before refused it.
	FilingProtocol uint64 = 4
	// FilingBlockProtocol is the protocol from which a filing is also
	// named by the hash of the block that filed it (ProposalRecord.
	// FilingBlock, RequestFinalizeBlock.Hash: unknown to anyone until that
	// block is proposed), and an approval of a filing that has this name
	// must carry it (tx.Payload.FilingBlock) beside the height, so that an
	// approval signed for a filing height that lay in the future (shown by
	// a node that lied) counts for no filing. Filings made before it have
	// no such name and are approved by their height alone: they are in the
	// past, so their height could not be predicted (docs/design/0021,
	// "Protocol 5"). Below it a transaction carrying the member is refused
	// as malformed, as the decoder of before refused it.
	FilingBlockProtocol uint64 = 5
	// MinScheduleLead is how many blocks after the block that carries a
	// scheduled network change (a protocol upgrade, a move of the state
	// layout) its height must be, at least: the time every operator has to
	// see it, install what it needs and, if the network changes its mind,
	// carry a cancel. It is checked when the schedule is proposed and again
	// at every approval, so in the block that carries it: a proposal whose
	// approvals came too late is refused, not squeezed.
	MinScheduleLead int64 = 100
)

// ProtocolUpgrade is a scheduled protocol upgrade (the value of
// [KeyProtocolUpgrade], and the protocol member of a proposal of
// ActionProtocolSchedule or ActionProtocolCancel).
type ProtocolUpgrade struct {
	// Version is the protocol version from block Height on.
	Version uint64 `json:"version"`
	// Height is the first block executed by Version's rules.
	Height int64 `json:"height"`
	// Proposal is the proposal that scheduled it (in KeyProtocolUpgrade
	// only), Scheduled the block that carried it.
	Proposal  string `json:"proposal,omitempty"`
	Scheduled int64  `json:"scheduled,omitempty"`
}

// ProtocolAt is the protocol version block height executes by, on a state
// whose protocol is p with upgrade u scheduled (nil: none). CheckTx asks
// it for the next block, so a transaction checked just before an upgrade
// gets the verdict the upgraded block will give.
func ProtocolAt(p uint64, u *ProtocolUpgrade, height int64) uint64 {
	if u != nil && height >= u.Height {
		return u.Version
	}
	return p
}

// ApprovalNamesFiling reports whether an approval sent now to a network
// whose GET /1.0/network said protocol status ps at height (its last
// committed block) must name the filing it approves: whether the next
// block executes by [FilingProtocol] or later (below it, the member is
// refused as malformed). A nil ps (a registry of before protocol
// upgrades) is protocol 2.
func ApprovalNamesFiling(ps *ProtocolStatus, height int64) bool {
	if ps == nil {
		return false
	}
	return ProtocolAt(ps.Version, ps.Upgrade, height+1) >= FilingProtocol
}

// ApprovalNamesFilingBlock reports whether an approval sent now to a
// network whose GET /1.0/network said protocol status ps at height (its
// last committed block) may carry the filing block's hash
// (tx.Payload.FilingBlock): whether the next block executes by
// [FilingBlockProtocol] or later. Whether it must is the record's to say:
// a filing made from protocol 5 on has a FilingBlock, one made before has
// none and is approved by its height alone.
func ApprovalNamesFilingBlock(ps *ProtocolStatus, height int64) bool {
	if ps == nil {
		return false
	}
	return ProtocolAt(ps.Version, ps.Upgrade, height+1) >= FilingBlockProtocol
}

// ProtocolStatus is the chain's protocol as GET /1.0/network says it.
type ProtocolStatus struct {
	// Version is the protocol version of the state at the answer's height.
	Version uint64 `json:"version"`
	// Upgrade is the upgrade scheduled (nil: none).
	Upgrade *ProtocolUpgrade `json:"upgrade,omitempty"`
	// NodeMax is the highest protocol version the answering node's release
	// can execute; if Upgrade.Version is above it, that node stops before
	// block Upgrade.Height until its release is replaced.
	NodeMax uint64 `json:"nodeMax"`
}
