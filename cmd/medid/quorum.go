package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// governedChange submits the directory.* or issuer.* payload p signed by
// gov, or its proposal when the network asks a quorum for it
// (client.SubmitChange), and explains a refusal.
func governedChange(ctx context.Context, c *client.Client, gov *key.PrivateKey, p *tx.Payload, what string) (*client.TxResult, *ledger.ProposalRecord, error) {
	res, rec, err := c.SubmitChange(ctx, gov, p)
	switch {
	case err != nil && res != nil:
		return nil, nil, unreachable(fmt.Errorf("the proposal of %s was recorded at block %d, but reading it back failed: %w", what, res.Height, err))
	case err != nil:
		return nil, nil, submitError(err, what)
	}
	return res, rec, nil
}

// describeProposal says in words what a proposal changes.
func describeProposal(rec *ledger.ProposalRecord) string {
	if d := rec.Directory; d != nil {
		switch rec.Action {
		case tx.ActionDirectoryAdd:
			return fmt.Sprintf("add %s to the directory as %q (%s, %s)", d.Org, d.Entry.DisplayName, d.Entry.Kind, d.Entry.Country) + entryDetails(d.Entry)
		case tx.ActionDirectoryUpdate:
			return fmt.Sprintf("update %s in the directory to %q (%s, %s; version %d)", d.Org, d.Entry.DisplayName, d.Entry.Kind, d.Entry.Country, d.Version) + entryDetails(d.Entry)
		case tx.ActionDirectorySuspend:
			return fmt.Sprintf("suspend %s in the directory (version %d): %s", d.Org, d.Version, d.Reason)
		case tx.ActionDirectoryRemove:
			return fmt.Sprintf("remove %s from the directory (version %d): %s", d.Org, d.Version, d.Reason)
		}
	}
	if a := rec.Accreditation; a != nil {
		switch rec.Action {
		case tx.ActionIssuerAccredit:
			s := fmt.Sprintf("accredit %s for %s from %s", a.Issuer, strings.Join(a.CredentialTypes, ", "), a.ValidFrom)
			if a.ValidUntil != "" {
				s += " until " + a.ValidUntil
			}
			return s + " (accreditation " + a.AccreditationID + ")"
		case tx.ActionIssuerRevoke:
			s := fmt.Sprintf("revoke accreditation %s of %s", a.AccreditationID, a.Issuer)
			if a.RevokedAt != "" {
				s += " from " + a.RevokedAt
			}
			return s
		}
	}
	what := rec.Action
	if v := rec.Validator; v != nil {
		what += " " + validatorShown(v)
		if v.Power > 0 {
			what += fmt.Sprintf(" power %d", v.Power)
		}
		if v.Org != "" {
			what += " org " + v.Org
		}
	}
	if rec.Governance != "" {
		what += " " + rec.Governance
	}
	if sub := scheduleSubject(rec); sub != "" {
		what += " to " + sub
	}
	if rec.Action == ledger.ActionDirectoryQuorum {
		what += ": directory changes and accreditations need the quorum from then on"
	}
	return what
}

// entryDetails names what else a directory entry a proposal writes
// grants, which its id hashes and an approval therefore approves: each
// role, and the DID it is performed under (the directory then answers a
// lookup of that DID with the organisation, so an approver must see it),
// the names it was checked distinct from, its website and logo. It is ""
// for an entry with none of them.
func entryDetails(e *tx.DirectoryEntry) string {
	var parts []string
	if len(e.Roles) > 0 {
		var rs []string
		for _, r := range e.Roles {
			if r.DID != "" {
				rs = append(rs, r.Role+" as "+r.DID)
			} else {
				rs = append(rs, r.Role)
			}
		}
		parts = append(parts, "roles "+strings.Join(rs, ", "))
	}
	if len(e.DistinctFrom) > 0 {
		parts = append(parts, "distinct from "+strings.Join(e.DistinctFrom, ", "))
	}
	if e.Website != "" {
		parts = append(parts, "website "+e.Website)
	}
	if e.Logo != nil {
		parts = append(parts, "logo sha256 "+e.Logo.SHA256)
	}
	if len(parts) == 0 {
		return ""
	}
	return " with " + strings.Join(parts, "; ")
}

// validatorShown names a proposal's validator by the address of its key,
// which the proposal's id hashes, rather than by the address the registry
// served beside it, which the id does not hash (a node could serve
// another validator's).
func validatorShown(v *ledger.ProposedValidator) string {
	pub, err := tx.ParseConsensusKey(v.PubKey)
	if err != nil {
		return fmt.Sprintf("(key %.64q is not a consensus key)", v.PubKey)
	}
	return ledger.ValidatorAddress(pub)
}

// checkContentID refuses a proposal whose id is not the hash of the
// content the registry showed for it (tx.ProposalID), or that shows a
// validator address other than its key's (ProposalRecord.CheckDerived):
// approving that id would approve something else than what is shown, or, for a proposal
// filed under an id its proposer chose (protocol 2 takes such ids), what
// the registry's answer cannot prove.
func checkContentID(rec *ledger.ProposalRecord) error {
	want := rec.ContentID()
	switch {
	case want == rec.ID:
		// The id hashes the validator's key, not its address, which is
		// what is shown: a node could show one validator's address over
		// another's key.
		if err := rec.CheckDerived(); err != nil {
			return &exitError{code: exitInvalid, err: fmt.Errorf("the registry shows %v: it is not what that id approves; not approved (ask another node)", err)}
		}
		return nil
	case rec.ChangeID() != "":
		return &exitError{code: exitInvalid, err: fmt.Errorf("the registry shows proposal %s with content whose id is %s: it is not what that id approves; not approved (ask another node)", rec.ID, want)}
	}
	return &exitError{code: exitInvalid, err: fmt.Errorf("proposal %s was filed under an id its proposer chose, not the hash of its content (%s): an approval of %s approves whatever the network recorded under it, which this answer cannot prove; not approved (have it proposed again with medid, which files it as %s; protocol 3 approves no other)", rec.ID, want, rec.ID, want)}
}

// proposalSubject names what a proposal is about in `network proposals`:
// a directory change by the organisation's name (the name it would get,
// or for a suspension or removal the name it has), an accreditation by
// the issuer's directory name when it has one.
func proposalSubject(ctx context.Context, c *client.Client, rec *ledger.ProposalRecord) string {
	nameOf := func(d string) string {
		if r, err := c.Directory(ctx, d); err == nil && r.Current() != nil {
			return fmt.Sprintf("%q %s", r.Current().Entry.DisplayName, d)
		}
		return d
	}
	switch {
	case rec.Directory != nil && rec.Directory.Entry != nil:
		return fmt.Sprintf("%q %s", rec.Directory.Entry.DisplayName, rec.Directory.Org)
	case rec.Directory != nil:
		return nameOf(rec.Directory.Org)
	case rec.Accreditation != nil:
		return nameOf(rec.Accreditation.Issuer) + " " + rec.Accreditation.AccreditationID
	case rec.Validator != nil:
		return validatorShown(rec.Validator)
	case rec.Layout != nil || rec.Protocol != nil:
		return scheduleSubject(rec)
	}
	return rec.Governance
}

// networkDirectoryQuorum proposes turning the network's directoryQuorum
// on.
func networkDirectoryQuorum(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "network directory-quorum", "medid network directory-quorum --governance-key FILE [--registry URL]")
	pf := addProposalFlags(fs, "")
	if err := pf.parse(fs, args); err != nil {
		return err
	}
	return pf.propose(ctx, e, tx.Proposal{Action: tx.ActionDirectoryQuorum})
}
