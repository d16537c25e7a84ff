package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

func init() {
	commands["did"] = command{summary: "register, resolve, rotate and deactivate did:medid identifiers on the registry", run: runDID}
}

func runDID(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "did", map[string]func([]string) error{
		"register":   func(a []string) error { return didRegister(ctx, e, a) },
		"resolve":    func(a []string) error { return didResolve(ctx, e, a) },
		"rotate":     func(a []string) error { return didRotate(ctx, e, a) },
		"deactivate": func(a []string) error { return didDeactivate(ctx, e, a) },
	}, []string{"register", "resolve", "rotate", "deactivate"}, args)
}

// didRegister registers the did:medid of a key: the initial document has
// the key as Multikey "#key-1" for authentication and assertionMethod, and
// the identifier is derived from that document, so it is fixed by the key.
func didRegister(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "did register", "medid did register --key FILE [--registry URL]")
	keyFile := fs.String("key", "", "private key file of the new DID's first key (e.g. from 'medid key new')")
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("key"); err != nil {
		return err
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	k, err := loadKey(*keyFile)
	if err != nil {
		return err
	}
	defer k.Destroy()
	id, kid, res, err := registerDID(ctx, c, k)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "did: %s\nkid: %s\n", id, kid)
	fmt.Fprintf(e.stderr, "registered at block %d; sign with --issuer %s --kid %s\n", res.Height, id, kid)
	return nil
}

// didResolve prints the DID resolution result: the document and its
// metadata, as the registry's resolution endpoint returns them.
func didResolve(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "did resolve", "medid did resolve DID [--registry URL] [--version-id N | --version-time RFC3339] [--proof --genesis FILE]")
	var rf registryFlags
	rf.register(fs)
	versionID := fs.String("version-id", "", "resolve this version of the document")
	versionTime := fs.String("version-time", "", "resolve the version current at this time (RFC 3339)")
	proof := fs.Bool("proof", false, "check the answer against a Merkle proof and validator signatures instead of trusting the node")
	genesis := fs.String("genesis", "", "the network's genesis.json (with --proof): which validators to trust")
	arg, err := fs.parseOne(args, "want exactly one DID")
	if err != nil {
		return err
	}
	parsed, err := did.Parse(arg)
	if err != nil {
		return usagef("%q is not a DID: %v", arg, err)
	}
	if parsed.Method == "key" && *rf.url == "" && !*proof && *versionID == "" && *versionTime == "" {
		// A did:key is its own document: no registry needed.
		res, err := did.KeyResolver{}.Resolve(ctx, arg)
		if err != nil {
			return &exitError{code: exitInvalid, err: fmt.Errorf("resolve %s: %w", arg, err)}
		}
		return writeJSON(e, res)
	}
	if *proof != (*genesis != "") {
		return usagef("--proof needs --genesis FILE (the registry's config/genesis.json) to know which validators to trust")
	}
	var opts ledger.ResolveOptions
	if *versionID != "" && *versionTime != "" {
		return usagef("give --version-id or --version-time, not both")
	}
	opts.VersionID = *versionID
	if *versionTime != "" {
		t, err := time.Parse(time.RFC3339, *versionTime)
		if err != nil {
			return usagef("--version-time %q is not an RFC 3339 time", *versionTime)
		}
		opts.VersionTime = &t
	}
	cfg := client.Config{URL: rf.baseURL(e)}
	if *proof {
		trust, err := loadGenesisTrust(*genesis)
		if err != nil {
			return err
		}
		trust.URL = cfg.URL
		cfg = trust
	}
	c, err := newClient(e, cfg)
	if err != nil {
		return err
	}
	res, err := c.ResolveWith(ctx, arg, opts)
	if err != nil && !(errors.Is(err, did.ErrDeactivated) && res != nil) {
		if errors.Is(err, did.ErrNotFound) {
			return &exitError{code: exitInvalid, err: fmt.Errorf("%s is not registered on %s", arg, cfg.URL)}
		}
		return unreachable(fmt.Errorf("resolve %s: %w", arg, err))
	}
	if err := writeJSON(e, res); err != nil {
		return err
	}
	if res.Metadata.Deactivated {
		return &exitError{code: exitInvalid, err: fmt.Errorf("%s is deactivated", arg)}
	}
	if *proof {
		fmt.Fprintln(e.stderr, "proof checked against the validators in", *genesis)
	}
	return nil
}

// controllerFlags name a registered did:medid and a key that controls it.
type controllerFlags struct {
	did, keyFile *string
}

func (c *controllerFlags) register(fs *flagSet) {
	c.did = fs.String("did", "", "the did:medid to change")
	c.keyFile = fs.String("key", "", "private key file of a current authentication key of --did")
}

// current resolves the DID and finds the kid of k among its authentication keys.
func (c *controllerFlags) current(ctx context.Context, reg *client.Client, k *key.PrivateKey) (*did.Resolution, string, error) {
	if !strings.HasPrefix(*c.did, tx.MethodPrefix) {
		return nil, "", usagef("--did %q: only did:medid identifiers live on the registry", *c.did)
	}
	res, err := reg.Resolve(ctx, *c.did)
	if err != nil {
		return nil, "", unreachable(fmt.Errorf("resolve %s: %w", *c.did, err))
	}
	kid, ok := tx.ControllerKID(res.Document, k.Public())
	if !ok {
		return nil, "", usagef("--key is not an authentication key of %s: use the DID's current key", *c.did)
	}
	return res, kid, nil
}

// didRotate replaces the DID's keys with one new key, signed by a current
// authentication key, against the current version (so a concurrent change
// makes it fail instead of being overwritten).
func didRotate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "did rotate", "medid did rotate --did DID --key FILE --new-key FILE [--registry URL]")
	var cf controllerFlags
	cf.register(fs)
	newKeyFile := fs.String("new-key", "", "private key file of the replacement key (e.g. from 'medid key new')")
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("did", "key", "new-key"); err != nil {
		return err
	}
	reg, err := rf.client(e)
	if err != nil {
		return err
	}
	k, err := loadKey(*cf.keyFile)
	if err != nil {
		return err
	}
	defer k.Destroy()
	nk, err := loadKey(*newKeyFile)
	if err != nil {
		return err
	}
	defer nk.Destroy()
	if nk.Public().Equal(k.Public()) {
		return usagef("--new-key is the same key as --key: create a new one with 'medid key new'")
	}
	res, kid, err := cf.current(ctx, reg, k)
	if err != nil {
		return err
	}
	p, newKID, err := tx.NewKeyRotation(res, nk.Public())
	var signed []byte
	if err == nil {
		signed, err = tx.Sign(p, k, kid)
	}
	if err != nil {
		return fmt.Errorf("sign did.update: %w", err)
	}
	out, err := submit(ctx, reg, signed, "did.update of "+p.DID)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "did: %s\nkid: %s\n", p.DID, newKID)
	fmt.Fprintf(e.stderr, "rotated at block %d: %s no longer signs for %s; sign with --kid %s\n", out.Height, kid, p.DID, newKID)
	return nil
}

// didDeactivate ends a DID for good.
func didDeactivate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "did deactivate", "medid did deactivate --did DID --key FILE [--registry URL]")
	var cf controllerFlags
	cf.register(fs)
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("did", "key"); err != nil {
		return err
	}
	reg, err := rf.client(e)
	if err != nil {
		return err
	}
	k, err := loadKey(*cf.keyFile)
	if err != nil {
		return err
	}
	defer k.Destroy()
	res, kid, err := cf.current(ctx, reg, k)
	if err != nil {
		return err
	}
	p, err := tx.NewDIDDeactivate(res.Document.ID, res.Metadata.VersionID)
	var signed []byte
	if err == nil {
		signed, err = tx.Sign(p, k, kid)
	}
	if err != nil {
		return fmt.Errorf("sign did.deactivate: %w", err)
	}
	out, err := submit(ctx, reg, signed, "did.deactivate of "+res.Document.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deactivated %s at block %d: credentials it issued no longer verify\n", res.Document.ID, out.Height)
	return nil
}
