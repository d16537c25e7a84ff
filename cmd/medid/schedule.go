package main

import (
	"context"
	"fmt"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// A scheduled network change (a move of the state layout, a protocol
// upgrade) is proposed like any network change, names the block at whose
// start it happens (at least ledger.MinScheduleLead blocks after the block
// that carries it) and is cancelled by a proposal naming the change
// scheduled. scheduleSpec says what differs between them.
type scheduleSpec struct {
	// cmd is the command ("network layout").
	cmd string
	// args are the schedule's own arguments in its usage line ("" or
	// "--protocol N ").
	args string
	// when says what happens at the height (--height's help of a schedule).
	when string
	// flags registers the schedule's own flags (nil: none) and returns
	// the check of their values.
	flags func(fs *flagSet) func() error
	// scheduled says the change scheduled now (what a cancel names), or
	// an error saying there is none.
	scheduled func(ni *ledger.NetworkInfo) (height int64, err error)
	// proposal is the proposal of the change (action verb: "schedule" or
	// "cancel") at height.
	proposal func(verb string, height int64) tx.Proposal
	// status runs `medid <cmd> status`.
	status func(ctx context.Context, e *env, args []string) error
}

// runScheduled runs `medid <cmd> schedule|cancel|status`.
func runScheduled(ctx context.Context, e *env, s scheduleSpec, args []string) error {
	return subcommand(e, s.cmd, map[string]func([]string) error{
		"schedule": func(a []string) error { return proposeScheduled(ctx, e, s, "schedule", a) },
		"cancel":   func(a []string) error { return proposeScheduled(ctx, e, s, "cancel", a) },
		"status":   func(a []string) error { return s.status(ctx, e, a) },
	}, []string{"schedule", "cancel", "status"}, args)
}

// proposeScheduled runs `medid <cmd> schedule|cancel`: it parses the
// flags, checks them and proposes the change.
func proposeScheduled(ctx context.Context, e *env, s scheduleSpec, verb string, args []string) error {
	usage := fmt.Sprintf("medid %s schedule --governance-key FILE %s--height H [--registry URL]", s.cmd, s.args)
	hHelp := fmt.Sprintf("the block at whose start %s: at least %d blocks after the block that carries the proposal ('medid %s status' says the earliest)", s.when, ledger.MinScheduleLead, s.cmd)
	if verb == "cancel" {
		usage = fmt.Sprintf("medid %s cancel --governance-key FILE [--height H] [--registry URL]", s.cmd)
		hHelp = "the height of the change to cancel (default: the one scheduled now)"
	}
	fs := newFlagSet(e, s.cmd+" "+verb, usage)
	pf := addProposalFlags(fs, "")
	height := fs.Int64("height", 0, hHelp)
	check := func() error { return nil }
	if s.flags != nil && verb == "schedule" {
		check = s.flags(fs)
	}
	if err := pf.parse(fs, args); err != nil {
		return err
	}
	if err := check(); err != nil {
		return err
	}
	if verb == "schedule" && *height == 0 {
		return usagef("missing --height\nusage: %s", usage)
	}
	if *height < 0 {
		return usagef("--height %d: want a block height (1 or more)", *height)
	}
	if verb == "cancel" {
		// A cancel names the change it cancels: the one scheduled now,
		// unless --height names another (which the registry refuses).
		c, err := pf.rf.client(e)
		if err != nil {
			return err
		}
		ni, err := c.Network(ctx)
		if err != nil {
			return unreachable(err)
		}
		h, err := s.scheduled(ni)
		if err != nil {
			return err
		}
		if *height == 0 {
			*height = h
		}
	}
	return pf.propose(ctx, e, s.proposal(verb, *height))
}

// runNetworkLayout runs `medid network layout schedule|cancel|status`:
// the move of a layout 1 chain to layout 2 (docs/operations.md).
func runNetworkLayout(ctx context.Context, e *env, args []string) error {
	return runScheduled(ctx, e, scheduleSpec{cmd: "network layout", when: "every validator moves the state to layout 2",
		scheduled: func(ni *ledger.NetworkInfo) (int64, error) {
			if ni.LayoutMove == nil {
				return 0, fmt.Errorf("no move of the state layout is scheduled on chain %s at height %d: nothing to cancel", ni.ChainID, ni.Height)
			}
			return ni.LayoutMove.Height, nil
		},
		proposal: func(verb string, height int64) tx.Proposal {
			return tx.Proposal{Action: "layout." + verb, Layout: &tx.ProposedLayout{Layout: tx.MoveToLayout, Height: height}}
		},
		status: layoutStatus}, args)
}

// runNetworkUpgrade runs `medid network upgrade schedule|cancel|status`:
// protocol upgrades at a height (docs/operations.md, "Upgrading a node").
func runNetworkUpgrade(ctx context.Context, e *env, args []string) error {
	// version is --protocol of a schedule, or the version of the upgrade
	// a cancel names (read from the registry).
	var version uint64
	return runScheduled(ctx, e, scheduleSpec{cmd: "network upgrade", args: "--protocol N ",
		when: "every validator executes blocks by protocol N (a validator whose release does not know N stops there)",
		flags: func(fs *flagSet) func() error {
			p := fs.Uint64("protocol", 0, "the protocol version blocks execute by from --height on (above the chain's: 'medid network upgrade status' says it); every validator must run a release that knows it by then")
			return func() error {
				if *p == 0 {
					return usagef("missing --protocol (the protocol version to upgrade to; 'medid network upgrade status' says the chain's)\nusage: medid network upgrade schedule --governance-key FILE --protocol N --height H")
				}
				if *p > tx.MaxProtocolVersion {
					return usagef("--protocol %d: want a protocol version (1 to %d)", *p, uint64(tx.MaxProtocolVersion))
				}
				version = *p
				return nil
			}
		},
		scheduled: func(ni *ledger.NetworkInfo) (int64, error) {
			if ni.Protocol == nil {
				return 0, fmt.Errorf("the registry at height %d does not say its protocol (a release from before protocol upgrades at a height): upgrade it", ni.Height)
			}
			u := ni.Protocol.Upgrade
			if u == nil {
				return 0, fmt.Errorf("no protocol upgrade is scheduled on chain %s at height %d: nothing to cancel", ni.ChainID, ni.Height)
			}
			version = u.Version
			return u.Height, nil
		},
		proposal: func(verb string, height int64) tx.Proposal {
			return tx.Proposal{Action: "protocol." + verb, Protocol: &tx.ProposedProtocol{Version: version, Height: height}}
		},
		status: upgradeStatus}, args)
}

// upgradeStatus says the chain's protocol, the upgrade scheduled and
// whether the node asked can execute it.
func upgradeStatus(ctx context.Context, e *env, args []string) error {
	ni, err := readNetwork(ctx, e, newFlagSet(e, "network upgrade status", "medid network upgrade status [--registry URL]"), args)
	if err != nil {
		return err
	}
	p := ni.Protocol
	if p == nil {
		return fmt.Errorf("the registry at height %d does not say its protocol (a release from before protocol upgrades at a height): upgrade it", ni.Height)
	}
	node := ni.Node.Moniker
	if node == "" {
		node = "the node asked"
	}
	u := p.Upgrade
	if u == nil {
		fmt.Fprintf(e.stdout, "protocol %d at height %d; no upgrade scheduled (%s runs a release that executes protocols up to %d)\n", p.Version, ni.Height, node, p.NodeMax)
		fmt.Fprintf(e.stdout, "schedule one at height %d or later (%d blocks after the block that carries it): medid network upgrade schedule --governance-key FILE --protocol N --height H\n",
			ni.Height+1+ledger.MinScheduleLead, ledger.MinScheduleLead)
		return nil
	}
	fmt.Fprintf(e.stdout, "protocol %d at height %d; upgrade to protocol %d scheduled at height %d (proposal %s, carried at block %d), %d blocks from now\n",
		p.Version, ni.Height, u.Version, u.Height, u.Proposal, u.Scheduled, max(u.Height-ni.Height, 0))
	if u.Version > p.NodeMax {
		fmt.Fprintf(e.stdout, "%s runs a release that executes protocols up to %d: it stops at height %d unless a release that knows protocol %d replaces it before\n", node, p.NodeMax, u.Height, u.Version)
	} else {
		fmt.Fprintf(e.stdout, "%s runs a release that executes protocols up to %d: ready\n", node, p.NodeMax)
	}
	fmt.Fprintf(e.stdout, "cancel it with: medid network upgrade cancel --governance-key FILE (and %d approvals)\n", ni.Policy.Needed(len(ni.Governance)))
	return nil
}

// scheduleSubject says what a scheduled change's proposal is about ("" for
// other proposals).
func scheduleSubject(rec *ledger.ProposalRecord) string {
	switch {
	case rec.Layout != nil:
		return fmt.Sprintf("layout %d at height %d", rec.Layout.Layout, rec.Layout.Height)
	case rec.Protocol != nil:
		return fmt.Sprintf("protocol %d at height %d", rec.Protocol.Version, rec.Protocol.Height)
	}
	return ""
}
