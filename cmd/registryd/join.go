package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node"
)

// runJoin initialises the home of a hospital's node that joins a running
// network: the genesis and peers come from nodes of the network (--from),
// and with state sync the node's first start fetches a recent snapshot
// instead of replaying every block.
func runJoin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("registryd join", flag.ContinueOnError)
	fs.SetOutput(stderr)
	home := fs.String("home", "", "home folder of the new node (required; must not be initialised)")
	from := fs.String("from", "", "comma-separated registry URLs of nodes of the network (required; two or more for state sync)")
	moniker := fs.String("moniker", "", "the node's name (default: medid-node)")
	p2pAddr := fs.String("p2p", node.DefaultP2PAddr, "p2p listen address")
	httpAddr := fs.String("http", node.DefaultHTTPAddr, "registry HTTP API listen address")
	rpcAddr := fs.String("rpc", "", "CometBFT RPC listen address (default: off; nodes that others state sync from need it)")
	stateSync := fs.String("state-sync", "auto", "join by state sync: on, off, or auto (on when the network offers a snapshot)")
	trustHeight := fs.Int64("trust-height", 0, "state sync: a block height you trust (default: the latest of the first --from node, checked against the second)")
	trustHash := fs.String("trust-hash", "", "state sync: the hash (hex) of the block at --trust-height")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: registryd join --home DIR --from URL[,URL…] [--p2p ADDR] [--http ADDR] [--rpc ADDR] [--state-sync auto|on|off]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if *home == "" || *from == "" {
		return usageError{errors.New("join: --home DIR and --from URL are required")}
	}
	if *stateSync != "auto" && *stateSync != "on" && *stateSync != "off" {
		return usageError{fmt.Errorf("join: --state-sync %q: want on, off or auto", *stateSync)}
	}
	if (*trustHeight == 0) != (*trustHash == "") {
		return usageError{errors.New("join: give --trust-height and --trust-hash together")}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var nodes []joinSource
	for _, u := range strings.Split(*from, ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		c, err := client.New(client.Config{URL: u})
		if err != nil {
			return usageError{fmt.Errorf("join: --from %q: %v", u, err)}
		}
		ni, err := c.Network(ctx)
		if err != nil {
			return fmt.Errorf("join: ask %s about the network: %w", u, err)
		}
		nodes = append(nodes, joinSource{url: u, c: c, info: ni})
	}
	if len(nodes) == 0 {
		return usageError{errors.New("join: --from names no node")}
	}
	genesis, err := nodes[0].c.Genesis(ctx)
	if err != nil {
		return fmt.Errorf("join: genesis from %s: %w", nodes[0].url, err)
	}
	var peers, rpcs []string
	for _, n := range nodes {
		if n.info.ChainID != nodes[0].info.ChainID {
			return fmt.Errorf("join: %s is on chain %s, %s on %s", n.url, n.info.ChainID, nodes[0].url, nodes[0].info.ChainID)
		}
		g, err := n.c.Genesis(ctx)
		if err != nil {
			return fmt.Errorf("join: genesis from %s: %w", n.url, err)
		}
		if !bytes.Equal(g, genesis) {
			return fmt.Errorf("join: %s and %s serve different genesis files: ask your network's operators which is right", nodes[0].url, n.url)
		}
		peers = append(peers, n.info.Node.ID+"@"+reachable(n.info.Node.P2P, n.url))
		if n.info.Node.RPC != "" {
			rpcs = append(rpcs, reachable(n.info.Node.RPC, n.url))
		}
	}
	jc := node.JoinConfig{Home: *home, Moniker: *moniker, Genesis: genesis, PersistentPeers: strings.Join(peers, ","),
		P2PAddr: *p2pAddr, HTTPAddr: *httpAddr, RPCAddr: *rpcAddr}
	if bt, err := time.ParseDuration(nodes[0].info.Node.BlockTime); err == nil {
		jc.BlockTime = bt
	}
	useSync := *stateSync == "on" || (*stateSync == "auto" && nodes[0].info.SnapshotHeight > 0)
	if useSync {
		if len(rpcs) < 2 {
			return usageError{fmt.Errorf("join: state sync reads headers from the CometBFT RPC of two nodes; --from names %d node(s) with RPC on (or use --state-sync off)", len(rpcs))}
		}
		h, hash := *trustHeight, *trustHash
		if h == 0 {
			if h, hash, err = trustedHead(ctx, nodes); err != nil {
				return err
			}
		}
		jc.StateSync = &node.StateSyncSettings{RPCServers: rpcs, TrustHeight: h, TrustHash: hash}
	}
	res, err := node.Join(jc)
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	pub, addr, err := node.ValidatorKey(*home)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "registryd: initialised %s to join chain %s\n", res.Home, res.ChainID)
	fmt.Fprintf(stdout, "  peers:            %s\n", strings.Join(peers, ","))
	if useSync {
		fmt.Fprintf(stdout, "  state sync:       from snapshots of the network, trusting block %d %s\n", jc.StateSync.TrustHeight, jc.StateSync.TrustHash)
	} else {
		fmt.Fprintf(stdout, "  block sync:       every block since genesis\n")
	}
	fmt.Fprintf(stdout, "  validator key:    %s (address %s)\n", pub, addr)
	fmt.Fprintf(stdout, "  governance DID:   %s\n", res.GovernanceDID)
	fmt.Fprintf(stdout, "start it with: registryd --home %s\n", res.Home)
	fmt.Fprintf(stdout, "then ask the network's governance to add it: medid network validator add --pubkey %s --power 10 --org <your hospital's DID>\n", pub)
	return nil
}

type joinSource struct {
	url  string
	c    *client.Client
	info *ledger.NetworkInfo
}

// reachable turns a listen address into one to dial: an unspecified host
// (0.0.0.0, ::) becomes the host of the URL the node was asked at.
func reachable(listen, via string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if u, err := url.Parse(via); err == nil {
			host = u.Hostname()
		}
	}
	return net.JoinHostPort(host, port)
}

// trustedHead picks the latest block of the first node and checks that
// every other node has the same block at that height. It is what the
// operator trusts: say so, so they can check it with another hospital.
func trustedHead(ctx context.Context, nodes []joinSource) (int64, string, error) {
	lb, err := nodes[0].c.LightBlock(ctx, 0)
	if err != nil {
		return 0, "", fmt.Errorf("join: latest block of %s: %w", nodes[0].url, err)
	}
	h, hash := lb.Height(), fmt.Sprintf("%X", lb.Hash())
	for _, n := range nodes[1:] {
		var other string
		for range 50 { // the other node may be a block behind
			o, err := n.c.LightBlock(ctx, h)
			if err == nil {
				other = fmt.Sprintf("%X", o.Hash())
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if other == "" {
			return 0, "", fmt.Errorf("join: %s has no block %d to compare with %s", n.url, h, nodes[0].url)
		}
		if other != hash {
			return 0, "", fmt.Errorf("join: block %d is %s on %s but %s on %s: do not trust either before your network's operators explain", h, hash, nodes[0].url, other, n.url)
		}
	}
	return h, hash, nil
}
