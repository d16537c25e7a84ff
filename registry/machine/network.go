package machine

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Network governance (docs/design/0021): network.propose and
// network.approve change the validator set and the governance keys once a
// quorum of governance keys approved. The validator records in state
// (val/<address>) are the source of truth: every write to one becomes a
// ValidatorUpdate of the block (see deliver), so what the state says and
// what CometBFT applies (two blocks later) cannot drift apart.

// ranger is a reader that can also walk a key range (the working tree and
// the committed view both can).
type ranger interface {
	reader
	IterateRange(start, end []byte, ascending bool, fn func(key, value []byte) bool) bool
}

// prefixEnd is the first key after every key that starts with prefix.
func prefixEnd(prefix string) []byte {
	b := []byte(prefix)
	b[len(b)-1]++
	return b
}

// policy returns the network policy recorded at InitChain (defaults for a
// state written before it existed).
func (a *App) networkPolicy(r reader) (ledger.NetworkPolicy, error) {
	v, err := r.Get([]byte(ledger.KeyNetworkPolicy))
	if err != nil {
		return ledger.NetworkPolicy{}, fmt.Errorf("%w: read network policy: %v", ledger.ErrInternal, err)
	}
	var p ledger.NetworkPolicy
	if v != nil {
		if err := json.Unmarshal(v, &p); err != nil {
			return p, fmt.Errorf("%w: decode network policy: %v", ledger.ErrInternal, err)
		}
	}
	return p.Effective()
}

// countPrefix counts keys under prefix whose value passes keep (nil: all).
func countPrefix(r reader, prefix string, keep func(v []byte) bool) (int, error) {
	rg, ok := r.(ranger)
	if !ok {
		return 0, fmt.Errorf("%w: state reader cannot iterate", ledger.ErrInternal)
	}
	n := 0
	rg.IterateRange([]byte(prefix), prefixEnd(prefix), true, func(_, v []byte) bool {
		if keep == nil || keep(v) {
			n++
		}
		return false
	})
	return n, nil
}

func activeValidator(v []byte) bool {
	var rec ledger.ValidatorRecord
	return json.Unmarshal(v, &rec) == nil && rec.Power > 0
}

// genesisValidatorWrites records the validators CometBFT starts with.
func genesisValidatorWrites(vals []abci.ValidatorUpdate, height int64) ([]write, error) {
	var out []write
	for _, v := range vals {
		pk := v.PubKey.GetEd25519()
		if len(pk) != 32 {
			return nil, fmt.Errorf("genesis validator key type %T: only Ed25519 validators are supported", v.PubKey.Sum)
		}
		rec := ledger.ValidatorRecord{Address: ledger.ValidatorAddress(pk), PubKey: base64.StdEncoding.EncodeToString(pk), Power: v.Power,
			History: []ledger.ValidatorChange{{Power: v.Power, Height: height}}}
		b, err := marshal(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, write{ledger.ValidatorKey(rec.Address), b})
	}
	return out, nil
}

func (a *App) networkPropose(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	p := t.Payload.Proposal
	pol, err := a.networkPolicy(r)
	if err != nil {
		return nil, nil, err
	}
	content := env.protocolAtLeast(ledger.ContentIDProtocol)
	if content {
		// Protocol 3: the id is the content's hash, so an approval, which
		// names the id, approves exactly this content (a proposer can no
		// longer file "upgrade to protocol 999" as "to-3").
		if want := tx.ProposalID(p); p.ID != want {
			return nil, nil, fmt.Errorf("%w: proposal id %s: from protocol %d on a proposal's id is the hash of its content, and this %s must be filed as %s (medid network files every proposal so)",
				ledger.ErrInvalid, p.ID, ledger.ContentIDProtocol, p.Action, want)
		}
	}
	if v, err := r.Get(ledger.ProposalKey(p.ID)); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ledger.ErrInternal, err)
	} else if v != nil {
		switch {
		case content:
			if err := proposedAgain(r, v, p.ID, env); err != nil {
				return nil, nil, err
			}
		case !tx.IsChangeAction(p.Action):
			return nil, nil, fmt.Errorf("%w: proposal %s (choose another id)", ledger.ErrExists, p.ID)
		default:
			if err := changeProposedAgain(v, p.ID, env); err != nil {
				return nil, nil, err
			}
		}
	}
	var open []ledger.OpenProposal
	if content {
		if open, err = openProposals(r, t.Payload.DID, p.ID, env); err != nil {
			return nil, nil, err
		}
	}
	rec := &ledger.ProposalRecord{
		ID: p.ID, Action: p.Action, Governance: p.Governance, AllowBelowMinimum: p.AllowBelowMinimum,
		Directory: p.Directory, Accreditation: p.Accreditation,
		ProposedBy: t.Payload.DID, Proposed: env.time, Expires: env.time.Add(pol.Lifetime()),
		Approvals: []ledger.Approval{{DID: t.Payload.DID, Recorded: env.time, Height: env.height}},
		Status:    ledger.ProposalOpen, Height: env.height,
	}
	if env.protocolAtLeast(ledger.FilingBlockProtocol) && !env.checkOnly {
		// Protocol 5: the filing is also named by its block's hash
		// (FinalizeBlock checked it has one; CheckTx writes nothing and
		// knows no hash of the next block yet).
		rec.FilingBlock = hex.EncodeToString(env.block)
	}
	if l := p.Layout; l != nil {
		rec.Layout = &ledger.LayoutMove{Layout: ledger.StateLayout(l.Layout), Height: l.Height}
	}
	if u := p.Protocol; u != nil {
		rec.Protocol = &ledger.ProtocolUpgrade{Version: u.Version, Height: u.Height}
	}
	if v := p.Validator; v != nil {
		pub, _ := tx.ParseConsensusKey(v.PubKey) // Payload.Validate checked it
		rec.Validator = &ledger.ProposedValidator{Address: ledger.ValidatorAddress(pub), PubKey: v.PubKey, Power: v.Power, Org: v.Org, Name: v.Name}
	}
	// The change must be possible now, so a proposal that can never pass
	// is refused at once; it is checked again when it is carried.
	changes, err := a.proposalWrites(r, rec, pol, env)
	if err != nil {
		return nil, nil, err
	}
	w, rc, err := a.carry(r, rec, pol, env, changes, &receipt{Type: t.Payload.Type, DID: t.Payload.DID})
	if err != nil || !content {
		return w, rc, err
	}
	// Protocol 3: the proposer's open proposals, this one among them
	// unless it carried at once (it then holds no slot).
	if env.protocolAtLeast(ledger.FilingProtocol) && rec.Status == ledger.ProposalExecuted &&
		rec.Action == ledger.ActionGovernanceRemove && rec.Governance == t.Payload.DID {
		// Protocol 4: the proposer removed itself (a quorum of one): its
		// list was deleted with it (proposalWrites), not written again.
		return w, rc, nil
	}
	if rec.Status == ledger.ProposalOpen {
		open = append(open, ledger.OpenProposal{ID: rec.ID, Height: rec.Height, Expires: rec.Expires})
	}
	if len(open) == 0 {
		// (A removal: a key with nothing open holds no record.)
		return append(w, write{ledger.OpenProposalsKey(t.Payload.DID), nil}), rc, nil
	}
	b, err := marshal(ledger.OpenProposals{Proposals: open})
	if err != nil {
		return nil, nil, err
	}
	return append(w, write{ledger.OpenProposalsKey(t.Payload.DID), b}), rc, nil
}

// openProposals returns the proposals that governance key did filed under
// protocol 3 and that are still open (recorded by that filing, not
// carried, not expired; an entry for id, which is being filed again, is
// dropped), and refuses a new filing when there are
// ledger.MaxOpenProposals of them. It reads one record of the key and at
// most MaxOpenProposals proposal records: the count costs the same
// whatever the number of proposals in the state. A key has one spelling
// only (did:key parsing refuses every other, and a signer must be in
// gov/ under the exact string), so it cannot spread its filings over two
// lists.
func openProposals(r reader, did, id string, env *execEnv) ([]ledger.OpenProposal, error) {
	cur, err := getJSON[ledger.OpenProposals](r, ledger.OpenProposalsKey(did))
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var open []ledger.OpenProposal
	for _, o := range cur.Proposals {
		if o.ID == id || (env.timeKnown && !env.time.Before(o.Expires)) {
			continue
		}
		rec, err := getJSON[ledger.ProposalRecord](r, ledger.ProposalKey(o.ID))
		if errors.Is(err, ledger.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if rec.Status != ledger.ProposalOpen || rec.Height != o.Height || rec.ProposedBy != did {
			continue // carried, or replaced by a later filing of the same content
		}
		open = append(open, o)
	}
	if len(open) >= ledger.MaxOpenProposals && env.timeKnown {
		// (CheckTx right after a restart does not know the block time,
		// so not which have expired: FinalizeBlock decides.)
		first := open[0].Expires
		for _, o := range open[1:] {
			if o.Expires.Before(first) {
				first = o.Expires
			}
		}
		return nil, fmt.Errorf("%w: %s has %d open proposals, the most one governance key may have (protocol %d): wait until one expires (the first at %s) or is carried (the other governance keys approve it), then propose again",
			ledger.ErrQuotaExceeded, did, len(open), ledger.ContentIDProtocol, first.Format("2006-01-02T15:04:05Z07:00"))
	}
	return open, nil
}

// proposedAgain decides, from protocol 3 on, whether content whose
// proposal (stored as old, under the content's id) exists may be filed
// again. The new filing replaces the record and starts with its
// proposer's approval only: approvals count for the filing they were
// given after, never for a later one. An open proposal that has not
// expired is refused (approve it instead), unless it is a cancel that can
// no longer carry (proposed before the block that scheduled what it
// cancels, see staleCancel: otherwise the same cancel could not be filed
// again until the stale one expired). A carried one may be filed again,
// except a directory change or an accreditation (whose content names a
// version or an accreditation id: as under protocol 2): the same
// validator can be added after its removal, the same upgrade scheduled
// after its cancel. An expired one may be filed again, and so may one
// filed under protocol 2 with other content under this id.
func proposedAgain(r reader, old []byte, id string, env *execEnv) error {
	var rec ledger.ProposalRecord
	if err := json.Unmarshal(old, &rec); err != nil {
		return fmt.Errorf("%w: decode proposal %s: %v", ledger.ErrInternal, id, err)
	}
	if env.protocolAtLeast(ledger.FilingProtocol) && rec.Height == env.height {
		// Protocol 4: an approval names a filing by the height of its
		// block, so one content is filed at most once a block.
		return fmt.Errorf("%w: this content was filed in this block already, as %s (height %d): an approval names a filing by its block, so it is filed again in a later block, not this one",
			ledger.ErrExists, id, env.height)
	}
	if rec.ContentID() != id {
		// Filed under protocol 2 with other content under this content's
		// id (a squatter: protocol 2 took any id). It can never be
		// approved now (networkApprove), so it must not keep the content
		// it squats from being filed.
		return nil
	}
	if rec.Status != ledger.ProposalOpen {
		if tx.IsChangeAction(rec.Action) {
			return fmt.Errorf("%w: this change was proposed as %s and carried at height %d", ledger.ErrExists, id, rec.Executed)
		}
		return nil
	}
	if env.timeKnown && !env.time.Before(rec.Expires) {
		return nil
	}
	if !env.timeKnown {
		// (CheckTx right after a restart does not know the block time:
		// FinalizeBlock decides.)
		return nil
	}
	switch rec.Action {
	case ledger.ActionProtocolCancel:
		if cur, err := protocolUpgradeOf(r); err != nil {
			return err
		} else if cur != nil && staleCancel(&rec, "upgrade", cur.Scheduled, cur.Proposal) != nil {
			return nil
		}
	case ledger.ActionLayoutCancel:
		if cur, err := layoutMoveOf(r); err != nil {
			return err
		} else if cur != nil && staleCancel(&rec, "move", cur.Scheduled, cur.Proposal) != nil {
			return nil
		}
	}
	return fmt.Errorf("%w: this change is proposed already, as %s (open until %s): approve it with network.approve", ledger.ErrExists, id, rec.Expires.Format("2006-01-02T15:04:05Z07:00"))
}

func (a *App) networkApprove(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	id := t.Payload.ProposalID
	rec, err := getJSON[ledger.ProposalRecord](r, ledger.ProposalKey(id))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: proposal %s", err, id)
	}
	if rec.Status != ledger.ProposalOpen {
		return nil, nil, fmt.Errorf("%w: proposal %s was carried at height %d", ledger.ErrExists, id, rec.Executed)
	}
	if env.timeKnown && !env.time.Before(rec.Expires) {
		return nil, nil, fmt.Errorf("%w: proposal %s expired at %s: propose it again", ledger.ErrInvalid, id, rec.Expires.Format("2006-01-02T15:04:05Z07:00"))
	}
	if env.protocolAtLeast(ledger.ContentIDProtocol) {
		// A proposal filed under protocol 2 under an id its proposer chose
		// is approved no more: the id would not name its content.
		if want := rec.ContentID(); rec.ID != want {
			return nil, nil, fmt.Errorf("%w: proposal %s was filed under an id its proposer chose (before protocol %d); from protocol %d on an approval names the hash of the content: propose it again (its id is %s) and approve that",
				ledger.ErrInvalid, id, ledger.ContentIDProtocol, ledger.ContentIDProtocol, want)
		}
	}
	if env.protocolAtLeast(ledger.FilingProtocol) {
		if err := approvedFiling(t, rec); err != nil {
			return nil, nil, err
		}
	}
	if env.protocolAtLeast(ledger.FilingBlockProtocol) {
		if err := approvedFilingBlock(t, rec); err != nil {
			return nil, nil, err
		}
	}
	if slices.ContainsFunc(rec.Approvals, func(ap ledger.Approval) bool { return ap.DID == t.Payload.DID }) {
		return nil, nil, fmt.Errorf("%w: %s already approved proposal %s", ledger.ErrExists, t.Payload.DID, id)
	}
	pol, err := a.networkPolicy(r)
	if err != nil {
		return nil, nil, err
	}
	rec.Approvals = append(rec.Approvals, ledger.Approval{DID: t.Payload.DID, Recorded: env.time, Height: env.height})
	changes, err := a.proposalWrites(r, rec, pol, env)
	if err != nil {
		return nil, nil, err
	}
	return a.carry(r, rec, pol, env, changes, &receipt{Type: t.Payload.Type, DID: t.Payload.DID})
}

// approvedFiling refuses, from protocol 4 on, an approval that does not
// name the open filing of rec: the height of the block that filed it
// (rec.Height). The id names the content only, so an approval signed for
// one filing and held back (by a node it passed through, or refused
// because that filing expired or was carried) would otherwise count for
// any later filing of the same content: a validator added again after
// the network removed it, an upgrade scheduled again after its cancel,
// with no key's present consent. A height names one filing: filings of
// one content are at different heights (proposedAgain refuses a second
// in one block), and a later filing is at a later height.
func approvedFiling(t *tx.Tx, rec *ledger.ProposalRecord) error {
	f, ok := t.Payload.FilingHeight()
	switch {
	case !ok:
		return fmt.Errorf("%w: from protocol %d on an approval names the filing it approves, and this one names none: proposal %s was filed at height %d; sign the approval again naming filing %d (medid network approve does)",
			ledger.ErrInvalid, ledger.FilingProtocol, rec.ID, rec.Height, rec.Height)
	case f != rec.Height:
		return fmt.Errorf("%w: this approval names the filing of proposal %s at height %d, and the open filing is the one at height %d: an approval counts only for the filing it names (sign it again naming filing %d)",
			ledger.ErrInvalid, rec.ID, f, rec.Height, rec.Height)
	}
	return nil
}

// approvedFilingBlock refuses, from protocol 5 on, an approval of a
// filing made under 5 (rec.FilingBlock set) that does not carry the hash
// of the filing's block, or carries another; and an approval of a filing
// made before 5 (no FilingBlock) that carries one. A height can be
// predicted: a node that showed an approver a filing at a height still to
// come would hold an approval that counts for a filing of the same
// content in exactly that block, signed long before and perhaps after the
// key stopped consenting. A block's hash exists only once the block does,
// so an approval that names it was signed after the filing. A filing made
// before 5 is approved by its height alone: it lies in the past, so its
// height was not a guess. Checked after approvedFiling, so an approval
// naming another height is told that first.
func approvedFilingBlock(t *tx.Tx, rec *ledger.ProposalRecord) error {
	b, ok := t.Payload.FilingBlockHash()
	switch {
	case rec.FilingBlock == "" && ok:
		return fmt.Errorf("%w: this approval names the filing of proposal %s by block %s, and that filing (height %d) was made before protocol %d and is named by its height alone: sign the approval again naming filing %d without filingBlock",
			ledger.ErrInvalid, rec.ID, b, rec.Height, ledger.FilingBlockProtocol, rec.Height)
	case rec.FilingBlock == "":
		return nil
	case !ok:
		return fmt.Errorf("%w: from protocol %d on an approval names the filing it approves by its block's hash too, and this one names none: proposal %s was filed at height %d in block %s; sign the approval again naming filing %d and filingBlock %s (medid network approve does)",
			ledger.ErrInvalid, ledger.FilingBlockProtocol, rec.ID, rec.Height, rec.FilingBlock, rec.Height, rec.FilingBlock)
	case b != rec.FilingBlock:
		return fmt.Errorf("%w: this approval names the filing of proposal %s at height %d in block %s, and the open filing was made in block %s: an approval counts only for the filing it names (sign it again naming filing %d and filingBlock %s)",
			ledger.ErrInvalid, rec.ID, rec.Height, b, rec.FilingBlock, rec.Height, rec.FilingBlock)
	}
	return nil
}

// changeProposedAgain decides whether a directory or accreditation change
// whose proposal (stored as old) exists may be proposed again: its id is
// the hash of its content, so the same change always has the same id, and
// only an open proposal that expired unapproved may start over (its
// approvals are dropped). One that is open or was carried is refused.
func changeProposedAgain(old []byte, id string, env *execEnv) error {
	var rec ledger.ProposalRecord
	if err := json.Unmarshal(old, &rec); err != nil {
		return fmt.Errorf("%w: decode proposal %s: %v", ledger.ErrInternal, id, err)
	}
	switch {
	case rec.Status != ledger.ProposalOpen:
		return fmt.Errorf("%w: this change was proposed as %s and carried at height %d", ledger.ErrExists, id, rec.Executed)
	case env.timeKnown && env.time.Before(rec.Expires):
		// (CheckTx right after a restart does not know the block time:
		// FinalizeBlock decides.)
		return fmt.Errorf("%w: this change is proposed already, as %s (open until %s): approve it with network.approve", ledger.ErrExists, id, rec.Expires.Format("2006-01-02T15:04:05Z07:00"))
	}
	return nil
}

// oneKeyMayWrite refuses a directory write or an accreditation signed by
// one governance key when the network's policy asks a quorum for them and
// one approval is not the quorum (docs/design/0019): the change must then
// be proposed (network.propose with the transaction's type as action) and
// approved. A network without the policy, every chain made before it,
// keeps the rule of one signature.
func (a *App) oneKeyMayWrite(r reader, typ tx.Type) error {
	pol, err := a.networkPolicy(r)
	if err != nil || !pol.DirectoryQuorum {
		return err
	}
	govs, err := countPrefix(r, ledger.PrefixGovernance, nil)
	if err != nil {
		return err
	}
	if pol.QuorumFor(govs) {
		return fmt.Errorf("%w: this network writes %s only with the approval of %d of its %d governance keys: propose it (network.propose, action %s; medid proposes it for you) and have the others approve it",
			ledger.ErrUnauthorized, typ, pol.Needed(govs), govs, typ)
	}
	return nil
}

// carry writes the proposal record and, once enough current governance
// keys approved, the changes it makes.
func (a *App) carry(r reader, rec *ledger.ProposalRecord, pol ledger.NetworkPolicy, env *execEnv, changes []write, rc *receipt) ([]write, *receipt, error) {
	govs, err := countPrefix(r, ledger.PrefixGovernance, nil)
	if err != nil {
		return nil, nil, err
	}
	approved := 0
	for _, ap := range rec.Approvals {
		// Only keys that govern now count: a key removed since it
		// approved no longer speaks for the network.
		if g, err := r.Get(ledger.GovernanceKey(ap.DID)); err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ledger.ErrInternal, err)
		} else if g != nil {
			approved++
		}
	}
	rc.ProposalID = rec.ID
	var out []write
	if approved >= pol.Needed(govs) {
		rec.Status, rec.Executed = ledger.ProposalExecuted, env.height
		rc.Executed = true
		out = changes
	}
	b, err := marshal(rec)
	if err != nil {
		return nil, nil, err
	}
	return append(out, write{ledger.ProposalKey(rec.ID), b}), rc, nil
}

// proposalWrites checks rec's change against state r and returns the
// writes that make it.
func (a *App) proposalWrites(r reader, rec *ledger.ProposalRecord, pol ledger.NetworkPolicy, env *execEnv) ([]write, error) {
	switch rec.Action {
	case ledger.ActionValidatorAdd, ledger.ActionValidatorPower, ledger.ActionValidatorRemove:
		return a.validatorWrites(r, rec, pol, env)
	case ledger.ActionGovernanceAdd:
		if _, err := did.ParseKeyDID(rec.Governance); err != nil {
			return nil, fmt.Errorf("%w: governance %s: %v", ledger.ErrInvalid, rec.Governance, err)
		}
		if g, err := r.Get(ledger.GovernanceKey(rec.Governance)); err != nil {
			return nil, fmt.Errorf("%w: %v", ledger.ErrInternal, err)
		} else if g != nil {
			return nil, fmt.Errorf("%w: %s is a governance key already", ledger.ErrExists, rec.Governance)
		}
		b, err := marshal(ledger.GovernanceRecord{DID: rec.Governance})
		if err != nil {
			return nil, err
		}
		return []write{{ledger.GovernanceKey(rec.Governance), b}}, nil
	case ledger.ActionGovernanceRemove:
		if g, err := r.Get(ledger.GovernanceKey(rec.Governance)); err != nil {
			return nil, fmt.Errorf("%w: %v", ledger.ErrInternal, err)
		} else if g == nil {
			return nil, fmt.Errorf("%w: %s is not a governance key", ledger.ErrNotFound, rec.Governance)
		}
		govs, err := countPrefix(r, ledger.PrefixGovernance, nil)
		if err != nil {
			return nil, err
		}
		if govs <= 1 {
			return nil, fmt.Errorf("%w: %s is the last governance key: add its successor first", ledger.ErrInvalid, rec.Governance)
		}
		if env.protocolAtLeast(ledger.FilingProtocol) {
			// Protocol 4: the key's list of open proposals goes with it
			// (below 4 it stayed, and counted again if the key came back).
			return []write{{ledger.GovernanceKey(rec.Governance), nil}, {ledger.OpenProposalsKey(rec.Governance), nil}}, nil
		}
		return []write{{ledger.GovernanceKey(rec.Governance), nil}}, nil
	case tx.ActionDirectoryAdd, tx.ActionDirectoryUpdate, tx.ActionDirectorySuspend, tx.ActionDirectoryRemove:
		p := changePayload(rec)
		w, _, err := a.directoryChange(r, &p, rec.ID, env)
		return w, err
	case tx.ActionIssuerAccredit:
		p := changePayload(rec)
		w, _, err := a.accredit(r, &p, rec.ID, env)
		return w, err
	case tx.ActionIssuerRevoke:
		p := changePayload(rec)
		w, _, err := a.revokeAccreditation(r, &p, rec.ID, env)
		return w, err
	case ledger.ActionDirectoryQuorum:
		if pol.DirectoryQuorum {
			return nil, fmt.Errorf("%w: this network's directory writes and accreditations need the quorum already", ledger.ErrExists)
		}
		next := pol
		next.DirectoryQuorum = true
		b, err := marshal(next)
		if err != nil {
			return nil, err
		}
		return []write{{[]byte(ledger.KeyNetworkPolicy), b}}, nil
	case ledger.ActionLayoutSchedule, ledger.ActionLayoutCancel:
		return layoutWrites(r, rec, env)
	case ledger.ActionProtocolSchedule, ledger.ActionProtocolCancel:
		return protocolWrites(r, rec, env)
	}
	return nil, fmt.Errorf("%w: proposal action %q", ledger.ErrMalformed, rec.Action)
}

// changePayload is the transaction a directory or accreditation
// proposal stands for, acting as its proposer (who is named as the
// change's author in the entry's history; the proposal id names the
// quorum that carried it).
func changePayload(rec *ledger.ProposalRecord) tx.Payload {
	p := tx.Proposal{Action: rec.Action, Directory: rec.Directory, Accreditation: rec.Accreditation}
	return p.Payload(rec.ProposedBy)
}

func (a *App) validatorWrites(r reader, rec *ledger.ProposalRecord, pol ledger.NetworkPolicy, env *execEnv) ([]write, error) {
	pv := rec.Validator
	cur, err := getJSON[ledger.ValidatorRecord](r, ledger.ValidatorKey(pv.Address))
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return nil, err
	}
	active := cur != nil && cur.Power > 0
	next := ledger.ValidatorRecord{Address: pv.Address, PubKey: pv.PubKey}
	if cur != nil {
		next = *cur
	}
	switch rec.Action {
	case ledger.ActionValidatorAdd:
		if active {
			return nil, fmt.Errorf("%w: validator %s is in the set (power %d): use validator.power to change it", ledger.ErrExists, pv.Address, cur.Power)
		}
		if pv.Power > pol.MaxPower {
			return nil, fmt.Errorf("%w: power %d is above the network's maximum %d", ledger.ErrInvalid, pv.Power, pol.MaxPower)
		}
		if err := checkOrg(r, pv.Org); err != nil {
			return nil, err
		}
		next.Power, next.Org, next.Name = pv.Power, pv.Org, pv.Name
	case ledger.ActionValidatorPower:
		if !active {
			return nil, fmt.Errorf("%w: validator %s is not in the set", ledger.ErrNotFound, pv.Address)
		}
		if pv.Power > pol.MaxPower {
			return nil, fmt.Errorf("%w: power %d is above the network's maximum %d", ledger.ErrInvalid, pv.Power, pol.MaxPower)
		}
		if pv.Power == cur.Power {
			return nil, fmt.Errorf("%w: validator %s already has power %d", ledger.ErrInvalid, pv.Address, pv.Power)
		}
		next.Power = pv.Power
	case ledger.ActionValidatorRemove:
		if !active {
			return nil, fmt.Errorf("%w: validator %s is not in the set", ledger.ErrNotFound, pv.Address)
		}
		n, err := countPrefix(r, ledger.PrefixValidator, activeValidator)
		if err != nil {
			return nil, err
		}
		if n <= 1 {
			return nil, fmt.Errorf("%w: %s is the last validator: the network would stop", ledger.ErrInvalid, pv.Address)
		}
		if n-1 < pol.MinValidators && !rec.AllowBelowMinimum {
			return nil, fmt.Errorf("%w: %w: removing %s leaves %d validators, the network's minimum is %d (a set of 4 survives one faulty node); add another hospital first, or propose with allowBelowMinimum",
				ledger.ErrInvalid, ledger.ErrBelowMinimum, pv.Address, n-1, pol.MinValidators)
		}
		next.Power = 0
	}
	next.History = append(slices.Clone(next.History), ledger.ValidatorChange{Power: next.Power, Proposal: rec.ID, Recorded: env.time, Height: env.height})
	b, err := marshal(next)
	if err != nil {
		return nil, err
	}
	return []write{{ledger.ValidatorKey(pv.Address), b}}, nil
}

// checkOrg accepts the DID of the organisation running a validator: a
// registered, active did:medid or a valid did:key.
// TODO(issue 13): require an active entry in the directory once it lands.
func checkOrg(r reader, org string) error {
	if err := checkIssuer(r, org); err != nil {
		return fmt.Errorf("validator org: %w", err)
	}
	return nil
}

// noteValidator turns a write of a validator record into the block's
// update of that validator (the last write of the block wins, as CometBFT
// accepts one update per validator and block).
func (a *App) noteValidator(w write) {
	var rec ledger.ValidatorRecord
	if err := json.Unmarshal(w.value, &rec); err != nil {
		panic(fmt.Sprintf("registry: a validator record this app wrote does not decode: %v", err))
	}
	pk, err := base64.StdEncoding.DecodeString(rec.PubKey)
	if err != nil {
		panic(fmt.Sprintf("registry: validator %s key: %v", rec.Address, err))
	}
	if a.pendingVals == nil {
		a.pendingVals = map[string]abci.ValidatorUpdate{}
	}
	a.pendingVals[rec.Address] = abci.ValidatorUpdate{
		PubKey: cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: pk}}, Power: rec.Power}
}

// validatorUpdates returns the block's updates in address order.
func (a *App) validatorUpdates() []abci.ValidatorUpdate {
	if len(a.pendingVals) == 0 {
		return nil
	}
	addrs := make([]string, 0, len(a.pendingVals))
	for k := range a.pendingVals {
		addrs = append(addrs, k)
	}
	slices.Sort(addrs)
	out := make([]abci.ValidatorUpdate, len(addrs))
	for i, k := range addrs {
		out[i] = a.pendingVals[k]
	}
	return out
}

func isValidatorKey(k []byte) bool { return bytes.HasPrefix(k, []byte(ledger.PrefixValidator)) }

// Validators returns every validator the network has had, current ones
// first (by power, then address), removed ones (power 0) after.
func (a *App) Validators() ([]ledger.ValidatorRecord, error) {
	view, _ := a.view()
	var out []ledger.ValidatorRecord
	var derr error
	view.IterateRange([]byte(ledger.PrefixValidator), prefixEnd(ledger.PrefixValidator), true, func(_, v []byte) bool {
		var rec ledger.ValidatorRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			derr = fmt.Errorf("%w: decode validator record: %v", ledger.ErrInternal, err)
			return true
		}
		out = append(out, rec)
		return false
	})
	slices.SortStableFunc(out, func(x, y ledger.ValidatorRecord) int {
		if x.Power != y.Power {
			if x.Power > y.Power {
				return -1
			}
			return 1
		}
		return strings.Compare(x.Address, y.Address)
	})
	return out, derr
}

// Proposal returns a governance proposal with its approvals, or an error
// wrapping ErrNotFound.
func (a *App) Proposal(id string) (*ledger.ProposalRecord, error) {
	if !ledger.ValidKeyPart(id) {
		return nil, fmt.Errorf("%w: proposal %.128q", ledger.ErrNotFound, id)
	}
	view, _ := a.view()
	rec, err := getJSON[ledger.ProposalRecord](view, ledger.ProposalKey(id))
	if err != nil {
		return nil, fmt.Errorf("%w: proposal %s", err, id)
	}
	return rec, nil
}

// Proposals returns every proposal, open ones first, each group by id.
func (a *App) Proposals() ([]ledger.ProposalRecord, error) {
	view, _ := a.view()
	var out []ledger.ProposalRecord
	var derr error
	view.IterateRange([]byte(ledger.PrefixProposal), prefixEnd(ledger.PrefixProposal), true, func(_, v []byte) bool {
		var rec ledger.ProposalRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			derr = fmt.Errorf("%w: decode proposal: %v", ledger.ErrInternal, err)
			return true
		}
		out = append(out, rec)
		return false
	})
	slices.SortStableFunc(out, func(x, y ledger.ProposalRecord) int {
		if (x.Status == ledger.ProposalOpen) != (y.Status == ledger.ProposalOpen) {
			if x.Status == ledger.ProposalOpen {
				return -1
			}
			return 1
		}
		return 0
	})
	return out, derr
}

// NetworkPolicy returns the governance rule of the network (from genesis).
func (a *App) NetworkPolicy() (ledger.NetworkPolicy, error) {
	view, _ := a.view()
	return a.networkPolicy(view)
}

// KeyValidatorChange marks a validator change awaiting its block: CometBFT
// applies a block's ValidatorUpdates two blocks later, and makes blocks
// only for transactions or a changed app hash. FinalizeBlock writes the
// mark in the block of the change and removes it in the next, so that
// block changes the app hash too and CometBFT makes the one after it, the
// first the new set signs, without waiting for a transaction.
var keyValidatorChange = []byte("net/change")

// markValidatorChange writes or clears the mark (see keyValidatorChange)
// in the working state of block height.
func (a *App) markValidatorChange(height int64, changed bool) error {
	if changed {
		v, err := marshal(struct {
			Block     int64 `json:"block"`
			Effective int64 `json:"effective"`
		}{height, height + 2})
		if err != nil {
			return err
		}
		_, err = a.tree.Set(keyValidatorChange, v)
		return err
	}
	if v, err := a.tree.Get(keyValidatorChange); err != nil {
		return err
	} else if v != nil {
		_, _, err = a.tree.Remove(keyValidatorChange)
		return err
	}
	return nil
}
