package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/registry/directory"
)

// checkFlags are the flags of the verifying commands (vc verify, vp
// verify): where evidence comes from (registry, --status-list files, the
// offline cache) and how the verdict is printed.
type checkFlags struct {
	verifierFlags
	offline *bool
	cache   *string
	asJSON  *bool
}

func (c *checkFlags) register(fs *flagSet) {
	c.verifierFlags.register(fs)
	c.offline = fs.Bool("offline", false, "use no network: did:key issuers, the --cache folder and --status-list files only")
	c.cache = fs.String("cache", "", "offline cache folder ('medid cache update' fills it): with --offline, the issuers' DID documents and status lists to check against; online, refreshed with what verified, and used to say when a credential last verified valid if the registry does not answer")
	fs.StringVar(c.cache, "did-cache", "", "the same as --cache (older name)")
	c.asJSON = fs.Bool("json", false, "print the full result as JSON on stdout (the verdict goes to stderr)")
}

// checker is a verifier set up from checkFlags.
type checker struct {
	v       *verify.Verifier
	online  *sources            // where the online verifier gets its evidence
	cache   *verify.Cache       // nil without --cache
	source  *verify.CacheSource // what the offline verifier read
	offline bool
	files   verify.FileStatusFetcher
}

func (c *checkFlags) build(e *env) (*checker, error) {
	ck := &checker{offline: *c.offline}
	if *c.cache != "" {
		cache, err := verify.OpenCache(*c.cache)
		if err != nil {
			return nil, usagef("--cache: %v", err)
		}
		ck.cache = cache
	}
	if !ck.offline {
		src, err := c.sources(e)
		if err != nil {
			return nil, err
		}
		if ck.v, err = verify.New(verify.Config{Resolver: src.resolver, Status: src.status, Trust: src.trust}); err != nil {
			return nil, err
		}
		ck.online = src
		files, err := c.files()
		if err != nil {
			return nil, err
		}
		ck.files = files
		return ck, nil
	}
	if *c.registry != "" || *c.genesis != "" {
		return nil, usagef("--offline uses no registry: drop --registry and --genesis")
	}
	if ck.cache == nil && len(c.statusLists) == 0 {
		return nil, usagef("--offline needs evidence saved while online: --cache DIR (fill it with 'medid cache update --dir DIR --credential FILE') and/or --status-list FILE")
	}
	files, err := c.files()
	if err != nil {
		return nil, err
	}
	ck.files = files
	if ck.v, ck.source, err = ck.offlineVerifier(); err != nil {
		return nil, err
	}
	return ck, nil
}

// files indexes the --status-list files by the id their list declares.
func (c *checkFlags) files() (verify.FileStatusFetcher, error) {
	files := verify.FileStatusFetcher{}
	for _, f := range c.statusLists {
		_, d, err := loadList(f)
		if err != nil {
			return nil, err
		}
		files[d.ID] = f
	}
	return files, nil
}

// offlineVerifier verifies from did:key, the cache and the status list
// files only.
func (ck *checker) offlineVerifier() (*verify.Verifier, *verify.CacheSource, error) {
	methods := map[string]did.Resolver{"key": did.KeyResolver{}}
	var status verify.StatusFetcher
	var src *verify.CacheSource
	if ck.cache != nil {
		src = ck.cache.Source()
		methods["medid"] = src
		status = fileStatus{files: ck.files, next: src}
	} else {
		// No cache: a did:medid issuer is not an unknown issuer, only one
		// whose document was not saved.
		methods["medid"] = did.ResolverFunc(func(_ context.Context, id string) (*did.Resolution, error) {
			return nil, fmt.Errorf("%w: save %s's DID document while online ('medid cache update --dir DIR --issuer %s') and give --cache DIR", verify.ErrNotCached, id, id)
		})
		status = fileStatus{files: ck.files, hint: "save it with --status-list FILE or in an offline cache (--cache DIR)"}
	}
	v, err := verify.New(verify.Config{Resolver: did.NewRouter(methods), Status: status})
	return v, src, err
}

// checked is what a verification found, with what the printing needs.
type checked struct {
	res *verify.Result
	// lastGood is when the evidence at hand last said valid, for a result
	// that could not be checked.
	lastGood *time.Time
	// fromCache: the verdict (revoked, ...) comes from the offline cache
	// because the registry did not answer.
	fromCache *time.Time
	offline   bool
	cacheDir  string
}

// check runs verify (a credential or presentation check) with the
// checker's verifier. Online with a cache: a valid result refreshes the
// cache with its evidence; a result that could not be checked is checked
// again against the cache, to say when it last verified valid (or that the
// cache already knows it revoked).
func (ck *checker) check(ctx context.Context, e *env, token string, run func(*verify.Verifier) *verify.Result) checked {
	res := run(ck.v)
	out := checked{res: res, offline: ck.offline}
	if ck.cache != nil {
		out.cacheDir = ck.cache.Dir()
	}
	if ck.offline {
		if res.Valid && ck.source != nil {
			if t := ck.source.Oldest(); !t.IsZero() {
				out.lastGood = &t
			}
		}
		return out
	}
	if ck.cache == nil {
		out.lastGood = res.LastGood
		return out
	}
	switch {
	case res.Valid:
		if _, err := ck.cache.Fill(ctx, ck.online.resolver, ck.online.status, token, time.Now()); err != nil {
			fmt.Fprintf(e.stderr, "medid: could not refresh the offline cache %s: %v\n", ck.cache.Dir(), err)
		}
	case res.Unavailable:
		v, src, err := ck.offlineVerifier()
		if err != nil {
			return out
		}
		cached := run(v)
		t := src.Oldest()
		switch {
		case cached.Valid && !t.IsZero():
			out.lastGood = &t
		case !cached.Valid && !cached.Unavailable && !t.IsZero():
			// The cache already proves it invalid (revoked, ...): a
			// revocation the registry published before it went away.
			out.res, out.fromCache = cached, &t
		default:
			out.lastGood = res.LastGood
		}
	}
	return out
}

// report prints a verdict and returns the command's exit: 0 valid, 1
// invalid, exitUnchecked when it could not be checked. Without --json it
// prints the verdict, who issued (or holds) it, by name from the
// registry's directory when there is one, and one line per check on
// stdout; with --json the result as JSON on stdout and the verdict and
// names on stderr.
func (c *checkFlags) report(ctx context.Context, e *env, what string, v checked) error {
	head := headline(what, v)
	var names *directory.Directory
	if c.rc != nil {
		names, _ = directoryFor(c.rc, c.proven)
	}
	if *c.asJSON {
		if err := writeJSON(e, v.res); err != nil {
			return err
		}
		writeDisclosed(e.stderr, v.res, "")
		fmt.Fprintln(e.stderr, head)
		if names != nil {
			printNames(ctx, e.stderr, names, v.res, false)
		}
	} else {
		fmt.Fprintln(e.stdout, head)
		// Without a registry nobody is named: say so rather than show a
		// bare DID where a name goes.
		name := func(id string) string { return id + " (not named: no registry to ask)" }
		if names != nil {
			name = func(id string) string { return describe(ctx, names, id) }
		}
		writeChecks(e.stdout, v.res, "  ", name)
		if names != nil {
			// What the directory adds to the issuer and holder lines
			// above (already named): accreditation dates, a
			// practitioner's licence.
			printNames(ctx, e.stdout, names, v.res, true)
		}
		if v.offline {
			note := "offline: checked against --status-list files"
			if v.cacheDir != "" {
				note = "offline: checked against the cache " + v.cacheDir + " and --status-list files"
			}
			if v.lastGood != nil {
				note += fmt.Sprintf(" (the oldest saved %s)", v.lastGood.UTC().Format(time.DateTime+" MST"))
			}
			fmt.Fprintf(e.stdout, "  (%s)\n", note)
		}
	}
	switch {
	case v.res.Valid:
		return nil
	case v.res.Unavailable:
		return &exitError{code: exitUnchecked}
	}
	return &exitError{code: exitInvalid}
}

// writeDisclosed says, for an SD-JWT VC, which claims the verifier was
// shown and how many digests it was not (claim names only).
func writeDisclosed(w io.Writer, r *verify.Result, indent string) {
	for _, x := range append([]*verify.Result{r}, r.Credentials...) {
		if x.Format != verify.FormatSDJWT || x.Kind != verify.KindCredential {
			continue
		}
		fmt.Fprintf(w, "%sdisclosed: %s\n", indent, strings.Join(x.Disclosed, ", "))
		for _, h := range x.Withheld {
			fmt.Fprintf(w, "%swithheld:  %d undisclosed digest(s) at %s (claims or decoys)\n", indent, h.Count, h.Path)
		}
	}
}

// headline is the one-line verdict: "VALID credential", "INVALID
// credential: revoked", "CANNOT CHECK credential right now (registry
// unreachable); last verified valid at T".
func headline(what string, v checked) string {
	r := v.res
	switch {
	case r.Valid:
		return "VALID " + what
	case r.Unavailable:
		s := fmt.Sprintf("CANNOT CHECK %s right now (%s)", what, shortCause(r.Cause, v.offline))
		if v.lastGood != nil {
			return s + "; last verified valid at " + v.lastGood.UTC().Format(time.DateTime+" MST")
		}
		return s + "; nothing was found wrong with it, try again when the registry answers"
	case v.fromCache != nil:
		return fmt.Sprintf("INVALID %s: %s (the registry does not answer; the offline cache saved %s says so)", what, r.Reason, v.fromCache.UTC().Format(time.DateTime+" MST"))
	}
	return "INVALID " + what + ": " + r.Reason
}

// shortCause names, for people, what did not answer.
func shortCause(cause string, offline bool) string {
	switch {
	case strings.Contains(cause, verify.ErrNotCached.Error()) || (offline && strings.Contains(cause, verify.ErrStatusListNotFound.Error())):
		return "not in the offline evidence: see below what to save"
	case offline:
		return "offline"
	case strings.Contains(cause, "no registry given"):
		return "no registry given"
	}
	for _, s := range []string{"connection refused", "no such host", "i/o timeout", "deadline exceeded", "connection reset", "network is unreachable", "EOF"} {
		if strings.Contains(cause, s) {
			return "registry unreachable"
		}
	}
	return "a source did not answer"
}

// writeChecks writes one line per check ("✓ name  detail", "✗ name
// reason: detail", "? name  could not check: detail", "- name  skipped:
// detail"), then each credential of a presentation, indented.
func writeChecks(w io.Writer, r *verify.Result, indent string, name func(did string) string) {
	if r.Kind == verify.KindCredential && r.Issuer != "" {
		fmt.Fprintf(w, "%sissuer:  %s\n", indent, name(r.Issuer))
		if t := credTypes(r.Types); t != "" {
			fmt.Fprintf(w, "%stype:    %s\n", indent, t)
		}
		if r.Subject != "" {
			fmt.Fprintf(w, "%ssubject: %s\n", indent, r.Subject)
		}
	}
	if r.Kind == verify.KindPresentation && r.Holder != "" {
		fmt.Fprintf(w, "%sholder:  %s\n", indent, name(r.Holder))
	}
	for _, c := range r.Checks {
		var mark, text string
		switch {
		case c.Skipped:
			mark, text = "-", "skipped: "+c.Detail
		case c.OK:
			mark, text = "✓", c.Detail
		case c.Unavailable:
			mark, text = "?", "could not check: "+c.Detail
		default:
			mark, text = "✗", c.Reason
			if c.Detail != "" {
				text += ": " + c.Detail
			}
		}
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("%s%s %-14s %s", indent, mark, c.Name, text), " "))
	}
	if r.Format == verify.FormatSDJWT && r.Kind == verify.KindCredential {
		writeDisclosed(w, r, indent)
	}
	for i, cr := range r.Credentials {
		v := "VALID"
		switch {
		case cr.Unavailable:
			v = "CANNOT CHECK (" + cr.Reason + ")"
		case !cr.Valid:
			v = "INVALID: " + cr.Reason
		}
		fmt.Fprintf(w, "%scredential %d: %s\n", indent, i+1, v)
		writeChecks(w, cr, indent+"  ", name)
	}
}

// cacheTokens are the tokens whose evidence 'medid cache update' saves.
func cacheTokens(files []string) ([]string, error) {
	var out []string
	for _, f := range files {
		tok, err := readToken(f, "credential or presentation")
		if err != nil {
			return nil, err
		}
		if _, err := vc.Parse(tok); err != nil {
			if _, _, perr := vc.ParsePresentation(tok); perr != nil {
				return nil, usagef("%s is neither a credential (vc+jwt) nor a presentation (vp+jwt)", f)
			}
		}
		out = append(out, tok)
	}
	return out, nil
}

// defaultCacheDir is ~/.medid/cache.
func defaultCacheDir(e *env) string {
	if h := e.getenv("HOME"); h != "" {
		return filepath.Join(h, ".medid", "cache")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".medid", "cache")
	}
	return ""
}
