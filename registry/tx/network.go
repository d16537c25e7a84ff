package tx

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Governance of the network itself (docs/design/0021): which nodes
// validate, with what power, and which keys govern. A change is proposed by
// one governance key and approved by others; it is applied in the block
// whose approval reaches the quorum the genesis sets (default: two thirds
// of the governance keys). Both transactions are signed by a governance
// did:key, as issuer.accredit is.
//
//   - [NetworkPropose] ("network.propose"): proposal (see [Proposal]); the
//     proposer's own approval counts.
//   - [NetworkApprove] ("network.approve"): proposalId, and from
//     protocol 4 on filing (see [Payload.Filing]): the height of the block
//     that filed the proposal approved, so that an approval counts for
//     that filing only, never for a later filing of the same content;
//     and from protocol 5 on filingBlock (see [Payload.FilingBlock]): the
//     hash of that block, which no one knows before the block exists, so
//     that an approval signed for a height still to come counts for no
//     filing.
const (
	NetworkPropose Type = "network.propose"
	NetworkApprove Type = "network.approve"
)

// Proposal actions (the same strings as registry/ledger's Action*).
const (
	ActionValidatorAdd     = "validator.add"
	ActionValidatorPower   = "validator.power"
	ActionValidatorRemove  = "validator.remove"
	ActionGovernanceAdd    = "governance.add"
	ActionGovernanceRemove = "governance.remove"
	// ActionLayoutSchedule schedules the move of a layout 1 chain's state to
	// layout 2 at the start of block Layout.Height; ActionLayoutCancel
	// cancels the move scheduled at Layout.Height (docs/design/0021).
	ActionLayoutSchedule = "layout.schedule"
	ActionLayoutCancel   = "layout.cancel"
	// ActionProtocolSchedule schedules a protocol upgrade: from the start
	// of block Protocol.Height every validator executes blocks by the rules
	// of protocol Protocol.Version; ActionProtocolCancel cancels the
	// upgrade scheduled at Protocol.Height (docs/design/0021, "Protocol
	// upgrades at a height").
	ActionProtocolSchedule = "protocol.schedule"
	ActionProtocolCancel   = "protocol.cancel"
)

// MoveToLayout is the only layout a chain can be moved to: each record
// once (registry/ledger's LayoutRecordsOnce).
const MoveToLayout = 2

// Proposal is the change a network.propose asks for.
type Proposal struct {
	// ID names the proposal (approvals name it); [ValidID] rules.
	ID string `json:"id"`
	// Action is one of the Action* constants.
	Action string `json:"action"`
	// Validator: for validator.add (PubKey, Power, Org, optional Name),
	// validator.power (PubKey, Power) and validator.remove (PubKey).
	Validator *ProposedValidator `json:"validator,omitempty"`
	// Governance: the did:key to add or remove (governance.* actions).
	Governance string `json:"governance,omitempty"`
	// AllowBelowMinimum (validator.remove only) is the explicit override
	// that lets the removal leave fewer validators than the network's
	// minimum (four by default).
	AllowBelowMinimum bool `json:"allowBelowMinimum,omitempty"`
	// Directory: the directory write of a directory.* action (see
	// change.go).
	Directory *DirectoryChange `json:"directory,omitempty"`
	// Accreditation: the accreditation of an issuer.* action.
	Accreditation *AccreditationChange `json:"accreditation,omitempty"`
	// Layout: the move to schedule or cancel (layout.* actions).
	Layout *ProposedLayout `json:"layout,omitempty"`
	// Protocol: the upgrade to schedule or cancel (protocol.* actions).
	Protocol *ProposedProtocol `json:"protocol,omitempty"`
}

// ProposedProtocol names a protocol upgrade: to protocol Version from the
// start of block Height on. A cancel names the upgrade it cancels, so an
// approval given to cancel one upgrade never cancels another scheduled
// later. Any version is well formed here: whether it is above the chain's
// is decided against the state, and a release records an upgrade to a
// version it does not know (that is how it learns it must be replaced).
type ProposedProtocol struct {
	Version uint64 `json:"version"`
	Height  int64  `json:"height"`
}

// MaxProtocolVersion bounds ProposedProtocol.Version: CometBFT's app
// version is a uint64, but the state and the API's JSON readers (some of
// which parse numbers as doubles) hold it exactly only up to 2^53.
const MaxProtocolVersion = 1<<53 - 1

// ProposedLayout names a move of the state layout: to layout Layout (only
// [MoveToLayout]) at the start of block Height. A cancel names the move it
// cancels, so an approval given to cancel one move never cancels another
// scheduled later.
type ProposedLayout struct {
	Layout int   `json:"layout"`
	Height int64 `json:"height"`
}

// ProposedValidator names a validator by its Ed25519 consensus key.
type ProposedValidator struct {
	// PubKey is the consensus public key, standard base64 of 32 bytes (as
	// in CometBFT's priv_validator_key.json and genesis).
	PubKey string `json:"pubKey"`
	// Power is the voting power (validator.add and validator.power).
	Power int64 `json:"power,omitempty"`
	// Org is the DID of the organisation that runs the node: its entry in
	// the directory (validator.add).
	Org string `json:"org,omitempty"`
	// Name is the node's name for people (validator.add, optional).
	Name string `json:"name,omitempty"`
}

// Limits of network transactions.
const (
	// MaxValidatorName bounds ProposedValidator.Name.
	MaxValidatorName = 64
)

// ParseConsensusKey decodes a ProposedValidator.PubKey.
func ParseConsensusKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("validator pubKey must be the standard base64 of a %d-byte Ed25519 key", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// validProposal checks the shape of a proposal for its action; "" if
// well formed.
func validProposal(p *Proposal) string {
	if !validID(p.ID) {
		return fmt.Sprintf("proposal.id must be 1 to %d of [A-Za-z0-9._:-]", MaxIDLen)
	}
	if p.Layout != nil && p.Action != ActionLayoutSchedule && p.Action != ActionLayoutCancel {
		return "proposal.layout is not allowed for " + p.Action
	}
	if p.Protocol != nil && p.Action != ActionProtocolSchedule && p.Action != ActionProtocolCancel {
		return "proposal.protocol is not allowed for " + p.Action
	}
	if IsChangeAction(p.Action) {
		return validChange(p)
	}
	if p.Directory != nil || p.Accreditation != nil {
		return "proposal.directory and proposal.accreditation are for directory.* and issuer.* actions only"
	}
	v := p.Validator
	switch p.Action {
	case ActionValidatorAdd, ActionValidatorPower, ActionValidatorRemove:
		if v == nil {
			return "proposal.validator is required for " + p.Action
		}
		if p.Governance != "" {
			return "proposal.governance is not allowed for " + p.Action
		}
		if _, err := ParseConsensusKey(v.PubKey); err != nil {
			return "proposal." + err.Error()
		}
		switch p.Action {
		case ActionValidatorAdd:
			if v.Power < 1 {
				return "proposal.validator.power must be at least 1"
			}
			if v.Org == "" || len(v.Org) > MaxDIDLen || !strings.HasPrefix(v.Org, "did:") {
				return "proposal.validator.org must be the DID of the organisation running the node (its directory entry)"
			}
			if len(v.Name) > MaxValidatorName || strings.ContainsFunc(v.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				return fmt.Sprintf("proposal.validator.name must be at most %d printable bytes", MaxValidatorName)
			}
		case ActionValidatorPower:
			if v.Power < 1 {
				return "proposal.validator.power must be at least 1 (remove a validator with validator.remove)"
			}
			if v.Org != "" || v.Name != "" {
				return "proposal.validator may carry only pubKey and power for validator.power"
			}
		case ActionValidatorRemove:
			if v.Power != 0 || v.Org != "" || v.Name != "" {
				return "proposal.validator may carry only pubKey for validator.remove"
			}
		}
		if p.AllowBelowMinimum && p.Action != ActionValidatorRemove {
			return "proposal.allowBelowMinimum applies to validator.remove only"
		}
	case ActionGovernanceAdd, ActionGovernanceRemove:
		if v != nil || p.AllowBelowMinimum {
			return "proposal may carry only governance for " + p.Action
		}
		if !strings.HasPrefix(p.Governance, "did:key:") || len(p.Governance) > MaxDIDLen {
			return "proposal.governance must be a did:key"
		}
	case ActionDirectoryQuorum:
		if v != nil || p.AllowBelowMinimum || p.Governance != "" {
			return "proposal may carry only id and action for " + p.Action
		}
	case ActionLayoutSchedule, ActionLayoutCancel:
		if v != nil || p.Governance != "" || p.AllowBelowMinimum {
			return "proposal may carry only layout for " + p.Action
		}
		if p.Layout == nil {
			return "proposal.layout is required for " + p.Action
		}
		if p.Layout.Layout != MoveToLayout {
			return fmt.Sprintf("proposal.layout.layout %d: a chain can only be moved to layout %d", p.Layout.Layout, MoveToLayout)
		}
		if p.Layout.Height < 1 {
			return "proposal.layout.height must be a block height (at least 1)"
		}
	case ActionProtocolSchedule, ActionProtocolCancel:
		if v != nil || p.Governance != "" || p.AllowBelowMinimum {
			return "proposal may carry only protocol for " + p.Action
		}
		if p.Protocol == nil {
			return "proposal.protocol is required for " + p.Action
		}
		if p.Protocol.Version < 1 || p.Protocol.Version > MaxProtocolVersion {
			return fmt.Sprintf("proposal.protocol.version must be a protocol version (1 to %d)", uint64(MaxProtocolVersion))
		}
		if p.Protocol.Height < 1 {
			return "proposal.protocol.height must be a block height (at least 1)"
		}
	default:
		return fmt.Sprintf("proposal.action %.64q: want one of %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s.*, %s.*", p.Action,
			ActionValidatorAdd, ActionValidatorPower, ActionValidatorRemove, ActionGovernanceAdd, ActionGovernanceRemove,
			ActionLayoutSchedule, ActionLayoutCancel, ActionProtocolSchedule, ActionProtocolCancel, ActionDirectoryQuorum, "directory", "issuer")
	}
	return ""
}

// NewNetworkProposal returns the network.propose by the governance did:key
// governance of p (p.ID "" = its content's id, [ProposalID], which every
// protocol takes and protocol 3 requires). Sign it with that governance
// key. The proposal id is in the payload's Proposal.
func NewNetworkProposal(governance string, p Proposal) (*Payload, error) {
	if p.ID == "" {
		p.ID = ProposalID(&p)
	}
	if p.Validator != nil {
		v := *p.Validator
		p.Validator = &v
	}
	if p.Layout != nil {
		l := *p.Layout
		p.Layout = &l
	}
	if p.Protocol != nil {
		u := *p.Protocol
		p.Protocol = &u
	}
	return valid(&Payload{Type: NetworkPropose, DID: governance, Nonce: NewNonce(), Proposal: &p})
}

// NewNetworkApproval returns the network.approve by the governance did:key
// governance of proposal proposalID, naming no filing: what a chain below
// protocol 4 takes (protocol 4 refuses it; see [NewNetworkApprovalOf]).
func NewNetworkApproval(governance, proposalID string) (*Payload, error) {
	return valid(&Payload{Type: NetworkApprove, DID: governance, Nonce: NewNonce(), ProposalID: proposalID})
}

// NewNetworkApprovalOf returns the network.approve by the governance
// did:key governance of the filing of proposal proposalID made at block
// height filing (the proposal record's height): what protocol 4 requires,
// and a chain below 4 refuses as malformed. It returns an error wrapping
// [ErrMalformed] for a filing outside 1 to [MaxFilingHeight].
func NewNetworkApprovalOf(governance, proposalID string, filing int64) (*Payload, error) {
	p, err := approvalOfFiling(governance, proposalID, filing)
	if err != nil {
		return nil, err
	}
	return valid(p)
}

// approvalOfFiling is the network.approve of [NewNetworkApprovalOf],
// before validation.
func approvalOfFiling(governance, proposalID string, filing int64) (*Payload, error) {
	if filing < 1 || filing > MaxFilingHeight {
		return nil, fmt.Errorf("%w: %s: filing %d: want the height of the block that filed the proposal (1 to %d)", ErrMalformed, NetworkApprove, filing, int64(MaxFilingHeight))
	}
	return &Payload{Type: NetworkApprove, DID: governance, Nonce: NewNonce(), ProposalID: proposalID,
		Filing: json.RawMessage(strconv.FormatInt(filing, 10))}, nil
}

// MaxFilingHeight bounds [Payload.Filing]: block heights are int64, and
// the payload's JSON readers hold integers exactly only up to 2^53.
const MaxFilingHeight = 1<<53 - 1

// FilingHeight returns the filing a network.approve names (see
// [Payload.Filing]) and whether it names one; a member that is present
// but not a valid height (which [Payload.Validate] refuses) reports
// (0, true).
func (p *Payload) FilingHeight() (int64, bool) {
	if len(p.Filing) == 0 {
		return 0, false
	}
	h, _ := parseFiling(p.Filing)
	return h, true
}

// parseFiling reads a filing height written as the decimal digits of an
// integer from 1 to MaxFilingHeight, nothing else (no sign, leading zero,
// fraction, exponent or space), so that one height has one encoding.
func parseFiling(b []byte) (int64, bool) {
	h, err := strconv.ParseInt(string(b), 10, 64)
	// The one encoding: what FormatInt writes back (no sign, leading
	// zero or space; ParseInt already refuses fractions and exponents).
	if err != nil || h < 1 || h > MaxFilingHeight || strconv.FormatInt(h, 10) != string(b) {
		return 0, false
	}
	return h, true
}

// FilingBlockSize is the size of the block hash that names a filing from
// protocol 5 on (CometBFT's block hash, SHA-256).
const FilingBlockSize = 32

// NewNetworkApprovalOfBlock returns the network.approve by the governance
// did:key governance of the filing of proposal proposalID made in the
// block of height filing whose hash is block (the proposal record's
// height and filingBlock, 64 lowercase hex digits): what protocol 5
// requires of an approval of a filing made under it, and a chain below 5
// refuses as malformed. It returns an error wrapping [ErrMalformed] for a
// filing outside 1 to [MaxFilingHeight] or a block that is not 64
// lowercase hex digits.
func NewNetworkApprovalOfBlock(governance, proposalID string, filing int64, block string) (*Payload, error) {
	p, err := approvalOfFiling(governance, proposalID, filing)
	if err != nil {
		return nil, err
	}
	if !ValidFilingBlock(block) {
		return nil, fmt.Errorf("%w: %s: filingBlock %.80q: want the hash of the block that filed the proposal (%d lowercase hex digits)", ErrMalformed, NetworkApprove, block, 2*FilingBlockSize)
	}
	p.FilingBlock = json.RawMessage(`"` + block + `"`)
	return valid(p)
}

// FilingBlockHash returns the block hash a network.approve names its
// filing by (see [Payload.FilingBlock]), as 64 lowercase hex digits, and
// whether it names one; a member that is present but not of that one
// spelling (which [Payload.Validate] refuses) reports ("", true).
func (p *Payload) FilingBlockHash() (string, bool) {
	if len(p.FilingBlock) == 0 {
		return "", false
	}
	h, _ := parseFilingBlock(p.FilingBlock)
	return h, true
}

// ValidFilingBlock reports whether s is a block hash as a filing is named
// by: exactly 64 lowercase hex digits.
func ValidFilingBlock(s string) bool {
	// The one spelling: what EncodeToString writes back (DecodeString
	// also takes upper case).
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == FilingBlockSize && hex.EncodeToString(b) == s
}

// parseFilingBlock reads a filing block hash written as the JSON string
// of 64 lowercase hex digits, nothing else (no escape, upper case, space
// or other length), so that one hash has one encoding.
func parseFilingBlock(b []byte) (string, bool) {
	if len(b) != 2*FilingBlockSize+2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	s := string(b[1 : len(b)-1])
	if !ValidFilingBlock(s) {
		return "", false
	}
	return s, true
}
