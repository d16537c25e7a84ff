package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/registry/client"
)

// verifierFlags are the flags every verifying command shares: status list
// files given locally and the registry to resolve did:medid, accreditations
// and published status lists from.
type verifierFlags struct {
	statusLists stringList
	registry    *string
	genesis     *string
	// rc is the registry client build made (nil offline), proven whether
	// it checks proofs; names use them.
	rc     *client.Client
	proven bool
}

func (v *verifierFlags) register(fs *flagSet) {
	fs.Var(&v.statusLists, "status-list", "status list credential file (vc+jwt) to check status against, matched by its id (repeatable)")
	v.registry = fs.String("registry", "", "registry URL for did:medid, accreditations and published status lists (default: $MEDID_REGISTRY; none if unset)")
	v.genesis = fs.String("genesis", "", "the network's genesis.json: check every registry answer against Merkle proofs signed by its validators instead of trusting the node")
}

// registryURL is the registry to consult, or "" for offline verification
// (did:key issuers, local status lists, no accreditation check).
func (v *verifierFlags) registryURL(e *env) string {
	return optionalRegistry(e, *v.registry)
}

// build makes the verifier. Local status list files are indexed by the id
// their credential declares (the statusListCredential URL credentials point
// at); the verifier still checks each list's signature.
func (v *verifierFlags) build(e *env) (*verify.Verifier, error) {
	src, err := v.sources(e)
	if err != nil {
		return nil, err
	}
	return verify.New(verify.Config{Resolver: src.resolver, Status: src.status, Trust: src.trust})
}

// sources are where a verifier built from verifierFlags gets its evidence.
type sources struct {
	resolver did.Resolver
	status   verify.StatusFetcher
	trust    verify.Accreditations // nil without a registry
}

// sources puts the evidence together through verify.Sources (the one
// place did:key, the registry's DID method and its status lists are
// routed), with two CLI rules on top: a status list not given says how to
// give it, and without a registry a did:medid issuer is "could not check",
// not "unknown issuer".
func (v *verifierFlags) sources(e *env) (*sources, error) {
	local := fileStatus{files: verify.FileStatusFetcher{}}
	for _, f := range v.statusLists {
		_, d, err := loadList(f)
		if err != nil {
			return nil, err
		}
		local.files[d.ID] = f
	}
	var vs verify.Sources
	src := &sources{status: local}
	u := v.registryURL(e)
	if *v.genesis != "" && u == "" {
		return nil, usagef("--genesis needs a registry: give --registry URL or set MEDID_REGISTRY")
	}
	if u != "" {
		ccfg := client.Config{URL: u}
		if *v.genesis != "" {
			trust, err := loadGenesisTrust(*v.genesis)
			if err != nil {
				return nil, err
			}
			trust.URL = u
			ccfg = trust
		}
		rc, err := newClient(e, ccfg)
		if err != nil {
			return nil, err
		}
		vs.Registry = rc
		v.rc, v.proven = rc, ccfg.VerifyProofs
		local.next = rc
		src.status = local
		src.trust = rc
	} else {
		vs.DIDs = did.ResolverFunc(func(_ context.Context, id string) (*did.Resolution, error) {
			return nil, fmt.Errorf("no registry given to resolve %s: give --registry URL or set MEDID_REGISTRY", id)
		})
	}
	src.resolver = vs.Resolver()
	return src, nil
}

// fileStatus serves status lists given on the command line (keyed by the
// id their credential declares), then falls back to next (the registry, or
// an offline cache); without next, a list not given is an error with hint
// (default: how to give it).
type fileStatus struct {
	files verify.FileStatusFetcher
	next  verify.StatusFetcher
	hint  string
}

func (f fileStatus) FetchStatusList(ctx context.Context, url string) (string, error) {
	tok, err := f.files.FetchStatusList(ctx, url)
	if err == nil || !errors.Is(err, verify.ErrStatusListNotFound) {
		return tok, err
	}
	if f.next != nil {
		return f.next.FetchStatusList(ctx, url)
	}
	if f.hint != "" {
		return "", fmt.Errorf("%w: %s", err, f.hint)
	}
	return "", fmt.Errorf("%w: pass it with --status-list FILE, or give --registry", err)
}

// summary writes one line per check: "✓ name" or "✗ name: reason (detail)".
func summary(res *verify.Result) string {
	var b strings.Builder
	for _, c := range res.Checks {
		if c.Skipped {
			fmt.Fprintf(&b, "    - %s: skipped (%s)\n", c.Name, c.Detail)
			continue
		}
		if c.OK {
			fmt.Fprintf(&b, "    ✓ %s\n", c.Name)
			continue
		}
		fmt.Fprintf(&b, "    ✗ %s: %s", c.Name, c.Reason)
		if c.Detail != "" {
			fmt.Fprintf(&b, " (%s)", c.Detail)
		}
		b.WriteString("\n")
	}
	for i, c := range res.Credentials {
		mark := "✓"
		if !c.Valid {
			mark = "✗"
		}
		fmt.Fprintf(&b, "    %s credential %d (%s): %s\n", mark, i+1, c.ID, verdict(c))
	}
	return b.String()
}
