package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/tokenstatus"
	"github.com/medid/medid/internal/atomicfile"
)

func init() {
	commands["status"] = command{summary: "create and update status lists: Bitstring (vc+jwt) and Token Status Lists (statuslist+jwt)", run: runStatus}
}

func runStatus(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "status", map[string]func([]string) error{
		"new":       func(a []string) error { return statusNew(ctx, e, a) },
		"revoke":    func(a []string) error { return statusUpdate(ctx, e, "revoke", a) },
		"suspend":   func(a []string) error { return statusUpdate(ctx, e, "suspend", a) },
		"reinstate": func(a []string) error { return statusUpdate(ctx, e, "reinstate", a) },
		"check":     func(a []string) error { return statusCheck(e, a) },
		"pull":      func(a []string) error { return statusPull(ctx, e, a) },
	}, []string{"new", "revoke", "suspend", "reinstate", "check", "pull"}, args)
}

func statusNew(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "status new", "medid status new --key FILE --id URL_OR_ID [--format bitstring|token] [--purpose revocation|suspension] [--bits 1|2|4|8] [--size N] [--ttl 5m] --out FILE [--alloc FILE] [--publish] [--registry URL]")
	format := fs.String("format", "bitstring", "bitstring (W3C Bitstring Status List, vc+jwt, for vc+jwt credentials) or token (IETF Token Status List, statuslist+jwt, for SD-JWT VCs)")
	bits := fs.Int("bits", 2, "token: bits per entry (1: VALID/INVALID; 2 or more: also SUSPENDED)")
	alloc := fs.String("alloc", "", "token: also write an index allocator state file (0600) for 'vc issue --status-alloc', which draws random free indexes")
	var sf signerFlags
	sf.register(fs, "list owner's")
	id := fs.String("id", "", "the list's id, a URL or URN (e.g. https://hospital.example/status/1); credentials point at it")
	purpose := fs.String("purpose", "revocation", "revocation or suspension")
	size := fs.Int("size", statuslist.MinEntries, "number of entries (at least 131072, a multiple of 8)")
	ttl := fs.Duration("ttl", 5*time.Minute, "how long verifiers may cache the list")
	out := fs.String("out", "", "where to write the signed status list credential (vc+jwt; never overwritten)")
	var rf registryFlags
	rf.registerPublish(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("key", "id", "out"); err != nil {
		return err
	}
	if *ttl < 0 {
		return usagef("--ttl must not be negative")
	}
	switch *format {
	case "bitstring":
		if *alloc != "" || flagGiven(fs, "bits") {
			return usagef("--bits and --alloc are for token status lists: add --format token")
		}
	case "token", "statuslist+jwt":
		p := ""
		if flagGiven(fs, "purpose") {
			p = *purpose
		}
		return tslNew(ctx, e, tslOptions{sf: &sf, rf: &rf, uri: *id, bits: *bits, size: *size, ttl: *ttl, out: *out, alloc: *alloc, purpose: p})
	default:
		return usagef("--format %q: use bitstring or token", *format)
	}
	p, err := parsePurpose(*purpose)
	if err != nil {
		return err
	}
	l, err := statuslist.New(*size)
	if err != nil {
		return usagef("--size %d: %v", *size, err)
	}
	k, iss, kid, err := sf.load()
	if err != nil {
		return err
	}
	defer k.Destroy()
	pub, err := planPublish(ctx, e, &rf, iss, *id, "")
	if err != nil {
		return err
	}
	token, err := signList(*id, iss, kid, p, l, *ttl, k)
	if err != nil {
		return err
	}
	// A status list is public: readable by all, like the URL it is served at.
	if err := createOutput(*out, []byte(token+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "status list %s (%s, %d entries) written to %s\n", *id, p, l.Len(), *out)
	if pub != nil {
		return pub.publish(ctx, e, k, iss, kid, token)
	}
	return nil
}

func parsePurpose(s string) (statuslist.Purpose, error) {
	switch statuslist.Purpose(s) {
	case statuslist.Revocation, statuslist.Suspension:
		return statuslist.Purpose(s), nil
	}
	return "", usagef("--purpose %q: use revocation or suspension", s)
}

// signList makes and signs the status list credential (its validFrom
// backdated: see statuslist.Sign).
func signList(id, issuer, kid string, p statuslist.Purpose, l *statuslist.List, ttl time.Duration, k *key.PrivateKey) (string, error) {
	c, err := statuslist.NewCredential(id, issuer, p, l, ttl)
	if err != nil {
		return "", usagef("status list: %v", err)
	}
	return statuslist.Sign(c, k, kid)
}

// loadList reads and decodes a status list credential file and returns its
// token. It does not check the signature: callers that act on a list they
// own check the issuer against their key, and verifiers go through
// credentials/verify.
func loadList(path string) (string, *statuslist.Decoded, error) {
	tok, err := readToken(path, "status list")
	if err != nil {
		return "", nil, err
	}
	d, err := statuslist.ParseToken(tok)
	if err != nil {
		return "", nil, usagef("status list file %s: %v", path, err)
	}
	return tok, d, nil
}

// statusUpdate sets or clears one entry and re-signs the list in place. The
// file is replaced atomically, and only after every check passed, so a bad
// index or the wrong key leaves it unchanged.
func statusUpdate(ctx context.Context, e *env, op string, args []string) error {
	fs := newFlagSet(e, "status "+op, "medid status "+op+" --key FILE --list FILE --index N [--publish] [--registry URL]\n(a Bitstring list file or a token status list file)")
	var sf signerFlags
	sf.register(fs, "list owner's")
	listFile := fs.String("list", "", "status list credential file to update in place")
	index := fs.Int("index", -1, "the credential's statusListIndex")
	var rf registryFlags
	rf.registerPublish(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("key", "list"); err != nil {
		return err
	}
	if *index < 0 {
		return usagef("missing or negative --index: give the credential's statusListIndex")
	}
	if tok, t, isToken, err := tslFile(*listFile); err != nil {
		return err
	} else if isToken {
		return tslUpdate(ctx, e, &sf, &rf, *listFile, tok, t, tokenstatus.Change(op), *index)
	}
	tok, d, err := loadList(*listFile)
	if err != nil {
		return err
	}
	// The change is made in memory only: the file is written after every
	// check below has passed.
	was, err := d.Apply(statuslist.Op(op), *index)
	var oe *statuslist.OpError
	switch {
	case errors.As(err, &oe) && oe.Op == statuslist.Reinstate:
		return usagef("%s is a %s list: revocation is final; only a suspension can be lifted", *listFile, d.Purpose)
	case errors.As(err, &oe):
		return usagef("%s is a %s list; %s needs a %s list", *listFile, d.Purpose, op, oe.Want)
	case errors.Is(err, statuslist.ErrRange):
		return usagef("--index %d is out of range: %s has %d entries (0 to %d); file unchanged", *index, *listFile, d.List.Len(), d.List.Len()-1)
	case err != nil:
		return usagef("--index %d: %v", *index, err)
	}
	k, iss, kid, err := sf.load()
	if err != nil {
		return err
	}
	defer k.Destroy()
	if d.Issuer != iss {
		return usagef("%s was issued by %s, but --key/--issuer is %s: sign with the list owner's key; file unchanged", *listFile, d.Issuer, iss)
	}
	id := d.ID
	pub, err := planPublish(ctx, e, &rf, iss, id, tok)
	if err != nil {
		return err
	}
	token, err := signList(id, iss, kid, d.Purpose, d.List, d.TTL, k)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(*listFile, []byte(token+"\n"), 0o644); err != nil {
		return err
	}
	state := map[bool]string{true: "set", false: "unset"}
	now, _ := d.List.Get(*index)
	fmt.Fprintf(e.stdout, "%s: index %d of %s is now %s (was %s); %s re-signed\n", op, *index, id, state[now], state[was], *listFile)
	if pub != nil {
		return pub.publish(ctx, e, k, iss, kid, token)
	}
	return nil
}

// statusCheck prints whether an entry is set. It reads the list as it is,
// without verifying its signature: it is a tool for the list's owner.
func statusCheck(e *env, args []string) error {
	fs := newFlagSet(e, "status check", "medid status check --list FILE --index N")
	listFile := fs.String("list", "", "status list credential file")
	index := fs.Int("index", -1, "entry to read")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("list"); err != nil {
		return err
	}
	if *index < 0 {
		return usagef("missing or negative --index")
	}
	if _, t, isToken, err := tslFile(*listFile); err != nil {
		return err
	} else if isToken {
		return tslCheck(e, t, *index)
	}
	_, d, err := loadList(*listFile)
	if err != nil {
		return err
	}
	set, err := d.List.Get(*index)
	if err != nil {
		if errors.Is(err, statuslist.ErrRange) {
			return usagef("--index %d is out of range: the list has %d entries (0 to %d)", *index, d.List.Len(), d.List.Len()-1)
		}
		return err
	}
	v := "unset"
	if set {
		v = "set"
	}
	fmt.Fprintf(e.stdout, "%s\n", v)
	fmt.Fprintf(e.stderr, "index %d of %s list %s (signature not checked)\n", *index, d.Purpose, d.ID)
	return nil
}

// statusPull replaces a local status list file with the registry's latest
// version of the same list, e.g. after another operator published a change.
// The registry checked the owner's signature when the version was
// published; pull checks that it is the same list (id, owner, purpose).
func statusPull(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "status pull", "medid status pull --list FILE [--registry URL]")
	listFile := fs.String("list", "", "local status list credential file to bring up to date")
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("list"); err != nil {
		return err
	}
	if tok, t, isToken, err := tslFile(*listFile); err != nil {
		return err
	} else if isToken {
		return tslPull(ctx, e, &rf, *listFile, tok, t)
	}
	tok, d, err := loadList(*listFile)
	if err != nil {
		return err
	}
	id, v, latest, base, err := registryLatest(ctx, e, &rf, *listFile, d.ID, tok)
	if err != nil || latest == "" {
		return err
	}
	nd, err := statuslist.ParseToken(latest)
	if err != nil {
		return fmt.Errorf("the registry's status list %s: %w", id, err)
	}
	if !nd.SameList(d) {
		return &exitError{code: exitInvalid, err: fmt.Errorf("the registry's list %s (%s, %s, %s) is not the list in %s (%s, %s, %s); file unchanged",
			id, nd.ID, nd.Issuer, nd.Purpose, *listFile, d.ID, d.Issuer, d.Purpose)}
	}
	return replaceList(e, *listFile, latest, v, base)
}
