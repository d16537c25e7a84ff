package main

import (
	"context"
	"fmt"

	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/internal/randid"
)

func init() {
	commands["vp"] = command{summary: "create and verify verifiable presentations (vp+jwt)", run: runVP}
}

func runVP(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "vp", map[string]func([]string) error{
		"create":  func(a []string) error { return vpCreate(e, a) },
		"verify":  func(a []string) error { return vpVerify(ctx, e, a) },
		"request": func(a []string) error { return vpRequest(ctx, e, a) },
		"result":  func(a []string) error { return vpResult(ctx, e, a) },
	}, []string{"create", "verify", "request", "result"}, args)
}

// vpCreate wraps credentials in a presentation bound to one audience and
// nonce and signs it with the holder's key.
func vpCreate(e *env, args []string) error {
	fs := newFlagSet(e, "vp create", "medid vp create --key FILE --credential FILE... --audience A --nonce N --out FILE [--holder DID --kid KID]")
	keyFile := fs.String("key", "", "holder's (patient's) private key file")
	holder := fs.String("holder", "", "holder DID (default: the key's did:key)")
	kid := fs.String("kid", "", "verification method of --holder that holds the key (required with --holder)")
	var creds stringList
	fs.Var(&creds, "credential", "credential file (vc+jwt) to present (repeatable)")
	audience := fs.String("audience", "", "the verifier this presentation is for (its DID or URL)")
	nonce := fs.String("nonce", "", "the verifier's challenge")
	out := fs.String("out", "", "where to write the vp+jwt (never overwritten)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("key", "credential", "audience", "nonce", "out"); err != nil {
		return err
	}
	if *holder != "" && *kid == "" {
		return usagef("--holder needs --kid: the verification method of %s that holds --key", *holder)
	}
	tokens := make([]string, 0, len(creds))
	for _, f := range creds {
		tok, err := readToken(f, "credential")
		if err != nil {
			return err
		}
		if _, err := vc.Parse(tok); err != nil {
			return usagef("credential file %s: %v", f, err)
		}
		tokens = append(tokens, tok)
	}
	k, err := loadKey(*keyFile)
	if err != nil {
		return err
	}
	defer k.Destroy()
	if *holder == "" {
		*holder = keyDID(k.Public())
		*kid = keyKID(k.Public())
	}
	p := &vc.Presentation{
		Context:     []string{vc.ContextV2},
		ID:          randid.URN(),
		Type:        []string{vc.TypePresentation},
		Holder:      *holder,
		Credentials: tokens,
	}
	token, err := vc.SignPresentation(p, k, *kid, *audience, *nonce)
	if err != nil {
		return fmt.Errorf("sign presentation: %w", err)
	}
	if err := createOutput(*out, []byte(token+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "presentation %s\n  holder:      %s\n  audience:    %s\n  credentials: %d\n", *out, *holder, *audience, len(tokens))
	return nil
}

// vpVerify verifies a presentation for the given audience and nonce, and
// every credential inside it.
func vpVerify(ctx context.Context, e *env, args []string) error {
	if hasFlag(args, "qr") {
		return vpVerifyQR(ctx, e, args) // the offline emergency card (wallet_openid.go)
	}
	fs := newFlagSet(e, "vp verify", "medid vp verify FILE --audience A --nonce N [--status-list FILE]... [--registry URL [--genesis FILE]]")
	audience := fs.String("audience", "", "who you are: the presentation must be addressed to you")
	nonce := fs.String("nonce", "", "the challenge you gave the holder")
	var vf verifierFlags
	vf.register(fs)
	arg, err := fs.parseOne(args, "want exactly one presentation file")
	if err != nil {
		return err
	}
	if err := fs.required("audience", "nonce"); err != nil {
		return err
	}
	tok, err := readToken(arg, "presentation")
	if err != nil {
		return err
	}
	v, err := vf.build(e)
	if err != nil {
		return err
	}
	return printNamedResult(ctx, e, &vf, v.Presentation(ctx, tok, *audience, *nonce), "presentation")
}
