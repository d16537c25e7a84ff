package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/internal/ijson"
	"github.com/medid/medid/internal/randid"
)

func init() {
	commands["vc"] = command{summary: "issue, verify and inspect verifiable credentials (vc+jwt, dc+sd-jwt)", run: runVC}
}

func runVC(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "vc", map[string]func([]string) error{
		"issue":  func(a []string) error { return vcIssue(ctx, e, a) },
		"show":   func(a []string) error { return vcShow(e, a) },
		"verify": func(a []string) error { return vcVerify(ctx, e, a) },
	}, []string{"issue", "verify", "show"}, args)
}

// vcIssue builds a VC 2.0 credential from flags and a claims file and signs
// it as a vc+jwt with the issuer's key.
func vcIssue(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "vc issue", "medid vc issue --key FILE [--issuer DID --kid KID] --subject DID --type TYPE --claims FILE.json "+
		"[--format vc+jwt|sd-jwt] [--holder-key FILE] [--valid-from RFC3339] [--valid-until RFC3339 | --valid-for DURATION] [--status-list FILE (--status-index N | --status-alloc FILE)] --out FILE")
	format := fs.String("format", "vc+jwt", "vc+jwt (VC 2.0 over JOSE) or sd-jwt (SD-JWT VC, dc+sd-jwt: every claim selectively disclosable)")
	holderKey := fs.String("holder-key", "", "sd-jwt: the holder's public JWK file (cnf.jwk); default: the key of a did:key --subject")
	var sf signerFlags
	sf.register(fs, "issuer's")
	subject := fs.String("subject", "", "DID of the credential subject (the patient)")
	var types stringList
	fs.Var(&types, "type", "credential type, e.g. AllergyIntoleranceCredential (repeatable)")
	claims := fs.String("claims", "", "JSON file whose object becomes credentialSubject")
	validFrom := fs.String("valid-from", "", "start of validity, RFC 3339 (default: now)")
	validUntil := fs.String("valid-until", "", "expiry time, RFC 3339 (e.g. 2027-01-31T00:00:00Z)")
	validFor := fs.Duration("valid-for", 0, "lifetime from now, e.g. 8760h")
	listFile := fs.String("status-list", "", "status list credential file (from 'medid status new') to add a status entry for")
	index := fs.Int("status-index", -1, "index of this credential in --status-list")
	alloc := fs.String("status-alloc", "", "sd-jwt: index allocator file (from 'medid status new --format token --alloc'): draw a random free index of --status-list")
	out := fs.String("out", "", "where to write the vc+jwt (never overwritten)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("key", "subject", "type", "claims", "out"); err != nil {
		return err
	}
	if *validUntil != "" && *validFor != 0 {
		return usagef("give --valid-until or --valid-for, not both")
	}
	if *validFor < 0 {
		return usagef("--valid-for must be positive, got %s", *validFor)
	}
	if *alloc != "" && *index >= 0 {
		return usagef("give --status-index or --status-alloc, not both")
	}
	if (*listFile == "") != (*index < 0 && *alloc == "") {
		return usagef("--status-list and --status-index go together (or --status-alloc, with --format sd-jwt): give both or neither")
	}
	switch *format {
	case "vc+jwt", "vc":
	case "sd-jwt", "dc+sd-jwt":
		return vcIssueSDJWT(e, &sf, *subject, types, *claims, *holderKey, *validFrom, *validUntil, *validFor, *out, sdStatus{*listFile, *alloc, *index})
	default:
		return usagef("--format %q: use vc+jwt or sd-jwt", *format)
	}
	if *alloc != "" {
		return usagef("--status-alloc draws an index of a token status list, for --format sd-jwt; a vc+jwt takes --status-index")
	}
	k, issuer, kid, err := sf.load()
	if err != nil {
		return err
	}
	defer k.Destroy()
	if _, err := did.Parse(*subject); err != nil {
		return usagef("--subject %q is not a DID (the patient's did:key or did:medid): %v", *subject, err)
	}
	subj, err := readClaims(*claims)
	if err != nil {
		return err
	}
	if id, ok := subj["id"]; ok && id != *subject {
		return usagef("claims file %s has \"id\": %v, but --subject is %s: leave id out of the claims (--subject sets it)", *claims, id, *subject)
	}
	subj["id"] = *subject

	now := time.Now().UTC().Truncate(time.Second)
	if *validFrom != "" {
		t, err := time.Parse(time.RFC3339, *validFrom)
		if err != nil {
			return usagef("--valid-from %q is not an RFC 3339 time such as 2026-01-31T00:00:00Z", *validFrom)
		}
		now = t.UTC()
	}
	c := &vc.Credential{
		Context:   vc.CredentialContext(),
		ID:        randid.URN(),
		Type:      append([]string{"VerifiableCredential"}, types...),
		Issuer:    issuer,
		ValidFrom: &now,
		Subject:   subj,
	}
	switch {
	case *validUntil != "":
		t, err := time.Parse(time.RFC3339, *validUntil)
		if err != nil {
			return usagef("--valid-until %q is not an RFC 3339 time such as 2027-01-31T00:00:00Z", *validUntil)
		}
		t = t.UTC()
		if t.Before(now) {
			return usagef("--valid-until %s is before the credential's validFrom %s", t.Format(time.RFC3339), now.Format(time.RFC3339))
		}
		c.ValidUntil = &t
	case *validFor > 0:
		t := now.Add(*validFor)
		c.ValidUntil = &t
	}
	return issueCredential(e, c, k, kid, *listFile, *index, *out)
}

// issueCredential adds the status entry (when listFile is given), signs c
// with k as kid and writes it to out (mode 0600, never overwritten).
func issueCredential(e *env, c *vc.Credential, k *key.PrivateKey, kid, listFile string, index int, out string) error {
	if listFile != "" {
		st, err := statusEntry(listFile, index, c.Issuer)
		if err != nil {
			return err
		}
		c.Status = []vc.Status{st}
	}
	token, err := vc.Issue(c, k, kid)
	if err != nil {
		return fmt.Errorf("issue credential: %w", err)
	}
	// Credentials carry health data: readable by the owner only.
	if err := createOutput(out, []byte(token+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "issued %s\n  id:      %s\n  issuer:  %s\n  subject: %s\n", out, c.ID, c.Issuer, c.SubjectID())
	if len(c.Status) > 0 {
		fmt.Fprintf(e.stdout, "  status:  %s index %s (%s)\n", c.Status[0].StatusListCredential, c.Status[0].StatusListIndex, c.Status[0].StatusPurpose)
	}
	return nil
}

// vcIssueSDJWT issues an SD-JWT VC (dc+sd-jwt): vct from the last --type,
// sub the subject, cnf.jwk the holder's key, every claim of the claims file
// selectively disclosable.
func vcIssueSDJWT(e *env, sf *signerFlags, subject string, types stringList, claimsFile, holderKeyFile, validFrom, validUntil string, validFor time.Duration, out string, st sdStatus) error {
	k, issuer, kid, err := sf.load()
	if err != nil {
		return err
	}
	defer k.Destroy()
	if _, err := did.Parse(subject); err != nil {
		return usagef("--subject %q is not a DID (the patient's did:key or did:medid): %v", subject, err)
	}
	var holder key.PublicKey
	switch {
	case holderKeyFile != "":
		b, err := readInput(holderKeyFile, "holder key")
		if err != nil {
			return err
		}
		if holder, err = key.ParsePublicJWK(b); err != nil {
			return usagef("--holder-key %s is not a public JWK: %v", holderKeyFile, err)
		}
	case strings.HasPrefix(subject, "did:key:"):
		if holder, err = did.ParseKeyDID(subject); err != nil {
			return usagef("--subject %s: %v", subject, err)
		}
	default:
		return usagef("an SD-JWT VC is bound to the holder's key: give --holder-key FILE (the patient's public JWK), or a did:key --subject")
	}
	claims, err := readClaims(claimsFile)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Second)
	c := &sdjwt.Credential{Issuer: issuer, VCT: sdjwt.VCT(types[len(types)-1]), Subject: subject, IssuedAt: now, Holder: holder, Claims: claims}
	if validFrom != "" {
		t, err := time.Parse(time.RFC3339, validFrom)
		if err != nil {
			return usagef("--valid-from %q is not an RFC 3339 time such as 2026-01-31T00:00:00Z", validFrom)
		}
		t = t.UTC()
		c.NotBefore = &t
	}
	switch {
	case validUntil != "":
		t, err := time.Parse(time.RFC3339, validUntil)
		if err != nil {
			return usagef("--valid-until %q is not an RFC 3339 time such as 2027-01-31T00:00:00Z", validUntil)
		}
		t = t.UTC()
		c.Expires = &t
	case validFor > 0:
		t := now.Add(validFor)
		c.Expires = &t
	}
	if st.list != "" {
		// Checked last, just before signing: drawing an index uses it up.
		if c.Status, err = tslReference(st.list, st.alloc, st.index, issuer); err != nil {
			return err
		}
	}
	token, err := sdjwt.IssueVC(c, k, kid, sdjwt.IssueOptions{})
	if err != nil {
		return usagef("issue SD-JWT VC: %v", err)
	}
	h, err := sdjwt.Open(token)
	if err != nil {
		return fmt.Errorf("the SD-JWT VC just issued does not open: %w", err)
	}
	if err := createOutput(out, []byte(token+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "issued %s (dc+sd-jwt)\n  vct:     %s\n  issuer:  %s\n  subject: %s\n", out, c.VCT, c.Issuer, subject)
	if c.Status != nil {
		fmt.Fprintf(e.stdout, "  status:  %s index %d (token status list)\n", c.Status.URI, c.Status.Index)
	}
	fmt.Fprintf(e.stdout, "  disclosable: %s\n", pathList(h.Paths))
	return nil
}

// pathList renders claim paths for people: "code, code.display, ...".
func pathList(ps []sdjwt.Path) string {
	if len(ps) == 0 {
		return "(none)"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// readClaims reads the credentialSubject claims: a JSON object.
func readClaims(path string) (map[string]any, error) {
	data, err := readInput(path, "claims")
	if err != nil {
		return nil, err
	}
	// The one strict parser (internal/ijson): a member named twice is an
	// error, not "the last one wins", as in every signed JSON we read.
	v, err := ijson.Parse(data)
	m, ok := v.(map[string]any)
	if err != nil {
		return nil, usagef("claims file %s must hold one JSON object (the credentialSubject properties): %v", path, err)
	}
	if !ok {
		return nil, usagef("claims file %s must hold one JSON object (the credentialSubject properties)", path)
	}
	return m, nil
}

// statusEntry makes the BitstringStatusListEntry for index in the status
// list credential stored in listFile, which must be issuer's: verifiers
// only trust a status list signed by the credential's own issuer.
func statusEntry(listFile string, index int, issuer string) (vc.Status, error) {
	_, d, err := loadList(listFile)
	if err != nil {
		return vc.Status{}, err
	}
	st, err := d.EntryFor(issuer, index)
	switch {
	case errors.Is(err, statuslist.ErrNotOwner):
		return vc.Status{}, usagef("status list %s belongs to %s, not to the issuer %s: verifiers would refuse it; use one of the issuer's own lists", listFile, d.Issuer, issuer)
	case errors.Is(err, statuslist.ErrRange):
		return vc.Status{}, usagef("--status-index %d is out of range: the list has %d entries (0 to %d)", index, d.List.Len(), d.List.Len()-1)
	}
	return st, err
}

// vcVerify runs the full verification pipeline and prints the verdict.
func vcVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "vc verify", "medid vc verify FILE [--registry URL [--genesis FILE]] [--status-list FILE]... [--cache DIR] [--offline] [--json]")
	var cf checkFlags
	cf.register(fs)
	arg, err := fs.parseOne(args, "want exactly one credential file")
	if err != nil {
		return err
	}
	tok, err := readToken(arg, "credential")
	if err != nil {
		return err
	}
	ck, err := cf.build(e)
	if err != nil {
		return err
	}
	v := ck.check(ctx, e, tok, func(v *verify.Verifier) *verify.Result { return v.Credential(ctx, tok) })
	return cf.report(ctx, e, "credential", v)
}

// vcShow decodes a vc+jwt without checking anything and says so loudly.
func vcShow(e *env, args []string) error {
	fs := newFlagSet(e, "vc show", "medid vc show FILE")
	arg, err := fs.parseOne(args, "want exactly one credential file")
	if err != nil {
		return err
	}
	tok, err := readToken(arg, "credential")
	if err != nil {
		return err
	}
	if verify.DetectFormat(tok) == verify.FormatSDJWT {
		h, err := sdjwt.Open(tok)
		if err != nil {
			return &exitError{code: exitInvalid, err: fmt.Errorf("%s is not an SD-JWT VC as issued: %w", arg, err)}
		}
		fmt.Fprintln(e.stderr, "UNVERIFIED: this is what the credential claims, nothing was checked")
		return writeJSON(e, struct {
			Warning     string         `json:"WARNING"`
			Header      vc.Header      `json:"header"`
			Claims      map[string]any `json:"claims"`
			Disclosable []sdjwt.Path   `json:"disclosable"`
		}{"UNVERIFIED: decoded only; signature, issuer, validity and status were NOT checked. Use 'medid vc verify'.", h.Header, h.Claims, h.Paths})
	}
	t, err := vc.Parse(tok)
	if err != nil {
		return &exitError{code: exitInvalid, err: fmt.Errorf("%s is not a vc+jwt credential: %w", arg, err)}
	}
	out := struct {
		Warning    string         `json:"WARNING"`
		Header     vc.Header      `json:"header"`
		Credential *vc.Credential `json:"credential"`
	}{
		Warning:    "UNVERIFIED: decoded only; signature, issuer, validity and status were NOT checked. Use 'medid vc verify'.",
		Header:     t.Header,
		Credential: t.Credential,
	}
	fmt.Fprintln(e.stderr, "UNVERIFIED: this is what the credential claims, nothing was checked")
	return writeJSON(e, out)
}

func writeJSON(e *env, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n", b)
	return nil
}
