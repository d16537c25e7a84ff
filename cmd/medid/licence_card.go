package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/internal/qr"
	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/card"
)

// medid licence card   a practitioner's licence card: a QR code anyone can check
// medid licence check  check a practitioner's licence card (a patient at the bedside)
func init() {
	licenceSubcommands["card"] = licenceCard
	licenceSubcommands["check"] = licenceCheck
}

// licenceCard signs a licence card (credentials/licence: a presentation of
// the licence, valid a few minutes) with the practitioner's key and prints
// the text of its QR code; --qr also writes the code as a PNG.
func licenceCard(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "licence card", "medid licence card --key FILE --licence FILE [--qr FILE.png]   (from a wallet: medid wallet licence-card)")
	keyFile := fs.String("key", "", "the practitioner's private key file (the licence's subject is its did:key)")
	licFile := fs.String("licence", "", "the licence (vc+jwt) from the licensing body")
	qrFile := fs.String("qr", "", "also write the card as a QR code image (PNG)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("key", "licence"); err != nil {
		return err
	}
	tok, err := readToken(*licFile, "licence")
	if err != nil {
		return err
	}
	k, err := loadKey(*keyFile)
	if err != nil {
		return err
	}
	defer k.Destroy()
	holder := did.KeyDID(k.Public())
	card, err := licence.MakeCard(tok, k, holder+"#"+k.Public().Multikey(), e.clock())
	if err != nil {
		return usagef("%s: %v", *licFile, err)
	}
	return printCard(e, card, *qrFile)
}

// printCard prints a licence card's QR text (and writes the code as a
// PNG when qrFile is set) and says for how long it is valid.
func printCard(e *env, card, qrFile string) error {
	text := licence.CardQRText(card)
	fmt.Fprintln(e.stdout, text)
	if err := showQR(e, text, qrFile, false); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "valid for %d minutes: anyone checks it with medid licence check, or the wallet app's Check a practitioner\n", int(licence.CardLifetime/time.Minute))
	return nil
}

// licenceCard makes a licence card from the wallet, as the app's "My
// licence" tab does: the licence it holds (--credential, else the newest
// one) signed by the wallet's key for the licence's subject, which never
// leaves the wallet. A licence the wallet last found revoked, suspended or
// expired makes no card (exit 1).
func (c *walletCLI) licenceCard(args []string) error {
	fs := c.flags("licence-card", "[--credential ID] [--qr FILE.png]")
	id := fs.String("credential", "", "the licence's id in the wallet (default: the newest licence it holds; see medid wallet list)")
	qrFile := fs.String("qr", "", "also write the card as a QR code image (PNG)")
	w, err := c.parseOpen(fs, args)
	if err != nil {
		return err
	}
	defer w.Close()
	lic, err := card.HeldLicence(w, *id)
	var nv *card.NotValidError
	switch {
	case errors.As(err, &nv):
		return &exitError{code: exitInvalid, err: err}
	case errors.Is(err, card.ErrNoLicence), errors.Is(err, wallet.ErrNotFound), errors.Is(err, licence.ErrInvalid):
		return usagef("%v", err)
	case err != nil:
		return err
	}
	tok, err := card.Licence(w, lic.ID)
	if err != nil {
		return usagef("licence %s: %v", lic.ID, err)
	}
	if lic.Unchecked != "" {
		fmt.Fprintf(c.e.stderr, "medid wallet: the licence's status could not be checked last time (%s); nothing is known to be wrong with it, and the checker checks it\n", lic.Unchecked)
	}
	return printCard(c.e, tok, *qrFile)
}

// licenceCheck checks a licence card (the text of its QR code, --qr a
// picture of it, or - for stdin) against the registry at $MEDID_REGISTRY
// and says who the practitioner is by the directory. Exit 0 verified,
// 1 refused, 3 could not be checked (nothing found wrong).
func licenceCheck(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "licence check", "medid licence check [--registry URL] (TEXT | --qr FILE.png | --file FILE)")
	qrFile := fs.String("qr", "", "a picture of the practitioner's QR code")
	file := fs.String("file", "", "a file holding the code's text")
	reg := fs.String("registry", "", "the registry (default $MEDID_REGISTRY)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	n := len(pos)
	if *qrFile != "" {
		n++
	}
	if *file != "" {
		n++
	}
	if n != 1 {
		return usagef("give the code's text, --qr FILE or --file FILE (one of them)\nusage: %s", fs.usage)
	}
	var text string
	switch {
	case *qrFile != "":
		if text, err = qr.DecodeFile(*qrFile); err != nil {
			return usagef("--qr: %v", err)
		}
	case *file != "":
		b, err := os.ReadFile(*file)
		if err != nil {
			return usagef("--file: %v", err)
		}
		text = string(b)
	default:
		text = pos[0]
	}
	tok, err := licence.CardFromText(text)
	if err != nil {
		return usagef("%v", err)
	}
	d := directory.New(directory.Config{})
	if u := optionalRegistry(e, *reg); u != "" {
		rc, err := newRegistryClient(e, u)
		if err != nil {
			return err
		}
		if d, err = directoryFor(rc, false); err != nil {
			return err
		}
	}
	c, err := d.CheckCard(ctx, tok)
	if errors.Is(err, licence.ErrNotCard) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, c.Sentence())
	fmt.Fprintf(e.stdout, "  code made %s, valid until %s\n", c.Made.Local().Format(time.RFC3339), c.Expires.Local().Format(time.RFC3339))
	switch c.State {
	case directory.CardVerified:
		fmt.Fprintf(e.stdout, "  holder:   %s\n", c.Holder)
		return nil
	case directory.CardRefused:
		return &exitError{code: exitInvalid}
	}
	return &exitError{code: exitUnchecked}
}
