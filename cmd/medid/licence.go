package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
)

// medid licence issue    a licensing body licenses a practitioner
// medid licence present  the practitioner presents the licence to a vault (OpenID4VP)
// medid licence request  a vault's OpenID4VP licence request, for the practitioner's wallet
// medid licence card     a QR code of the licence anyone can check (licence_card.go)
// medid licence check    check such a code (licence_card.go)
func init() {
	commands["licence"] = command{summary: "practitioner licences: a licensing body issues them, a practitioner presents one to a vault", run: runLicence}
}

// licenceSubcommands are the licence subcommands defined in other files
// (licence_card.go), by name.
var licenceSubcommands = map[string]func(ctx context.Context, e *env, args []string) error{}

func runLicence(ctx context.Context, e *env, args []string) error {
	subs := map[string]func([]string) error{
		"issue":   func(a []string) error { return licenceIssue(e, a) },
		"present": func(a []string) error { return licencePresent(ctx, e, a) },
		"request": func(a []string) error { return licenceRequest(ctx, e, a) },
	}
	names := []string{"issue", "present", "request"}
	for _, n := range slices.Sorted(maps.Keys(licenceSubcommands)) {
		f := licenceSubcommands[n]
		subs[n] = func(a []string) error { return f(ctx, e, a) }
		names = append(names, n)
	}
	return subcommand(e, "licence", subs, names, args)
}

// parseCode reads a profession or specialty: a word of licence.Professions,
// or CODE=DISPLAY in SNOMED CT.
func parseCode(flag, v string) (licence.Code, error) {
	if c, ok := licence.Professions[strings.ToLower(v)]; ok {
		return c, nil
	}
	code, display, ok := strings.Cut(v, "=")
	if !ok || code == "" || display == "" {
		return licence.Code{}, usagef("--%s %q: give one of %s, or a SNOMED CT CODE=DISPLAY such as 773568002='Emergency medicine'", flag, v, strings.Join(licence.ProfessionWords(), ", "))
	}
	return licence.Code{System: licence.SNOMED, Code: code, Display: display}, nil
}

// licenceIssue issues a PractitionerLicenceCredential.
func licenceIssue(e *env, args []string) error {
	fs := newFlagSet(e, "licence issue", "medid licence issue --key FILE --issuer DID --kid KID --subject DID --name NAME --profession P "+
		"--number N --jurisdiction CC [--specialty CODE=DISPLAY] [--employer DID] [--valid-until RFC3339 | --valid-for DURATION] [--status-list FILE --status-index N] --out FILE")
	var sf signerFlags
	sf.register(fs, "licensing body's")
	subject := fs.String("subject", "", "the practitioner's DID")
	name := fs.String("name", "", "the practitioner's name as it should be shown, e.g. \"Dr. Jane Doe\"")
	profession := fs.String("profession", "", "profession: "+strings.Join(licence.ProfessionWords(), ", ")+", or a SNOMED CT CODE=DISPLAY")
	specialty := fs.String("specialty", "", "specialty as a SNOMED CT CODE=DISPLAY")
	number := fs.String("number", "", "licence number")
	jurisdiction := fs.String("jurisdiction", "", "where the licence is valid: ISO 3166-1 alpha-2 (GB) or a subdivision (US-CA)")
	employer := fs.String("employer", "", "DID of the organisation the practitioner works for (an organisation in the directory)")
	validUntil := fs.String("valid-until", "", "end of the licence, RFC 3339")
	validFor := fs.Duration("valid-for", 0, "lifetime from now, e.g. 8760h")
	listFile := fs.String("status-list", "", "the body's status list file, to make the licence revocable")
	index := fs.Int("status-index", -1, "index of this licence in --status-list")
	out := fs.String("out", "", "where to write the licence (vc+jwt)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("key", "subject", "name", "profession", "number", "jurisdiction", "out"); err != nil {
		return err
	}
	if (*listFile == "") != (*index < 0) {
		return usagef("--status-list and --status-index go together: give both or neither")
	}
	if *validUntil != "" && *validFor != 0 {
		return usagef("give --valid-until or --valid-for, not both")
	}
	if _, err := did.Parse(*subject); err != nil {
		return usagef("--subject %q is not a DID (the practitioner's): %v", *subject, err)
	}
	cl := licence.Claims{Name: *name, LicenceNumber: *number, Jurisdiction: *jurisdiction, Employer: *employer}
	var err error
	if cl.Profession, err = parseCode("profession", *profession); err != nil {
		return err
	}
	if *specialty != "" {
		sp, err := parseCode("specialty", *specialty)
		if err != nil {
			return err
		}
		cl.Specialty = &sp
	}
	if err := cl.Validate(); err != nil {
		return usagef("%v", err)
	}
	k, issuer, kid, err := sf.load()
	if err != nil {
		return err
	}
	defer k.Destroy()
	now := time.Now().UTC().Truncate(time.Second)
	c := &vc.Credential{Context: []string{vc.ContextV2}, ID: randid.URN(), Type: []string{vc.TypeCredential, licence.Type},
		Issuer: issuer, ValidFrom: &now, Subject: cl.Subject(*subject)}
	switch {
	case *validUntil != "":
		t, err := time.Parse(time.RFC3339, *validUntil)
		if err != nil || !t.After(now) {
			return usagef("--valid-until %q must be an RFC 3339 time after now", *validUntil)
		}
		t = t.UTC()
		c.ValidUntil = &t
	case *validFor > 0:
		t := now.Add(*validFor)
		c.ValidUntil = &t
	}
	return issueCredential(e, c, k, kid, *listFile, *index, *out)
}

// licencePresent presents the practitioner's licence to a vault over
// OpenID4VP: it asks the vault for a licence request, checks the vault
// signed it, and answers with a presentation signed by the practitioner's
// key (the licence's subject) for that request.
func licencePresent(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "licence present", "medid licence present --vault URL --key FILE --licence FILE")
	vaultURL := fs.String("vault", "", "the hospital vault's URL")
	keyFile := fs.String("key", "", "the practitioner's private key file (the licence's subject is its did:key)")
	licFile := fs.String("licence", "", "the licence (vc+jwt) from the licensing body")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("vault", "key", "licence"); err != nil {
		return err
	}
	tok, err := readToken(*licFile, "licence")
	if err != nil {
		return err
	}
	t, err := vc.Parse(tok)
	if err != nil {
		return usagef("%s is not a vc+jwt: %v", *licFile, err)
	}
	l, err := licence.FromCredential(t.Credential)
	if err != nil {
		return usagef("%s: %v", *licFile, err)
	}
	k, err := loadKey(*keyFile)
	if err != nil {
		return err
	}
	defer k.Destroy()
	holder := did.KeyDID(k.Public())
	if holder != l.Practitioner {
		return usagef("the licence is %s's, but --key is %s: present your own licence with your own key", l.Practitioner, holder)
	}
	hc, err := e.httpClient()
	if err != nil {
		return err
	}
	lr, err := vaultclient.StartLicenceRequest(ctx, hc, *vaultURL)
	if err != nil {
		return unreachable(vaultError(err))
	}
	names := namesOf(e)
	c := &openid4vp.Client{HTTP: hc, Resolver: didResolver(e)}
	req, err := c.FetchRequest(ctx, lr.URI)
	if err != nil {
		return &exitError{code: exitInvalid, err: fmt.Errorf("the vault's licence request: %w", err)}
	}
	if req.Signer == "" {
		return &exitError{code: exitInvalid, err: errors.New("the vault's licence request is not signed by the vault's DID: nothing was sent")}
	}
	vp, err := vc.SignPresentation(&vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation},
		Holder: holder, Credentials: []string{tok}}, k, holder+"#"+k.Public().Multikey(), req.ClientID, req.Nonce)
	if err != nil {
		return err
	}
	if _, err := c.Respond(ctx, req, map[string][]string{vaultapi.LicenceQueryID: {vp}}); err != nil {
		var pe *openid4vp.ProtocolError
		if errors.As(err, &pe) {
			return &exitError{code: exitInvalid, err: fmt.Errorf("the vault refused the licence: %s", pe.Description)}
		}
		return err
	}
	fmt.Fprintf(e.stdout, "presented over OpenID4VP to %s\n", describe(ctx, names, req.Signer))
	fmt.Fprintf(e.stdout, "the vault took the licence of %s (%s): patients will see accesses by %s under that name\n", l.Name, l.LicenceNumber, l.Practitioner)
	return nil
}

// licenceRequest asks a vault for an OpenID4VP licence request and prints
// its URI (and QR code) for the practitioner's wallet: medid wallet
// respond URI answers it.
func licenceRequest(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "licence request", "medid licence request --vault URL [--qr FILE.png]")
	vaultURL := fs.String("vault", "", "the hospital vault's URL")
	qrFile := fs.String("qr", "", "also write the request as a QR code image (PNG) for a phone's wallet")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("vault"); err != nil {
		return err
	}
	hc, err := e.httpClient()
	if err != nil {
		return err
	}
	lr, err := vaultclient.StartLicenceRequest(ctx, hc, *vaultURL)
	if err != nil {
		return unreachable(vaultError(err))
	}
	fmt.Fprintln(e.stdout, lr.URI)
	if err := showQR(e, lr.URI, *qrFile, false); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "answer with your wallet before %s: medid wallet respond URI (the vault checks the licence and names you in patients' trails)\n", lr.ExpiresAt.Local().Format(time.Kitchen))
	return nil
}

// didResolver resolves did:key, and did:medid through the registry at
// $MEDID_REGISTRY when one is set.
func didResolver(e *env) did.Resolver {
	if u := optionalRegistry(e, ""); u != "" {
		if rc, err := newRegistryClient(e, u); err == nil {
			return did.NewRouter(map[string]did.Resolver{"key": did.KeyResolver{}, "medid": rc})
		}
	}
	return did.KeyResolver{}
}
