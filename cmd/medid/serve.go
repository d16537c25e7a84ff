package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/internal/atomicfile"
	"github.com/medid/medid/registry/client"
)

func init() {
	commands["serve"] = command{summary: "run the OpenID4VCI issuer or the OpenID4VP verifier service", run: runServe}
}

func runServe(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "serve", map[string]func([]string) error{
		"issuer":   func(a []string) error { return serveIssuer(ctx, e, a) },
		"verifier": func(a []string) error { return serveVerifier(ctx, e, a) },
	}, []string{"issuer", "verifier"}, args)
}

// defaultIssuerTypes are the credential types a hospital issuer offers
// unless --type says otherwise.
var defaultIssuerTypes = []string{"PatientIdentityCredential", "AllergyIntoleranceCredential", "ImmunizationCredential", "MedicationStatementCredential", "BloodTypeCredential"}

// humanType turns "AllergyIntoleranceCredential" into "Allergy Intolerance".
func humanType(t string) string {
	t = strings.TrimSuffix(t, "Credential")
	var b strings.Builder
	for i, r := range t {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// adminToken reads the admin token file, creating it (mode 0600, O_EXCL)
// with a random token when create is set and it does not exist.
func adminToken(path string, create bool) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		var raw [32]byte
		rand.Read(raw[:])
		tok := []byte(hex.EncodeToString(raw[:]))
		if err := createOutput(path, append(tok, '\n'), 0o600); err != nil {
			return nil, err
		}
		return tok, nil
	}
	if err != nil {
		return nil, usagef("cannot read the admin token file: %v", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, usagef("admin token file %s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	tok := []byte(strings.TrimSpace(string(b)))
	if len(tok) < 16 {
		return nil, usagef("admin token file %s holds no token (at least 16 characters)", path)
	}
	return tok, nil
}

// listen opens the listener and works out the public URL.
func listen(addr, public string) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	if public == "" {
		public = "http://" + ln.Addr().String()
	}
	return ln, strings.TrimRight(public, "/"), nil
}

// serveUntilDone serves h on ln until ctx ends, then shuts down gracefully.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, urlFile, u string) error {
	// main's context already ends on these signals; catching them here too
	// makes a service stop cleanly (exit 0) however it was started.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if urlFile != "" {
		// Written once the listener is up, for scripts started on port 0.
		if err := atomicfile.WriteFile(urlFile, []byte(u+"\n"), 0o644); err != nil {
			srv.Close()
			return err
		}
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// serveIssuer runs the OpenID4VCI issuer.
func serveIssuer(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve issuer", "medid serve issuer --key FILE [--did DID --kid KID] --addr ADDR --admin-token-file FILE [--url URL] [--type T]... [--status-list FILE [--registry URL]] [--name NAME --logo URL --color #RRGGBB] [--valid-for DURATION] [--url-file FILE]")
	keyFile := fs.String("key", "", "issuer's private key file")
	issuer := fs.String("did", "", "issuer DID (default: the key's did:key); a did:medid needs --kid")
	kid := fs.String("kid", "", "verification method of --did that holds the key")
	addr := fs.String("addr", "127.0.0.1:8443", "address to listen on")
	public := fs.String("url", "", "the credential issuer URL wallets use (default: http://ADDR)")
	tokenFile := fs.String("admin-token-file", "", "file with the token 'medid issue offer' needs (created, mode 0600, if missing)")
	var types stringList
	fs.Var(&types, "type", "credential type to offer (repeatable; default: "+strings.Join(defaultIssuerTypes, ", ")+")")
	listFile := fs.String("status-list", "", "the issuer's status list file (from 'medid status new'): each credential gets an entry in it")
	regURL := fs.String("registry", "", "registry URL: resolve did:medid holders, and publish the status list if it is not on the ledger yet (default: $MEDID_REGISTRY)")
	name := fs.String("name", "", "issuer name shown in wallets")
	logo := fs.String("logo", "", "issuer logo URL shown in wallets")
	color := fs.String("color", "#12107c", "credential background colour shown in wallets")
	validFor := fs.Duration("valid-for", 0, "lifetime of issued credentials (default: no expiry)")
	urlFile := fs.String("url-file", "", "write the issuer URL to this file once listening")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("key", "admin-token-file"); err != nil {
		return err
	}
	sf := signerFlags{keyFile: keyFile, issuer: issuer, kid: kid}
	k, iss, ikid, err := sf.load()
	if err != nil {
		return err
	}
	defer k.Destroy()
	tok, err := adminToken(*tokenFile, true)
	if err != nil {
		return err
	}
	if len(types) == 0 {
		types = defaultIssuerTypes
	}
	var display []openid4vci.Display
	if *name != "" {
		d := openid4vci.Display{Name: *name, Locale: "en"}
		if *logo != "" {
			d.Logo = &openid4vci.Logo{URI: *logo, AltText: *name + " logo"}
		}
		display = append(display, d)
	}
	confs := map[string]openid4vci.Configuration{}
	for _, t := range types {
		confs[t] = openid4vci.NewConfiguration(t, openid4vci.Display{Name: humanType(t), Locale: "en", BackgroundColor: *color, TextColor: "#ffffff"})
	}
	reg := optionalRegistry(e, *regURL)
	methods := map[string]did.Resolver{"key": did.KeyResolver{}}
	var rc *client.Client
	if reg != "" {
		if rc, err = newRegistryClient(reg); err != nil {
			return err
		}
		methods["medid"] = rc
	}
	var alloc openid4vci.StatusAllocator
	if *listFile != "" {
		fa, err := newFileAllocator(*listFile, iss)
		if err != nil {
			return err
		}
		if rc != nil {
			if err := ensurePublished(ctx, e, rc, reg, k, iss, ikid, *listFile); err != nil {
				return err
			}
		}
		alloc = fa
	}
	ln, u, err := listen(*addr, *public)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	is, err := openid4vci.New(openid4vci.Config{
		URL: u, Key: k, DID: iss, Kid: ikid, Configurations: confs, Display: display,
		Resolver: did.NewRouter(methods), Status: alloc, AdminToken: tok, ValidFor: *validFor, Logger: logger,
	})
	if err != nil {
		ln.Close()
		return usagef("%v", err)
	}
	fmt.Fprintf(e.stdout, "issuer %s listening on %s\n  credential issuer: %s\n  types: %s\n", iss, ln.Addr(), u, strings.Join(types, ", "))
	return serveUntilDone(ctx, ln, is, *urlFile, u)
}

// ensurePublished publishes the status list file to the registry as version
// 1 (statuslist.publish) when the ledger does not hold it yet, so that
// verifiers can fetch it and 'medid status revoke --publish' can update it.
func ensurePublished(ctx context.Context, e *env, c *client.Client, base string, k *key.PrivateKey, owner, kid, listFile string) error {
	t, d, err := loadList(listFile)
	if err != nil {
		return err
	}
	id := d.ID
	if id == "" {
		id = t.Credential.ID
	}
	lid, err := ledgerListID(base, id)
	if err != nil {
		return err
	}
	v, _, err := ledgerList(ctx, base, lid)
	if err != nil {
		return err
	}
	if v > 0 {
		fmt.Fprintf(e.stdout, "status list %s is on the registry (version %d)\n", lid, v)
		return nil
	}
	if !strings.HasPrefix(owner, "did:medid:") {
		return usagef("status list %s is not on the registry, and only a registered did:medid can publish one: run the issuer with --did did:medid:... --kid ...", lid)
	}
	if err := checkListNamespace(base, lid, owner); err != nil {
		return err
	}
	res, err := publishListVersion(ctx, c, k, owner, kid, lid, 1, t.Raw)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "published status list %s version 1 (block %d)\n", lid, res.Height)
	return nil
}

// fileAllocator hands out the entries of a status list file in order. The
// next free index is kept in FILE.next, reserved in blocks so that a crash
// never hands out an index twice (at worst a block is skipped).
type fileAllocator struct {
	mu       sync.Mutex // guards next, reserved
	stateFn  string
	id       string
	purpose  statuslist.Purpose
	size     int
	next     int
	reserved int
}

const allocBlock = 256

func newFileAllocator(listFile, issuer string) (*fileAllocator, error) {
	t, d, err := loadList(listFile)
	if err != nil {
		return nil, err
	}
	if t.Credential.Issuer != issuer {
		return nil, usagef("status list %s belongs to %s, not to the issuer %s: verifiers would refuse it", listFile, t.Credential.Issuer, issuer)
	}
	id := d.ID
	if id == "" {
		id = t.Credential.ID
	}
	a := &fileAllocator{stateFn: listFile + ".next", id: id, purpose: d.Purpose, size: d.List.Len()}
	if b, err := os.ReadFile(a.stateFn); err == nil {
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || n < 0 {
			return nil, usagef("%s does not hold the next free index: fix or delete it", a.stateFn)
		}
		a.next, a.reserved = n, n
	}
	return a, nil
}

// Allocate returns the next entry.
func (a *fileAllocator) Allocate(ctx context.Context) (vc.Status, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next >= a.size {
		return vc.Status{}, fmt.Errorf("status list %s is full (%d entries): start the issuer with a new list", a.id, a.size)
	}
	if a.next >= a.reserved {
		r := min(a.next+allocBlock, a.size)
		if err := atomicfile.WriteFile(a.stateFn, []byte(strconv.Itoa(r)+"\n"), 0o644); err != nil {
			return vc.Status{}, err
		}
		a.reserved = r
	}
	i := strconv.Itoa(a.next)
	a.next++
	return vc.Status{ID: a.id + "#" + i, Type: "BitstringStatusListEntry", StatusPurpose: string(a.purpose), StatusListIndex: i, StatusListCredential: a.id}, nil
}

// serveVerifier runs the OpenID4VP verifier.
func serveVerifier(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve verifier", "medid serve verifier --addr ADDR --admin-token-file FILE [--url URL] [--name NAME] [--registry URL [--genesis FILE]] [--status-list FILE]... [--status-max-age 10s] [--url-file FILE]")
	addr := fs.String("addr", "127.0.0.1:8444", "address to listen on")
	public := fs.String("url", "", "the verifier's URL wallets post to (default: http://ADDR)")
	tokenFile := fs.String("admin-token-file", "", "file with the token 'medid vp request' needs (created, mode 0600, if missing)")
	name := fs.String("name", "", "verifier name shown in wallets")
	maxAge := fs.Duration("status-max-age", 10*time.Second, "fetch a status list again when the cached copy is older than this (0: keep it for the list's ttl)")
	urlFile := fs.String("url-file", "", "write the verifier URL to this file once listening")
	var vf verifierFlags
	vf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("admin-token-file"); err != nil {
		return err
	}
	tok, err := adminToken(*tokenFile, true)
	if err != nil {
		return err
	}
	vv, err := vf.build(e)
	if err != nil {
		return err
	}
	ln, u, err := listen(*addr, *public)
	if err != nil {
		return err
	}
	v, err := openid4vp.New(openid4vp.Config{URL: u, Name: *name, Verify: vv, StatusMaxAge: *maxAge, AdminToken: tok,
		Logger: slog.New(slog.NewTextHandler(e.stderr, nil))})
	if err != nil {
		ln.Close()
		return usagef("%v", err)
	}
	fmt.Fprintf(e.stdout, "verifier listening on %s\n  client_id: %s\n", ln.Addr(), v.ClientID())
	return serveUntilDone(ctx, ln, v, *urlFile, u)
}
