package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Network returns GET /1.0/network: the validators (with their history),
// governance DIDs and rule, and how to reach the node asked. It is not
// proven (see ledger.NetworkInfo); the validator records it lists are also
// readable with proofs one by one.
func (c *Client) Network(ctx context.Context) (*ledger.NetworkInfo, error) {
	var out ledger.NetworkInfo
	if err := c.getJSON(ctx, "/1.0/network", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Genesis returns the network's genesis file, byte for byte, as the node
// asked runs it. A joining node should check it against a copy from
// another hospital (its hash is the chain's identity).
func (c *Client) Genesis(ctx context.Context) ([]byte, error) {
	u := *c.base
	u.Path = c.base.Path + "/1.0/network/genesis"
	resp, body, err := c.get(ctx, u.String(), "application/json")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, problemFrom(resp, body)
	}
	return body, nil
}

// Proposals lists the network's governance proposals, open ones first.
func (c *Client) Proposals(ctx context.Context) ([]ledger.ProposalRecord, error) {
	var out []ledger.ProposalRecord
	if err := c.getJSON(ctx, "/1.0/network/proposals", &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Proposal returns a governance proposal with its approvals (proven when
// the client verifies proofs). An unknown id is an error wrapping
// ledger.ErrNotFound.
func (c *Client) Proposal(ctx context.Context, id string) (*ledger.ProposalRecord, error) {
	resp, body, err := c.get(ctx, c.endpoint("/1.0/network/proposals/"+url.PathEscape(id), nil), "application/json")
	if err != nil {
		return nil, err
	}
	value := body
	if c.verify {
		p, err := c.proven(ctx, resp, ledger.ProposalKey(id))
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, problemFrom(resp, body)
		}
		if p.Value == nil {
			return nil, fmt.Errorf("%w: proposal %s (proven absent at height %d)", ledger.ErrNotFound, id, p.Height)
		}
		value = p.Value
	} else if resp.StatusCode != http.StatusOK {
		return nil, problemFrom(resp, body)
	}
	var rec ledger.ProposalRecord
	if err := json.Unmarshal(value, &rec); err != nil || rec.ID != id {
		return nil, fmt.Errorf("%w: proposal %s", ErrUnexpected, id)
	}
	return &rec, nil
}

// Propose signs the network.propose of p with the governance key gov,
// submits it, and returns the proposal as recorded by the block (open, or
// already carried when gov's approval alone meets the quorum). A refusal
// is a *ProblemError wrapping the ledger's sentinel (ledger.ErrUnauthorized
// for a key that does not govern, ledger.ErrInvalid for a change the rules
// forbid, such as going below the minimum of validators).
func (c *Client) Propose(ctx context.Context, gov *key.PrivateKey, p tx.Proposal) (*ledger.ProposalRecord, *TxResult, error) {
	payload, err := tx.NewNetworkProposal(did.KeyDID(gov.Public()), p)
	if err != nil {
		return nil, nil, err
	}
	return c.governanceTx(ctx, gov, payload, payload.Proposal.ID)
}

// Approve reads proposal id and approves the filing it read
// ([Client.ApproveFiling]); it returns the proposal after the block
// (carried once enough current governance keys approved). An unknown id
// is an error wrapping ledger.ErrNotFound, nothing submitted.
func (c *Client) Approve(ctx context.Context, gov *key.PrivateKey, id string) (*ledger.ProposalRecord, *TxResult, error) {
	rec, err := c.Proposal(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return c.ApproveFiling(ctx, gov, rec)
}

// ApproveFiling signs and submits gov's network.approve of the filing of
// proposal rec (as read from the registry: rec.ID, rec.Height, the block
// that filed it, and rec.FilingBlock, that block's hash) and returns the
// proposal after the block. On a network whose next block executes by
// protocol 4 or later (ledger.FilingProtocol) the approval names the
// filing by its height, so it counts for that filing only, never for a
// later filing of the same content; below 4 it names none (such a chain
// refuses the member). From protocol 5 on (ledger.FilingBlockProtocol) it
// also names a filing made under 5 by its block's hash, which no one knew
// before that block, so an approval signed for a height a node showed
// ahead of time counts for no filing; a filing made before 5 (no
// FilingBlock) is named by its height alone. A record that names a block
// on a network below 5 is an answer no registry gives: nothing is signed.
// The caller checks that rec is what it means to approve (its content id,
// tx.ProposalID) before.
func (c *Client) ApproveFiling(ctx context.Context, gov *key.PrivateKey, rec *ledger.ProposalRecord) (*ledger.ProposalRecord, *TxResult, error) {
	named, block, err := c.approvalsNameFiling(ctx)
	if err != nil {
		return nil, nil, err
	}
	if rec.FilingBlock != "" && !block {
		return nil, nil, fmt.Errorf("%w: proposal %s names its filing's block %.80q, and the network's next block executes below protocol %d, which has no such name: nothing signed",
			ErrUnexpected, rec.ID, rec.FilingBlock, ledger.FilingBlockProtocol)
	}
	gd := did.KeyDID(gov.Public())
	var payload *tx.Payload
	switch {
	case rec.FilingBlock != "":
		payload, err = tx.NewNetworkApprovalOfBlock(gd, rec.ID, rec.Height, rec.FilingBlock)
	case named:
		payload, err = tx.NewNetworkApprovalOf(gd, rec.ID, rec.Height)
	default:
		payload, err = tx.NewNetworkApproval(gd, rec.ID)
	}
	if err != nil {
		return nil, nil, err
	}
	return c.governanceTx(ctx, gov, payload, rec.ID)
}

// approvalsNameFiling reports whether the network executes its next block
// by protocol ledger.FilingProtocol or later (an approval names its
// filing's height) and by ledger.FilingBlockProtocol or later (it may name
// its filing's block), by GET /1.0/network: the protocol of the state and
// the upgrade scheduled. A registry that serves no network information
// (404) or no protocol predates protocol 4.
func (c *Client) approvalsNameFiling(ctx context.Context) (filing, block bool, err error) {
	ni, err := c.networkIfServed(ctx)
	switch {
	case err != nil:
		return false, false, fmt.Errorf("read the network's protocol: %w", err)
	case ni == nil:
		return false, false, nil
	}
	return ledger.ApprovalNamesFiling(ni.Protocol, ni.Height), ledger.ApprovalNamesFilingBlock(ni.Protocol, ni.Height), nil
}

// networkIfServed is [Client.Network], or nil and no error from a
// registry that serves no network information (404): one that predates
// the network's policy and protocols.
func (c *Client) networkIfServed(ctx context.Context) (*ledger.NetworkInfo, error) {
	ni, err := c.Network(ctx)
	var pe *ProblemError
	if errors.As(err, &pe) && pe.Status == http.StatusNotFound {
		return nil, nil
	}
	return ni, err
}

func (c *Client) governanceTx(ctx context.Context, gov *key.PrivateKey, p *tx.Payload, id string) (*ledger.ProposalRecord, *TxResult, error) {
	signed, err := tx.Sign(p, gov, did.KeyDID(gov.Public())+"#"+gov.Public().Multikey())
	if err != nil {
		return nil, nil, err
	}
	res, err := c.Submit(ctx, signed)
	if err != nil {
		return nil, nil, err
	}
	rec, err := c.Proposal(ctx, id)
	if err != nil {
		return nil, res, err
	}
	return rec, res, nil
}

// getJSON GETs path and decodes a 200 JSON answer into v.
func (c *Client) getJSON(ctx context.Context, path string, v any) error {
	u := *c.base
	u.Path = c.base.Path + path
	resp, body, err := c.get(ctx, u.String(), "application/json")
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return problemFrom(resp, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnexpected, path, err)
	}
	return nil
}

// SubmitChange submits the directory.* or issuer.* payload p (built with
// the tx builders, its DID the governance did:key of gov), signed by gov:
// as it is when one governance signature writes on this network, or as
// its proposal (tx.NewChangeProposal, the id the hash of the change) when
// the network's policy asks a quorum of governance keys for it
// (ledger.NetworkPolicy.QuorumFor; docs/design/0019). It returns the
// block's result and, for a proposal, the proposal as recorded (open
// until the others approve it); nil when p was written at once. A
// registry that serves no network information (404) predates the policy:
// p is submitted as it is. Refusals are *ProblemError as for Submit.
func (c *Client) SubmitChange(ctx context.Context, gov *key.PrivateKey, p *tx.Payload) (*TxResult, *ledger.ProposalRecord, error) {
	ni, err := c.networkIfServed(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read the network's governance rule: %w", err)
	}
	quorum := ni != nil && ni.Policy.QuorumFor(len(ni.Governance))
	kid := did.KeyDID(gov.Public()) + "#" + gov.Public().Multikey()
	if !quorum {
		signed, err := tx.Sign(p, gov, kid)
		if err != nil {
			return nil, nil, err
		}
		res, err := c.Submit(ctx, signed)
		return res, nil, err
	}
	prop, err := tx.NewChangeProposal(p)
	if err != nil {
		return nil, nil, err
	}
	rec, res, err := c.governanceTx(ctx, gov, prop, prop.Proposal.ID)
	return res, rec, err
}
