package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/hospital/balp"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/delegate"
	"github.com/medid/medid/wallet/hospital"
)

// The patient's consent and access-log commands:
//
//	medid wallet consent grant --provider DID --class C… --purpose P --days N [--break-glass] [--vault URL] [--registry URL]
//	medid wallet consent list [--json]
//	medid wallet consent revoke ID | --provider DID [--registry URL]
//	medid wallet consent confirm ID
//	medid wallet consent withdraw ID [--registry URL]
//	medid wallet access-log --vault URL [--registry URL] [--json | --fhir]
//
// A consent a representative made in the patient's name (learned from the
// patient's trail by access-log) is listed as such; once the patient acts
// for themselves they confirm it (it stays, as theirs) or withdraw it (at
// the vault and on the ledger, with the key sealed to them).
//
// A standing break-glass permission for a hospital is a grant to the
// hospital vault's DID with --break-glass, deposited at the vault:
// "consent grant --vault URL --break-glass --class …" (the provider
// defaults to the vault's DID).

func (c *walletCLI) consent(ctx context.Context, args []string) error {
	return subcommand(c.e, "wallet consent", map[string]func([]string) error{
		"grant":    func(a []string) error { return c.consentGrant(ctx, a) },
		"list":     c.consentList,
		"revoke":   func(a []string) error { return c.consentRevoke(ctx, a) },
		"confirm":  c.consentConfirm,
		"withdraw": func(a []string) error { return c.consentRevoke(ctx, a) },
		"accept":   func(a []string) error { return c.consentAccept(ctx, a) },
	}, []string{"grant", "accept", "list", "revoke", "confirm", "withdraw"}, args)
}

func (c *walletCLI) consentGrant(ctx context.Context, args []string) error {
	fs := c.flags("consent grant", "--provider DID --class C [--class C]... --purpose P [--days N] [--break-glass] [--vault URL] [--did DID] [--registry URL] [--out FILE]")
	provider := fs.String("provider", "", "the provider's DID (with --vault and --break-glass: default the vault's DID)")
	var classes, purposes stringList
	fs.Var(&classes, "class", "data class: a FHIR resource type (AllergyIntolerance) or a word (allergies); repeatable")
	fs.Var(&purposes, "purpose", "purpose of use, HL7 v3 (TREAT, ETREAT, HRESCH…); repeatable")
	days := fs.Int("days", 30, "how many days the consent lasts")
	breakGlass := fs.Bool("break-glass", false, "allow emergency access (purpose ETREAT) without asking")
	vaultURL := fs.String("vault", "", "with --break-glass: deposit the grant at this vault as the standing break-glass permission")
	asDID := fs.String("did", "", "which of the wallet's DIDs grants (default: the primary DID)")
	out := fs.String("out", "", "also write the signed grant to this new file (mode 0600), to hand to the provider")
	var rf registryFlags
	rf.register(fs)
	err := fs.parseNone(args)
	if err != nil {
		return err
	}
	if *vaultURL != "" && !*breakGlass {
		return usagef("--vault deposits a standing break-glass grant: add --break-glass\nusage: %s", fs.usage)
	}
	if *provider == "" && *vaultURL != "" {
		hc, herr := c.e.httpClient()
		if herr != nil {
			return herr
		}
		if *provider, err = hospital.VaultDID(ctx, *vaultURL, hc); err != nil {
			return err
		}
	}
	if len(purposes) == 0 && *breakGlass && *vaultURL != "" {
		purposes = stringList{consent.PurposeEmergencyTreatment}
	}
	if *provider == "" || len(classes) == 0 || len(purposes) == 0 {
		return usagef("missing --provider, --class or --purpose\nusage: %s", fs.usage)
	}
	if *days <= 0 {
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
	g, err := hospital.GrantConsent(ctx, w, rc, wallet.ConsentRequest{DID: *asDID, Provider: *provider, Classes: wallet.ClassesForLabels(classes),
		Purposes: purposes, Duration: time.Duration(*days) * 24 * time.Hour, BreakGlass: *breakGlass})
	if err != nil {
		return err
	}
	if *vaultURL != "" {
		if err := hospital.AllowBreakGlass(ctx, w, *vaultURL, g); err != nil {
			return fmt.Errorf("the grant %s is anchored, but the vault refused it as the standing break-glass permission: %w", g.ID, err)
		}
		fmt.Fprintf(c.e.stderr, "standing break-glass permission deposited at %s\n", *vaultURL)
	}
	if *out != "" {
		if err := createOutput(*out, []byte(g.Token+"\n"), 0o600); err != nil {
			return fmt.Errorf("the grant %s is anchored and kept in the wallet, but: %w", g.ID, err)
		}
		fmt.Fprintf(c.e.stderr, "grant written to %s: give it to the provider\n", *out)
	}
	fmt.Fprintf(c.e.stdout, "consent: %s\n", g.ID)
	fmt.Fprintf(c.e.stdout, "provider: %s\nclasses: %s\npurposes: %s\nvalid until: %s\n", c.partyName(ctx, w, nil, g.Provider), strings.Join(g.Classes, ", "),
		strings.Join(g.Purposes, ", "), g.ValidUntil.Format(time.RFC3339))
	fmt.Fprintf(c.e.stdout, "anchored by: %s (a key made for this grant alone: the ledger never sees your DID)\n", g.Anchor)
	if g.BreakGlass {
		fmt.Fprintln(c.e.stdout, "break-glass: allowed")
	}
	return nil
}

func (c *walletCLI) consentList(args []string) error {
	fs := c.flags("consent list", "[--json]")
	asJSON := fs.Bool("json", false, "print JSON (with the grant tokens)")
	w, err := c.parseOpen(fs, args)
	if err != nil {
		return err
	}
	defer w.Close()
	cs, err := w.Consents()
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.e, cs)
	}
	if len(cs) == 0 {
		fmt.Fprintln(c.e.stderr, "no consents")
		return nil
	}
	names, err := walletNames(c.e, w, "")
	if err != nil {
		return err
	}
	defer w.SaveNames(names)
	now := c.e.clock()
	for _, g := range cs {
		st := g.StatusAt(now)
		left := ""
		switch {
		case st == wallet.ConsentActive && g.ValidUntil.IsZero():
			left = " (no end date)"
		case st == wallet.ConsentActive:
			left = " (" + humanDuration(g.ValidUntil.Sub(now)) + " left)"
		}
		glass := ""
		if g.BreakGlass {
			glass = " break-glass"
		}
		fmt.Fprintf(c.e.stdout, "%s  %-13s%s  %s  %s  %s%s\n", g.ID[:16], st, left, g.Provider, strings.Join(g.Classes, ","), strings.Join(g.Purposes, ","), glass)
		fmt.Fprintf(c.e.stdout, "    to %s\n", label(context.Background(), names, g.Provider))
		switch {
		case g.Inherited:
			decision := "awaiting your decision (medid wallet consent confirm|withdraw " + g.ID[:16] + ")"
			if g.Confirmed != nil {
				decision = "confirmed by you " + g.Confirmed.Format(time.DateOnly)
			}
			if g.Revoked != nil {
				decision = "withdrawn"
			}
			by := g.MadeByName
			if by == "" {
				by = g.Patient
			}
			fmt.Fprintf(c.e.stdout, "    made in your name by %s (%s): %s\n", by, wallet.BasisText(g.Basis), decision)
		case g.OnBehalfOf != "":
			fmt.Fprintf(c.e.stdout, "    made by you in the name of %s\n", g.OnBehalfOf)
		}
	}
	return c.printNotices(w)
}

func (c *walletCLI) consentConfirm(args []string) error {
	fs := c.flags("consent confirm", "ID")
	id, err := fs.parseOne(args, "give the consent id (or its first 8+ digits)")
	if err != nil {
		return err
	}
	w, err := c.open(nil)
	if err != nil {
		return err
	}
	defer w.Close()
	g, err := hospital.ConfirmConsent(w, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.e.stdout, "confirmed: %s (it stays in force, as yours; withdraw it any time)\n", g.ID)
	return nil
}

func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()))
}

func (c *walletCLI) consentRevoke(ctx context.Context, args []string) error {
	fs := c.flags("consent revoke", "ID | --provider DID [--registry URL]")
	provider := fs.String("provider", "", "revoke every grant in force to this provider's DID")
	var rf registryFlags
	rf.register(fs)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if (len(pos) == 1) == (*provider != "") || len(pos) > 1 {
		return usagef("give one consent id (or its first 8+ digits), or --provider DID\nusage: %s", fs.usage)
	}
	w, rc, err := c.openRegistry(&rf)
	if err != nil {
		return err
	}
	defer w.Close()
	ids := pos
	if *provider != "" {
		cs, err := w.Consents()
		if err != nil {
			return err
		}
		now := time.Now()
		for _, g := range cs {
			if g.Provider == *provider && g.StatusAt(now) != wallet.ConsentRevoked && g.StatusAt(now) != wallet.ConsentExpired {
				ids = append(ids, g.ID)
			}
		}
		if len(ids) == 0 {
			return &exitError{code: exitInvalid, err: fmt.Errorf("no grant in force to %s", *provider)}
		}
	}
	for _, id := range ids {
		// One made in the owner's name by a representative is withdrawn
		// at the vault too, and on the ledger with the key sealed to them.
		g, err := hospital.Withdraw(ctx, w, rc, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.e.stdout, "revoked: %s\n", g.ID)
		if g.Legacy() {
			fmt.Fprintln(c.e.stderr, "this grant was made before grants had their own anchor key: no vault accepts it any more, so it was only marked revoked here; grant again if the provider still needs access")
		}
	}
	return nil
}

func (c *walletCLI) accessLog(ctx context.Context, args []string) error {
	fs := c.flags("access-log", "--vault URL [--did DID] [--registry URL] [--genesis FILE] [--json | --fhir]")
	vaultURL := fs.String("vault", "", "the hospital vault's URL")
	asDID := fs.String("did", "", "whose trail (default: the primary DID)")
	registry := fs.String("registry", "", "registry URL for the anchored roots (default: $MEDID_REGISTRY, else "+defaultRegistry+")")
	genesis := fs.String("genesis", "", "the network's genesis.json: check each anchored root with a Merkle proof and validator signatures instead of trusting the registry node")
	asJSON := fs.Bool("json", false, "print JSON")
	asFHIR := fs.Bool("fhir", false, "print a FHIR R4 Bundle of IHE BALP AuditEvents")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if *asJSON && *asFHIR {
		return usagef("--json and --fhir: choose one")
	}
	if err := fs.required("vault"); err != nil {
		return err
	}
	cfg := client.Config{URL: registryURL(c.e, *registry)}
	if *genesis != "" {
		trust, err := loadGenesisTrust(*genesis)
		if err != nil {
			return err
		}
		trust.URL = cfg.URL
		cfg = trust
	}
	w, rc, err := c.openClient(cfg)
	if err != nil {
		return err
	}
	defer w.Close()
	evs, err := hospital.AccessLog(ctx, w, hospital.AccessLogOptions{VaultURL: *vaultURL, DID: *asDID, Anchors: rc})
	if err != nil {
		return err
	}
	// What was done in the patient's name (a representative's consents, a
	// guardianship over them) is taken into the wallet.
	if _, _, err := delegate.LearnFromTrail(w, evs, *vaultURL); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.e, evs)
	}
	names, err := walletNamesVia(w, rc, cfg.VerifyProofs)
	if err != nil {
		return err
	}
	defer w.SaveNames(names)
	// Practitioners are named by the licence they presented to the vault,
	// checked here against the registry, never by the vault's word.
	for _, e := range evs {
		if e.Licence != "" {
			if id, err := names.AddLicence(ctx, e.Licence); err == nil && id.DID != e.Provider {
				fmt.Fprintf(c.e.stderr, "warning: the vault attached %s's licence to an access by %s; ignored\n", id.DID, e.Provider)
			}
		}
	}
	if *asFHIR {
		// Agents are named by the directory (verified entries only); a DID
		// it does not list is given by its DID alone, never a name the
		// vault or the DID gives itself.
		b, err := accessLogBundle(evs, func(d string) string {
			if id, _ := names.Lookup(ctx, d); id.Verified() {
				return label(ctx, names, d)
			}
			return ""
		})
		if err != nil {
			return err
		}
		fmt.Fprintln(c.e.stdout, string(b))
		fmt.Fprintf(c.e.stderr, "%d entries verified against the ledger, written as BALP AuditEvents\n", len(evs))
		return nil
	}
	if len(evs) > 0 {
		fmt.Fprintf(c.e.stdout, "vault: %s\n", describe(ctx, names, evs[0].Vault))
	}
	ds, err := w.DIDs()
	if err != nil {
		return err
	}
	own := map[string]bool{}
	for _, d := range ds {
		own[d.DID] = true
	}
	// People the owner let act for them are named as the owner named
	// them (an attempt under a delegation since revoked carries no
	// verified authority); everyone else as the directory names them.
	mine, err := delegate.RepresentativeNames(w)
	if err != nil {
		return err
	}
	namer := func(d string) string {
		if own[d] {
			return "You"
		}
		if n, ok := mine[d]; ok {
			return n + " (whom you let act for you)"
		}
		return label(ctx, names, d)
	}
	var glass, denied int
	for _, e := range evs {
		mark := "  "
		switch {
		case e.BreakGlass && e.Outcome == trail.OutcomeGranted:
			mark = "!!"
			glass++
		case e.Outcome == trail.OutcomeDenied:
			mark = "x "
			denied++
		}
		who := e.Provider
		if e.Unauthenticated {
			// Never a claimed identity: the sender proved nothing.
			who = "unauthenticated request from " + e.Origin
			if e.Count > 0 {
				who = fmt.Sprintf("%d unauthenticated requests from %s", e.Count, e.Origin)
			}
		}
		line := fmt.Sprintf("%s %s  %-7s %-6s %-8s %s  %s %s", mark, e.Time.Local().Format(time.DateTime), strings.ToUpper(e.Outcome), e.Action, e.Purpose, who, e.Class, e.Record)
		switch {
		case e.BreakGlass && e.Outcome == trail.OutcomeGranted:
			line += "  EMERGENCY OVERRIDE (DCM " + trail.DCMEmergencyOverride + ")"
			switch {
			case e.Standing:
				line += "  grant: " + e.Consent + " (your standing emergency permission)"
			case e.Consent != "":
				line += "  grant: " + e.Consent
			}
		case e.BreakGlass:
			line += "  BREAK-GLASS ATTEMPT"
		}
		if e.Reason != "" {
			line += "  reason: " + e.Reason
		}
		fmt.Fprintln(c.e.stdout, line)
		fmt.Fprintf(c.e.stdout, "      %s\n", e.Sentence(namer))
	}
	how := "the ledger"
	if *genesis != "" {
		how = "the ledger (roots proven against the validators in " + *genesis + ")"
	}
	fmt.Fprintf(c.e.stderr, "%d entries verified against %s (%d break-glass, %d denied)\n", len(evs), how, glass, denied)
	return c.printNotices(w)
}

// accessLogBundle writes verified trail events as a FHIR R4 Bundle of
// IHE BALP AuditEvents (the mapping is balp.FromEntry's). name gives the
// display of an agent's DID ("" for none: the agent is then its DID
// alone).
func accessLogBundle(evs []wallet.AccessEvent, name func(did string) string) ([]byte, error) {
	var out []json.RawMessage
	for _, e := range evs {
		a, ok := balp.FromEntry(&e.Entry, e.Vault)
		if !ok {
			continue
		}
		if a.Client != "" {
			a.ClientName = name(a.Client)
		}
		a.ServerName = name(a.Server)
		b, err := balp.AuditEvent(a)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return balp.Collection(out, time.Now())
}
