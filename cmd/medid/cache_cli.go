package main

import (
	"context"
	"fmt"
	"time"

	"github.com/medid/medid/credentials/verify"
)

// medid cache: the offline cache of a verifier (credentials/verify.Cache).
//
//	medid cache update [--dir DIR] [--credential FILE]... [--issuer DID]... [--status-list-url URL]... [--registry URL]
//	medid cache show [--dir DIR]
//
// update saves, from the registry, what verifying the given credentials or
// presentations needs offline (their issuers' DID documents and their
// status lists), the named issuers' documents and the named status lists;
// run it again to refresh them. 'medid vc verify' and 'medid vp verify'
// then check with --offline --cache DIR and no network, and name anything
// missing.
func init() {
	commands["cache"] = command{summary: "save issuers' DID documents and status lists for offline verification", run: runCache}
}

func runCache(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "cache", map[string]func([]string) error{
		"update": func(a []string) error { return cacheUpdate(ctx, e, a) },
		"show":   func(a []string) error { return cacheShow(e, a) },
	}, []string{"update", "show"}, args)
}

func cacheDirFlag(e *env, fs *flagSet) *string {
	return fs.String("dir", defaultCacheDir(e), "the cache folder")
}

func cacheUpdate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "cache update", "medid cache update [--dir DIR] [--credential FILE]... [--issuer DID]... [--status-list-url URL]... [--registry URL]")
	dir := cacheDirFlag(e, fs)
	var creds, issuers, urls stringList
	fs.Var(&creds, "credential", "a credential (vc+jwt) or presentation (vp+jwt) file: save its issuers' DID documents and its status lists (repeatable)")
	fs.Var(&issuers, "issuer", "save this issuer's DID document (repeatable)")
	fs.Var(&urls, "status-list-url", "save the status list published at this URL (repeatable)")
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if len(creds)+len(issuers)+len(urls) == 0 {
		return usagef("say what to save: --credential FILE, --issuer DID or --status-list-url URL\nusage: %s", fs.usage)
	}
	if *dir == "" {
		return usagef("no cache folder: give --dir DIR")
	}
	toks, err := cacheTokens(creds)
	if err != nil {
		return err
	}
	vf := verifierFlags{registry: rf.url, genesis: new(string)}
	if *vf.registry == "" {
		*vf.registry = rf.baseURL(e)
	}
	src, err := vf.sources(e)
	if err != nil {
		return err
	}
	c, err := verify.OpenCache(*dir)
	if err != nil {
		return usagef("--dir: %v", err)
	}
	now := time.Now()
	var saved []string
	for _, tok := range toks {
		s, err := c.Fill(ctx, src.resolver, src.status, tok, now)
		saved = append(saved, s...)
		if err != nil {
			return unreachable(err)
		}
	}
	for _, id := range issuers {
		s, err := c.SaveIssuer(ctx, src.resolver, id, now)
		if err != nil {
			return unreachable(err)
		}
		saved = append(saved, s)
	}
	for _, u := range urls {
		tok, err := src.status.FetchStatusList(ctx, u)
		if err != nil {
			return unreachable(fmt.Errorf("status list %s: %w", u, err))
		}
		if err := c.SaveStatusList(u, tok, now); err != nil {
			return err
		}
		saved = append(saved, u)
	}
	for _, s := range saved {
		fmt.Fprintf(e.stdout, "saved %s\n", s)
	}
	d, l := c.Len()
	fmt.Fprintf(e.stdout, "cache %s: %d DID documents, %d status lists; verify with --offline --cache %s\n", c.Dir(), d, l, c.Dir())
	return nil
}

func cacheShow(e *env, args []string) error {
	fs := newFlagSet(e, "cache show", "medid cache show [--dir DIR]")
	dir := cacheDirFlag(e, fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	c, err := verify.OpenCache(*dir)
	if err != nil {
		return usagef("--dir: %v", err)
	}
	items := c.Items()
	if len(items) == 0 {
		fmt.Fprintf(e.stderr, "the cache %s is empty: fill it with 'medid cache update --dir %s --credential FILE'\n", c.Dir(), c.Dir())
		return nil
	}
	for _, it := range items {
		fmt.Fprintf(e.stdout, "%-11s  saved %s  %s\n", it.Kind, it.Fetched.Local().Format(time.DateTime), it.ID)
	}
	return nil
}
