package tx

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Changes of names and accreditations by a governance quorum
// (docs/design/0019, "Who may write"; 0021). A network whose policy has
// directoryQuorum on takes directory writes (directory.add, .update,
// .suspend, .remove) and accreditations (issuer.accredit, .revoke) from a
// quorum of governance keys, as it takes validator changes: one key
// proposes the change with network.propose, others approve it with
// network.approve, and the block whose approval reaches the quorum writes
// it. The proposal carries the change itself (the entry, the issuer and
// its types), and its id is a hash of that change ([ChangeID]), so an
// approval names exactly one content: nobody can have a governance key
// approve an entry other than the one it was shown.

// Proposal actions that carry a directory write or an accreditation: the
// transaction types they stand for.
const (
	ActionDirectoryAdd     = string(DirectoryAdd)
	ActionDirectoryUpdate  = string(DirectoryUpdate)
	ActionDirectorySuspend = string(DirectorySuspend)
	ActionDirectoryRemove  = string(DirectoryRemove)
	ActionIssuerAccredit   = string(IssuerAccredit)
	ActionIssuerRevoke     = string(IssuerRevoke)
)

// ActionDirectoryQuorum turns the network policy's directoryQuorum on:
// from the block that carries it, directory writes and accreditations
// need the quorum. There is no action that turns it off.
const ActionDirectoryQuorum = "policy.directoryQuorum"

// IsChangeAction reports whether action is one of the proposal actions
// that carry a directory write or an accreditation (whose proposal id is
// its [ChangeID]).
func IsChangeAction(action string) bool {
	switch action {
	case ActionDirectoryAdd, ActionDirectoryUpdate, ActionDirectorySuspend, ActionDirectoryRemove,
		ActionIssuerAccredit, ActionIssuerRevoke:
		return true
	}
	return false
}

// NeedsQuorum reports whether t is a transaction type that a network with
// directoryQuorum on takes only as a proposal (when one approval is not
// already the quorum).
func NeedsQuorum(t Type) bool { return IsDirectory(t) || t == IssuerAccredit || t == IssuerRevoke }

// DirectoryChange is the directory write a proposal carries: the fields of
// the directory.* transaction of its action.
type DirectoryChange struct {
	Org     string          `json:"org"`
	Entry   *DirectoryEntry `json:"entry,omitempty"`
	Version int64           `json:"version,omitempty"`
	Reason  string          `json:"reason,omitempty"`
}

// AccreditationChange is the accreditation a proposal grants
// (issuer.accredit: Issuer, CredentialTypes, ValidFrom, optional
// ValidUntil, AccreditationID) or ends (issuer.revoke: Issuer,
// AccreditationID, optional RevokedAt): the fields of the transaction of
// its action.
type AccreditationChange struct {
	Issuer          string   `json:"issuer"`
	CredentialTypes []string `json:"credentialTypes,omitempty"`
	ValidFrom       string   `json:"validFrom,omitempty"`
	ValidUntil      string   `json:"validUntil,omitempty"`
	AccreditationID string   `json:"accreditationId"`
	RevokedAt       string   `json:"revokedAt,omitempty"`
}

// ChangeID is the proposal id of a change action's proposal: "dir-" (for
// directory actions) or "issuer-" and the first 16 bytes of the SHA-256 of
// the JSON of its action and content, in hex. Two proposals have the same
// id only if they write the same thing. It is "" for other actions.
func ChangeID(p *Proposal) string {
	if !IsChangeAction(p.Action) {
		return ""
	}
	b, err := json.Marshal(struct {
		Action        string               `json:"action"`
		Directory     *DirectoryChange     `json:"directory,omitempty"`
		Accreditation *AccreditationChange `json:"accreditation,omitempty"`
	}{p.Action, p.Directory, p.Accreditation})
	if err != nil {
		// The two types hold strings, integers and slices of them only.
		panic("registry/tx: encode a change: " + err.Error())
	}
	sum := sha256.Sum256(b)
	prefix := "issuer-"
	if IsDirectory(Type(p.Action)) {
		prefix = "dir-"
	}
	return prefix + hex.EncodeToString(sum[:16])
}

// Payload returns the transaction a change proposal stands for, acting as
// governance (the proposer). Its Nonce is a placeholder: it is what the
// ledger checks and applies, not a transaction to sign.
func (p *Proposal) Payload(governance string) Payload {
	out := Payload{Type: Type(p.Action), DID: governance, Nonce: "proposal"}
	if d := p.Directory; d != nil {
		out.Org, out.Entry, out.Version, out.Reason = d.Org, d.Entry, d.Version, d.Reason
	}
	if a := p.Accreditation; a != nil {
		out.Issuer, out.CredentialTypes, out.ValidFrom, out.ValidUntil = a.Issuer, a.CredentialTypes, a.ValidFrom, a.ValidUntil
		out.AccreditationID, out.RevokedAt = a.AccreditationID, a.RevokedAt
	}
	return out
}

// validChange checks a change action's proposal: the content its action
// needs, as the transaction of that type would be checked
// ([Payload.Validate]), and its id, which must be its [ChangeID].
func validChange(p *Proposal) string {
	dir := IsDirectory(Type(p.Action))
	switch {
	case p.Validator != nil || p.Governance != "" || p.AllowBelowMinimum:
		return "proposal may carry only " + map[bool]string{true: "directory", false: "accreditation"}[dir] + " for " + p.Action
	case dir && p.Accreditation != nil:
		return "proposal.accreditation is not allowed for " + p.Action
	case !dir && p.Directory != nil:
		return "proposal.directory is not allowed for " + p.Action
	case dir && p.Directory == nil:
		return "proposal.directory is required for " + p.Action
	case !dir && p.Accreditation == nil:
		return "proposal.accreditation is required for " + p.Action
	}
	pl := p.Payload("did:key:proposer")
	if err := pl.Validate(); err != nil {
		return "proposal." + map[bool]string{true: "directory", false: "accreditation"}[dir] + ": " + err.Error()
	}
	if want := ChangeID(p); p.ID != want {
		return fmt.Sprintf("proposal.id of a %s must be %s, the hash of what it writes (it names the content approvals approve)", p.Action, want)
	}
	return ""
}

// NewChangeProposal returns the network.propose that carries change, a
// directory.* or issuer.* payload built by this package's builders (its
// DID the proposing governance did:key): the same change, written once a
// quorum of governance keys approved it. Sign it with the same key. The
// proposal id is its [ChangeID].
func NewChangeProposal(change *Payload) (*Payload, error) {
	if !NeedsQuorum(change.Type) {
		return nil, fmt.Errorf("%w: %s is not a change a governance quorum approves", ErrMalformed, change.Type)
	}
	p := Proposal{Action: string(change.Type)}
	if IsDirectory(change.Type) {
		d := &DirectoryChange{Org: change.Org, Version: change.Version, Reason: change.Reason}
		if change.Entry != nil {
			e := *change.Entry
			e.Roles, e.DistinctFrom = slices.Clone(e.Roles), slices.Clone(e.DistinctFrom)
			if e.Logo != nil {
				l := *e.Logo
				e.Logo = &l
			}
			d.Entry = &e
		}
		p.Directory = d
	} else {
		p.Accreditation = &AccreditationChange{Issuer: change.Issuer, CredentialTypes: slices.Clone(change.CredentialTypes),
			ValidFrom: change.ValidFrom, ValidUntil: change.ValidUntil, AccreditationID: change.AccreditationID, RevokedAt: change.RevokedAt}
	}
	p.ID = ChangeID(&p)
	return valid(&Payload{Type: NetworkPropose, DID: change.DID, Nonce: NewNonce(), Proposal: &p})
}

// ProposalID is the id of p's content: for a directory.* or issuer.*
// action its [ChangeID]; for every other action "val-", "gov-",
// "layout-", "protocol-" or "policy-" (by the action's family) and the
// first 16 bytes of the SHA-256 of the JSON of its action and content
// (validator, governance, allowBelowMinimum, layout, protocol), in hex.
// Two proposals have the same id only if they ask for the same change.
// From protocol 3 on the ledger takes every proposal under this id only
// (docs/design/0021, "Protocol 3"), so an approval, which names an id,
// approves exactly one content; under protocol 2 it is one id among the
// ids a proposer may choose. p.ID is ignored.
func ProposalID(p *Proposal) string {
	if IsChangeAction(p.Action) {
		return ChangeID(p)
	}
	b, err := json.Marshal(struct {
		Action            string             `json:"action"`
		Validator         *ProposedValidator `json:"validator,omitempty"`
		Governance        string             `json:"governance,omitempty"`
		AllowBelowMinimum bool               `json:"allowBelowMinimum,omitempty"`
		Layout            *ProposedLayout    `json:"layout,omitempty"`
		Protocol          *ProposedProtocol  `json:"protocol,omitempty"`
	}{p.Action, p.Validator, p.Governance, p.AllowBelowMinimum, p.Layout, p.Protocol})
	if err != nil {
		// The types hold strings, integers and booleans only.
		panic("registry/tx: encode a proposal: " + err.Error())
	}
	sum := sha256.Sum256(b)
	prefix := "policy-"
	switch {
	case strings.HasPrefix(p.Action, "validator."):
		prefix = "val-"
	case strings.HasPrefix(p.Action, "governance."):
		prefix = "gov-"
	case strings.HasPrefix(p.Action, "layout."):
		prefix = "layout-"
	case strings.HasPrefix(p.Action, "protocol."):
		prefix = "protocol-"
	}
	return prefix + hex.EncodeToString(sum[:16])
}
