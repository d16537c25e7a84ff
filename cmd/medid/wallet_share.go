package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/wallet"
)

// share shares an SD-JWT VC by hand, without a verifier's request: with
// only --credential it lists the details that can be disclosed; with
// --disclose it writes a presentation of those details only, bound to the
// receiver named with --to (a Key Binding JWT with the wallet's nonce) or,
// with --unbound, to nobody; --preview prints what the receiver would see
// and writes nothing.
func (c *walletCLI) share(ctx context.Context, args []string) error {
	fs := c.flags("share", "--credential ID [--disclose PATH[,PATH] (--to RECEIVER | --unbound) (--out FILE [--qr FILE.png] | --preview)] [--force]")
	id := fs.String("credential", "", "the SD-JWT VC to share (id or prefix)")
	disclose := fs.String("disclose", "", "the only details to disclose, e.g. code.display,reaction.0.manifestation (without it, the details are listed)")
	to := fs.String("to", "", "who receives it (their DID, web address or name): the key binding is made for them")
	unbound := fs.Bool("unbound", false, "share without key binding: anyone holding the file can show it as theirs")
	out := fs.String("out", "", "where to write the presentation (mode 0600, never overwritten)")
	qrFile := fs.String("qr", "", "also write it as a QR code PNG to this new file")
	preview := fs.Bool("preview", false, "print exactly what the receiver would see, and share nothing")
	force := fs.Bool("force", false, "share a credential the wallet knows is revoked, suspended or expired (the receiver will refuse it)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("credential"); err != nil {
		return err
	}
	if *disclose == "" {
		if *to != "" || *unbound || *out != "" || *qrFile != "" || *preview {
			return usagef("choose the details to disclose with --disclose PATH[,PATH] (run with --credential alone to list them)")
		}
		return c.shareFields(*id)
	}
	paths, err := sdjwt.ParsePaths(*disclose)
	if err != nil {
		return usagef("--disclose: %v", err)
	}
	if (*to == "") == !*unbound {
		return usagef("give --to RECEIVER (the key binding is made for them) or --unbound (anyone holding it can pass it on as theirs), not both")
	}
	if (*out == "") == !*preview {
		return usagef("give --out FILE to share, or --preview to see what the receiver would see, not both")
	}
	if *preview && *qrFile != "" {
		return usagef("--qr writes the shared presentation: it goes with --out, not --preview")
	}
	if *out != "" {
		if err := outputFree(*out); err != nil {
			return err
		}
	}
	if *qrFile != "" {
		if err := outputFree(*qrFile); err != nil {
			return err
		}
	}
	w, err := c.open(nil)
	if err != nil {
		return err
	}
	defer w.Close()
	req := wallet.ShareSDJWTRequest{CredentialID: *id, Disclose: paths, Audience: *to, Unbound: *unbound, Force: *force}
	if *preview {
		p, err := w.PreviewShare(req)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.e.stdout, "preview (nothing shared)\n  disclosed: %s\n  withheld:  %s\n", pathList(p.Disclosed), pathList(p.Withheld))
		return c.writeSeen(p)
	}
	p, err := w.ShareSDJWT(ctx, req)
	if errors.Is(err, wallet.ErrNotPresentable) {
		return &exitError{code: exitInvalid, err: fmt.Errorf("%w; nothing was written (add --force to share it anyway)", err)}
	}
	if err != nil {
		return err
	}
	if err := createOutput(*out, []byte(p.Token+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(c.e.stdout, "shared in %s (dc+sd-jwt)\n", *out)
	if p.Bound() {
		fmt.Fprintf(c.e.stdout, "  bound to:  %s (key binding nonce %s)\n", p.Audience, p.Nonce)
	} else {
		fmt.Fprintf(c.e.stdout, "  NOT BOUND: no key binding; whoever holds %s can show it as theirs\n", *out)
	}
	fmt.Fprintf(c.e.stdout, "  disclosed: %s\n  withheld:  %s\n", pathList(p.Disclosed), pathList(p.Withheld))
	if err := c.writeSeen(p); err != nil {
		return err
	}
	if *qrFile != "" {
		return showQR(c.e, p.Token, *qrFile, false)
	}
	return nil
}

// writeSeen prints what the receiver sees of a share.
func (c *walletCLI) writeSeen(p *wallet.SharedSDJWT) error {
	b, err := json.MarshalIndent(p.Seen, "  ", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.e.stdout, "the receiver sees:\n  %s\n", b)
	return nil
}

// shareFields lists the details of an SD-JWT VC that can be disclosed.
func (c *walletCLI) shareFields(id string) error {
	w, err := c.open(nil)
	if err != nil {
		return err
	}
	defer w.Close()
	fields, err := w.SDJWTFields(id)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.e.stdout, "details you can disclose (nothing is disclosed unless you name it with --disclose):")
	for _, f := range fields {
		fmt.Fprintf(c.e.stdout, "  %s = %v\n", f.Path, f.Value)
	}
	fmt.Fprintln(c.e.stdout, "always visible: the issuer, the type, the dates, your holder key and the status list entry")
	return nil
}
