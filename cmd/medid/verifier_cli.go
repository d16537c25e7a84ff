package main

import (
	"context"
	"fmt"
	"strings"

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
	src := verify.Sources{StatusFiles: verify.FileStatusFetcher{}}
	for _, f := range v.statusLists {
		_, d, err := loadList(f)
		if err != nil {
			return nil, err
		}
		src.StatusFiles[d.ID] = f
	}
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
		src.Registry = rc
		v.rc, v.proven = rc, ccfg.VerifyProofs
	}
	return verify.NewFor(src, verify.Config{})
}

// printResult prints a verification result as indented JSON on stdout and a
// one-line verdict on stderr, and maps it to the exit code: 0 valid, 1 not.
func printResult(e *env, res *verify.Result, what string) error {
	if err := writeJSON(e, res); err != nil {
		return err
	}
	for _, r := range append([]*verify.Result{res}, res.Credentials...) {
		if r.Format != verify.FormatSDJWT || r.Kind != verify.KindCredential {
			continue
		}
		// What the verifier was and was not shown: claim names only.
		fmt.Fprintf(e.stderr, "disclosed: %s\n", strings.Join(r.Disclosed, ", "))
		for _, h := range r.Withheld {
			fmt.Fprintf(e.stderr, "withheld:  %d undisclosed digest(s) at %s (claims or decoys)\n", h.Count, h.Path)
		}
	}
	if res.Valid {
		fmt.Fprintf(e.stderr, "VALID %s\n", what)
		return nil
	}
	return &exitError{code: exitInvalid, err: fmt.Errorf("INVALID %s: %s", what, res.Reason)}
}

// printNamedResult is printResult followed, on stderr, by who issued and
// presented what in words from the registry's directory (nothing when
// verifying offline without a registry).
func printNamedResult(ctx context.Context, e *env, vf *verifierFlags, res *verify.Result, what string) error {
	err := printResult(e, res, what)
	if vf.rc != nil {
		if d, derr := directoryFor(vf.rc, vf.proven); derr == nil {
			printNames(ctx, e.stderr, d, res)
		}
	}
	return err
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
