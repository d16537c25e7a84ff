package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// defaultRegistry is where registryd listens by default.
const defaultRegistry = "http://127.0.0.1:8080"

// newRegistryClient returns a client for the registry at u. A bad URL is a
// usage error.
func newRegistryClient(e *env, u string) (*client.Client, error) {
	return newClient(e, client.Config{URL: u})
}

// newClient returns a registry client for cfg, reaching the registry
// through the command's HTTP client (--ca, $MEDID_CA). A bad URL is a
// usage error.
func newClient(e *env, cfg client.Config) (*client.Client, error) {
	hc, err := e.httpClient()
	if err != nil {
		return nil, err
	}
	cfg.HTTPClient = hc
	c, err := client.New(cfg)
	if err != nil {
		return nil, usagef("--registry: %v", err)
	}
	return c, nil
}

// registryFlags are the flags of commands that write to the ledger.
type registryFlags struct {
	url     *string
	publish *bool
}

// register adds --registry (for commands that always talk to the registry).
func (r *registryFlags) register(fs *flagSet) {
	r.url = fs.String("registry", "", "registry URL (default: $MEDID_REGISTRY, else "+defaultRegistry+")")
}

// registerPublish adds --registry and --publish for commands that write a
// local file and may also publish it.
func (r *registryFlags) registerPublish(fs *flagSet) {
	r.url = fs.String("registry", "", "also publish the new version to this registry (default with --publish: $MEDID_REGISTRY, else "+defaultRegistry+")")
	r.publish = fs.Bool("publish", false, "also publish the new version to the registry (statuslist.publish)")
}

// publishing reports whether the command was asked to write to the ledger.
func (r *registryFlags) publishing() bool {
	return *r.url != "" || (r.publish != nil && *r.publish)
}

// baseURL is --registry, else $MEDID_REGISTRY, else the default.
func (r *registryFlags) baseURL(e *env) string {
	return registryURL(e, *r.url)
}

// optionalRegistry is flag (a --registry value) when given, else
// $MEDID_REGISTRY; "" means no registry: the command works without one.
func optionalRegistry(e *env, flag string) string {
	if flag != "" {
		return flag
	}
	return e.getenv("MEDID_REGISTRY")
}

// registryURL is flag when given, else $MEDID_REGISTRY, else the default
// registry: for commands that always talk to a registry.
func registryURL(e *env, flag string) string {
	if u := optionalRegistry(e, flag); u != "" {
		return u
	}
	return defaultRegistry
}

func (r *registryFlags) client(e *env) (*client.Client, error) {
	return newRegistryClient(e, r.baseURL(e))
}

// submit posts a signed transaction and explains a refusal.
func submit(ctx context.Context, c *client.Client, signed []byte, what string) (*client.TxResult, error) {
	res, err := c.Submit(ctx, signed)
	if err != nil {
		return nil, submitError(err, what)
	}
	return res, nil
}

// submitError explains why submitting what failed: a refusal by the
// registry, or a registry that could not be reached.
func submitError(err error, what string) error {
	var pe *client.ProblemError
	if errors.As(err, &pe) {
		return fmt.Errorf("the registry refused %s: %w", what, err)
	}
	return unreachable(fmt.Errorf("%s: %w", what, err))
}

// unreachable adds what to do to an error that means the registry could
// not be reached at all.
func unreachable(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%w\n(is registryd running at that address? give --registry URL or set MEDID_REGISTRY)", err)
	}
	return err
}

// registerDID submits did.create for k's did:medid and returns the DID and
// its key id.
func registerDID(ctx context.Context, c *client.Client, k *key.PrivateKey) (string, string, *client.TxResult, error) {
	p, kid, err := tx.NewKeyDIDCreate(k.Public())
	if err != nil {
		return "", "", nil, err
	}
	signed, err := tx.Sign(p, k, kid)
	if err != nil {
		return "", "", nil, fmt.Errorf("sign did.create: %w", err)
	}
	res, err := submit(ctx, c, signed, "did.create for "+p.DID)
	if err != nil {
		return "", "", nil, err
	}
	return p.DID, kid, res, nil
}

// accredit submits issuer.accredit signed by the governance key gov (or
// its proposal, on a network that asks a quorum for accreditations: the
// proposal is then returned, nil otherwise) and returns the accreditation
// id.
func accredit(ctx context.Context, c *client.Client, gov *key.PrivateKey, a tx.Accreditation) (string, *client.TxResult, *ledger.ProposalRecord, error) {
	p, err := tx.NewIssuerAccredit(keyDID(gov.Public()), a)
	if err != nil {
		return "", nil, nil, fmt.Errorf("issuer.accredit: %w", err)
	}
	res, prop, err := governedChange(ctx, c, gov, p, "issuer.accredit of "+a.Issuer)
	if err != nil {
		return "", nil, nil, err
	}
	return p.AccreditationID, res, prop, nil
}

// statusListError explains why a status list cannot be published (see
// client.StatusListError) as a usage error saying what to do; other errors
// mean the registry could not be read.
func statusListError(c *client.Client, err error) error {
	var se *client.StatusListError
	if !errors.As(err, &se) {
		return unreachable(err)
	}
	switch se.Err {
	case client.ErrStatusListOwner:
		return usagef("only a registered did:medid can publish a status list: run 'medid did register --key FILE', then pass --issuer DID --kid DID#%s", tx.KeyFragment)
	case client.ErrStatusListID:
		return usagef("status list id %q cannot be published: use %s<name> (name: letters, digits, . _ : -) or a URN such as urn:uuid:…", se.CredentialID, c.StatusListURL(""))
	case client.ErrStatusListExists:
		return usagef("status list %s already exists on the registry (version %d): change it with 'medid status revoke|suspend|reinstate --list FILE --publish'; nothing was written", se.ID, se.Version)
	case client.ErrStatusListNamespace:
		return usagef("a new status list is named in its issuer's namespace, so no one else can take its id: use --id %s (not %s); nothing was written", c.StatusListURL(se.Suggest), se.ID)
	case client.ErrStatusListStale:
		return usagef("the registry holds version %d of status list %s, which is not the list in the file: the file is out of date (run 'medid status pull --list FILE' first); nothing was changed", se.Version, se.ID)
	}
	return err
}

// publication is a checked plan to publish the next version of a list.
type publication struct {
	*client.StatusListPublication
	base string // the registry URL, as given
}

// planPublish checks, before anything is written, that a status list owned
// by owner with credential id credID can be published (see
// client.PlanStatusListPublish), and returns the plan (nil when the command
// was not asked to publish). prev is the list's token before this change
// ("" for a new list).
func planPublish(ctx context.Context, e *env, rf *registryFlags, owner, credID, prev string) (*publication, error) {
	if !rf.publishing() {
		return nil, nil
	}
	c, err := rf.client(e)
	if err != nil {
		return nil, err
	}
	plan, err := c.PlanStatusListPublish(ctx, owner, credID, prev)
	if err != nil {
		return nil, statusListError(c, err)
	}
	return &publication{StatusListPublication: plan, base: rf.baseURL(e)}, nil
}

// publish submits the planned version.
func (p *publication) publish(ctx context.Context, e *env, k *key.PrivateKey, owner, kid, token string) error {
	res, err := p.Publish(ctx, k, owner, kid, token)
	if err != nil {
		return fmt.Errorf("%w (the local file was written)", submitError(err, fmt.Sprintf("statuslist.publish of %s version %d", p.ID, p.Version)))
	}
	fmt.Fprintf(e.stdout, "published %s version %d to %s (block %d)\n", p.ID, p.Version, p.base, res.Height)
	return nil
}

// loadGenesisTrust reads a CometBFT genesis file for proof checking.
func loadGenesisTrust(path string) (client.Config, error) {
	data, err := readInput(path, "genesis")
	if err != nil {
		return client.Config{}, err
	}
	chain, vals, err := client.TrustFromGenesis(data)
	if err != nil {
		return client.Config{}, usagef("%s: %v", path, err)
	}
	return client.Config{VerifyProofs: true, ChainID: chain, TrustedValidators: vals}, nil
}
