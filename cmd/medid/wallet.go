package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/wallet"
)

func init() {
	commands["wallet"] = command{summary: "the patient wallet: DIDs, credentials, presentations, backup", run: runWallet}
}

var walletSubs = []string{"init", "did", "receive", "list", "show", "delete", "refresh", "present", "share", "history", "backup", "restore", "recover", "passphrase", "accept-offer", "respond", "emergency-card", "consent", "access-log", "delegate", "act-for", "licence-card"}

func runWallet(ctx context.Context, e *env, args []string) error {
	w := &walletCLI{e: e}
	return subcommand(e, "wallet", map[string]func([]string) error{
		"init":       w.init,
		"did":        func(a []string) error { return w.did(ctx, a) },
		"receive":    func(a []string) error { return w.receive(ctx, a) },
		"list":       w.list,
		"show":       w.show,
		"delete":     w.delete,
		"refresh":    func(a []string) error { return w.refresh(ctx, a) },
		"present":    func(a []string) error { return w.present(ctx, a) },
		"share":      func(a []string) error { return w.share(ctx, a) },
		"history":    w.history,
		"backup":     w.backup,
		"restore":    w.restore,
		"recover":    func(a []string) error { return w.recover(ctx, a) },
		"passphrase": w.changePassphrase,
		// OpenID4VCI, OpenID4VP and the emergency card: wallet_openid.go.
		"accept-offer":   func(a []string) error { return w.acceptOffer(ctx, a) },
		"respond":        func(a []string) error { return w.respond(ctx, a) },
		"emergency-card": func(a []string) error { return w.emergencyCard(ctx, a) },
		// Consent and the access trail: wallet_consent.go.
		"consent":    func(a []string) error { return w.consent(ctx, a) },
		"access-log": func(a []string) error { return w.accessLog(ctx, a) },
		"delegate":   func(a []string) error { return w.delegate(ctx, a) },
		"act-for":    func(a []string) error { return w.actFor(ctx, a) },
		// A practitioner's licence card: licence_card.go.
		"licence-card": w.licenceCard,
	}, walletSubs, args)
}

// walletCLI holds what every wallet subcommand shares: where the wallet is
// and how to get its passphrase. Passphrases come from an environment
// variable or a file, never from a flag value (flags end up in shell
// history and in ps output).
type walletCLI struct {
	e        *env
	dir      *string
	passFile *string
}

// flags makes a subcommand's flag set with the shared --wallet and
// --passphrase-file flags.
func (c *walletCLI) flags(name, usage string) *flagSet {
	fs := newFlagSet(c.e, "wallet "+name, "medid wallet "+name+" "+usage+" [--wallet DIR] [--passphrase-file FILE]")
	c.dir = fs.String("wallet", "", "wallet folder (default: $MEDID_WALLET, else ~/.medid/wallet)")
	c.passFile = fs.String("passphrase-file", "", "file holding the wallet passphrase (default: $MEDID_WALLET_PASSPHRASE)")
	return fs
}

func (c *walletCLI) walletDir() (string, error) {
	if *c.dir != "" {
		return *c.dir, nil
	}
	if d := c.e.getenv("MEDID_WALLET"); d != "" {
		return d, nil
	}
	home := c.e.getenv("HOME")
	if home == "" {
		return "", usagef("no wallet folder: give --wallet DIR or set MEDID_WALLET")
	}
	return filepath.Join(home, ".medid", "wallet"), nil
}

// secret reads a passphrase from file (when given) or the environment
// variable. A trailing newline in the file is not part of the passphrase.
func (c *walletCLI) secret(file, envVar, what string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, usagef("cannot read the %s file: %v", what, err)
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return nil, usagef("the %s file %s is empty", what, file)
		}
		return b, nil
	}
	if v := c.e.getenv(envVar); v != "" {
		return []byte(v), nil
	}
	return nil, usagef("no %s: set %s or give its file with the flag (never the value itself)", what, envVar)
}

func (c *walletCLI) passphrase() ([]byte, error) {
	return c.secret(*c.passFile, "MEDID_WALLET_PASSPHRASE", "wallet passphrase")
}

// walletKDF and backupWorkFactor are the Argon2id parameters of new
// wallets and the scrypt work factor of backups; zero means the wallet
// package's defaults, which is all medid ever uses. Only this package's
// tests set them (cheaper, so that the scripts do not spend minutes in key
// derivation); nothing outside a test binary can.
var (
	walletKDF        wallet.KDFParams
	backupWorkFactor int
)

func (c *walletCLI) config(v wallet.Verifier) (wallet.Config, error) {
	dir, err := c.walletDir()
	if err != nil {
		return wallet.Config{}, err
	}
	hc, err := c.e.httpClient()
	if err != nil {
		return wallet.Config{}, err
	}
	kdf := walletKDF
	if c.e.kdf.Time != 0 {
		kdf = c.e.kdf
	}
	return wallet.Config{Dir: dir, Verifier: v, HTTPClient: hc, Now: c.e.now, KDF: kdf, BackupWorkFactor: backupWorkFactor}, nil
}

// open opens and unlocks the wallet. Errors are turned into messages that
// say what to do.
func (c *walletCLI) open(v wallet.Verifier) (*wallet.Wallet, error) {
	cfg, err := c.config(v)
	if err != nil {
		return nil, err
	}
	pass, err := c.passphrase()
	if err != nil {
		return nil, err
	}
	defer clear(pass)
	w, err := wallet.Open(cfg, pass)
	if errors.Is(err, wallet.ErrNoWallet) {
		return nil, fmt.Errorf("%w: %s (create one with 'medid wallet init', or restore one)", err, cfg.Dir)
	}
	return w, err
}

// parseOpen parses the flags of a subcommand that takes no positional
// arguments, then opens and unlocks the wallet (see open). The caller closes
// the wallet.
func (c *walletCLI) parseOpen(fs *flagSet, args []string) (*wallet.Wallet, error) {
	if err := fs.parseNone(args); err != nil {
		return nil, err
	}
	return c.open(nil)
}

// init creates a wallet and shows its recovery phrase once.
func (c *walletCLI) init(args []string) error {
	fs := c.flags("init", "[--phrase-file FILE]")
	phraseFile := fs.String("phrase-file", "", "write the recovery phrase to this new file (mode 0600) instead of printing it")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	cfg, err := c.config(nil)
	if err != nil {
		return err
	}
	pass, err := c.passphrase()
	if err != nil {
		return err
	}
	defer clear(pass)
	if *phraseFile != "" {
		if _, err := os.Stat(*phraseFile); err == nil {
			return usagef("phrase file %s already exists: choose another name", *phraseFile)
		}
	}
	w, phrase, err := wallet.Create(cfg, pass)
	if err != nil {
		return err
	}
	defer w.Close()
	p, err := w.PrimaryDID()
	if err != nil {
		return err
	}
	out := c.e.stdout
	fmt.Fprintf(out, "wallet created in %s\nprimary DID: %s\n\n", cfg.Dir, p.DID)
	if *phraseFile != "" {
		if err := createOutput(*phraseFile, []byte(phrase+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(out, "Your recovery phrase was written to %s.\n", *phraseFile)
	} else {
		fmt.Fprintf(out, "RECOVERY PHRASE (shown only this once):\n\n%s\n\n", phrase)
	}
	fmt.Fprintln(out, "WARNING: write the 24 words on paper and keep them somewhere safe and private.")
	fmt.Fprintln(out, "They are the only way to get your identities back if this device is lost, and")
	fmt.Fprintln(out, "anyone who has them can act as you. medid will never show them again.")
	return nil
}

func (c *walletCLI) did(ctx context.Context, args []string) error {
	return subcommand(c.e, "wallet did", map[string]func([]string) error{
		"list":     c.didList,
		"new":      c.didNew,
		"register": func(a []string) error { return c.didRegister(ctx, a) },
		"find":     func(a []string) error { return c.didFind(ctx, a) },
	}, []string{"list", "new", "register", "find"}, args)
}

func (c *walletCLI) didList(args []string) error {
	fs := c.flags("did list", "[--primary]")
	primary := fs.Bool("primary", false, "print only the primary DID")
	w, err := c.parseOpen(fs, args)
	if err != nil {
		return err
	}
	defer w.Close()
	if *primary {
		p, err := w.PrimaryDID()
		if err != nil {
			return err
		}
		fmt.Fprintln(c.e.stdout, p.DID)
		return nil
	}
	ds, err := w.DIDs()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DID\tALG\tKIND\tLABEL")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.DID, d.Alg, didKind(d), d.Label)
	}
	return tw.Flush()
}

func didKind(d wallet.DID) string {
	switch {
	case d.Primary:
		return "primary"
	case d.Pairwise:
		return "pairwise"
	case d.Method == wallet.MethodMedid:
		return "registered"
	}
	return "identity"
}

func (c *walletCLI) didNew(args []string) error {
	fs := c.flags("did new", "[--alg ed25519|p256] [--pairwise LABEL | --label LABEL]")
	alg := fs.String("alg", "ed25519", "key type: ed25519 or p256")
	pairwise := fs.String("pairwise", "", "make a pairwise DID for this relationship (e.g. a hospital's name)")
	label := fs.String("label", "", "a name for the new identity")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	opts, err := didOptions(*alg, *pairwise, *label)
	if err != nil {
		return err
	}
	w, err := c.open(nil)
	if err != nil {
		return err
	}
	defer w.Close()
	d, err := w.NewDID(opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.e.stdout, d.DID)
	return nil
}

func didOptions(alg, pairwise, label string) (wallet.NewDIDOptions, error) {
	a, err := key.ParseAlg(alg)
	if err != nil {
		return wallet.NewDIDOptions{}, usagef("--alg: %v", err)
	}
	if pairwise != "" && label != "" {
		return wallet.NewDIDOptions{}, usagef("give --pairwise LABEL or --label LABEL, not both")
	}
	if pairwise != "" {
		return wallet.NewDIDOptions{Alg: a, Label: pairwise, Pairwise: true}, nil
	}
	return wallet.NewDIDOptions{Alg: a, Label: label}, nil
}

func (c *walletCLI) didRegister(ctx context.Context, args []string) error {
	fs := c.flags("did register", "[--registry URL] [--alg ed25519|p256] [--pairwise LABEL | --label LABEL]")
	var rf registryFlags
	rf.register(fs)
	alg := fs.String("alg", "ed25519", "key type: ed25519 or p256")
	pairwise := fs.String("pairwise", "", "register a pairwise DID for this relationship")
	label := fs.String("label", "", "a name for the new identity")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	opts, err := didOptions(*alg, *pairwise, *label)
	if err != nil {
		return err
	}
	w, rc, err := c.openRegistry(&rf)
	if err != nil {
		return err
	}
	defer w.Close()
	d, err := w.RegisterDID(ctx, rc, opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.e.stdout, d.DID)
	return nil
}

// verifying opens the wallet with a credential verifier built from the
// shared verifier flags (--registry, --status-list).
func (c *walletCLI) verifying(vf *verifierFlags) (*wallet.Wallet, error) {
	v, err := vf.build(c.e)
	if err != nil {
		return nil, err
	}
	return c.open(wallet.VerifyWith(v))
}

func (c *walletCLI) receive(ctx context.Context, args []string) error {
	fs := c.flags("receive", "FILE|- [--registry URL] [--status-list FILE]...")
	var vf verifierFlags
	vf.register(fs)
	arg, err := fs.parseOne(args, "give one credential file, or - to read it from stdin")
	if err != nil {
		return err
	}
	var tok string
	if arg == "-" {
		b, err := io.ReadAll(io.LimitReader(c.e.stdin, 1<<20))
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
		tok = strings.TrimSpace(string(b))
	} else if tok, err = readToken(arg, "credential"); err != nil {
		return err
	}
	w, err := c.verifying(&vf)
	if err != nil {
		return err
	}
	defer w.Close()
	cr, err := w.Receive(ctx, tok)
	if errors.Is(err, wallet.ErrCouldNotCheck) {
		return &exitError{code: exitUnchecked, err: fmt.Errorf("%w; nothing was stored", err)}
	}
	if errors.Is(err, wallet.ErrRejected) || errors.Is(err, wallet.ErrNotForThisWallet) {
		return &exitError{code: exitInvalid, err: fmt.Errorf("%w; nothing was stored", err)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.e.stdout, "received %s\n  type:    %s\n  issuer:  %s\n  subject: %s\n", cr.ID, credTypes(cr.Types), c.partyName(ctx, w, nil, cr.Issuer), cr.Subject)
	return nil
}

// partyName names did for command output by the directory's naming rule,
// with the full DID (see describe), through rc, the registry the command
// was given; nil means the one at $MEDID_REGISTRY, else the wallet's saved
// copy of the directory alone (its names then say the copy's date). The
// DID alone when no directory can be read (the output must not fail for
// want of a name). What the directory answered is kept in the wallet.
func (c *walletCLI) partyName(ctx context.Context, w *wallet.Wallet, rc *client.Client, did string) string {
	var names *directory.Directory
	var err error
	if rc != nil {
		names, err = walletNamesVia(w, rc, false)
	} else {
		names, err = walletNames(c.e, w, "")
	}
	if err != nil {
		return did
	}
	defer w.SaveNames(names)
	return describe(ctx, names, did)
}

// credTypes drops the VerifiableCredential base type people need not see.
func credTypes(ts []string) string {
	var out []string
	for _, t := range ts {
		if t != "VerifiableCredential" {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return "VerifiableCredential"
	}
	return strings.Join(out, ",")
}

func (c *walletCLI) list(args []string) error {
	fs := c.flags("list", "[--type T] [--issuer DID] [--status S] [--dids] [--json | --quiet]")
	typ := fs.String("type", "", "only credentials of this type")
	issuer := fs.String("issuer", "", "only credentials from this issuer DID")
	status := fs.String("status", "", "only credentials with this status (valid, revoked, suspended, expired, invalid)")
	asJSON := fs.Bool("json", false, "print JSON (metadata, without the tokens)")
	quiet := fs.quiet("the credential ids, one a line")
	dids := fs.Bool("dids", false, "show each issuer's full DID beside its name")
	w, err := c.parseOpen(fs, args)
	if err != nil {
		return err
	}
	defer w.Close()
	cs, err := w.Credentials(wallet.Filter{Type: *typ, Issuer: *issuer, Status: wallet.Status(*status)})
	if err != nil {
		return err
	}
	if *quiet {
		for _, cr := range cs {
			fmt.Fprintln(c.e.stdout, cr.ID)
		}
		return nil
	}
	if *asJSON {
		for i := range cs {
			cs[i].Token = ""
		}
		return writeJSON(c.e, cs)
	}
	names, err := walletNames(c.e, w, "")
	if err != nil {
		return err
	}
	defer w.SaveNames(names)
	tw := tabwriter.NewWriter(c.e.stdout, 0, 4, 2, ' ', 0)
	head := "ID\tTYPE\tISSUER\tSTATUS\tCHECKED"
	if *dids {
		head += "\tISSUER DID"
	}
	fmt.Fprintln(tw, head)
	for _, cr := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s", cr.ID, credTypes(cr.Types), label(context.Background(), names, cr.Issuer), cr.Status, checkedAt(cr))
		if *dids {
			fmt.Fprintf(tw, "\t%s", cr.Issuer)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// openCredential parses the arguments of a subcommand that names one
// stored credential by id, opens the wallet and looks the credential up.
// On success the caller closes the wallet; on an error it is closed.
func (c *walletCLI) openCredential(fs *flagSet, args []string) (*wallet.Wallet, wallet.Credential, error) {
	id, err := fs.parseOne(args, "give one credential id")
	if err != nil {
		return nil, wallet.Credential{}, err
	}
	w, err := c.open(nil)
	if err != nil {
		return nil, wallet.Credential{}, err
	}
	cr, err := w.Credential(id)
	if err != nil {
		w.Close()
		return nil, wallet.Credential{}, err
	}
	return w, cr, nil
}

func (c *walletCLI) show(args []string) error {
	fs := c.flags("show", "ID [--token]")
	raw := fs.Bool("token", false, "print only the vc+jwt token")
	w, cr, err := c.openCredential(fs, args)
	if err != nil {
		return err
	}
	defer w.Close()
	if *raw {
		fmt.Fprintln(c.e.stdout, cr.Token)
		return nil
	}
	tok := cr.Token
	cr.Token = ""
	if err := writeJSON(c.e, cr); err != nil {
		return err
	}
	if names, err := walletNames(c.e, w, ""); err == nil {
		fmt.Fprintf(c.e.stderr, "issued by %s\n", describe(context.Background(), names, cr.Issuer))
		_ = w.SaveNames(names)
	}
	fmt.Fprintf(c.e.stderr, "(%d-byte vc+jwt; print it with --token)\n", len(tok))
	return nil
}

func (c *walletCLI) delete(args []string) error {
	fs := c.flags("delete", "ID")
	w, cr, err := c.openCredential(fs, args)
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Delete(cr.ID); err != nil {
		return err
	}
	fmt.Fprintf(c.e.stdout, "deleted %s\n", cr.ID)
	return nil
}

// checkedAt says when a credential's status was last established, and
// that it is stale when the last attempt could not check it.
func checkedAt(cr wallet.Credential) string {
	s := cr.StatusCheckedAt.Local().Format(time.DateTime)
	if cr.Unchecked != "" {
		s += " (not checked since)"
	}
	return s
}

func (c *walletCLI) refresh(ctx context.Context, args []string) error {
	fs := c.flags("refresh", "[--registry URL] [--status-list FILE]...")
	var vf verifierFlags
	vf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	w, err := c.verifying(&vf)
	if err != nil {
		return err
	}
	defer w.Close()
	cs, err := w.Refresh(ctx)
	var cnc *wallet.CouldNotCheckError
	if err != nil && !errors.As(err, &cnc) {
		return err
	}
	tw := tabwriter.NewWriter(c.e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tSTATUS\tCHECKED\tDETAIL")
	for _, cr := range cs {
		detail := cr.StatusDetail
		if cr.Unchecked != "" {
			detail = "could not check now, status as last checked: " + cr.Unchecked
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cr.ID, credTypes(cr.Types), cr.Status, cr.StatusCheckedAt.Local().Format(time.DateTime), detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if cnc != nil {
		return &exitError{code: exitUnchecked, err: cnc}
	}
	return nil
}

func (c *walletCLI) present(ctx context.Context, args []string) error {
	fs := c.flags("present", "--credential ID... [--disclose PATH[,PATH]] --audience A --nonce N --out FILE [--force]")
	var ids stringList
	fs.Var(&ids, "credential", "credential id to share (repeatable; one SD-JWT VC with --disclose)")
	disclose := fs.String("disclose", "", "SD-JWT VC: the only claims to disclose, e.g. code.display,reaction.*.manifestation")
	audience := fs.String("audience", "", "the verifier this presentation is for (its DID or URL)")
	nonce := fs.String("nonce", "", "the verifier's challenge")
	out := fs.String("out", "", "where to write the vp+jwt (never overwritten)")
	force := fs.Bool("force", false, "present credentials the wallet knows are revoked, suspended or expired (the verifier will refuse them)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("credential", "audience", "nonce", "out"); err != nil {
		return err
	}
	if err := outputFree(*out); err != nil {
		return err
	}
	w, err := c.open(nil)
	if err != nil {
		return err
	}
	defer w.Close()
	if *disclose != "" {
		if len(ids) != 1 {
			return usagef("--disclose presents one SD-JWT VC: give exactly one --credential")
		}
		paths, err := sdjwt.ParsePaths(*disclose)
		if err != nil {
			return usagef("--disclose: %v", err)
		}
		p, err := w.PresentSDJWT(ctx, wallet.PresentSDJWTRequest{CredentialID: ids[0], Disclose: paths, Audience: *audience, Nonce: *nonce, Force: *force})
		if errors.Is(err, wallet.ErrNotPresentable) {
			return &exitError{code: exitInvalid, err: fmt.Errorf("%w; nothing was written (add --force to present it anyway)", err)}
		}
		if err != nil {
			return err
		}
		if err := createOutput(*out, []byte(p.Token+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(c.e.stdout, "presentation %s (dc+sd-jwt with key binding)\n  audience:  %s\n  disclosed: %s\n  withheld:  %s\n", *out, *audience, pathList(p.Disclosed), pathList(p.Withheld))
		return nil
	}
	tok, err := w.Present(ctx, wallet.PresentRequest{CredentialIDs: ids, Audience: *audience, Nonce: *nonce, Force: *force})
	if errors.Is(err, wallet.ErrNotPresentable) {
		return &exitError{code: exitInvalid, err: fmt.Errorf("%w; nothing was written (add --force to present it anyway)", err)}
	}
	if err != nil {
		return err
	}
	if err := createOutput(*out, []byte(tok+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(c.e.stdout, "presentation %s\n  audience:    %s\n  credentials: %d\n", *out, *audience, len(ids))
	return nil
}

func (c *walletCLI) history(args []string) error {
	fs := c.flags("history", "[--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	w, err := c.parseOpen(fs, args)
	if err != nil {
		return err
	}
	defer w.Close()
	h, err := w.History()
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.e, h)
	}
	for _, ev := range h {
		fmt.Fprintf(c.e.stdout, "%s  %-9s", ev.At.Format(time.DateTime), ev.Kind)
		if ev.Audience != "" {
			fmt.Fprintf(c.e.stdout, " to %s", ev.Audience)
		}
		fmt.Fprintln(c.e.stdout)
		for _, s := range ev.Credentials {
			fmt.Fprintf(c.e.stdout, "    %s %s from %s: %s\n", s.ID, credTypes(s.Types), c.partyName(context.Background(), w, nil, s.Issuer), strings.Join(s.Attributes, ", "))
		}
	}
	return nil
}

func (c *walletCLI) backupPassphrase(file string) ([]byte, error) {
	return c.secret(file, "MEDID_BACKUP_PASSPHRASE", "backup passphrase")
}

func (c *walletCLI) backup(args []string) error {
	fs := c.flags("backup", "--out FILE [--backup-passphrase-file FILE]")
	out := fs.String("out", "", "the backup file to write (never overwritten)")
	bfile := fs.String("backup-passphrase-file", "", "file holding the backup passphrase (default: $MEDID_BACKUP_PASSPHRASE)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("out"); err != nil {
		return err
	}
	bpass, err := c.backupPassphrase(*bfile)
	if err != nil {
		return err
	}
	defer clear(bpass)
	if err := outputFree(*out); err != nil {
		return err
	}
	w, err := c.open(nil)
	if err != nil {
		return err
	}
	defer w.Close()
	var buf bytes.Buffer
	if err := w.Backup(&buf, bpass); err != nil {
		return err
	}
	if err := createOutput(*out, buf.Bytes(), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(c.e.stdout, "backup written to %s (%d bytes, encrypted with the backup passphrase)\n", *out, buf.Len())
	return nil
}

func (c *walletCLI) restore(args []string) error {
	fs := c.flags("restore", "FILE [--backup-passphrase-file FILE]")
	bfile := fs.String("backup-passphrase-file", "", "file holding the backup passphrase (default: $MEDID_BACKUP_PASSPHRASE)")
	arg, err := fs.parseOne(args, "give the backup file")
	if err != nil {
		return err
	}
	data, err := readInput(arg, "backup")
	if err != nil {
		return err
	}
	bpass, err := c.backupPassphrase(*bfile)
	if err != nil {
		return err
	}
	defer clear(bpass)
	pass, err := c.passphrase()
	if err != nil {
		return err
	}
	defer clear(pass)
	cfg, err := c.config(nil)
	if err != nil {
		return err
	}
	w, err := wallet.Restore(cfg, bytes.NewReader(data), bpass, pass)
	if err != nil {
		return err
	}
	defer w.Close()
	return c.summary(w, "restored")
}

func (c *walletCLI) summary(w *wallet.Wallet, verb string) error {
	ds, err := w.DIDs()
	if err != nil {
		return err
	}
	cs, err := w.Credentials(wallet.Filter{})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.e.stdout, "wallet %s in %s: %d DIDs, %d credentials\n", verb, w.Dir(), len(ds), len(cs))
	for _, d := range ds {
		fmt.Fprintf(c.e.stdout, "  %s  (%s)\n", d.DID, didKind(d))
	}
	return nil
}

func (c *walletCLI) recover(ctx context.Context, args []string) error {
	fs := c.flags("recover", "[--ed25519 N] [--p256 N] [--registry URL] [--vault URL]... [--gap N] < phrase")
	ned := fs.Int("ed25519", 1, "re-derive at least this many Ed25519 identities, traces or not")
	np := fs.Int("p256", 0, "re-derive at least this many P-256 identities, traces or not")
	var sf searchFlags
	sf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if *ned < 1 || *np < 0 || *ned > 1000 || *np > 1000 {
		return usagef("--ed25519 must be 1..1000 and --p256 0..1000")
	}
	src, err := sf.sources(c.e)
	if err != nil {
		return err
	}
	pass, err := c.passphrase()
	if err != nil {
		return err
	}
	defer clear(pass)
	cfg, err := c.config(nil)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(io.LimitReader(c.e.stdin, 4096))
	if err != nil {
		return fmt.Errorf("read the recovery phrase from stdin: %w", err)
	}
	defer clear(b)
	w, err := wallet.Recover(cfg, pass, string(b), wallet.RecoverOptions{Ed25519: *ned, P256: *np})
	if errors.Is(err, wallet.ErrInvalidPhrase) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	defer w.Close()
	rep, serr := w.RestoreIdentities(ctx, src)
	if err := c.summary(w, "recovered"); err != nil {
		return err
	}
	return c.recoveryReport(rep, src, serr, "medid wallet did find")
}

// searchFlags say where to look for a recovery phrase's identities.
type searchFlags struct {
	registry *string
	vaults   stringList
	gap      *int
}

func (s *searchFlags) register(fs *flagSet) {
	s.registry = fs.String("registry", "", "find the phrase's did:medid identities on this registry (default: $MEDID_REGISTRY if set)")
	fs.Var(&s.vaults, "vault", "a hospital vault URL: did:keys with records there came back too (repeatable)")
	s.gap = fs.Int("gap", wallet.DefaultRecoveryGap, "stop after this many consecutive unused key indices")
}

func (s *searchFlags) sources(e *env) (wallet.RecoverySources, error) {
	src := wallet.RecoverySources{Vaults: s.vaults, Gap: *s.gap}
	if *s.gap < 1 || *s.gap > 1000 {
		return src, usagef("--gap must be 1..1000")
	}
	hc, err := e.httpClient()
	if err != nil {
		return src, err
	}
	src.HTTP = hc
	if u := optionalRegistry(e, *s.registry); u != "" {
		rc, err := newRegistryClient(e, u)
		if err != nil {
			return src, err
		}
		src.Registry = rc
	}
	return src, nil
}

// recoveryReport prints what a search for a phrase's identities found and
// what does not come back; a search that failed exits 3 and says how to
// search again.
func (c *walletCLI) recoveryReport(rep *wallet.RecoveryReport, src wallet.RecoverySources, serr error, again string) error {
	out := c.e.stdout
	if rep != nil {
		where := []string{}
		if src.Registry != nil {
			where = append(where, "the registry")
		}
		if n := len(src.Vaults); n > 0 {
			where = append(where, fmt.Sprintf("%d vault(s)", n))
		}
		if len(where) > 0 && serr == nil {
			fmt.Fprintf(out, "searched %s: %d identities came back from the words\n", strings.Join(where, " and "), len(rep.Added))
		}
		if len(rep.NotRestored) > 0 {
			fmt.Fprintln(out, "not restored from the words:")
			for _, n := range rep.NotRestored {
				fmt.Fprintf(out, "  - %s\n", n)
			}
		}
	}
	if serr != nil {
		return &exitError{code: exitUnchecked, err: fmt.Errorf("searching for the phrase's identities failed: %w; search again with '%s' when the registry and vaults answer", serr, again)}
	}
	return nil
}

// didFind searches again for the identities of an existing wallet's phrase.
func (c *walletCLI) didFind(ctx context.Context, args []string) error {
	fs := c.flags("did find", "[--registry URL] [--vault URL]... [--gap N]")
	var sf searchFlags
	sf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	src, err := sf.sources(c.e)
	if err != nil {
		return err
	}
	w, err := c.open(nil)
	if err != nil {
		return err
	}
	defer w.Close()
	rep, serr := w.RestoreIdentities(ctx, src)
	if rep != nil {
		for _, d := range rep.Added {
			fmt.Fprintf(c.e.stdout, "added %s\n", d.DID)
		}
	}
	return c.recoveryReport(rep, src, serr, "medid wallet did find")
}

// passphrase changes the wallet passphrase: the data key is rewrapped, no
// record is rewritten.
func (c *walletCLI) changePassphrase(args []string) error {
	fs := c.flags("passphrase", "[--new-passphrase-file FILE]")
	newFile := fs.String("new-passphrase-file", "", "file holding the new passphrase (default: $MEDID_WALLET_NEW_PASSPHRASE)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	np, err := c.secret(*newFile, "MEDID_WALLET_NEW_PASSPHRASE", "new wallet passphrase")
	if err != nil {
		return err
	}
	defer clear(np)
	old, err := c.passphrase()
	if err != nil {
		return err
	}
	defer clear(old)
	w, err := c.open(nil)
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.ChangePassphrase(old, np); err != nil {
		return err
	}
	fmt.Fprintln(c.e.stdout, "passphrase changed")
	return nil
}
