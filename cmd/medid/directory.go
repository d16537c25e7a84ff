package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

func init() {
	commands["directory"] = command{summary: "the network's directory of organisations: add, update, suspend, remove (governance; proposed when the network asks a quorum), show, search, logo", run: runDirectory}
}

func runDirectory(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "directory", map[string]func([]string) error{
		"add":     func(a []string) error { return directoryWrite(ctx, e, tx.DirectoryAdd, a) },
		"update":  func(a []string) error { return directoryWrite(ctx, e, tx.DirectoryUpdate, a) },
		"suspend": func(a []string) error { return directoryWrite(ctx, e, tx.DirectorySuspend, a) },
		"remove":  func(a []string) error { return directoryWrite(ctx, e, tx.DirectoryRemove, a) },
		"show":    func(a []string) error { return directoryShow(ctx, e, a) },
		"search":  func(a []string) error { return directorySearch(ctx, e, a) },
		"logo":    func(a []string) error { return directoryLogo(ctx, e, a) },
	}, []string{"add", "update", "suspend", "remove", "show", "search", "logo"}, args)
}

// entryFlags are the fields of a directory entry.
type entryFlags struct {
	name, legal, kind, country, website, logo *string
	roles, distinct                           stringList
}

func (f *entryFlags) register(fs *flagSet) {
	f.name = fs.String("name", "", "display name people see, e.g. \"St Mary's Hospital\"")
	f.legal = fs.String("legal-name", "", "registered legal name (default: --name)")
	f.kind = fs.String("kind", "", "kind: "+strings.Join(tx.Kinds, ", "))
	f.country = fs.String("country", "", "ISO 3166-1 alpha-2 country code, e.g. GB")
	f.website = fs.String("website", "", "https URL of the organisation's website")
	f.logo = fs.String("logo", "", "logo image file (PNG or JPEG, at most 256 KiB): its hash goes on the ledger, the image to the registry")
	fs.Var(&f.roles, "role", "role on the network: "+strings.Join(tx.RoleNames, ", ")+"; ROLE=DID when performed under another DID, e.g. vault-operator=did:key:… (repeatable)")
	fs.Var(&f.distinct, "distinct-from", "DID of an organisation with a similar name that you checked is a different one (repeatable)")
}

// apply writes the flags that were given over e (all of them for an add).
func (f *entryFlags) apply(fs *flagSet, e *tx.DirectoryEntry) ([]byte, error) {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if set["name"] {
		e.DisplayName = *f.name
		if !set["legal-name"] && e.LegalName == "" {
			e.LegalName = *f.name
		}
	}
	if set["legal-name"] {
		e.LegalName = *f.legal
	}
	if set["kind"] {
		e.Kind = *f.kind
	}
	if set["country"] {
		e.Country = strings.ToUpper(*f.country)
	}
	if set["website"] {
		e.Website = *f.website
	}
	if set["role"] {
		e.Roles = nil
		for _, r := range f.roles {
			name, d, _ := strings.Cut(r, "=")
			e.Roles = append(e.Roles, tx.Role{Role: name, DID: d})
		}
	}
	if set["distinct-from"] {
		e.DistinctFrom = slices.Clone(f.distinct)
	}
	var image []byte
	if set["logo"] {
		b, err := readInput(*f.logo, "logo")
		if err != nil {
			return nil, err
		}
		logo, err := tx.NewLogo(b)
		if te := (*tx.LogoTypeError)(nil); errors.As(err, &te) {
			return nil, usagef("--logo %s is %s: use a PNG or JPEG image", *f.logo, te.MediaType)
		}
		if err != nil {
			return nil, err
		}
		e.Logo, image = logo, b
	}
	return image, nil
}

// directoryWrite is add, update, suspend and remove: a transaction signed
// by a governance key.
func directoryWrite(ctx context.Context, e *env, typ tx.Type, args []string) error {
	verb := strings.TrimPrefix(string(typ), "directory.")
	usage := "medid directory " + verb + " --governance-key FILE --did DID "
	switch typ {
	case tx.DirectoryAdd:
		usage += "--name NAME --kind KIND --country CC [--legal-name NAME] [--website URL] [--logo FILE] [--role ROLE[=DID]]... [--distinct-from DID]..."
	case tx.DirectoryUpdate:
		usage += "[--name NAME] [--kind KIND] [--country CC] [--legal-name NAME] [--website URL] [--logo FILE] [--role ROLE[=DID]]... (what you leave out stays)"
	default:
		usage += "--reason TEXT"
	}
	fs := newFlagSet(e, "directory "+verb, usage+" [--registry URL]")
	govFile := fs.String("governance-key", "", "a governance key file of the network (registryd's governance.jwk)")
	org := fs.String("did", "", "the organisation's DID (a registered did:medid, or a did:key)")
	var ef entryFlags
	var reason *string
	if typ == tx.DirectoryAdd || typ == tx.DirectoryUpdate {
		ef.register(fs)
	} else {
		reason = fs.String("reason", "", "why, as it will stay in the entry's history")
	}
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	req := []string{"governance-key", "did"}
	switch typ {
	case tx.DirectoryAdd:
		req = append(req, "name", "kind", "country")
	case tx.DirectorySuspend, tx.DirectoryRemove:
		req = append(req, "reason")
	}
	if err := fs.required(req...); err != nil {
		return err
	}
	if _, err := did.Parse(*org); err != nil {
		return usagef("--did %q is not a DID: %v", *org, err)
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	var (
		image   []byte
		entry   tx.DirectoryEntry
		version int64 = 1
	)
	switch typ {
	case tx.DirectoryAdd:
		if image, err = ef.apply(fs, &entry); err != nil {
			return err
		}
	default:
		rec, err := c.Directory(ctx, *org)
		if err != nil {
			if errors.Is(err, ledger.ErrNotFound) {
				return &exitError{code: exitInvalid, err: fmt.Errorf("%s is not in the directory of %s: add it first with 'medid directory add'", *org, rf.baseURL(e))}
			}
			return unreachable(fmt.Errorf("read the entry of %s: %w", *org, err))
		}
		cur := rec.Current()
		version = cur.Version + 1
		if typ == tx.DirectoryUpdate {
			entry = cur.Entry
			entry.Roles, entry.DistinctFrom = slices.Clone(entry.Roles), slices.Clone(entry.DistinctFrom)
			if image, err = ef.apply(fs, &entry); err != nil {
				return err
			}
		}
	}
	if typ == tx.DirectoryAdd || typ == tx.DirectoryUpdate {
		if err := entry.Validate(*org); err != nil {
			return usagef("%v", err)
		}
	}
	gov, err := loadKey(*govFile)
	if err != nil {
		return err
	}
	defer gov.Destroy()
	govDID := keyDID(gov.Public())
	var p *tx.Payload
	switch typ {
	case tx.DirectoryAdd:
		p, err = tx.NewDirectoryAdd(govDID, *org, entry)
	case tx.DirectoryUpdate:
		p, err = tx.NewDirectoryUpdate(govDID, *org, entry, version)
	case tx.DirectorySuspend:
		p, err = tx.NewDirectorySuspend(govDID, *org, version, *reason)
	default:
		p, err = tx.NewDirectoryRemove(govDID, *org, version, *reason)
	}
	if err != nil {
		return usagef("%v", err)
	}
	res, prop, err := governedChange(ctx, c, gov, p, string(typ)+" of "+*org)
	if err != nil {
		return err
	}
	if prop != nil {
		// The network asks a quorum of governance keys for directory
		// changes: this key proposed it.
		if err := printProposal(ctx, e, c, prop, res.Height); err != nil {
			return err
		}
		if image != nil {
			if prop.Status != ledger.ProposalExecuted {
				fmt.Fprintf(e.stdout, "once it is carried, give the registry the logo image: medid directory logo --did %s --logo FILE\n", *org)
				return nil
			}
			return uploadLogo(ctx, e, c, *org, image, p.Entry.Logo)
		}
		return nil
	}
	switch typ {
	case tx.DirectoryAdd:
		fmt.Fprintf(e.stdout, "added %s to the directory as %q (%s, %s; version 1, block %d)\n", *org, p.Entry.DisplayName, p.Entry.Kind, p.Entry.Country, res.Height)
	case tx.DirectoryUpdate:
		fmt.Fprintf(e.stdout, "updated %s: %q (version %d, block %d)\n", *org, p.Entry.DisplayName, version, res.Height)
	case tx.DirectorySuspend:
		fmt.Fprintf(e.stdout, "suspended %s (version %d, block %d): %s\n", *org, version, res.Height, p.Reason)
	case tx.DirectoryRemove:
		fmt.Fprintf(e.stdout, "removed %s from the directory (version %d, block %d); its history stays\n", *org, version, res.Height)
	}
	if image != nil {
		return uploadLogo(ctx, e, c, *org, image, p.Entry.Logo)
	}
	return nil
}

func uploadLogo(ctx context.Context, e *env, c *client.Client, org string, image []byte, logo *tx.Logo) error {
	if err := c.UploadLogo(ctx, org, image, logo.MediaType); err != nil {
		return fmt.Errorf("the entry is written, but the registry refused the logo image: %w", err)
	}
	fmt.Fprintf(e.stdout, "logo uploaded (sha-256 %s)\n", logo.SHA256[:16])
	return nil
}

// directoryLogo gives the registry the logo image an organisation's
// current entry names (by its hash): after a proposed entry with a logo
// was carried. No key is needed: the registry takes only the image whose
// hash the ledger holds.
func directoryLogo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "directory logo", "medid directory logo --did DID --logo FILE [--registry URL]")
	org := fs.String("did", "", "the organisation's DID")
	file := fs.String("logo", "", "the logo image file its entry names (PNG or JPEG)")
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("did", "logo"); err != nil {
		return err
	}
	if _, err := did.Parse(*org); err != nil {
		return usagef("--did %q is not a DID: %v", *org, err)
	}
	b, err := readInput(*file, "logo")
	if err != nil {
		return err
	}
	logo, err := tx.NewLogo(b)
	if te := (*tx.LogoTypeError)(nil); errors.As(err, &te) {
		return usagef("--logo %s is %s: use a PNG or JPEG image", *file, te.MediaType)
	}
	if err != nil {
		return err
	}
	c, err := rf.client(e)
	if err != nil {
		return err
	}
	rec, err := c.Directory(ctx, *org)
	if errors.Is(err, ledger.ErrNotFound) {
		return &exitError{code: exitInvalid, err: fmt.Errorf("%s is not in the directory (yet: a proposed entry is written once the quorum approved it)", *org)}
	}
	if err != nil {
		return unreachable(fmt.Errorf("read the entry of %s: %w", *org, err))
	}
	if cur := rec.Current().Entry.Logo; cur == nil || cur.SHA256 != logo.SHA256 {
		return &exitError{code: exitInvalid, err: fmt.Errorf("the entry of %s does not name this image (sha-256 %s): its logo is changed with 'medid directory update --logo'", *org, logo.SHA256[:16])}
	}
	if err := c.UploadLogo(ctx, *org, b, logo.MediaType); err != nil {
		return fmt.Errorf("the registry refused the logo image: %w", err)
	}
	fmt.Fprintf(e.stdout, "logo uploaded (sha-256 %s)\n", logo.SHA256[:16])
	return nil
}

// lookupFlags are the flags of commands that show names: the registry
// and, optionally, the genesis file to check its answers against.
type lookupFlags struct {
	registry, genesis *string
}

func (l *lookupFlags) register(fs *flagSet) {
	l.registry = fs.String("registry", "", "registry URL (default: $MEDID_REGISTRY, else "+defaultRegistry+")")
	l.genesis = fs.String("genesis", "", "the network's genesis.json: check the registry's answers against Merkle proofs signed by its validators")
}

// client returns the registry client, proving when --genesis is given.
func (l *lookupFlags) client(e *env) (*client.Client, bool, error) {
	cfg := client.Config{URL: registryURL(e, *l.registry)}
	if *l.genesis != "" {
		trust, err := loadGenesisTrust(*l.genesis)
		if err != nil {
			return nil, false, err
		}
		trust.URL = cfg.URL
		cfg = trust
	}
	c, err := client.New(cfg)
	if err != nil {
		return nil, false, usagef("--registry: %v", err)
	}
	return c, cfg.VerifyProofs, nil
}

// newDirectory returns a directory over registry c whose licences are
// checked by v (nil: practitioners stay unknown).
func newDirectory(c *client.Client, proven bool, v *verify.Verifier) *directory.Directory {
	if c == nil {
		return directory.New(directory.Config{})
	}
	return directory.New(directory.Config{Source: c, Licences: v, Proven: proven})
}

// directoryShow prints an organisation's entry (or which organisation a
// role DID belongs to) with its history.
func directoryShow(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "directory show", "medid directory show DID [--at RFC3339] [--json] [--registry URL] [--genesis FILE]")
	at := fs.String("at", "", "show the entry as it was at this time (RFC 3339)")
	asJSON := fs.Bool("json", false, "print the record with its history as JSON")
	var lf lookupFlags
	lf.register(fs)
	arg, err := fs.parseOne(args, "want exactly one DID")
	if err != nil {
		return err
	}
	if _, err := did.Parse(arg); err != nil {
		return usagef("%q is not a DID: %v", arg, err)
	}
	var when *time.Time
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return usagef("--at %q is not an RFC 3339 time", *at)
		}
		when = &t
	}
	c, proven, err := lf.client(e)
	if err != nil {
		return err
	}
	orgDID, role := arg, ""
	rec, err := c.Directory(ctx, arg)
	if errors.Is(err, ledger.ErrNotFound) {
		al, aerr := c.DirectoryRole(ctx, arg)
		if aerr == nil {
			orgDID = al.Org
			rec, err = c.Directory(ctx, al.Org)
			if err == nil {
				if role = rec.Current().RoleFor(al.Org, arg); role == "" || rec.Current().Status == ledger.DirectoryRemoved {
					err = ledger.ErrNotFound
				}
			}
		}
	}
	if errors.Is(err, ledger.ErrNotFound) {
		return &exitError{code: exitInvalid, err: fmt.Errorf("%s is not in the directory: no organisation of this network has that DID (unknown; do not trust a name it gives itself)", arg)}
	}
	if err != nil {
		return unreachable(fmt.Errorf("read the directory: %w", err))
	}
	if *asJSON {
		return writeJSON(e, rec)
	}
	v := rec.Current()
	if when != nil {
		if v = rec.At(*when); v == nil {
			return &exitError{code: exitInvalid, err: fmt.Errorf("%s was not in the directory yet at %s (added %s)", orgDID, when.UTC().Format(time.RFC3339), rec.Versions[0].Recorded.Format(time.RFC3339))}
		}
	}
	w := e.stdout
	if role != "" {
		fmt.Fprintf(w, "%s is the %s DID of:\n", arg, role)
	}
	fmt.Fprintf(w, "%s  (%s, version %d)\n", v.Entry.DisplayName, strings.ToUpper(v.Status), v.Version)
	fmt.Fprintf(w, "  legal name:  %s\n  kind:        %s\n  country:     %s\n", v.Entry.LegalName, v.Entry.Kind, v.Entry.Country)
	if v.Entry.Website != "" {
		fmt.Fprintf(w, "  website:     %s\n", v.Entry.Website)
	}
	var roles []string
	for _, r := range v.Entry.Roles {
		if r.DID != "" {
			roles = append(roles, r.Role+" ("+r.DID+")")
		} else {
			roles = append(roles, r.Role)
		}
	}
	if len(roles) > 0 {
		fmt.Fprintf(w, "  roles:       %s\n", strings.Join(roles, ", "))
	}
	if acc, err := c.Accreditations(ctx, orgDID); err == nil {
		now := time.Now()
		if when != nil {
			now = *when
		}
		for _, a := range acc.Accreditations {
			state, since := a.StateAt(now)
			switch state {
			case ledger.AccreditationRevoked, ledger.AccreditationEnded:
				state += " " + since.Format("2006-01-02")
			case ledger.AccreditationNotYet:
				state += " until " + since.Format("2006-01-02")
			}
			fmt.Fprintf(w, "  accredited:  %s since %s (%s)\n", strings.Join(a.CredentialTypes, ", "), a.ValidFrom.Format("2006-01-02"), state)
		}
	}
	if v.Entry.Logo != nil {
		fmt.Fprintf(w, "  logo:        %s, sha-256 %s\n", v.Entry.Logo.MediaType, v.Entry.Logo.SHA256)
	}
	if len(v.Entry.DistinctFrom) > 0 {
		fmt.Fprintf(w, "  similar:     its name resembles %s (governance checked they differ)\n", strings.Join(v.Entry.DistinctFrom, ", "))
	}
	fmt.Fprintf(w, "  did:         %s\n", orgDID)
	source := "the registry at " + registryURL(e, *lf.registry)
	if proven {
		source += ", proven against the validators in " + *lf.genesis
	}
	fmt.Fprintf(w, "  source:      %s\n", source)
	fmt.Fprintln(w, "history:")
	for _, h := range rec.Versions {
		line := fmt.Sprintf("  v%-3d %s  %-9s %s", h.Version, h.Recorded.UTC().Format(time.RFC3339), h.Status, h.Entry.DisplayName)
		if h.Reason != "" {
			line += "  (" + h.Reason + ")"
		}
		by := directory.ShortDID(h.By)
		if h.Proposal != "" {
			by += ", approved by the governance quorum (proposal " + h.Proposal + ")"
		}
		fmt.Fprintf(w, "%s  by %s\n", line, by)
	}
	return nil
}

// directorySearch lists organisations whose names start with the words
// given.
func directorySearch(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "directory search", "medid directory search [TEXT] [--kind KIND] [--status active|suspended|removed|all] [--limit N] [--json] [--registry URL]")
	kind := fs.String("kind", "", "only this kind: "+strings.Join(tx.Kinds, ", "))
	status := fs.String("status", "", "only this status (default: active and suspended)")
	limit := fs.Int("limit", 20, fmt.Sprintf("results per page, 1 to %d", ledger.MaxSearchLimit))
	all := fs.Bool("all", false, "fetch every page")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	var lf lookupFlags
	lf.register(fs)
	rest, err := fs.parse(args)
	if err != nil {
		return err
	}
	q := ledger.DirectorySearch{Query: strings.Join(rest, " "), Kind: *kind, Status: *status, Limit: *limit}
	c, _, err := lf.client(e)
	if err != nil {
		return err
	}
	var results []ledger.DirectorySummary
	for {
		page, err := c.SearchDirectory(ctx, q)
		if err != nil {
			var pe *client.ProblemError
			if errors.As(err, &pe) && pe.Status == http.StatusBadRequest {
				return usagef("%s", pe.Detail)
			}
			return unreachable(fmt.Errorf("search the directory: %w", err))
		}
		results = append(results, page.Results...)
		if !*all || page.Next == "" {
			if page.Next != "" {
				defer fmt.Fprintln(e.stderr, "more results: add --all, or narrow the search")
			}
			break
		}
		q.Cursor = page.Next
	}
	if *asJSON {
		return writeJSON(e, results)
	}
	if len(results) == 0 {
		fmt.Fprintln(e.stderr, "no organisation in the directory matches")
		return &exitError{code: exitInvalid}
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tCOUNTRY\tSTATUS\tDID")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.DisplayName, r.Kind, r.Country, r.Status, r.DID)
	}
	return tw.Flush()
}
