package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

func init() {
	commands["network"] = command{summary: "govern the validator network: add, re-weight and remove validators, approve proposals (directory changes and accreditations too), rotate governance keys, move the state layout, upgrade the protocol at a height", run: runNetwork}
}

func runNetwork(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "network", map[string]func([]string) error{
		"validator":        func(a []string) error { return runNetworkValidator(ctx, e, a) },
		"governance":       func(a []string) error { return runNetworkGovernance(ctx, e, a) },
		"approve":          func(a []string) error { return networkApprove(ctx, e, a) },
		"proposals":        func(a []string) error { return networkProposals(ctx, e, a) },
		"directory-quorum": func(a []string) error { return networkDirectoryQuorum(ctx, e, a) },
		"layout":           func(a []string) error { return runNetworkLayout(ctx, e, a) },
		"upgrade":          func(a []string) error { return runNetworkUpgrade(ctx, e, a) },
	}, []string{"validator", "governance", "approve", "proposals", "directory-quorum", "layout", "upgrade"}, args)
}

// layoutStatus says the chain's state layout and the move scheduled.
func layoutStatus(ctx context.Context, e *env, args []string) error {
	ni, err := readNetwork(ctx, e, newFlagSet(e, "network layout status", "medid network layout status [--registry URL]"), args)
	if err != nil {
		return err
	}
	switch {
	case ni.StateLayout == 0:
		return fmt.Errorf("the registry at height %d does not say its state layout (a release from before layout moves): upgrade it", ni.Height)
	case ni.LayoutMove != nil && ni.LayoutMove.Cursor != "":
		m := ni.LayoutMove
		fmt.Fprintf(e.stdout, "state layout %d at height %d; move to layout %d under way since height %d (proposal %s): %d DIDs moved, %d per block\n",
			ni.StateLayout, ni.Height, m.Layout, m.Height, m.Proposal, m.Moved, ledger.LayoutMoveChunk)
	case ni.LayoutMove != nil:
		m := ni.LayoutMove
		fmt.Fprintf(e.stdout, "state layout %d at height %d; move to layout %d scheduled at height %d (proposal %s, carried at block %d), %d blocks from now\n",
			ni.StateLayout, ni.Height, m.Layout, m.Height, m.Proposal, m.Scheduled, max(m.Height-ni.Height, 0))
		fmt.Fprintf(e.stdout, "cancel it with: medid network layout cancel --governance-key FILE (and %d approvals)\n", ni.Policy.Needed(len(ni.Governance)))
	case ni.StateLayout == ledger.LayoutRecordsOnce:
		fmt.Fprintf(e.stdout, "state layout %d at height %d: each record stored once; nothing to move\n", ni.StateLayout, ni.Height)
	default:
		fmt.Fprintf(e.stdout, "state layout %d at height %d; no move scheduled\n", ni.StateLayout, ni.Height)
		fmt.Fprintf(e.stdout, "schedule the move to layout 2 at height %d or later (%d blocks after the block that carries it): medid network layout schedule --governance-key FILE --height H\n",
			ni.Height+1+ledger.MinLayoutMoveLead, ledger.MinLayoutMoveLead)
	}
	return nil
}

func runNetworkValidator(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "network validator", map[string]func([]string) error{
		"add":    func(a []string) error { return validatorPropose(ctx, e, tx.ActionValidatorAdd, a) },
		"power":  func(a []string) error { return validatorPropose(ctx, e, tx.ActionValidatorPower, a) },
		"remove": func(a []string) error { return validatorPropose(ctx, e, tx.ActionValidatorRemove, a) },
		"list":   func(a []string) error { return validatorList(ctx, e, a) },
	}, []string{"add", "power", "remove", "list"}, args)
}

func runNetworkGovernance(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "network governance", map[string]func([]string) error{
		"add":    func(a []string) error { return governancePropose(ctx, e, tx.ActionGovernanceAdd, a) },
		"remove": func(a []string) error { return governancePropose(ctx, e, tx.ActionGovernanceRemove, a) },
	}, []string{"add", "remove"}, args)
}

// validatorPropose proposes adding, re-weighting or removing a validator,
// signed with one governance key (which counts as its first approval).
func validatorPropose(ctx context.Context, e *env, action string, args []string) error {
	verb := strings.TrimPrefix(action, "validator.")
	usage := map[string]string{
		"add":    "medid network validator add --governance-key FILE --pubkey BASE64 --org DID [--power 10] [--name NAME] [--registry URL]",
		"power":  "medid network validator power --governance-key FILE --pubkey BASE64 --power N [--registry URL]",
		"remove": "medid network validator remove --governance-key FILE --pubkey BASE64 [--allow-below-minimum] [--registry URL]",
	}[verb]
	fs := newFlagSet(e, "network validator "+verb, usage)
	pf := addProposalFlags(fs, "a governance key file of the network (a founding node's governance.jwk)")
	pub := fs.String("pubkey", "", "the validator's consensus public key, base64 (registryd validator-key --home DIR prints it)")
	var power *int64
	var org, name *string
	var below *bool
	switch verb {
	case "add":
		power = fs.Int64("power", 10, "voting power")
		org = fs.String("org", "", "DID of the organisation running the node (its directory entry)")
		name = fs.String("name", "", "the node's name, for people")
	case "power":
		power = fs.Int64("power", 0, "the new voting power")
	case "remove":
		below = fs.Bool("allow-below-minimum", false, "allow the network to go below its minimum of validators (four by default): it then survives no faulty node")
	}
	req := []string{"pubkey"}
	if verb == "add" {
		req = append(req, "org")
	}
	if verb == "power" {
		req = append(req, "power")
	}
	if err := pf.parse(fs, args, req...); err != nil {
		return err
	}
	if _, err := tx.ParseConsensusKey(*pub); err != nil {
		return usagef("--pubkey: %v", err)
	}
	p := tx.Proposal{Action: action, Validator: &tx.ProposedValidator{PubKey: *pub}}
	switch verb {
	case "add":
		if _, err := did.Parse(*org); err != nil {
			return usagef("--org %q is not a DID: %v", *org, err)
		}
		if *power < 1 {
			return usagef("--power must be at least 1")
		}
		p.Validator.Power, p.Validator.Org, p.Validator.Name = *power, *org, *name
	case "power":
		if *power < 1 {
			return usagef("--power must be at least 1 (remove a validator with 'medid network validator remove')")
		}
		p.Validator.Power = *power
	case "remove":
		p.AllowBelowMinimum = *below
	}
	return pf.propose(ctx, e, p)
}

// governancePropose proposes adding or removing a governance key.
func governancePropose(ctx context.Context, e *env, action string, args []string) error {
	verb := strings.TrimPrefix(action, "governance.")
	fs := newFlagSet(e, "network governance "+verb, "medid network governance "+verb+" --governance-key FILE --did did:key:… [--registry URL]")
	pf := addProposalFlags(fs, "")
	d := fs.String("did", "", "the governance did:key to "+verb+" (medid key show FILE prints one)")
	if err := pf.parse(fs, args, "did"); err != nil {
		return err
	}
	if !strings.HasPrefix(*d, "did:key:") {
		return usagef("--did %q: governance keys are did:key DIDs", *d)
	}
	if _, err := did.ParseKeyDID(*d); err != nil {
		return usagef("--did %q: %v", *d, err)
	}
	return pf.propose(ctx, e, tx.Proposal{Action: action, Governance: *d})
}

// proposalFlags are the flags of every command that proposes a network
// change: the governance key that proposes and the registry. A proposal's
// id is the hash of its content (tx.ProposalID), which protocol 3
// requires and protocol 2 takes: an approval by that id approves exactly
// that content. --id, which named the proposal before, is refused with
// that explanation.
type proposalFlags struct {
	gov, id *string
	rf      registryFlags
}

// addProposalFlags registers the proposal flags on fs; govHelp is the
// help of --governance-key ("": the usual one).
func addProposalFlags(fs *flagSet, govHelp string) *proposalFlags {
	if govHelp == "" {
		govHelp = "a governance key file of the network"
	}
	p := &proposalFlags{gov: fs.String("governance-key", "", govHelp),
		id: fs.String("id", "", "no longer taken: a proposal's id is the hash of its content, printed once it is recorded")}
	p.rf.register(fs)
	return p
}

// parse parses args (no positional ones) and requires --governance-key and
// the flags named.
func (p *proposalFlags) parse(fs *flagSet, args []string, required ...string) error {
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if *p.id != "" {
		return usagef("--id %q: a proposal's id is the hash of its content (the network requires it from protocol 3 on, so that an approval by id approves exactly that content); medid prints it once the proposal is recorded: drop --id", *p.id)
	}
	return fs.required(append([]string{"governance-key"}, required...)...)
}

// propose proposes prop under its content's id.
func (p *proposalFlags) propose(ctx context.Context, e *env, prop tx.Proposal) error {
	prop.ID = tx.ProposalID(&prop)
	return propose(ctx, e, &p.rf, *p.gov, prop)
}

// readNetwork parses the flags of a command that reads the network (no
// positional arguments) and asks the registry for GET /1.0/network.
func readNetwork(ctx context.Context, e *env, fs *flagSet, args []string) (*ledger.NetworkInfo, error) {
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return nil, err
	}
	c, err := rf.client(e)
	if err != nil {
		return nil, err
	}
	ni, err := c.Network(ctx)
	if err != nil {
		return nil, unreachable(err)
	}
	return ni, nil
}

func propose(ctx context.Context, e *env, rf *registryFlags, govFile string, p tx.Proposal) error {
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	gov, err := loadKey(govFile)
	if err != nil {
		return err
	}
	defer gov.Destroy()
	rec, res, err := c.Propose(ctx, gov, p)
	if err != nil {
		return submitError(err, "network.propose "+p.Action)
	}
	return printProposal(ctx, e, c, rec, res.Height)
}

// networkApprove adds a governance key's approval to a proposal.
func networkApprove(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "network approve", "medid network approve --governance-key FILE --proposal ID [--genesis FILE] [--registry URL]")
	govFile := fs.String("governance-key", "", "a governance key file of the network")
	id := fs.String("proposal", "", "the proposal to approve ('medid network proposals' lists them)")
	genesis := fs.String("genesis", "", "the network's genesis.json: read the proposal (its content, and the filing the approval names) with a Merkle proof signed by its validators instead of trusting the node")
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("governance-key", "proposal"); err != nil {
		return err
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	// read is the client the proposal is read with: proving with
	// --genesis, so that a node cannot show another filing (or content)
	// than the network holds; the approval is submitted through c.
	read := c
	if *genesis != "" {
		cfg, err := loadGenesisTrust(*genesis)
		if err != nil {
			return err
		}
		cfg.URL = rf.baseURL(e)
		if read, err = newClient(e, cfg); err != nil {
			return err
		}
	}
	if !tx.ValidID(*id) {
		return usagef("--proposal %q is not a proposal id ('medid network proposals' lists them)", *id)
	}
	gov, err := loadKey(*govFile)
	if err != nil {
		return err
	}
	defer gov.Destroy()
	// What is approved is what the id names: the id is the hash of the
	// content, checked here against what the registry shows before the
	// approval is signed.
	cur, err := read.Proposal(ctx, *id)
	if errors.Is(err, ledger.ErrNotFound) {
		return &exitError{code: exitInvalid, err: fmt.Errorf("there is no proposal %s on %s ('medid network proposals' lists them)", *id, rf.baseURL(e))}
	}
	if err != nil {
		return unreachable(fmt.Errorf("read proposal %s: %w", *id, err))
	}
	if err := checkContentID(cur); err != nil {
		return err
	}
	// The approval names the filing read here (from protocol 4 on its
	// height, from 5 on its block's hash too: with --genesis both proven),
	// so it counts for that filing only.
	rec, res, err := c.ApproveFiling(ctx, gov, cur)
	if err != nil {
		return submitError(err, "network.approve of "+*id)
	}
	return printProposal(ctx, e, c, rec, res.Height)
}

// shortHash is the first 12 hex digits of a block hash, for people to tell
// blocks apart by (an approval carries the whole hash).
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// printProposal says what the proposal does and where it stands.
func printProposal(ctx context.Context, e *env, c *client.Client, rec *ledger.ProposalRecord, height int64) error {
	// The record is read back from the node after the transaction: a
	// node could show, under the id just signed for, content that id
	// does not name, for the user to pass on.
	if rec.ContentID() != rec.ID || rec.CheckDerived() != nil {
		return &exitError{code: exitInvalid, err: fmt.Errorf("the transaction was taken at block %d, but the registry now shows proposal %s with content that is not what its id names: do not pass that on; read the proposal from another node", height, rec.ID)}
	}
	what := describeProposal(rec)
	if rec.Status == ledger.ProposalExecuted {
		fmt.Fprintf(e.stdout, "proposal %s carried at block %d: %s", rec.ID, rec.Executed, what)
		if rec.Validator != nil {
			fmt.Fprintf(e.stdout, " (in effect from block %d)", rec.Executed+2)
		}
		fmt.Fprintln(e.stdout)
		return nil
	}
	need := "?"
	more := ""
	if ni, err := c.Network(ctx); err == nil {
		n := ni.Policy.Needed(len(ni.Governance))
		need = fmt.Sprint(n)
		if left := n - len(rec.Approvals); left > 0 {
			more = fmt.Sprintf(", %d more needed", left)
		}
	}
	fmt.Fprintf(e.stdout, "proposal %s recorded at block %d: %s; %d of %s approvals%s (open until %s)\n",
		rec.ID, height, what, len(rec.Approvals), need, more, rec.Expires.Format("2006-01-02T15:04:05Z"))
	fmt.Fprintf(e.stdout, "other governance keys approve it with: medid network approve --proposal %s --governance-key FILE\n", rec.ID)
	return nil
}

// validatorList prints the validators with their organisation and history.
func validatorList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "network validator list", "medid network validator list [--all] [--registry URL]")
	all := fs.Bool("all", false, "also list removed validators")
	ni, err := readNetwork(ctx, e, fs, args)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tPOWER\tNAME\tORG\tSINCE")
	active, total := 0, int64(0)
	for _, v := range ni.Validators {
		if v.Power == 0 && !*all {
			continue
		}
		since := int64(0)
		if n := len(v.History); n > 0 {
			since = v.History[n-1].Height
		}
		name, org := v.Name, v.Org
		if name == "" {
			name = "-"
		}
		if org == "" {
			org = "(genesis)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\n", v.Address, v.Power, name, org, since)
		if v.Power > 0 {
			active++
			total += v.Power
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	names := "one governance key writes directory entries and accreditations"
	if ni.Policy.QuorumFor(len(ni.Governance)) {
		names = "directory entries and accreditations too"
	}
	fmt.Fprintf(e.stdout, "%d validators, total power %d; %d governance keys, %d approvals carry a proposal (%s); chain %s at height %d\n",
		active, total, len(ni.Governance), ni.Policy.Needed(len(ni.Governance)), names, ni.ChainID, ni.Height)
	return nil
}

// networkProposals lists proposals, open ones first.
func networkProposals(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "network proposals", "medid network proposals [--registry URL]")
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	ps, err := c.Proposals(ctx)
	if err != nil {
		return unreachable(err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACTION\tSTATUS\tAPPROVALS\tSUBJECT\tFILED")
	chosen := false
	for _, p := range ps {
		subject := proposalSubject(ctx, c, &p)
		status := p.Status
		if p.Status == ledger.ProposalExecuted {
			status = fmt.Sprintf("carried at %d", p.Executed)
		} else if p.ContentID() != p.ID {
			status, chosen = "open*", true
		}
		// FILED: the block that filed it, which an approval names from
		// protocol 4 on (a filing of the same content later is another),
		// and from protocol 5 on the start of that block's hash, which an
		// approval names too (medid network approve signs the whole hash).
		filed := fmt.Sprintf("block %d", p.Height)
		if p.FilingBlock != "" {
			filed += " " + shortHash(p.FilingBlock)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", p.ID, p.Action, status, len(p.Approvals), subject, filed)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if chosen {
		fmt.Fprintln(e.stdout, "* filed under an id its proposer chose, not the hash of its content: medid does not approve it and protocol 3 refuses its approvals; propose it again with medid")
	}
	return nil
}
