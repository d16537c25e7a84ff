package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/internal/atomicfile"
	"github.com/medid/medid/internal/httpserver"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/internal/tlsfiles"
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
		tok := []byte(randid.Hex(32))
		if err := createOutput(path, append(tok, '\n'), 0o600); err != nil {
			return nil, err
		}
		return tok, nil
	}
	if err != nil {
		return nil, usagef("cannot read the admin token file: %v", err)
	}
	return secretFile(path, b, "admin token")
}

// secretFile checks the contents b of the secret file path holding what
// (an admin token, a result key): only its owner may read it, and it holds
// at least 16 characters. The secret itself never appears in an error.
func secretFile(path string, b []byte, what string) ([]byte, error) {
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, usagef("%s file %s is readable by others (mode %v): chmod 600 it", what, path, st.Mode().Perm())
	}
	tok := []byte(strings.TrimSpace(string(b)))
	if len(tok) < 16 {
		return nil, usagef("%s file %s holds no %s (at least 16 characters)", what, path, what)
	}
	return tok, nil
}

// serveFlags are the listening flags of the issuer and verifier services.
type serveFlags struct {
	addr, public, urlFile   *string
	tlsCert, tlsKey, tlsCCA *string
}

func (s *serveFlags) register(fs *flagSet, defaultAddr, who string) {
	s.addr = fs.String("addr", defaultAddr, "address to listen on")
	s.public = fs.String("url", "", "the "+who+" URL wallets use (default: http(s)://ADDR)")
	s.urlFile = fs.String("url-file", "", "write the "+who+" URL to this file once listening")
	s.tlsCert = fs.String("tls-cert", "", "serve HTTPS with this PEM certificate chain (reloaded when the file changes)")
	s.tlsKey = fs.String("tls-key", "", "the certificate's PEM private key, mode 0600 (reloaded when the file changes)")
	s.tlsCCA = fs.String("tls-client-ca", "", "mutual TLS: PEM CA whose client certificates the operator endpoints require")
}

// files are the TLS files asked for, checked now so that a bad file is
// reported before anything listens.
func (s *serveFlags) files(e *env) (tlsfiles.Server, error) {
	f := tlsfiles.Server{Cert: *s.tlsCert, Key: *s.tlsKey, ClientCA: *s.tlsCCA, Logger: slog.New(slog.NewTextHandler(e.stderr, nil))}
	if f.Enabled() {
		if _, err := f.Config(); err != nil {
			return f, usagef("%v", err)
		}
	}
	return f, nil
}

// listen opens the listener and works out the public URL (https when TLS
// files are given).
func (s *serveFlags) listen(tls bool) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", *s.addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen on %s: %w", *s.addr, err)
	}
	public := *s.public
	if public == "" {
		scheme := "http"
		if tls {
			scheme = "https"
		}
		public = scheme + "://" + ln.Addr().String()
	}
	return ln, strings.TrimRight(public, "/"), nil
}

// serveUntilDone serves h on ln through the hardened HTTP server
// (internal/httpserver: timeouts, connection cap, TLS) until ctx ends,
// then shuts down gracefully.
func serveUntilDone(ctx context.Context, e *env, ln net.Listener, h http.Handler, files tlsfiles.Server, urlFile, u string) error {
	// main's context already ends on these signals; catching them here too
	// makes a service stop cleanly (exit 0) however it was started.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := httpserver.New(httpserver.Config{Listener: ln, Handler: h, TLS: files, Logger: slog.New(slog.NewTextHandler(e.stderr, nil))})
	if err != nil {
		ln.Close()
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx) }()
	if urlFile != "" {
		// Written once the listener is up, for scripts started on port 0.
		if err := atomicfile.WriteFile(urlFile, []byte(u+"\n"), 0o644); err != nil {
			srv.Close()
			<-errc
			return err
		}
	}
	return <-errc
}

// serveIssuer runs the OpenID4VCI issuer.
func serveIssuer(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve issuer", "medid serve issuer --key FILE [--did DID --kid KID] --addr ADDR --admin-token-file FILE [--url URL] [--type T]... [--formats vc+jwt,dc+sd-jwt] [--status-list FILE] [--token-status-list FILE --token-status-alloc FILE] [--registry URL] [--name NAME --logo URL --color #RRGGBB] [--valid-for DURATION] [--url-file FILE] [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]")
	keyFile := fs.String("key", "", "issuer's private key file")
	issuer := fs.String("did", "", "issuer DID (default: the key's did:key); a did:medid needs --kid")
	kid := fs.String("kid", "", "verification method of --did that holds the key")
	var sf serveFlags
	sf.register(fs, "127.0.0.1:8443", "credential issuer")
	tokenFile := fs.String("admin-token-file", "", "file with the token 'medid issue offer' needs (created, mode 0600, if missing)")
	var types stringList
	fs.Var(&types, "type", "credential type to offer (repeatable; default: "+strings.Join(defaultIssuerTypes, ", ")+")")
	listFile := fs.String("status-list", "", "the issuer's status list file (from 'medid status new'): each vc+jwt credential gets an entry in it")
	formats := fs.String("formats", "vc+jwt,dc+sd-jwt", "credential formats offered for each type: vc+jwt (configuration id TYPE) and/or dc+sd-jwt (SD-JWT VC, configuration id TYPE.sd)")
	tslList := fs.String("token-status-list", "", "the issuer's token status list file (from 'medid status new --format token'): each dc+sd-jwt credential gets a random entry in it")
	tslAlloc := fs.String("token-status-alloc", "", "the index allocator file of --token-status-list (from 'medid status new --format token --alloc')")
	regURL := fs.String("registry", "", "registry URL: resolve did:medid holders, and publish the status list if it is not on the ledger yet (default: $MEDID_REGISTRY)")
	name := fs.String("name", "", "issuer name shown in wallets")
	logo := fs.String("logo", "", "issuer logo URL shown in wallets")
	color := fs.String("color", "#12107c", "credential background colour shown in wallets")
	validFor := fs.Duration("valid-for", 0, "lifetime of issued credentials (default: no expiry)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("key", "admin-token-file"); err != nil {
		return err
	}
	files, err := sf.files(e)
	if err != nil {
		return err
	}
	signer := signerFlags{keyFile: keyFile, issuer: issuer, kid: kid}
	k, iss, ikid, err := signer.load()
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
	offerVC, offerSD, err := issuerFormats(*formats)
	if err != nil {
		return err
	}
	if *tslList != "" && !offerSD {
		return usagef("--token-status-list is for dc+sd-jwt credentials: add dc+sd-jwt to --formats")
	}
	confs := map[string]openid4vci.Configuration{}
	for _, t := range types {
		d := openid4vci.Display{Name: humanType(t), Locale: "en", BackgroundColor: *color, TextColor: "#ffffff"}
		if offerVC {
			confs[t] = openid4vci.NewConfiguration(t, d)
		}
		if offerSD {
			confs[sdjwtConfigID(t)] = openid4vci.NewSDJWTConfiguration(t, d)
		}
	}
	reg := optionalRegistry(e, *regURL)
	var src verify.Sources // the resolver of holders' DIDs
	var rc *client.Client
	if reg != "" {
		if rc, err = newRegistryClient(e, reg); err != nil {
			return err
		}
		src.Registry = rc
	}
	var alloc openid4vci.StatusAllocator
	if *listFile != "" {
		tok, d, err := loadList(*listFile)
		if err != nil {
			return err
		}
		fa, err := statuslist.NewFileAllocator(*listFile+".next", d, iss)
		var oe *statuslist.OwnerError
		switch {
		case errors.As(err, &oe):
			return usagef("status list %s belongs to %s, not to the issuer %s: verifiers would refuse it", *listFile, oe.Owner, iss)
		case errors.Is(err, statuslist.ErrAllocatorState):
			return usagef("%v", err)
		case err != nil:
			return err
		}
		if rc != nil {
			if err := ensurePublished(ctx, e, rc, k, iss, ikid, d.ID, tok); err != nil {
				return err
			}
		}
		alloc = fa
	}
	var tokenAlloc openid4vci.TokenStatusAllocator
	if *tslList != "" {
		if tokenAlloc, err = tokenStatusAllocator(ctx, e, rc, k, iss, ikid, *tslList, *tslAlloc); err != nil {
			return err
		}
	}
	ln, u, err := sf.listen(files.Enabled())
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	// With a registry, a representative whose delegation allows "receive"
	// may redeem an offer for the patient it names (issued to them).
	var delegations openid4vci.DelegationVerifier
	if rc != nil {
		chk, err := delegation.NewChecker(delegation.CheckerConfig{Resolver: rc, Status: rc, Trust: rc, Now: e.now})
		if err != nil {
			return err
		}
		delegations = chk
	}
	is, err := openid4vci.New(openid4vci.Config{
		Delegations: delegations,
		URL:         u, Key: k, DID: iss, Kid: ikid, Configurations: confs, Display: display,
		Resolver: src.Resolver(), Status: alloc, TokenStatus: tokenAlloc, AdminToken: tok, ValidFor: *validFor, Logger: logger,
	})
	if err != nil {
		ln.Close()
		return usagef("%v", err)
	}
	fmt.Fprintf(e.stdout, "issuer %s listening on %s\n  credential issuer: %s\n  types: %s\n  formats: %s\n", iss, ln.Addr(), u, strings.Join(types, ", "), formatsLine(offerVC, offerSD))
	issuerNames(ctx, e, optionalRegistry(e, *regURL), iss, *name, types)
	return serveUntilDone(ctx, e, ln, is, files, *sf.urlFile, u)
}

// ensurePublished publishes the issuer's status list as version 1 when the
// ledger does not hold it yet (see client.EnsureStatusListPublished), so
// that verifiers can fetch it and 'medid status revoke --publish' can
// update it.
func ensurePublished(ctx context.Context, e *env, c *client.Client, k *key.PrivateKey, owner, kid, credID, token string) error {
	lid, v, res, err := c.EnsureStatusListPublished(ctx, k, owner, kid, credID, token)
	var se *client.StatusListError
	switch {
	case errors.As(err, &se) && se.Err == client.ErrStatusListOwner:
		return usagef("status list %s is not on the registry, and only a registered did:medid can publish one: run the issuer with --did did:medid:... --kid ...", lid)
	case errors.As(err, &se):
		return statusListError(c, err)
	case err != nil && v == 1:
		return submitError(err, fmt.Sprintf("statuslist.publish of %s version %d", lid, v))
	case err != nil:
		return unreachable(err)
	case res == nil:
		fmt.Fprintf(e.stdout, "status list %s is on the registry (version %d)\n", lid, v)
		return nil
	}
	fmt.Fprintf(e.stdout, "published status list %s version 1 (block %d)\n", lid, res.Height)
	return nil
}

// serveVerifier runs the OpenID4VP verifier.
func serveVerifier(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve verifier", "medid serve verifier --addr ADDR --admin-token-file FILE [--url URL] [--name NAME] [--registry URL [--genesis FILE]] [--status-list FILE]... [--status-max-age 10s] [--url-file FILE] [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]")
	var sf serveFlags
	sf.register(fs, "127.0.0.1:8444", "verifier")
	tokenFile := fs.String("admin-token-file", "", "file with the token 'medid vp request' needs (created, mode 0600, if missing)")
	name := fs.String("name", "", "verifier name shown in wallets")
	maxAge := fs.Duration("status-max-age", 10*time.Second, "fetch a status list again when the cached copy is older than this (0: keep it for the list's ttl)")
	keyFile := fs.String("key", "", "sign requests with this key of the verifier's DID (with --did and --kid): wallets then show its name from the directory")
	signDID := fs.String("did", "", "the verifier's DID (client_id decentralized_identifier:DID)")
	kid := fs.String("kid", "", "the verification method of --did that holds --key")
	var vf verifierFlags
	vf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("admin-token-file"); err != nil {
		return err
	}
	files, err := sf.files(e)
	if err != nil {
		return err
	}
	var signer *key.PrivateKey
	if *keyFile != "" || *signDID != "" || *kid != "" {
		if *keyFile == "" || *signDID == "" || *kid == "" {
			return usagef("--key, --did and --kid go together: the verifier's DID, one of its verification methods and that method's key")
		}
		k, err := loadKey(*keyFile)
		if err != nil {
			return err
		}
		defer k.Destroy()
		signer = k
	}
	tok, err := adminToken(*tokenFile, true)
	if err != nil {
		return err
	}
	vv, err := vf.build(e)
	if err != nil {
		return err
	}
	ln, u, err := sf.listen(files.Enabled())
	if err != nil {
		return err
	}
	// With a registry, a representative whose delegation allows "present"
	// may answer with the patient's credentials; the delegation's status
	// is fetched as often as the credentials' (--status-max-age).
	var delegations openid4vp.DelegationVerifier
	if vf.rc != nil {
		ttl := *maxAge
		if ttl <= 0 {
			ttl = delegation.DefaultStatusTTL
		}
		chk, err := delegation.NewChecker(delegation.CheckerConfig{Resolver: vf.rc, Status: vf.rc, Trust: vf.rc, StatusTTL: ttl, Now: e.now})
		if err != nil {
			ln.Close()
			return err
		}
		delegations = chk
	}
	v, err := openid4vp.New(openid4vp.Config{URL: u, Name: *name, Verify: vv, StatusMaxAge: *maxAge, AdminToken: tok, Delegations: delegations,
		DID: *signDID, Key: signer, KeyID: *kid, Logger: slog.New(slog.NewTextHandler(e.stderr, nil))})
	if err != nil {
		ln.Close()
		return usagef("%v", err)
	}
	fmt.Fprintf(e.stdout, "verifier listening on %s\n  client_id: %s\n", ln.Addr(), v.ClientID())
	if signer != nil && vf.rc != nil {
		if d, err := directoryFor(vf.rc, vf.proven); err == nil {
			fmt.Fprintf(e.stdout, "  wallets see: %s\n", describe(ctx, d, *signDID))
		}
	} else if signer == nil {
		fmt.Fprintln(e.stdout, "  requests are unsigned: wallets show them as unverified, with this address (sign them with --key --did --kid)")
	}
	return serveUntilDone(ctx, e, ln, v, files, *sf.urlFile, u)
}
