package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/wallet"
)

// The accredited authority's side of acting for someone else (a birth
// registry, a court, a hospital's registry office):
//
//	medid guardianship issue --key FILE [--issuer DID --kid KID] --representative DID --name NAME
//	    --patient DID [--patient-name NAME] [--relationship CODE] [--basis parent|guardian|power-of-attorney] [--minor]
//	    (--until DATE | --days N) --scope view,consent,… --class C[,C…] [--purpose P[,P…]] [--sub-delegate]
//	    --status-list FILE --status-index N --out FILE
//
// The issuer must be accredited for GuardianshipCredential (medid issuer
// accredit --type GuardianshipCredential), or vaults refuse what it issues.
// It revokes a guardianship like any credential of its own: medid status
// revoke --list FILE --index N --publish.

func init() {
	commands["guardianship"] = command{"issue guardianship credentials (for accredited authorities)", guardianshipCmd}
}

func guardianshipCmd(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "guardianship", map[string]func([]string) error{
		"issue": func(a []string) error { return guardianshipIssue(e, a) },
	}, []string{"issue"}, args)
}

func guardianshipIssue(e *env, args []string) error {
	fs := newFlagSet(e, "guardianship issue", "medid guardianship issue --key FILE [--issuer DID --kid KID] --representative DID --name NAME "+
		"--patient DID [--patient-name NAME] [--relationship CODE] [--basis parent|guardian|power-of-attorney] [--minor] "+
		"(--until DATE | --days N) --scope view,consent,receive,present,trail --class C[,C…] [--purpose P[,P…]] [--sub-delegate] "+
		"--status-list FILE --status-index N --out FILE")
	var sf signerFlags
	sf.register(fs, "authority's")
	rep := fs.String("representative", "", "the representative's DID (the parent, the guardian)")
	name := fs.String("name", "", "the representative's name, as the patient's trail will show it")
	patient := fs.String("patient", "", "the DID of the person represented (the child)")
	patientName := fs.String("patient-name", "", "the name of the person represented")
	relationship := fs.String("relationship", "", "what the patient is to the representative, an HL7 v3 RoleCode (DAU daughter, SON son, CHILD, MTH, FTH, SPS, …)")
	basis := fs.String("basis", "parent", "legal basis: parent (of a minor), guardian (court-appointed) or power-of-attorney")
	minor := fs.Bool("minor", false, "the patient is a minor: the guardianship ends the day they come of age (--until); implied by --basis parent")
	until := fs.String("until", "", "the last day, exclusive: for a minor the day they come of age (YYYY-MM-DD or RFC 3339)")
	days := fs.Int("days", 0, "instead of --until: how many days from now it lasts")
	scope := fs.String("scope", "", "what the representative may do: view, consent, receive, present, trail (comma-separated)")
	classes := fs.String("class", "", "data classes: FHIR resource types or words (immunizations), comma-separated, or * for all")
	purposes := fs.String("purpose", "TREAT", "purposes of use the representative may act for, HL7 v3 codes, comma-separated")
	sub := fs.Bool("sub-delegate", false, "let the representative pass (part of) this authority on")
	listFile := fs.String("status-list", "", "the authority's status list credential file (from 'medid status new'), for revocation")
	index := fs.Int("status-index", -1, "index of this guardianship in --status-list")
	out := fs.String("out", "", "where to write the guardianship credential (vc+jwt; never overwritten)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("key", "representative", "name", "patient", "scope", "class", "status-list", "out"); err != nil {
		return err
	}
	if *index < 0 {
		return usagef("missing --status-index: a guardianship is always revocable by its issuer\nusage: %s", fs.usage)
	}
	for _, f := range []struct{ flag, v string }{{"representative", *rep}, {"patient", *patient}} {
		if _, err := did.Parse(f.v); err != nil {
			return usagef("--%s %q is not a DID: %v", f.flag, f.v, err)
		}
	}
	now := e.clock().UTC().Truncate(time.Second)
	end, err := endOf(*until, *days, now)
	if err != nil {
		return err
	}
	actions, err := delegation.ParseActions(*scope)
	if err != nil {
		return usagef("--scope: %v", err)
	}
	k, issuer, kid, err := sf.load()
	if err != nil {
		return err
	}
	defer k.Destroy()
	st, err := statusEntry(*listFile, *index, issuer)
	if err != nil {
		return err
	}
	b := delegation.Basis(*basis)
	d := &delegation.Delegation{ID: randid.URN(), Type: delegation.TypeGuardianship, Issuer: issuer, Representative: *rep,
		RepresentativeName: *name, Patient: *patient, PatientName: *patientName, Relationship: strings.ToUpper(*relationship),
		Minor: *minor || b == delegation.BasisParent, Basis: b, Actions: actions, Classes: classList(*classes),
		Purposes: splitList(*purposes), SubDelegation: *sub, ValidFrom: now, ValidUntil: end, Status: st}
	tok, err := delegation.Issue(d, k, kid)
	if err != nil {
		return usagef("%v", err)
	}
	if err := createOutput(*out, []byte(tok+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "guardianship: %s\n", delegation.Hash(tok)[:16])
	fmt.Fprintf(e.stdout, "  %s (%s) may act for %s, %s\n", *name, *rep, personName(d.PatientName, d.Patient), d.BasisWords())
	fmt.Fprintf(e.stdout, "  scope: %s  classes: %s  purposes: %s\n", *scope, strings.Join(d.Classes, ","), strings.Join(d.Purposes, ","))
	when := "until " + end.Format(time.RFC3339)
	if d.Minor {
		when = "until " + end.Format(time.DateOnly) + ", when they come of age"
	}
	fmt.Fprintf(e.stdout, "  %s; revocable at %s index %d\n", when, st.StatusListCredential, *index)
	fmt.Fprintf(e.stdout, "written to %s: give it to the representative (medid wallet act-for add %s)\n", *out, *out)
	return nil
}

// endOf reads --until (a date or an RFC 3339 time) or --days (from now).
func endOf(until string, days int, now time.Time) (time.Time, error) {
	switch {
	case until != "" && days != 0:
		return time.Time{}, usagef("give --until or --days, not both")
	case days < 0:
		return time.Time{}, usagef("--days must be positive")
	case days > 0:
		return now.Add(time.Duration(days) * 24 * time.Hour), nil
	case until == "":
		return time.Time{}, usagef("say when it ends: --until DATE (for a minor, the day they come of age) or --days N")
	}
	t, err := time.Parse(time.DateOnly, until)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, until); err != nil {
			return time.Time{}, usagef("--until %q is not a date (2044-05-01) or an RFC 3339 time", until)
		}
	}
	if !t.After(now) {
		return time.Time{}, usagef("--until %s is not in the future", until)
	}
	return t.UTC(), nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// classList reads --class: FHIR resource types or the wallet's words
// (immunizations), or * for every class.
func classList(s string) []string {
	if strings.TrimSpace(s) == delegation.AllClasses {
		return []string{delegation.AllClasses}
	}
	return wallet.ClassesForLabels(splitList(s))
}

func personName(name, id string) string {
	if name != "" {
		return name
	}
	return id
}
