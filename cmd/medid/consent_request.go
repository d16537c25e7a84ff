package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/internal/qr"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/hospital"
)

// Consent without typing a DID, the provider's side:
//
//	medid consent request --key FILE [--issuer DID --kid KID] --class C… --purpose P… [--days N]
//	    [--break-glass] [--note TEXT] --out FILE [--qr FILE.png]
//
// writes a signed consent request (a medid-consent:// link, see
// credentials/consent.Proposal) that the patient reviews and accepts with
// `medid wallet consent accept FILE` or in the app (Consent > "Open a
// request"). The request names no patient and binds nobody: it asks.

func init() {
	commands["consent"] = command{summary: "ask a patient for consent: write a signed consent request their wallet can accept", run: runConsent}
}

func runConsent(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "consent", map[string]func([]string) error{
		"request": func(a []string) error { return consentRequest(e, a) },
	}, []string{"request"}, args)
}

func consentRequest(e *env, args []string) error {
	fs := newFlagSet(e, "consent request", "medid consent request --key FILE [--issuer DID --kid KID] --class C [--class C]... --purpose P [--purpose P]... "+
		"[--days N] [--break-glass] [--note TEXT] [--licence FILE] --out FILE [--qr FILE.png]")
	var sf signerFlags
	sf.register(fs, "the provider's")
	var classes, purposes stringList
	fs.Var(&classes, "class", "data class asked for: a FHIR resource type (AllergyIntolerance) or a word (allergies); repeatable")
	fs.Var(&purposes, "purpose", "purpose of use, HL7 v3 (TREAT, ETREAT, HRESCH…); repeatable")
	days := fs.Int("days", 30, "how many days the consent would last")
	breakGlass := fs.Bool("break-glass", false, "also ask for emergency access (purpose ETREAT) without asking each time")
	note := fs.String("note", "", "your words to the patient, shown as yours (at most 280 characters)")
	out := fs.String("out", "", "write the request link to this new file")
	qrFile := fs.String("qr", "", "also write the request as a QR code PNG to this file")
	licFile := fs.String("licence", "", "show the patient your practitioner licence (vc+jwt; its subject must be your DID): their wallet checks it and shows your verified name and employer")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if *sf.keyFile == "" || len(classes) == 0 || len(purposes) == 0 || *out == "" {
		return usagef("missing --key, --class, --purpose or --out\nusage: %s", fs.usage)
	}
	if *days <= 0 {
		return usagef("--days must be positive")
	}
	for _, f := range []string{*out, *qrFile} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err == nil {
			return usagef("output file %s already exists: choose another name or delete it first", f)
		}
	}
	var lic string
	if *licFile != "" {
		var err error
		if lic, err = readToken(*licFile, "licence"); err != nil {
			return err
		}
	}
	k, provider, kid, err := sf.load()
	if err != nil {
		return err
	}
	defer k.Destroy()
	p := &consent.Proposal{Provider: provider, Classes: wallet.ClassesForLabels(classes), Purposes: purposes,
		Duration: time.Duration(*days) * 24 * time.Hour, BreakGlass: *breakGlass, Note: *note, Licence: lic}
	tok, err := consent.IssueProposal(p, k, kid, e.clock())
	if errors.Is(err, consent.ErrInvalidProposal) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	link := consent.ProposalURI(tok)
	if *qrFile != "" {
		png, err := qr.PNG(link)
		if err != nil {
			return fmt.Errorf("the request is too long for a QR code (%w): send the link in %s instead", err, *out)
		}
		if err := createOutput(*qrFile, png, 0o644); err != nil {
			return err
		}
	}
	if err := createOutput(*out, []byte(link+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "consent request %s\n", *out)
	fmt.Fprintf(e.stdout, "  from:      %s\n", provider)
	fmt.Fprintf(e.stdout, "  asks for:  %s, for %s, for %d days", wallet.ClassWords(p.Classes...), strings.Join(purposes, ", "), *days)
	if *breakGlass {
		fmt.Fprint(e.stdout, ", with emergency access")
	}
	fmt.Fprintln(e.stdout)
	if lic != "" {
		fmt.Fprintln(e.stdout, "  licence:   shown (the patient's wallet checks it)")
	}
	fmt.Fprintf(e.stdout, "  answer by: %s\n", e.clock().Add(consent.ProposalLifetime).UTC().Format(time.DateTime))
	if *qrFile != "" {
		fmt.Fprintf(e.stdout, "QR code written to %s\n", *qrFile)
	}
	fmt.Fprintln(e.stderr, "give it to the patient: they accept it with `medid wallet consent accept` or in the wallet app")
	return nil
}

// consentAccept is the patient's side: it reads a provider's consent
// request (a file holding the link or the signed request, or --qr), says
// who asks (by the directory's name, never one in the request) and for
// what, and grants it, as asked or narrowed (fewer classes, fewer days,
// without emergency access), once the patient says yes.
func (c *walletCLI) consentAccept(ctx context.Context, args []string) error {
	fs := c.flags("consent accept", "(FILE | --qr FILE.png) [--class C]... [--days N] [--no-break-glass] [--did DID] [--registry URL] [--yes] [--out FILE]")
	qrFile := fs.String("qr", "", "read the request from a QR code picture")
	var classes stringList
	fs.Var(&classes, "class", "give only these of the classes asked for (default: all asked for); repeatable")
	days := fs.Int("days", 0, "give fewer days than asked for (default: as asked)")
	noGlass := fs.Bool("no-break-glass", false, "leave out the emergency access the request asks for")
	asDID := fs.String("did", "", "which of the wallet's DIDs grants (default: the primary DID)")
	yes := fs.Bool("yes", false, "grant without asking (scripts)")
	out := fs.String("out", "", "also write the signed grant to this new file (mode 0600), to hand to the provider")
	var rf registryFlags
	rf.register(fs)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	var link string
	switch {
	case *qrFile != "" && len(pos) == 0:
		s, err := qr.DecodeFile(*qrFile)
		if err != nil {
			return usagef("%v", err)
		}
		link = s
	case *qrFile == "" && len(pos) == 1:
		b, err := readInput(pos[0], "consent request")
		if err != nil {
			return err
		}
		link = string(b)
	default:
		return usagef("give the request file or --qr, one of them\nusage: %s", fs.usage)
	}
	if *days < 0 {
		return usagef("--days must be positive")
	}
	if *out != "" {
		if err := outputFree(*out); err != nil {
			return err
		}
	}
	w, rc, err := c.openRegistry(&rf)
	if err != nil {
		return err
	}
	defer w.Close()
	p, err := hospital.ReadConsentRequest(ctx, w, link, did.NewRouter(map[string]did.Resolver{"key": did.KeyResolver{}, "medid": rc}))
	switch {
	case errors.Is(err, consent.ErrProposalExpired):
		return &exitError{code: exitInvalid, err: fmt.Errorf("%w: ask the provider for a new one; nothing was granted", err)}
	case err != nil:
		return &exitError{code: exitInvalid, err: fmt.Errorf("not a consent request you can accept: %w; nothing was granted", err)}
	}
	names, err := walletNamesVia(w, rc, false)
	if err != nil {
		return err
	}
	defer w.SaveNames(names)
	// A licence shown with the request is checked first: when it
	// verifies, the directory names the provider by it.
	var licensed string
	if p.Licence != "" {
		line, ok := names.ShownLicence(ctx, p.Licence, p.Provider).Licensed()
		if ok {
			line += " (verified)"
		} else {
			line += ": the name in it is not shown"
		}
		licensed = line
	}
	fmt.Fprintf(c.e.stdout, "consent request from %s\n", describe(ctx, names, p.Provider))
	if licensed != "" {
		fmt.Fprintf(c.e.stdout, "  licence:   %s\n", licensed)
	}
	fmt.Fprintf(c.e.stdout, "  asks for:  %s, for %s, for %d days", wallet.ClassWords(p.Classes...), strings.Join(p.Purposes, ", "), int(p.Duration/(24*time.Hour)))
	if p.BreakGlass {
		fmt.Fprint(c.e.stdout, ", with emergency access")
	}
	fmt.Fprintln(c.e.stdout)
	if p.Note != "" {
		fmt.Fprintf(c.e.stdout, "  in their words: %q\n", p.Note)
	}
	give := p.Classes
	if len(classes) > 0 {
		give = wallet.ClassesForLabels(classes)
	}
	d := p.Duration
	if *days > 0 {
		d = time.Duration(*days) * 24 * time.Hour
	}
	glass := p.BreakGlass && !*noGlass
	if err := p.Narrow(give, d, glass); err != nil {
		return usagef("%v: you may give less than was asked, never more", err)
	}
	if !*yes {
		fmt.Fprintf(c.e.stderr, "Give %s consent to see your %s for %d days? [y/N] ", label(ctx, names, p.Provider), wallet.ClassWords(give...), int(d/(24*time.Hour)))
		ans, err := readLine(c.e.stdin)
		if err != nil || (!strings.EqualFold(ans, "y") && !strings.EqualFold(ans, "yes")) {
			fmt.Fprintln(c.e.stdout, "declined: nothing was granted or sent")
			return nil
		}
	}
	g, err := hospital.GrantConsent(ctx, w, rc, wallet.ConsentRequest{DID: *asDID, Provider: p.Provider, Classes: give,
		Purposes: p.Purposes, Duration: d, BreakGlass: glass})
	if err != nil {
		return err
	}
	if *out != "" {
		if err := createOutput(*out, []byte(g.Token+"\n"), 0o600); err != nil {
			return fmt.Errorf("the grant %s is anchored and kept in the wallet, but: %w", g.ID, err)
		}
		fmt.Fprintf(c.e.stderr, "grant written to %s: give it to the provider\n", *out)
	}
	fmt.Fprintf(c.e.stdout, "consent: %s\n", g.ID)
	fmt.Fprintf(c.e.stdout, "  to %s: %s, for %s, until %s\n", label(ctx, names, p.Provider), wallet.ClassWords(g.Classes...),
		strings.Join(g.Purposes, ", "), g.ValidUntil.UTC().Format(time.DateTime))
	return nil
}
