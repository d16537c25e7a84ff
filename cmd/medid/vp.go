package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/medid/medid/credentials/emergency"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/internal/qr"

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
// every credential inside it. The presentation is a file or a QR code
// picture (--qr), above all the offline emergency card: for --audience
// medid:emergency the nonce is the card's own dated one.
func vpVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "vp verify", "medid vp verify FILE|--qr FILE.png --audience A [--nonce N] [--registry URL [--genesis FILE]] [--status-list FILE]... [--cache DIR] [--offline] [--json]")
	qrFile := fs.String("qr", "", "read the presentation from the QR code in this picture (an emergency card, say)")
	audience := fs.String("audience", "", "who you are: the presentation must be addressed to you ("+emergency.Audience+" for emergency cards)")
	nonce := fs.String("nonce", "", "the challenge you gave the holder (emergency cards: the card's own dated nonce)")
	var cf checkFlags
	cf.register(fs)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	var tok string
	switch {
	case *qrFile != "" && len(pos) > 0:
		return usagef("give the presentation as a file or with --qr, not both\nusage: %s", fs.usage)
	case *qrFile != "":
		s, err := qr.DecodeFile(*qrFile)
		if err == nil {
			s, err = emergency.FromQR(s) // emergency cards are compacted
		}
		if err != nil {
			return usagef("--qr: %v", err)
		}
		tok = s
	case len(pos) == 1:
		if tok, err = readToken(pos[0], "presentation"); err != nil {
			return err
		}
	default:
		return usagef("want exactly one presentation file, or --qr FILE.png\nusage: %s", fs.usage)
	}
	if err := fs.required("audience"); err != nil {
		return err
	}
	if *nonce == "" {
		if *audience != emergency.Audience {
			return usagef("--nonce is required, except for emergency cards (--audience %s)", emergency.Audience)
		}
		// An emergency card was made without a verifier's challenge; its
		// nonce names the day it was made. Only that form is accepted.
		n, made, err := emergency.ReadNonce(tok)
		if err != nil {
			var nc *emergency.NotCardError
			if errors.As(err, &nc) {
				n = nc.Nonce
			}
			return &exitError{code: exitInvalid, err: fmt.Errorf("INVALID presentation: not an emergency card (nonce %q)", n)}
		}
		*nonce = n
		fmt.Fprintf(e.stderr, "emergency card made on %s\n", made.Format(time.DateOnly))
	}
	ck, err := cf.build(e)
	if err != nil {
		return err
	}
	v := ck.check(ctx, e, tok, func(v *verify.Verifier) *verify.Result { return v.Presentation(ctx, tok, *audience, *nonce) })
	return cf.report(ctx, e, "presentation", v)
}
