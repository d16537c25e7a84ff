package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

func init() {
	commands["issuer"] = command{summary: "accredit issuers for credential types (governance) and show accreditations", run: runIssuer}
}

func runIssuer(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "issuer", map[string]func([]string) error{
		"accredit": func(a []string) error { return issuerAccredit(ctx, e, a) },
		"revoke":   func(a []string) error { return issuerRevoke(ctx, e, a) },
		"show":     func(a []string) error { return issuerShow(ctx, e, a) },
	}, []string{"accredit", "revoke", "show"}, args)
}

// issuerAccredit grants an issuer the right to issue credential types,
// signed by one of the network's governance keys.
func issuerAccredit(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "issuer accredit", "medid issuer accredit --governance-key FILE --issuer DID --type TYPE... [--valid-from RFC3339] [--valid-until RFC3339] [--id ID] [--registry URL]")
	govFile := fs.String("governance-key", "", "a governance key file of the network (registryd's governance.jwk)")
	issuer := fs.String("issuer", "", "the issuer's DID (a registered did:medid, or a did:key)")
	var types stringList
	fs.Var(&types, "type", "credential type the issuer may issue (repeatable)")
	from := fs.String("valid-from", "", "start of the accreditation, RFC 3339 (default: now)")
	until := fs.String("valid-until", "", "end of the accreditation, RFC 3339 (default: open-ended)")
	id := fs.String("id", "", "accreditation id (default: random), needed to revoke it later")
	var rf registryFlags
	rf.register(fs)
	err := fs.parseNone(args)
	if err != nil {
		return err
	}
	if err := fs.required("governance-key", "issuer", "type"); err != nil {
		return err
	}
	if _, err := did.Parse(*issuer); err != nil {
		return usagef("--issuer %q is not a DID: %v", *issuer, err)
	}
	a := tx.Accreditation{Issuer: *issuer, Types: types, ID: *id}
	if *from != "" {
		if a.From, err = time.Parse(time.RFC3339, *from); err != nil {
			return usagef("--valid-from %q is not an RFC 3339 time", *from)
		}
	}
	if *until != "" {
		if a.Until, err = time.Parse(time.RFC3339, *until); err != nil {
			return usagef("--valid-until %q is not an RFC 3339 time", *until)
		}
		if !a.From.IsZero() && !a.Until.After(a.From) {
			return usagef("--valid-until must be after --valid-from")
		}
	}
	if a.ID != "" && !tx.ValidID(a.ID) {
		return usagef("--id %q: use up to %d letters, digits, '.', '_', ':' or '-'", a.ID, tx.MaxIDLen)
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	gov, err := loadKey(*govFile)
	if err != nil {
		return err
	}
	defer gov.Destroy()
	accID, res, prop, err := accredit(ctx, c, gov, a)
	if err != nil {
		return err
	}
	if prop != nil {
		return printProposal(ctx, e, c, prop, res.Height)
	}
	fmt.Fprintf(e.stdout, "accredited %s for %v (accreditation %s, block %d)\n", *issuer, []string(types), accID, res.Height)
	return nil
}

// issuerRevoke ends an accreditation, from --at (default: now).
func issuerRevoke(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "issuer revoke", "medid issuer revoke --governance-key FILE --issuer DID --id ACCREDITATION_ID [--at RFC3339] [--registry URL]")
	govFile := fs.String("governance-key", "", "a governance key file of the network")
	issuer := fs.String("issuer", "", "the issuer's DID")
	id := fs.String("id", "", "the accreditation to end (see 'medid issuer show')")
	at := fs.String("at", "", "when it ends, RFC 3339 (default: the block time)")
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("governance-key", "issuer", "id"); err != nil {
		return err
	}
	var revokedAt time.Time
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return usagef("--at %q is not an RFC 3339 time", *at)
		}
		revokedAt = t
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	gov, err := loadKey(*govFile)
	if err != nil {
		return err
	}
	defer gov.Destroy()
	p, err := tx.NewIssuerRevoke(keyDID(gov.Public()), *issuer, *id, revokedAt)
	if err != nil {
		return usagef("%v", err)
	}
	res, prop, err := governedChange(ctx, c, gov, p, "issuer.revoke of "+*issuer)
	if err != nil {
		return err
	}
	if prop != nil {
		return printProposal(ctx, e, c, prop, res.Height)
	}
	fmt.Fprintf(e.stdout, "revoked accreditation %s of %s (block %d)\n", *id, *issuer, res.Height)
	return nil
}

// issuerShow prints an issuer's accreditation history as JSON.
func issuerShow(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "issuer show", "medid issuer show DID [--registry URL]")
	var rf registryFlags
	rf.register(fs)
	arg, err := fs.parseOne(args, "want exactly one issuer DID")
	if err != nil {
		return err
	}
	if _, err := did.Parse(arg); err != nil {
		return usagef("%q is not a DID: %v", arg, err)
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	rec, err := c.Accreditations(ctx, arg)
	if err != nil {
		if errors.Is(err, ledger.ErrNotFound) {
			return &exitError{code: exitInvalid, err: fmt.Errorf("%s has never been accredited on %s", arg, rf.baseURL(e))}
		}
		return unreachable(fmt.Errorf("accreditations of %s: %w", arg, err))
	}
	return writeJSON(e, rec)
}
