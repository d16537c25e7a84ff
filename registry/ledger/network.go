package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/medid/medid/registry/tx"
)

// Key prefixes of the network's own records: who validates and who
// governs, changed by governance proposals (docs/design/0021).
const (
	// PrefixValidator keys validators: val/<hex address> -> ValidatorRecord
	// (every validator the network ever had; a removed one has power 0).
	PrefixValidator = "val/"
	// PrefixProposal keys governance proposals: prop/<id> -> ProposalRecord.
	PrefixProposal = "prop/"
	// KeyNetworkPolicy holds the NetworkPolicy from genesis.
	KeyNetworkPolicy = "net/policy"
)

// ValidatorKey returns the state key of a validator, by its CometBFT
// address (upper-case hex of the first 20 bytes of SHA-256 of its key).
func ValidatorKey(address string) []byte { return []byte(PrefixValidator + address) }

// ProposalKey returns the state key of a governance proposal.
func ProposalKey(id string) []byte { return []byte(PrefixProposal + id) }

// NetworkPolicy is the network's governance rule, fixed in genesis
// (app_state "network"). Zero fields take the defaults of
// [DefaultNetworkPolicy].
type NetworkPolicy struct {
	// Quorum is the fraction of the governance keys whose approval carries
	// a proposal: a proposal passes once ceil(n × Numerator / Denominator)
	// of the n current governance keys approved it. Default 2/3.
	Quorum Fraction `json:"quorum"`
	// MinValidators is the smallest validator set a removal may leave
	// without the proposal's explicit override (allowBelowMinimum).
	// Default 4: the smallest set that survives one faulty node.
	MinValidators int `json:"minValidators"`
	// MaxPower bounds one validator's voting power. Default 1,000.
	MaxPower int64 `json:"maxPower"`
	// ProposalLifetime is how long a proposal may collect approvals after
	// the block that recorded it (Go duration). Default "168h".
	ProposalLifetime string `json:"proposalLifetime"`
	// DirectoryQuorum, when true, makes directory writes (directory.*)
	// and accreditations (issuer.accredit, issuer.revoke) need the same
	// quorum as validator changes: they are proposed and approved
	// (network.propose with a directory.* or issuer.* action), and a
	// transaction of those types signed by one governance key is refused
	// unless one approval is the quorum (a network with one governance
	// key). False (absent) is the rule of every chain before it existed:
	// one governance signature writes. New chains made by registryd
	// init or testnet set it; a running network turns it on by a
	// proposal (ActionDirectoryQuorum), and nothing turns it off.
	DirectoryQuorum bool `json:"directoryQuorum,omitempty"`
}

// QuorumFor reports whether a directory write or an accreditation must be
// proposed and approved on a network with n governance keys: the policy
// asks for it and one approval is not already the quorum.
func (p NetworkPolicy) QuorumFor(n int) bool { return p.DirectoryQuorum && p.Needed(n) > 1 }

// Fraction is Numerator/Denominator.
type Fraction struct {
	Numerator   int64 `json:"numerator"`
	Denominator int64 `json:"denominator"`
}

// DefaultNetworkPolicy is the policy of a genesis that names none.
var DefaultNetworkPolicy = NetworkPolicy{
	Quorum:           Fraction{Numerator: 2, Denominator: 3},
	MinValidators:    4,
	MaxPower:         1000,
	ProposalLifetime: "168h",
}

// Effective returns p with defaults filled in, or an error naming the
// field to fix.
func (p NetworkPolicy) Effective() (NetworkPolicy, error) {
	d := DefaultNetworkPolicy
	if p.Quorum == (Fraction{}) {
		p.Quorum = d.Quorum
	}
	if p.Quorum.Numerator < 1 || p.Quorum.Denominator < 1 || p.Quorum.Numerator > p.Quorum.Denominator || p.Quorum.Denominator > 1000 {
		return p, fmt.Errorf("network quorum %d/%d: want a fraction in (0, 1] with a denominator up to 1000", p.Quorum.Numerator, p.Quorum.Denominator)
	}
	if p.MinValidators == 0 {
		p.MinValidators = d.MinValidators
	}
	if p.MinValidators < 1 || p.MinValidators > 1000 {
		return p, fmt.Errorf("network minValidators %d: want 1 to 1000", p.MinValidators)
	}
	if p.MaxPower == 0 {
		p.MaxPower = d.MaxPower
	}
	if p.MaxPower < 1 || p.MaxPower > 1_000_000 {
		return p, fmt.Errorf("network maxPower %d: want 1 to 1000000", p.MaxPower)
	}
	if p.ProposalLifetime == "" {
		p.ProposalLifetime = d.ProposalLifetime
	}
	if l, err := time.ParseDuration(p.ProposalLifetime); err != nil || l < time.Minute {
		return p, fmt.Errorf("network proposalLifetime %q: want a Go duration of at least 1m", p.ProposalLifetime)
	}
	return p, nil
}

// Lifetime is ProposalLifetime parsed (call on an Effective policy).
func (p NetworkPolicy) Lifetime() time.Duration {
	l, _ := time.ParseDuration(p.ProposalLifetime)
	return l
}

// Needed is how many approvals carry a proposal when there are n
// governance keys: ceil(n × Quorum), at least 1.
func (p NetworkPolicy) Needed(n int) int {
	if n <= 0 {
		return 1
	}
	need := (int64(n)*p.Quorum.Numerator + p.Quorum.Denominator - 1) / p.Quorum.Denominator
	return int(max(need, 1))
}

// ValidatorRecord is a validator with its history: every change governance
// made to it, oldest first. A removed validator keeps its record with
// Power 0.
type ValidatorRecord struct {
	// Address is the CometBFT address (upper-case hex).
	Address string `json:"address"`
	// PubKey is the Ed25519 consensus key, standard base64 (as CometBFT's
	// genesis and priv_validator_key.json write it).
	PubKey string `json:"pubKey"`
	// Power is the current voting power; 0 once removed.
	Power int64 `json:"power"`
	// Org is the DID of the organisation (hospital) that runs it: its
	// directory entry. Empty for a genesis validator.
	Org string `json:"org,omitempty"`
	// Name is the node's name for people (a moniker).
	Name string `json:"name,omitempty"`
	// History lists every change, oldest first.
	History []ValidatorChange `json:"history"`
}

// ValidatorChange is one change of a validator's power.
type ValidatorChange struct {
	// Power is the power from this change on (0: removed).
	Power int64 `json:"power"`
	// Proposal is the proposal that made the change ("" for genesis).
	Proposal string `json:"proposal,omitempty"`
	// Recorded is the block time, Height the block: CometBFT applies the
	// change from block Height+2 on.
	Recorded time.Time `json:"recorded"`
	Height   int64     `json:"height"`
}

// Governance proposal actions.
const (
	ActionValidatorAdd     = "validator.add"
	ActionValidatorPower   = "validator.power"
	ActionValidatorRemove  = "validator.remove"
	ActionGovernanceAdd    = "governance.add"
	ActionGovernanceRemove = "governance.remove"
	// ActionDirectoryQuorum turns NetworkPolicy.DirectoryQuorum on.
	ActionDirectoryQuorum = tx.ActionDirectoryQuorum
	// ActionLayoutSchedule schedules a move of the state layout at a height
	// (see [LayoutMove]); ActionLayoutCancel cancels the scheduled move
	// before its height.
	ActionLayoutSchedule = "layout.schedule"
	ActionLayoutCancel   = "layout.cancel"
	// ActionProtocolSchedule schedules a protocol upgrade at a height (see
	// [ProtocolUpgrade]); ActionProtocolCancel cancels the scheduled
	// upgrade before its height.
	ActionProtocolSchedule = tx.ActionProtocolSchedule
	ActionProtocolCancel   = tx.ActionProtocolCancel
)

// Proposal statuses.
const (
	ProposalOpen     = "open"
	ProposalExecuted = "executed"
)

// ProposalRecord is a governance proposal with its approvals. It is never
// deleted: an executed proposal is the record of why the network changed.
type ProposalRecord struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	// Validator is the validator concerned (validator.* actions).
	Validator *ProposedValidator `json:"validator,omitempty"`
	// Governance is the governance did:key concerned (governance.* actions).
	Governance string `json:"governance,omitempty"`
	// AllowBelowMinimum is the explicit override that lets a removal leave
	// fewer than NetworkPolicy.MinValidators validators.
	AllowBelowMinimum bool `json:"allowBelowMinimum,omitempty"`
	// Directory is the directory write of a directory.* action, and
	// Accreditation the accreditation of an issuer.* action: exactly what
	// the proposal writes once carried. The id of such a proposal is
	// tx.ChangeID of its action and this content (see ChangeID below).
	Directory     *tx.DirectoryChange     `json:"directory,omitempty"`
	Accreditation *tx.AccreditationChange `json:"accreditation,omitempty"`
	// Layout is the move scheduled or cancelled (layout.* actions).
	Layout *LayoutMove `json:"layout,omitempty"`
	// Protocol is the upgrade scheduled or cancelled (protocol.* actions).
	Protocol *ProtocolUpgrade `json:"protocol,omitempty"`
	// ProposedBy is the governance DID that proposed it (its first
	// approval).
	ProposedBy string    `json:"proposedBy"`
	Proposed   time.Time `json:"proposed"`
	// Expires is when approvals stop being accepted (Proposed +
	// NetworkPolicy.ProposalLifetime).
	Expires   time.Time  `json:"expires"`
	Approvals []Approval `json:"approvals"`
	Status    string     `json:"status"`
	// Executed is the height of the block that applied it (0 while open).
	Executed int64 `json:"executed,omitempty"`
	// Height is the block that filed it (this filing: a filing again of
	// the same content replaces the record). From protocol 4 on a
	// network.approve names it (tx.Payload.Filing) and counts for this
	// filing only; one content is filed at most once a block, so it names
	// one filing.
	Height int64 `json:"height"`
	// FilingBlock is, for a filing made from protocol 5 on
	// (FilingBlockProtocol), the hash of the block that filed it: 64
	// lowercase hex digits of RequestFinalizeBlock.Hash, the same on every
	// node, on replay and after state sync, and known to no one before
	// that block was proposed. An approval of such a filing names it
	// (tx.Payload.FilingBlock) beside Height, so a height that lay in the
	// future when the approval was signed names no filing. Empty for a
	// filing made before protocol 5 (approved by Height alone).
	FilingBlock string `json:"filingBlock,omitempty"`
}

// ContentID is the id a proposal with r's action and content has under
// protocol 3 (tx.ProposalID): a client compares it with r.ID before
// approving, so the node that served r cannot show one content while the
// id approved names another.
func (r *ProposalRecord) ContentID() string {
	return tx.ProposalID(r.Proposal())
}

// Proposal returns the proposal r records (its id, action and content).
func (r *ProposalRecord) Proposal() *tx.Proposal {
	p := &tx.Proposal{ID: r.ID, Action: r.Action, Governance: r.Governance, AllowBelowMinimum: r.AllowBelowMinimum,
		Directory: r.Directory, Accreditation: r.Accreditation}
	if v := r.Validator; v != nil {
		p.Validator = &tx.ProposedValidator{PubKey: v.PubKey, Power: v.Power, Org: v.Org, Name: v.Name}
	}
	if l := r.Layout; l != nil {
		p.Layout = &tx.ProposedLayout{Layout: int(l.Layout), Height: l.Height}
	}
	if u := r.Protocol; u != nil {
		p.Protocol = &tx.ProposedProtocol{Version: u.Version, Height: u.Height}
	}
	return p
}

// CheckDerived reports an error when a field r shows but its content id
// (ContentID) does not hash, because the ledger derives it from a hashed
// one, disagrees with that field: the validator's Address must be the
// address of its PubKey. A node that serves r can otherwise show one
// validator's address (what operators and CometBFT name validators by)
// over another's key, and an approval, which binds the key, would add,
// re-weight or remove the validator the approver was not shown. A client
// checks it with ContentID before approving (medid network approve).
func (r *ProposalRecord) CheckDerived() error {
	v := r.Validator
	if v == nil {
		return nil
	}
	pub, err := tx.ParseConsensusKey(v.PubKey)
	if err != nil {
		return fmt.Errorf("proposal %s: %w", r.ID, err)
	}
	if want := ValidatorAddress(pub); v.Address != want {
		return fmt.Errorf("proposal %s shows validator address %.64q, but its key %s has address %s", r.ID, v.Address, v.PubKey, want)
	}
	return nil
}

// ValidatorAddress is CometBFT's address of an Ed25519 consensus key: the
// first 20 bytes of its SHA-256, in upper-case hex (what the ledger
// records as ProposedValidator.Address and ValidatorRecord.Address).
func ValidatorAddress(pub []byte) string {
	sum := sha256.Sum256(pub)
	return strings.ToUpper(hex.EncodeToString(sum[:20]))
}

// MaxOpenProposals is how many open proposals (not carried, not expired)
// one governance key may have from protocol 3 on: its next is refused
// (ErrQuotaExceeded) until one is carried or expires. A constant of
// protocol 3 (docs/design/0021).
const MaxOpenProposals = 16

// PrefixOpenProposals keys, from protocol 3 on, the open proposals of
// each governance key: net/open/<did:key> -> OpenProposals. From protocol
// 4 on a key's entry is deleted when the key is removed.
const PrefixOpenProposals = "net/open/"

// OpenProposalsKey returns the state key of the open proposals of the
// governance did:key did.
func OpenProposalsKey(did string) []byte { return []byte(PrefixOpenProposals + did) }

// OpenProposals are the proposals a governance key filed under protocol 3
// that may still be open (at most [MaxOpenProposals]): each is checked
// against its proposal record when the key files another, and dropped
// once carried, expired or replaced by a later filing.
type OpenProposals struct {
	Proposals []OpenProposal `json:"proposals"`
}

// OpenProposal is one filing: the proposal's id, the block that recorded
// it and when it expires.
type OpenProposal struct {
	ID      string    `json:"id"`
	Height  int64     `json:"height"`
	Expires time.Time `json:"expires"`
}

// ChangeID is the id a directory.* or issuer.* proposal with r's action
// and content must have (tx.ChangeID; "" for other actions). A client
// compares it with r.ID before approving, so the node that served r
// cannot show one entry while the id approved names another.
func (r *ProposalRecord) ChangeID() string {
	return tx.ChangeID(&tx.Proposal{Action: r.Action, Directory: r.Directory, Accreditation: r.Accreditation})
}

// ProposedValidator is the validator a proposal adds, re-weights or
// removes.
type ProposedValidator struct {
	Address string `json:"address"`
	PubKey  string `json:"pubKey"`
	Power   int64  `json:"power,omitempty"`
	Org     string `json:"org,omitempty"`
	Name    string `json:"name,omitempty"`
}

// Approval is one governance key's approval.
type Approval struct {
	DID      string    `json:"did"`
	Recorded time.Time `json:"recorded"`
	Height   int64     `json:"height"`
}

// ErrBelowMinimum marks a removal refused because it would leave fewer
// validators than the network's minimum (it wraps ErrInvalid).
var ErrBelowMinimum = errors.New("would leave too few validators")

// NetworkInfo is the body of GET /1.0/network: the network as the node
// asked sees it, and how to reach that node (what `registryd join` and
// `medid network validator list` read). Nothing in it is proven: a joining
// node's light client verifies what it syncs from the trusted height and
// hash it is given.
type NetworkInfo struct {
	ChainID string `json:"chainId"`
	Height  int64  `json:"height"`
	// Node is the node that answered.
	Node NodeInfo `json:"node"`
	// Validators are every validator the network has had, current first.
	Validators []ValidatorRecord `json:"validators"`
	// Governance are the governance DIDs.
	Governance []string      `json:"governance"`
	Policy     NetworkPolicy `json:"policy"`
	// SnapshotHeight is the newest state sync snapshot this node offers
	// (0: none; a joining node then syncs blocks instead).
	SnapshotHeight int64 `json:"snapshotHeight"`
	// StateLayout is the layout of the state at Height (0 from a registry
	// of before it was served), LayoutMove the move scheduled, if any.
	StateLayout StateLayout `json:"stateLayout,omitempty"`
	LayoutMove  *LayoutMove `json:"layoutMove,omitempty"`
	// Protocol is the chain's protocol version and the upgrade scheduled
	// (nil from a registry of before protocol upgrades at a height).
	Protocol *ProtocolStatus `json:"protocol,omitempty"`
}

// NodeInfo says how to reach a node.
type NodeInfo struct {
	// ID is the CometBFT node id (what persistent_peers names: ID@P2P).
	ID      string `json:"id"`
	Moniker string `json:"moniker"`
	// P2P is the address it listens on for peers (host:port).
	P2P string `json:"p2p"`
	// RPC is its CometBFT RPC address, "" when off (state sync reads
	// headers from the RPC of two nodes).
	RPC string `json:"rpc,omitempty"`
	// Validator is its consensus key's address (upper-case hex).
	Validator string `json:"validator"`
	// BlockTime is its pause after a commit (a Go duration); the nodes of
	// one network use the same.
	BlockTime string `json:"blockTime"`
}
