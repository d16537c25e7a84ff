package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/tx"
)

// defaultRegistry is where registryd listens by default.
const defaultRegistry = "http://127.0.0.1:8080"

// newRegistryClient returns a client for the registry at u. A bad URL is a
// usage error.
func newRegistryClient(u string) (*client.Client, error) {
	c, err := client.New(client.Config{URL: u})
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
	return newRegistryClient(r.baseURL(e))
}

// submit posts a signed transaction and explains a refusal.
func submit(ctx context.Context, c *client.Client, signed []byte, what string) (*client.TxResult, error) {
	res, err := c.Submit(ctx, signed)
	if err != nil {
		var pe *client.ProblemError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("the registry refused %s: %w", what, err)
		}
		return nil, unreachable(fmt.Errorf("%s: %w", what, err))
	}
	return res, nil
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
	tmpl, err := tx.KeyTemplate(k.Public())
	if err != nil {
		return "", "", nil, err
	}
	id, doc, err := tx.BindDocument(tmpl)
	if err != nil {
		return "", "", nil, fmt.Errorf("build the DID document: %w", err)
	}
	kid := id + "#" + tx.KeyFragment
	signed, err := tx.Sign(&tx.Payload{Type: tx.DIDCreate, DID: id, Nonce: randomHex(16), Document: doc}, k, kid)
	if err != nil {
		return "", "", nil, fmt.Errorf("sign did.create: %w", err)
	}
	res, err := submit(ctx, c, signed, "did.create for "+id)
	if err != nil {
		return "", "", nil, err
	}
	return id, kid, res, nil
}

// accreditation is what issuer.accredit grants.
type accreditation struct {
	Issuer      string
	Types       []string
	From, Until time.Time // zero From = now; zero Until = open-ended
	ID          string    // "" = a random id
}

// accredit submits issuer.accredit signed by the governance key gov and
// returns the accreditation id.
func accredit(ctx context.Context, c *client.Client, gov *key.PrivateKey, a accreditation) (string, *client.TxResult, error) {
	if a.ID == "" {
		a.ID = "acc-" + randomHex(8)
	}
	if a.From.IsZero() {
		a.From = time.Now().UTC().Truncate(time.Second)
	}
	govDID := keyDID(gov.Public())
	p := &tx.Payload{
		Type: tx.IssuerAccredit, DID: govDID, Nonce: randomHex(16),
		Issuer: a.Issuer, CredentialTypes: a.Types,
		ValidFrom: a.From.UTC().Format(time.RFC3339), AccreditationID: a.ID,
	}
	if !a.Until.IsZero() {
		p.ValidUntil = a.Until.UTC().Format(time.RFC3339)
	}
	signed, err := tx.Sign(p, gov, keyKID(gov.Public()))
	if err != nil {
		return "", nil, fmt.Errorf("sign issuer.accredit: %w", err)
	}
	res, err := submit(ctx, c, signed, "issuer.accredit of "+a.Issuer)
	if err != nil {
		return "", nil, err
	}
	return a.ID, res, nil
}

// registryListURL is the URL at which registry c serves status list id:
// what credentials name as statusListCredential so any verifier can fetch it.
func registryListURL(base, id string) string {
	return strings.TrimRight(base, "/") + "/1.0/status-lists/" + id
}

// ledgerListID returns the ledger id of a status list credential id: the
// last path segment of the registry's status list URL, or the id itself
// when it is a plain identifier (a URN, for example).
func ledgerListID(base, credID string) (string, error) {
	prefix := registryListURL(base, "")
	if rest, ok := strings.CutPrefix(credID, prefix); ok && rest != "" && !strings.ContainsAny(rest, "/?#") {
		return rest, nil
	}
	if validLedgerID(credID) {
		return credID, nil
	}
	return "", usagef("status list id %q cannot be published: use %s<name> (name: letters, digits, . _ : -) or a URN such as urn:uuid:…", credID, prefix)
}

// checkListNamespace refuses, before anything is signed, a new list whose
// ledger id is not in owner's namespace (the ledger would refuse it: see
// tx.StatusListID), and says which --id to use instead.
func checkListNamespace(base, id, owner string) error {
	if o, ok := tx.StatusListOwner(id); ok && o == owner {
		return nil
	}
	name := id
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		name = id[i+1:]
	}
	suggest, err := tx.StatusListID(owner, name)
	if err != nil {
		suggest = owner + ":<name>"
	}
	return usagef("a new status list is named in its issuer's namespace, so no one else can take its id: use --id %s (not %s); nothing was written", registryListURL(base, suggest), id)
}

func validLedgerID(s string) bool {
	if s == "" || len(s) > tx.MaxIDLen {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// publishListVersion submits statuslist.publish of version of list id.
func publishListVersion(ctx context.Context, c *client.Client, k *key.PrivateKey, owner, kid, id string, version int64, token string) (*client.TxResult, error) {
	signed, err := tx.Sign(&tx.Payload{
		Type: tx.StatusListPublish, DID: owner, Nonce: randomHex(16),
		ListID: id, Version: version, Credential: token,
	}, k, kid)
	if err != nil {
		return nil, fmt.Errorf("sign statuslist.publish: %w", err)
	}
	return submit(ctx, c, signed, fmt.Sprintf("statuslist.publish of %s version %d", id, version))
}

// ledgerList returns the latest published version of status list id on
// the registry and its token; version 0 if it was never published. The
// registry sends the version as the ETag of GET /1.0/status-lists/{id}.
func ledgerList(ctx context.Context, base, id string) (int64, string, error) {
	u := registryListURL(base, url.PathEscape(id))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Accept", "application/vc+jwt")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, "", unreachable(fmt.Errorf("read status list %s from the registry: %w", id, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, "", fmt.Errorf("read status list %s from the registry: %w", id, err)
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		return 0, "", nil
	case http.StatusOK:
		v, err := strconv.ParseInt(strings.Trim(resp.Header.Get("ETag"), `"W/`), 10, 64)
		if err != nil || v < 1 {
			return 0, "", fmt.Errorf("registry answered status list %s without a version (ETag %q)", id, resp.Header.Get("ETag"))
		}
		return v, strings.TrimSpace(string(body)), nil
	}
	return 0, "", fmt.Errorf("read status list %s from the registry: HTTP %d", id, resp.StatusCode)
}

// publication is a checked plan to publish the next version of a list.
type publication struct {
	c       *client.Client
	base    string
	id      string // ledger id
	version int64  // the version to publish
}

// planPublish checks, before anything is written, that a status list owned
// by owner with credential id credID can be published, and returns the
// plan (nil when the command was not asked to publish). prev is the list's
// token before this change ("" for a new list): publishing over a ledger
// version other than prev would silently undo someone else's revocations,
// so it is refused. A concurrent publication between this check and the
// transaction is caught by the ledger, which requires strictly increasing
// versions.
func planPublish(ctx context.Context, e *env, rf *registryFlags, owner, credID, prev string) (*publication, error) {
	if !rf.publishing() {
		return nil, nil
	}
	if !strings.HasPrefix(owner, tx.MethodPrefix) {
		return nil, usagef("only a registered did:medid can publish a status list: run 'medid did register --key FILE', then pass --issuer DID --kid DID#%s", tx.KeyFragment)
	}
	c, err := rf.client(e)
	if err != nil {
		return nil, err
	}
	base := rf.baseURL(e)
	id, err := ledgerListID(base, credID)
	if err != nil {
		return nil, err
	}
	v, onLedger, err := ledgerList(ctx, base, id)
	if err != nil {
		return nil, err
	}
	if v == 0 {
		if err := checkListNamespace(base, id, owner); err != nil {
			return nil, err
		}
	}
	switch {
	case prev == "" && v > 0:
		return nil, usagef("status list %s already exists on the registry (version %d): change it with 'medid status revoke|suspend|reinstate --list FILE --publish'; nothing was written", id, v)
	case prev != "" && v > 0 && onLedger != prev:
		return nil, usagef("the registry holds version %d of status list %s, which is not the list in the file: the file is out of date (run 'medid status pull --list FILE' first); nothing was changed", v, id)
	}
	return &publication{c: c, base: base, id: id, version: v + 1}, nil
}

// publish submits the planned version.
func (p *publication) publish(ctx context.Context, e *env, k *key.PrivateKey, owner, kid, token string) error {
	res, err := publishListVersion(ctx, p.c, k, owner, kid, p.id, p.version, token)
	if err != nil {
		return fmt.Errorf("%w (the local file was written)", err)
	}
	fmt.Fprintf(e.stdout, "published %s version %d to %s (block %d)\n", p.id, p.version, p.base, res.Height)
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
