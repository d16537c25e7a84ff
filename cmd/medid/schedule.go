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
	// cmd is the command ("network layout"), verb "schedule" or "cancel".
	cmd, verb string
	// usage is the command's usage line.
	usage string
	// when says what happens at the height (--height's help of a schedule).
	when string
	// flags registers the schedule's own flags (nil: none) and returns
	// the check of their values.
	flags func(fs *flagSet) func() error
	// scheduled says the change scheduled now (what a cancel names), or
	// an error saying there is none.
	scheduled func(ni *ledger.NetworkInfo) (height int64, err error)
	// proposal is the proposal of the change at height.
	proposal func(id string, height int64) tx.Proposal
}

// proposeScheduled runs `medid <cmd> schedule|cancel`: it parses the
// flags, checks them and proposes the change.
func proposeScheduled(ctx context.Context, e *env, s scheduleSpec, args []string) error {
	fs := newFlagSet(e, s.cmd+" "+s.verb, s.usage)
	govFile := fs.String("governance-key", "", "a governance key file of the network")
	hHelp := fmt.Sprintf("the block at whose start %s: at least %d blocks after the block that carries the proposal ('medid %s status' says the earliest)", s.when, ledger.MinScheduleLead, s.cmd)
	if s.verb == "cancel" {
		hHelp = "the height of the change to cancel (default: the one scheduled now)"
	}
	height := fs.Int64("height", 0, hHelp)
	id := fs.String("id", "", "proposal id (default: random); other governance keys approve it by this id")
	check := func() error { return nil }
	if s.flags != nil && s.verb == "schedule" {
		check = s.flags(fs)
	}
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("governance-key"); err != nil {
		return err
	}
	if err := check(); err != nil {
		return err
	}
	if s.verb == "schedule" && *height == 0 {
		return usagef("missing --height\nusage: %s", s.usage)
	}
	if *height < 0 {
		return usagef("--height %d: want a block height (1 or more)", *height)
	}
	if err := checkProposalID(*id); err != nil {
		return err
	}
	if s.verb == "cancel" {
		// A cancel names the change it cancels: the one scheduled now,
		// unless --height names another (which the registry refuses).
		c, err := rf.client(e)
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
	return propose(ctx, e, &rf, *govFile, s.proposal(*id, *height))
}

func runNetworkLayout(ctx context.Context, e *env, args []string) error {
	spec := func(verb string) scheduleSpec {
		return scheduleSpec{cmd: "network layout", verb: verb,
			usage: map[string]string{
				"schedule": "medid network layout schedule --governance-key FILE --height H [--id ID] [--registry URL]",
				"cancel":   "medid network layout cancel --governance-key FILE [--height H] [--id ID] [--registry URL]",
			}[verb],
			when: "every validator moves the state to layout 2",
			scheduled: func(ni *ledger.NetworkInfo) (int64, error) {
				if ni.LayoutMove == nil {
					return 0, fmt.Errorf("no move of the state layout is scheduled on chain %s at height %d: nothing to cancel", ni.ChainID, ni.Height)
				}
				return ni.LayoutMove.Height, nil
			},
			proposal: func(id string, height int64) tx.Proposal {
				return tx.Proposal{ID: id, Action: "layout." + verb, Layout: &tx.ProposedLayout{Layout: tx.MoveToLayout, Height: height}}
			}}
	}
	return subcommand(e, "network layout", map[string]func([]string) error{
		"schedule": func(a []string) error { return proposeScheduled(ctx, e, spec("schedule"), a) },
		"cancel":   func(a []string) error { return proposeScheduled(ctx, e, spec("cancel"), a) },
		"status":   func(a []string) error { return layoutStatus(ctx, e, a) },
	}, []string{"schedule", "cancel", "status"}, args)
}

// runNetworkUpgrade runs `medid network upgrade schedule|cancel|status`:
// protocol upgrades at a height (docs/operations.md, "Upgrading a node").
func runNetworkUpgrade(ctx context.Context, e *env, args []string) error {
	spec := func(verb string) scheduleSpec {
		var version uint64
		s := scheduleSpec{cmd: "network upgrade", verb: verb,
			usage: map[string]string{
				"schedule": "medid network upgrade schedule --governance-key FILE --protocol N --height H [--id ID] [--registry URL]",
				"cancel":   "medid network upgrade cancel --governance-key FILE [--height H] [--id ID] [--registry URL]",
			}[verb],
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
		}
		s.proposal = func(id string, height int64) tx.Proposal {
			return tx.Proposal{ID: id, Action: "protocol." + verb, Protocol: &tx.ProposedProtocol{Version: version, Height: height}}
		}
		return s
	}
	return subcommand(e, "network upgrade", map[string]func([]string) error{
		"schedule": func(a []string) error { return proposeScheduled(ctx, e, spec("schedule"), a) },
		"cancel":   func(a []string) error { return proposeScheduled(ctx, e, spec("cancel"), a) },
		"status":   func(a []string) error { return upgradeStatus(ctx, e, a) },
	}, []string{"schedule", "cancel", "status"}, args)
}

// upgradeStatus says the chain's protocol, the upgrade scheduled and
// whether the node asked can execute it.
func upgradeStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "network upgrade status", "medid network upgrade status [--registry URL]")
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	ni, err := c.Network(ctx)
	if err != nil {
		return unreachable(err)
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
