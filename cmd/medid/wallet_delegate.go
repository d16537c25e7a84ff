package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/delegate"
	"github.com/medid/medid/wallet/hospital"
)

// Acting for someone else (docs/design/0020-delegation.md):
//
//	medid wallet delegate grant --to DID --name NAME --scope view|consent|receive|present|trail[,…] --class C[,…] [--purpose P[,…]] --days N [--out FILE]
//	medid wallet delegate list [--vault URL] [--json]
//	medid wallet delegate revoke ID
//	medid wallet act-for add FILE
//	medid wallet act-for list
//	medid wallet act-for PERSON read --vault URL --record ID [--purpose P]
//	medid wallet act-for PERSON consent grant --vault URL --provider DID --class C[,…] [--purpose P] --days N
//	medid wallet act-for PERSON consent list
//	medid wallet act-for PERSON consent revoke ID
//	medid wallet act-for PERSON access-log --vault URL
//	medid wallet act-for PERSON accept-offer URI|--qr FILE [--pin-file FILE]
//	medid wallet act-for PERSON respond URI|--qr FILE [--credential ID]... [--yes | --decline]
//	medid wallet act-for PERSON credentials [--export ID --out FILE]
//
// PERSON is the name (or its start) of the person a delegation you hold is
// for, their DID, or the delegation's id. Every act-for command says on
// stderr whom you act for, and the vault decides: a refusal is in that
// person's trail with its reason.

func (c *walletCLI) delegate(ctx context.Context, args []string) error {
	return subcommand(c.e, "wallet delegate", map[string]func([]string) error{
		"grant":  func(a []string) error { return c.delegateGrant(ctx, a) },
		"list":   func(a []string) error { return c.delegateList(ctx, a) },
		"revoke": func(a []string) error { return c.delegateRevoke(ctx, a) },
	}, []string{"grant", "list", "revoke"}, args)
}

func (c *walletCLI) delegateGrant(ctx context.Context, args []string) error {
	fs := c.flags("delegate grant", "--to DID --name NAME --scope view,consent,receive,present,trail --class C[,C…] [--purpose P[,P…]] --days N "+
		"[--relationship CODE] [--patient-name NAME] [--basis authorisation|power-of-attorney] [--sub-delegate] [--did DID] [--out FILE] [--registry URL]")
	to := fs.String("to", "", "the representative's DID")
	name := fs.String("name", "", "the representative's name, as your trail will show what they do")
	scope := fs.String("scope", "", "what they may do for you: view, consent, receive, present, trail (comma-separated)")
	classes := fs.String("class", "", "data classes: FHIR resource types or words (immunizations), comma-separated, or * for all")
	purposes := fs.String("purpose", "TREAT", "purposes of use, HL7 v3 codes, comma-separated")
	days := fs.Int("days", 0, "how many days the delegation lasts")
	relationship := fs.String("relationship", "", "what you are to them, an HL7 v3 RoleCode (MTH mother, FTH father, SPS spouse, FRND friend, …), shown on their screens")
	patientName := fs.String("patient-name", "", "your name, as their screens show it")
	basis := fs.String("basis", "authorisation", "authorisation (yours) or power-of-attorney")
	sub := fs.Bool("sub-delegate", false, "let them pass (part of) it on")
	asDID := fs.String("did", "", "which of the wallet's DIDs delegates (default: the primary DID)")
	out := fs.String("out", "", "write the delegation credential to this new file (default: print it)")
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("to", "name", "scope", "class"); err != nil {
		return err
	}
	if *days <= 0 {
		return usagef("--days must be positive: a delegation always ends\nusage: %s", fs.usage)
	}
	actions, err := delegation.ParseActions(*scope)
	if err != nil {
		return usagef("--scope: %v", err)
	}
	w, rc, err := c.openRegistry(&rf)
	if err != nil {
		return err
	}
	defer w.Close()
	d, err := delegate.Grant(ctx, w, rc, delegate.Request{DID: *asDID, To: *to, Name: *name, PatientName: *patientName,
		Relationship: strings.ToUpper(*relationship), Basis: delegation.Basis(*basis), Actions: actions, Classes: classList(*classes),
		Purposes: splitList(*purposes), Duration: time.Duration(*days) * 24 * time.Hour, SubDelegation: *sub})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.e.stdout, "delegation: %s\n", d.Hash[:16])
	fmt.Fprintf(c.e.stdout, "to: %s (%s)\n", d.RepresentativeName, d.Representative)
	fmt.Fprintf(c.e.stdout, "scope: %s  classes: %s  purposes: %s\n", strings.Join(d.Actions, ","), strings.Join(d.Classes, ","), strings.Join(d.Purposes, ","))
	fmt.Fprintf(c.e.stdout, "valid until: %s\n", d.ValidUntil.Format(time.RFC3339))
	if *out != "" {
		if err := createOutput(*out, []byte(d.Token+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(c.e.stdout, "written to %s: give it to %s (medid wallet act-for add %s); take it back with medid wallet delegate revoke %s\n",
			*out, d.RepresentativeName, *out, d.Hash[:16])
		return nil
	}
	fmt.Fprintf(c.e.stdout, "token: %s\n", d.Token)
	return nil
}

// delegateList prints "People who can act for you": one line per
// delegation, its id first, then the representative, the scope and the
// time left (or why it no longer works).
func (c *walletCLI) delegateList(ctx context.Context, args []string) error {
	fs := c.flags("delegate list", "[--vault URL] [--json] [--registry URL]")
	vaultURL := fs.String("vault", "", "first read your trail at this vault, to learn who acted for you there (a guardianship you never held)")
	asJSON := fs.Bool("json", false, "print JSON")
	var rf registryFlags
	rf.register(fs)
	w, err := c.parseOpen(fs, args)
	if err != nil {
		return err
	}
	defer w.Close()
	if *vaultURL != "" {
		rc, err := rf.client(c.e)
		if err != nil {
			return err
		}
		if _, err := c.learn(ctx, w, rc, *vaultURL); err != nil {
			return err
		}
	}
	ds, err := w.Delegations()
	if err != nil {
		return err
	}
	var mine []wallet.Delegation
	for _, d := range ds {
		if d.Role != wallet.DelegationHeld {
			mine = append(mine, d)
		}
	}
	if *asJSON {
		return writeJSON(c.e, mine)
	}
	if len(mine) == 0 {
		fmt.Fprintln(c.e.stderr, "nobody can act for you")
	}
	now := c.e.clock()
	for _, d := range mine {
		who := d.RepresentativeName + " (" + d.Representative + ")"
		if d.Role == wallet.DelegationOverMe {
			who = d.RepresentativeName + " (" + d.BasisWords() + ", by " + d.Issuer + ")"
		}
		scope := strings.Join(d.Actions, ",")
		if scope == "" {
			scope = "-"
		}
		classes := strings.Join(d.Classes, ",")
		if classes == "" {
			classes = "-"
		}
		fmt.Fprintf(c.e.stdout, "%s  %s  %s  %s  %s\n", d.Hash[:16], who, scope, classes, timeLeft(d, now))
	}
	return c.printNotices(w)
}

// timeLeft says how long a delegation still works, or why it does not.
func timeLeft(d wallet.Delegation, now time.Time) string {
	switch st := d.StatusAt(now); st {
	case wallet.DelegationActive:
		return humanDuration(d.ValidUntil.Sub(now)) + " left"
	case wallet.DelegationCameOfAge:
		return "ended " + d.ValidUntil.Format(time.DateOnly) + " (you came of age)"
	default:
		return st
	}
}

func (c *walletCLI) delegateRevoke(ctx context.Context, args []string) error {
	fs := c.flags("delegate revoke", "ID [--registry URL]")
	var rf registryFlags
	rf.register(fs)
	id, err := fs.parseOne(args, "give the delegation id (or its first 8+ digits)")
	if err != nil {
		return err
	}
	w, rc, err := c.openRegistry(&rf)
	if err != nil {
		return err
	}
	defer w.Close()
	d, err := delegate.Revoke(ctx, w, rc, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.e.stdout, "revoked: %s (%s can no longer act for you; the consents they made in your name stop too)\n", d.Hash[:16], d.RepresentativeName)
	return nil
}

// learn reads the owner's trail at vaultURL and takes in what was done in
// their name (delegate.LearnFromTrail); it returns the events.
func (c *walletCLI) learn(ctx context.Context, w *wallet.Wallet, rc *client.Client, vaultURL string) ([]wallet.AccessEvent, error) {
	evs, err := hospital.AccessLog(ctx, w, hospital.AccessLogOptions{VaultURL: vaultURL, Anchors: rc})
	if err != nil {
		return nil, err
	}
	ds, gs, err := delegate.LearnFromTrail(w, evs, vaultURL)
	if err != nil {
		return nil, err
	}
	if ds > 0 || gs > 0 {
		fmt.Fprintf(c.e.stderr, "from your trail at %s: %d new delegations over you, %d consents made in your name\n", vaultURL, ds, gs)
	}
	return evs, nil
}

// printNotices tells the owner what changed about who acts for them.
func (c *walletCLI) printNotices(w *wallet.Wallet) error {
	ns, err := delegate.Notices(w)
	if err != nil {
		return err
	}
	for _, n := range ns {
		fmt.Fprintf(c.e.stderr, "NOTICE: %s\n", n.Text)
		for _, g := range n.Awaiting {
			fmt.Fprintf(c.e.stderr, "  %s  %s  %s: confirm it (medid wallet consent confirm %s) or withdraw it (medid wallet consent withdraw %s)\n",
				g.ID[:16], g.Provider, strings.Join(g.Classes, ","), g.ID[:16], g.ID[:16])
		}
	}
	return nil
}

func (c *walletCLI) actFor(ctx context.Context, args []string) error {
	usage := "usage: medid wallet act-for <add FILE | list | PERSON read|consent|access-log|accept-offer|respond|credentials> [arguments]"
	if len(args) == 0 {
		return usagef("missing subcommand\n%s", usage)
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(c.e.stderr, usage)
		return nil
	case "add":
		return c.actForAdd(ctx, args[1:])
	case "list":
		return c.actForList(args[1:])
	}
	if len(args) < 2 {
		return usagef("say what to do for %s: read, consent, access-log, accept-offer, respond or credentials\n%s", args[0], usage)
	}
	person, rest := args[0], args[1:]
	switch rest[0] {
	case "read":
		return c.actForRead(ctx, person, rest[1:])
	case "consent":
		return subcommand(c.e, "wallet act-for "+person+" consent", map[string]func([]string) error{
			"grant":  func(a []string) error { return c.actForConsentGrant(ctx, person, a) },
			"list":   func(a []string) error { return c.actForConsentList(person, a) },
			"revoke": func(a []string) error { return c.actForConsentRevoke(ctx, person, a) },
		}, []string{"grant", "list", "revoke"}, rest[1:])
	case "access-log":
		return c.actForAccessLog(ctx, person, rest[1:])
	case "accept-offer":
		return c.acceptOfferAs(ctx, person, rest[1:])
	case "respond":
		return c.respondAs(ctx, person, rest[1:])
	case "credentials":
		return c.actForCredentials(ctx, person, rest[1:])
	}
	return usagef("unknown act-for action %q: read, consent, access-log, accept-offer, respond or credentials\n%s", rest[0], usage)
}

func (c *walletCLI) actForAdd(ctx context.Context, args []string) error {
	fs := c.flags("act-for add", "FILE [--registry URL]")
	var rf registryFlags
	rf.register(fs)
	file, err := fs.parseOne(args, "give the delegation file someone gave you")
	if err != nil {
		return err
	}
	tok, err := readToken(file, "delegation")
	if err != nil {
		return err
	}
	w, rc, err := c.openRegistry(&rf)
	if err != nil {
		return err
	}
	defer w.Close()
	chk, err := delegation.NewChecker(delegation.CheckerConfig{Resolver: rc, Status: rc, Trust: rc, Now: c.e.now})
	if err != nil {
		return err
	}
	d, err := delegate.Add(ctx, w, chk, tok)
	if err != nil {
		return err
	}
	if d.Role == wallet.DelegationOverMe {
		fmt.Fprintf(c.e.stdout, "added %s: %s may act for you, %s\n", d.Hash[:16], d.RepresentativeName, d.BasisWords())
		return nil
	}
	fmt.Fprintf(c.e.stdout, "added %s: you may act for %s, %s, until %s\n", d.Hash[:16], d.PersonWords(), d.ActingWords(), d.ValidUntil.Format(time.DateOnly))
	fmt.Fprintf(c.e.stdout, "  may: %s  classes: %s  purposes: %s\n", strings.Join(d.Actions, ","), classesWords(d.Classes), strings.Join(d.Purposes, ","))
	return nil
}

// actForList prints the people the owner acts for, one line each: the
// delegation id, the person, the basis, what and which records, time left.
func (c *walletCLI) actForList(args []string) error {
	fs := c.flags("act-for list", "")
	w, err := c.parseOpen(fs, args)
	if err != nil {
		return err
	}
	defer w.Close()
	ds, err := w.Delegations()
	if err != nil {
		return err
	}
	now := c.e.clock()
	n := 0
	for _, d := range ds {
		if d.Role != wallet.DelegationHeld {
			continue
		}
		n++
		fmt.Fprintf(c.e.stdout, "%s  %s  %s  %s  %s  %s\n", d.Hash[:16], d.PersonWords(), d.ActingWords(), strings.Join(d.Actions, ","),
			classesWords(d.Classes), heldLeft(d, now))
	}
	if n == 0 {
		fmt.Fprintln(c.e.stderr, "you act for nobody (add a delegation someone gave you: medid wallet act-for add FILE)")
	}
	return nil
}

func heldLeft(d wallet.Delegation, now time.Time) string {
	if d.StatusAt(now) == wallet.DelegationCameOfAge {
		return "ended " + d.ValidUntil.Format(time.DateOnly) + " (they came of age)"
	}
	return timeLeft(d, now)
}

func classesWords(cs []string) string {
	if len(cs) == 1 && cs[0] == delegation.AllClasses {
		return "all records"
	}
	return strings.Join(cs, ",")
}

// actingVia is a registry client from rf (first: a bad --registry is
// reported before the passphrase is read) and acting(person). The caller
// closes the wallet.
func (c *walletCLI) actingVia(rf *registryFlags, person string) (*wallet.Wallet, wallet.Delegation, *client.Client, error) {
	rc, err := rf.client(c.e)
	if err != nil {
		return nil, wallet.Delegation{}, nil, err
	}
	w, d, err := c.acting(person)
	if err != nil {
		return nil, wallet.Delegation{}, nil, err
	}
	return w, d, rc, nil
}

// acting opens the wallet, finds the delegation person names and says on
// stderr, unmistakably, whom the command acts for.
func (c *walletCLI) acting(person string) (*wallet.Wallet, wallet.Delegation, error) {
	w, err := c.open(nil)
	if err != nil {
		return nil, wallet.Delegation{}, err
	}
	d, err := w.HeldDelegation(person)
	if err != nil {
		w.Close()
		return nil, wallet.Delegation{}, err
	}
	actingBanner(c.e.stderr, d, c.e.clock())
	return w, d, nil
}

func actingBanner(out io.Writer, d wallet.Delegation, now time.Time) {
	state := "until " + d.ValidUntil.Format(time.DateOnly)
	if st := d.StatusAt(now); st != wallet.DelegationActive {
		state = "ENDED: " + heldLeft(d, now)
	}
	fmt.Fprintf(out, "ACTING FOR %s, %s (%s)\n", d.PersonWords(), d.ActingWords(), state)
}

func (c *walletCLI) actForRead(ctx context.Context, person string, args []string) error {
	fs := c.flags("act-for PERSON read", "--vault URL --record ID [--purpose P]")
	vaultURL := fs.String("vault", "", "the hospital vault's URL")
	record := fs.String("record", "", "the record id")
	purpose := fs.String("purpose", "", "purpose of use (default: the delegation's first)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("vault", "record"); err != nil {
		return err
	}
	w, d, err := c.acting(person)
	if err != nil {
		return err
	}
	defer w.Close()
	body, err := hospital.ReadFor(ctx, w, *vaultURL, d.Hash, *record, *purpose)
	if err != nil {
		return fmt.Errorf("the vault refused: %w", err)
	}
	fmt.Fprintln(c.e.stdout, strings.TrimSpace(string(body)))
	return nil
}

func (c *walletCLI) actForConsentGrant(ctx context.Context, person string, args []string) error {
	fs := c.flags("act-for PERSON consent grant", "--vault URL --provider DID --class C[,C…] [--purpose P[,P…]] --days N [--out FILE] [--registry URL]")
	vaultURL := fs.String("vault", "", "the vault that holds their records: the consent is registered there, in their trail")
	provider := fs.String("provider", "", "the provider's DID")
	classes := fs.String("class", "", "data classes: FHIR resource types or words (immunizations), comma-separated")
	purposes := fs.String("purpose", "TREAT", "purposes of use, HL7 v3 codes, comma-separated")
	days := fs.Int("days", 0, "how many days the consent lasts")
	out := fs.String("out", "", "also write the grant to this new file, to give to the provider")
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("vault", "provider", "class"); err != nil {
		return err
	}
	if *days <= 0 {
		return usagef("--days must be positive")
	}
	w, d, rc, err := c.actingVia(&rf, person)
	if err != nil {
		return err
	}
	defer w.Close()
	g, err := hospital.GrantConsentFor(ctx, w, rc, *vaultURL, d.Hash, wallet.ConsentRequest{Provider: *provider, Classes: classList(*classes),
		Purposes: splitList(*purposes), Duration: time.Duration(*days) * 24 * time.Hour})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.e.stdout, "consent: %s\n", g.ID)
	// The provider by the directory's name, through the registry this
	// command was given.
	fmt.Fprintf(c.e.stdout, "in the name of: %s\nprovider: %s\nclasses: %s\npurposes: %s\nvalid until: %s\n", d.PersonWords(), c.partyName(ctx, w, rc, g.Provider),
		strings.Join(g.Classes, ", "), strings.Join(g.Purposes, ", "), g.ValidUntil.Format(time.RFC3339))
	fmt.Fprintf(c.e.stdout, "registered at %s, in %s's trail\n", *vaultURL, personName(d.PatientName, d.Patient))
	if *out != "" {
		if err := createOutput(*out, []byte(g.Token+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(c.e.stdout, "grant written to %s: give it to the provider\n", *out)
	}
	return nil
}

func (c *walletCLI) actForConsentList(person string, args []string) error {
	fs := c.flags("act-for PERSON consent list", "")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	w, d, err := c.acting(person)
	if err != nil {
		return err
	}
	defer w.Close()
	cs, err := hospital.ConsentsFor(w, d.Hash)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		fmt.Fprintln(c.e.stderr, "no consents made in their name")
	}
	now := c.e.clock()
	for _, g := range cs {
		st := g.StatusAt(now)
		if st == wallet.ConsentActive {
			st += " (" + humanDuration(g.ValidUntil.Sub(now)) + " left)"
		}
		fmt.Fprintf(c.e.stdout, "%s  %s  %s  %s  %s\n", g.ID[:16], st, g.Provider, strings.Join(g.Classes, ","), strings.Join(g.Purposes, ","))
	}
	return nil
}

func (c *walletCLI) actForConsentRevoke(ctx context.Context, person string, args []string) error {
	fs := c.flags("act-for PERSON consent revoke", "ID [--registry URL]")
	var rf registryFlags
	rf.register(fs)
	id, err := fs.parseOne(args, "give the consent id (or its first 8+ digits)")
	if err != nil {
		return err
	}
	w, d, rc, err := c.actingVia(&rf, person)
	if err != nil {
		return err
	}
	defer w.Close()
	g, err := hospital.WithdrawConsentFor(ctx, w, rc, d.Hash, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.e.stdout, "revoked: %s\n", g.ID)
	return nil
}

func (c *walletCLI) actForAccessLog(ctx context.Context, person string, args []string) error {
	fs := c.flags("act-for PERSON access-log", "--vault URL [--registry URL]")
	vaultURL := fs.String("vault", "", "the hospital vault's URL")
	var rf registryFlags
	rf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("vault"); err != nil {
		return err
	}
	w, d, rc, err := c.actingVia(&rf, person)
	if err != nil {
		return err
	}
	defer w.Close()
	evs, err := hospital.AccessLogFor(ctx, w, d.Hash, hospital.AccessLogOptions{VaultURL: *vaultURL, Anchors: rc})
	if err != nil {
		return err
	}
	names, err := walletNamesVia(w, rc, false)
	if err != nil {
		return err
	}
	defer w.SaveNames(names)
	for _, e := range evs {
		fmt.Fprintf(c.e.stdout, "%s  %-7s %s\n", e.Time.Local().Format(time.DateTime), strings.ToUpper(e.Outcome),
			e.SentenceAbout(func(x string) string { return label(ctx, names, x) }, personName(d.PatientName, "the patient")))
	}
	fmt.Fprintf(c.e.stderr, "%d entries of %s's trail verified against the ledger (your copy begins when you first acted at this vault)\n",
		len(evs), personName(d.PatientName, d.Patient))
	return nil
}
