package main

// The IETF Token Status List (statuslist+jwt) side of 'medid status': the
// lists SD-JWT VCs point at. status.go dispatches here when --format token
// is asked for or when the list file holds a Token Status List; the rules
// (what a change may do to an entry) live in credentials/tokenstatus.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/tokenstatus"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/internal/atomicfile"
)

// tslOptions are the flags of 'status new' that a Token Status List uses.
type tslOptions struct {
	sf      *signerFlags
	rf      *registryFlags
	uri     string
	bits    int
	size    int
	ttl     time.Duration
	out     string
	alloc   string
	purpose string // as given; a token list carries every purpose at once
}

// tslNew makes, signs and writes a new Token Status List (every entry
// VALID), optionally with the allocator state file that 'vc issue
// --status-alloc' draws random indexes from, and publishes it.
func tslNew(ctx context.Context, e *env, o tslOptions) error {
	if o.purpose != "" && o.purpose != "revocation" {
		return usagef("--purpose %q: a token status list (--format token) carries revocation and suspension in one list (--bits 2); leave --purpose out", o.purpose)
	}
	l, err := tokenstatus.New(o.size, o.bits)
	if err != nil {
		return usagef("--size %d --bits %d: %v", o.size, o.bits, err)
	}
	if o.size < tokenstatus.MinEntries {
		return usagef("--size %d: a list needs at least %d entries, so that a credential hides among many (herd privacy)", o.size, tokenstatus.MinEntries)
	}
	k, iss, kid, err := o.sf.load()
	if err != nil {
		return err
	}
	defer k.Destroy()
	pub, err := planPublish(ctx, e, o.rf, iss, o.uri, "")
	if err != nil {
		return err
	}
	var state []byte
	if o.alloc != "" {
		a, err := tokenstatus.NewAllocator(o.size)
		if err != nil {
			return usagef("--alloc: %v", err)
		}
		if state, err = a.MarshalBinary(); err != nil {
			return err
		}
	}
	token, err := tslSign(e, &tokenstatus.Token{Issuer: iss, URI: o.uri, TTL: o.ttl, List: l}, k, kid)
	if err != nil {
		return err
	}
	if state != nil {
		// Which indexes are taken is the issuer's business only: it
		// counts credentials issued.
		if err := createOutput(o.alloc, state, 0o600); err != nil {
			return err
		}
	}
	if err := createOutput(o.out, []byte(token+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "token status list %s (%d bits, %d entries) written to %s\n", o.uri, l.Bits(), l.Len(), o.out)
	if o.alloc != "" {
		fmt.Fprintf(e.stdout, "index allocator written to %s (vc issue --status-alloc %s draws a random free index)\n", o.alloc, o.alloc)
	}
	if pub != nil {
		return pub.publish(ctx, e, k, iss, kid, token)
	}
	return nil
}

// tslSign signs t as issued now (by e's clock), backdated a minute so a
// verifier whose clock is a little behind does not see it as issued in
// the future.
func tslSign(e *env, t *tokenstatus.Token, k *key.PrivateKey, kid string) (string, error) {
	t.IssuedAt = e.clock().UTC().Truncate(time.Second).Add(-time.Minute)
	tok, err := tokenstatus.Sign(t, k, kid)
	if err != nil {
		return "", usagef("token status list: %v", err)
	}
	return tok, nil
}

// tslFile reads a status list file and, when it holds a Token Status
// List, returns it decoded (ok true). Its signature is not checked: the
// callers act on their own lists, or say that they did not check.
func tslFile(path string) (tok string, t *tokenstatus.Token, ok bool, err error) {
	tok, err = readToken(path, "status list")
	if err != nil {
		return "", nil, false, err
	}
	if verify.DetectFormat(tok) != verify.FormatTokenStatusList {
		return tok, nil, false, nil
	}
	t, _, err = tokenstatus.Parse(tok)
	if err != nil {
		return "", nil, true, usagef("status list file %s: %v", path, err)
	}
	return tok, t, true, nil
}

// tslUpdate makes change c to entry index of the Token Status List in
// listFile and re-signs it in place; the file is replaced only after
// every check passed.
func tslUpdate(ctx context.Context, e *env, sf *signerFlags, rf *registryFlags, listFile, tok string, t *tokenstatus.Token, c tokenstatus.Change, index int) error {
	was, err := t.List.Apply(c, index)
	var ce *tokenstatus.ChangeError
	switch {
	case errors.Is(err, tokenstatus.ErrRange):
		return usagef("--index %d is out of range: %s has %d entries (0 to %d); file unchanged", index, listFile, t.List.Len(), t.List.Len()-1)
	case errors.As(err, &ce):
		return usagef("%s: %v; file unchanged", listFile, err)
	case err != nil:
		return usagef("--index %d: %v", index, err)
	}
	k, iss, kid, err := sf.load()
	if err != nil {
		return err
	}
	defer k.Destroy()
	if t.Issuer != iss {
		return usagef("%s was issued by %s, but --key/--issuer is %s: sign with the list owner's key; file unchanged", listFile, t.Issuer, iss)
	}
	pub, err := planPublish(ctx, e, rf, iss, t.URI, tok)
	if err != nil {
		return err
	}
	token, err := tslSign(e, t, k, kid)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(listFile, []byte(token+"\n"), 0o644); err != nil {
		return err
	}
	now, _ := t.List.Get(index)
	fmt.Fprintf(e.stdout, "%s: index %d of %s is now %s (was %s); %s re-signed\n", c, index, t.URI, tokenstatus.StatusName(now), tokenstatus.StatusName(was), listFile)
	if pub != nil {
		return pub.publish(ctx, e, k, iss, kid, token)
	}
	return nil
}

// tslCheck prints an entry's status name (VALID, INVALID, SUSPENDED).
func tslCheck(e *env, t *tokenstatus.Token, index int) error {
	st, err := t.List.Get(index)
	if err != nil {
		return usagef("--index %d is out of range: the list has %d entries (0 to %d)", index, t.List.Len(), t.List.Len()-1)
	}
	fmt.Fprintln(e.stdout, tokenstatus.StatusName(st))
	fmt.Fprintf(e.stderr, "index %d of token status list %s (signature not checked)\n", index, t.URI)
	return nil
}

// tslPull replaces a local Token Status List file with the registry's
// latest version of the same list.
func tslPull(ctx context.Context, e *env, rf *registryFlags, listFile, tok string, t *tokenstatus.Token) error {
	id, v, latest, base, err := registryLatest(ctx, e, rf, listFile, t.URI, tok)
	if err != nil || latest == "" {
		return err
	}
	nt, _, err := tokenstatus.Parse(latest)
	if err != nil || !nt.SameList(t) {
		return &exitError{code: exitInvalid, err: fmt.Errorf("the registry's list %s is not the token status list in %s (%s, %s); file unchanged", id, listFile, t.URI, t.Issuer)}
	}
	return replaceList(e, listFile, latest, v, base)
}

// registryLatest fetches the latest version of the status list with
// credential id (or URI) credID from the registry, for 'status pull' of
// listFile, whose token is tok. When the file is already that version it
// says so and returns latest "" (nothing to do).
func registryLatest(ctx context.Context, e *env, rf *registryFlags, listFile, credID, tok string) (id string, v int64, latest, base string, err error) {
	c, err := rf.client(e)
	if err != nil {
		return "", 0, "", "", err
	}
	base = rf.baseURL(e)
	if id, err = c.StatusListID(credID); err != nil {
		return "", 0, "", "", statusListError(c, err)
	}
	if v, latest, err = c.StatusListVersion(ctx, id); err != nil {
		return "", 0, "", "", unreachable(err)
	}
	if v == 0 {
		return "", 0, "", "", &exitError{code: exitInvalid, err: fmt.Errorf("status list %s was never published on %s", id, base)}
	}
	if latest == tok {
		fmt.Fprintf(e.stdout, "%s is up to date (version %d)\n", listFile, v)
		return id, v, "", base, nil
	}
	return id, v, latest, base, nil
}

// replaceList writes version v of a list, pulled from base, over listFile.
func replaceList(e *env, listFile, latest string, v int64, base string) error {
	if err := atomicfile.WriteFile(listFile, []byte(latest+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s updated to version %d from %s\n", listFile, v, base)
	return nil
}

// tslReference makes an SD-JWT VC's status reference to the Token Status
// List in listFile, which must be issuer's (verifiers only trust a list
// signed by the credential's own issuer): at index, or, with allocFile, at
// an index drawn at random among the free ones (the allocator state is
// saved before the credential is written, so an index is never handed
// out twice).
func tslReference(listFile, allocFile string, index int, issuer string) (*tokenstatus.Reference, error) {
	_, t, ok, err := tslFile(listFile)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, usagef("%s is a Bitstring Status List (vc+jwt), which SD-JWT VCs do not use: make a token status list with 'medid status new --format token'", listFile)
	}
	at := index
	if allocFile != "" {
		at = 0 // the allocator draws the index; the list must still be issuer's
	}
	r, err := t.ReferenceFor(issuer, at)
	switch {
	case errors.Is(err, tokenstatus.ErrOwner):
		return nil, usagef("status list %s belongs to %s, not to the issuer %s: verifiers would refuse it; use one of the issuer's own lists", listFile, t.Issuer, issuer)
	case errors.Is(err, tokenstatus.ErrRange):
		return nil, usagef("--status-index %d is out of range: the list has %d entries (0 to %d)", index, t.List.Len(), t.List.Len()-1)
	case err != nil:
		return nil, err
	}
	if allocFile != "" {
		return tslAllocate(allocFile, t)
	}
	return &r, nil
}

// tslAllocate draws a random free index of t from the allocator state in
// allocFile and saves the state.
func tslAllocate(allocFile string, t *tokenstatus.Token) (*tokenstatus.Reference, error) {
	fa, err := openTSLAllocator(allocFile, t, t.Issuer)
	if err != nil {
		return nil, err
	}
	r, err := fa.Allocate(context.Background())
	if errors.Is(err, tokenstatus.ErrListFull) {
		return nil, usagef("--status-alloc %s: %v", allocFile, err)
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// openTSLAllocator opens the allocator state file of t, explaining what is
// wrong with it as a usage error.
func openTSLAllocator(allocFile string, t *tokenstatus.Token, issuer string) (*tokenstatus.FileAllocator, error) {
	fa, err := tokenstatus.OpenFileAllocator(allocFile, t, issuer)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, usagef("allocator file %s does not exist: it is written with the list ('medid status new --format token --alloc FILE')", allocFile)
	case errors.Is(err, tokenstatus.ErrOwner):
		return nil, usagef("%v: verifiers would refuse it; use one of the issuer's own lists", err)
	case errors.Is(err, tokenstatus.ErrMalformed):
		return nil, usagef("--status-alloc %s: %v", allocFile, err)
	}
	return fa, err
}

// flagGiven reports whether the flag name was given on the command line
// (not merely left at its default).
func flagGiven(fs *flagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// sdStatus is what 'vc issue --format sd-jwt' was given for the
// credential's status: a token status list file and an index, or an
// allocator file to draw one from.
type sdStatus struct {
	list, alloc string
	index       int
}
