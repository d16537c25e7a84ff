package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/internal/qr"
)

func init() {
	commands["issue"] = command{summary: "issue credentials into wallets over OpenID4VCI (credential offers)", run: runIssue}
}

func runIssue(ctx context.Context, e *env, args []string) error {
	return subcommand(e, "issue", map[string]func([]string) error{
		"offer": func(a []string) error { return issueOffer(ctx, e, a) },
	}, []string{"offer"}, args)
}

// serviceURL returns --X-url, or the URL a service wrote to --X-url-file
// (waiting up to 30 seconds for the service to start and write it).
func serviceURL(ctx context.Context, direct, file, what string) (string, error) {
	if direct != "" && file != "" {
		return "", usagef("give the %s URL or its file, not both", what)
	}
	if direct != "" {
		return strings.TrimRight(direct, "/"), nil
	}
	if file == "" {
		return "", usagef("give the %s URL (--%s-url)", what, what)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(file)
		if s := strings.TrimSpace(string(b)); err == nil && s != "" {
			return strings.TrimRight(s, "/"), nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the %s did not write its URL to %s within 30s: is it running?", what, file)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// serviceRefused explains a refusal by the issuer's or verifier's admin
// endpoint.
func serviceRefused(err error) error {
	var ci *openid4vci.ProtocolError
	var vp *openid4vp.ProtocolError
	switch {
	case errors.As(err, &ci):
		return fmt.Errorf("the service refused: %s: %s", ci.Code, ci.Description)
	case errors.As(err, &vp):
		return fmt.Errorf("the service refused: %s: %s", vp.Code, vp.Description)
	}
	return err
}

// showQR writes the QR code of text to a PNG file and/or the terminal.
func showQR(e *env, text, pngFile string, terminal bool) error {
	if pngFile != "" {
		png, err := qr.PNG(text)
		if err != nil {
			return err
		}
		if err := createOutput(pngFile, png, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "QR code written to %s\n", pngFile)
	}
	if terminal {
		s, err := qr.Terminal(text)
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, s)
	}
	return nil
}

// issueOffer asks a running issuer for a credential offer.
func issueOffer(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "issue offer", "medid issue offer --issuer-url URL --admin-token-file FILE --type T [--format vc+jwt|dc+sd-jwt] --subject-claims FILE [--for DID] [--pin | --pin-file FILE] [--qr FILE.png] [--terminal-qr=false]")
	issuerURL := fs.String("issuer-url", "", "the running issuer's URL ('medid serve issuer')")
	issuerURLFile := fs.String("issuer-url-file", "", "read the issuer URL from this file (written by 'medid serve issuer --url-file')")
	tokenFile := fs.String("admin-token-file", "", "the issuer's admin token file")
	typ := fs.String("type", "", "credential type (a configuration the issuer offers)")
	format := fs.String("format", "vc+jwt", "vc+jwt, or dc+sd-jwt for an SD-JWT VC (the issuer's configuration TYPE.sd)")
	claimsFile := fs.String("subject-claims", "", "JSON file whose object becomes credentialSubject (without id: the wallet's DID is added)")
	pin := fs.Bool("pin", false, "protect the offer with a 6-digit PIN, to give the patient separately")
	forDID := fs.String("for", "", "the patient's DID: issue only to it (the patient, or a representative with a delegation for them that allows receive)")
	pinFile := fs.String("pin-file", "", "protect the offer with a PIN and write it to this new file (mode 0600) instead of printing it")
	qrFile := fs.String("qr", "", "also write the offer as a QR code PNG to this file")
	terminal := fs.Bool("terminal-qr", true, "draw the QR code in the terminal")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("admin-token-file", "type", "subject-claims"); err != nil {
		return err
	}
	if *pinFile != "" {
		if _, err := os.Stat(*pinFile); err == nil {
			return usagef("PIN file %s already exists: choose another --pin-file or delete it first", *pinFile)
		}
		*pin = true
	}
	confID, err := offerConfigID(*typ, *format)
	if err != nil {
		return err
	}
	claims, err := readClaims(*claimsFile)
	if err != nil {
		return err
	}
	if _, ok := claims["id"]; ok {
		return usagef("claims file %s has \"id\": leave it out, the wallet's DID becomes the subject", *claimsFile)
	}
	// The URL first: a service writes it after its token file.
	base, err := serviceURL(ctx, *issuerURL, *issuerURLFile, "issuer")
	if err != nil {
		return err
	}
	tok, err := adminToken(*tokenFile, false)
	if err != nil {
		return err
	}
	hc, err := e.httpClient()
	if err != nil {
		return err
	}
	ac := &openid4vci.AdminClient{URL: base, Token: tok, HTTP: hc}
	res, err := ac.CreateOffer(ctx, openid4vci.OfferRequest{ConfigurationID: confID, Claims: claims, TxCode: *pin, Subject: *forDID})
	if err != nil {
		return serviceRefused(err)
	}
	fmt.Fprintf(e.stdout, "credential offer (%s, expires %s):\n%s\n", confID, res.ExpiresAt.UTC().Format(time.RFC3339), res.URI)
	switch {
	case res.TxCode != "" && *pinFile != "":
		if err := createOutput(*pinFile, []byte(res.TxCode+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "PIN written to %s (give it to the patient separately, not with the QR code)\n", *pinFile)
	case res.TxCode != "":
		fmt.Fprintf(e.stdout, "PIN: %s (give it to the patient separately, not with the QR code)\n", res.TxCode)
	}
	return showQR(e, res.URI, *qrFile, *terminal)
}

// vpRequest asks a running verifier to start a presentation request.
func vpRequest(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "vp request", "medid vp request --verifier-url URL --admin-token-file FILE --type T[|T2...]... [--optional-type T[|T2...]]... [--format vc+jwt|dc+sd-jwt] [--claim NAME]... [--claim-set PATH[,PATH]]... [--multiple] [--trusted-issuer DID]... [--qr FILE.png] [--terminal-qr=false] [--result-key-file FILE]")
	verifierURL := fs.String("verifier-url", "", "the running verifier's URL ('medid serve verifier')")
	verifierURLFile := fs.String("verifier-url-file", "", "read the verifier URL from this file (written by 'medid serve verifier --url-file')")
	tokenFile := fs.String("admin-token-file", "", "the verifier's admin token file")
	var types, claims stringList
	fs.Var(&types, "type", "credential type to ask for (repeatable: one credential of each); A|B accepts either, A preferred (DCQL credential_sets)")
	var optionalTypes stringList
	fs.Var(&optionalTypes, "optional-type", "credential type the patient may add or leave out (repeatable; A|B: either)")
	fs.Var(&claims, "claim", "claim to ask for (repeatable; applies to every --type): a credentialSubject claim (vc+jwt, e.g. allergy) or an SD-JWT VC claim path (dc+sd-jwt, e.g. code.display, reaction.0.manifestation, reaction.*.manifestation)")
	format := fs.String("format", "vc+jwt", "credential format to ask for: vc+jwt, or dc+sd-jwt (SD-JWT VC: only the asked claims are disclosed)")
	var claimSets stringList
	fs.Var(&claimSets, "claim-set", "dc+sd-jwt: an alternative set of claim paths, comma separated (repeatable, most preferred first): the wallet sends the first set its credential holds")
	qrFile := fs.String("qr", "", "also write the request as a QR code PNG to this file")
	terminal := fs.Bool("terminal-qr", true, "draw the QR code in the terminal")
	keyFile := fs.String("result-key-file", "", "write the request's result key to this new file (mode 0600): it reads the result without the admin token")
	multiple := fs.Bool("multiple", false, "accept several credentials of each asked type (DCQL multiple), e.g. every allergy record; one is sent unless the patient chooses more")
	var trusted stringList
	fs.Var(&trusted, "trusted-issuer", "accept credentials only from this issuer DID (repeatable; DCQL trusted_authorities medid_issuer, on top of the ledger's accreditation)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("admin-token-file", "type"); err != nil {
		return err
	}
	// The URL first: a service writes it after its token file.
	base, err := serviceURL(ctx, *verifierURL, *verifierURLFile, "verifier")
	if err != nil {
		return err
	}
	tok, err := adminToken(*tokenFile, false)
	if err != nil {
		return err
	}
	q, err := dcqlQuery(*format, types, optionalTypes, claims, claimSets)
	if err != nil {
		return err
	}
	for i := range q.Credentials {
		q.Credentials[i].Multiple = *multiple
		if len(trusted) > 0 {
			q.Credentials[i].TrustedAuthorities = []openid4vp.TrustedAuthority{{Type: openid4vp.AuthorityMedidIssuer, Values: trusted}}
		}
	}
	if err := q.Checkable(); err != nil {
		return usagef("%v", err)
	}
	hc, err := e.httpClient()
	if err != nil {
		return err
	}
	ac := &openid4vp.AdminClient{URL: base, Token: tok, HTTP: hc}
	st, err := ac.StartRequest(ctx, q)
	if err != nil {
		return serviceRefused(err)
	}
	fmt.Fprintf(e.stdout, "presentation request (state %s, expires %s):\n%s\n", st.State, st.ExpiresAt.UTC().Format(time.RFC3339), st.URI)
	resultWith := "--admin-token-file " + *tokenFile
	if *keyFile != "" {
		if err := createOutput(*keyFile, []byte(st.ResultKey+"\n"), 0o600); err != nil {
			return err
		}
		resultWith = "--result-key-file " + *keyFile
	}
	fmt.Fprintf(e.stdout, "result: medid vp result --verifier-url %s %s %s\n", base, resultWith, st.State)
	return showQR(e, st.URI, *qrFile, *terminal)
}

// vpResult prints a verifier's result for a request and exits 0 only when
// the presentation was accepted.
func vpResult(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "vp result", "medid vp result --verifier-url URL (--admin-token-file FILE | --result-key-file FILE) STATE")
	verifierURL := fs.String("verifier-url", "", "the running verifier's URL")
	verifierURLFile := fs.String("verifier-url-file", "", "read the verifier URL from this file")
	tokenFile := fs.String("admin-token-file", "", "the verifier's admin token file")
	keyFile := fs.String("result-key-file", "", "the request's result key file (written by 'medid vp request --result-key-file')")
	arg, err := fs.parseOne(args, "give the request's state")
	if err != nil {
		return err
	}
	if (*tokenFile == "") == (*keyFile == "") {
		return usagef("give one of --admin-token-file or --result-key-file: the state alone does not read a result (it is in the QR code the patient scanned)")
	}
	var tok []byte
	var resultKey string
	if *tokenFile != "" {
		if tok, err = adminToken(*tokenFile, false); err != nil {
			return err
		}
	} else {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return usagef("cannot read the result key file: %v", err)
		}
		k, err := secretFile(*keyFile, b, "result key")
		if err != nil {
			return err
		}
		resultKey = string(k)
	}
	base, err := serviceURL(ctx, *verifierURL, *verifierURLFile, "verifier")
	if err != nil {
		return err
	}
	hc, err := e.httpClient()
	if err != nil {
		return err
	}
	res, err := (&openid4vp.AdminClient{URL: base, Token: tok, HTTP: hc}).Result(ctx, arg, resultKey)
	var pe *openid4vp.ProtocolError
	switch {
	case errors.As(err, &pe) && pe.Code == openid4vp.ErrCodeInvalidToken:
		return fmt.Errorf("the verifier refused to show the result for state %s: the admin token or result key is wrong", arg)
	case errors.As(err, &pe) && pe.Status != 0:
		return fmt.Errorf("no result for state %s (HTTP %d)", arg, pe.Status)
	case err != nil:
		return fmt.Errorf("no result for state %s: %w", arg, err)
	}
	if err := writeJSON(e, res); err != nil {
		return err
	}
	if res.Status != openid4vp.StatusValid {
		msg := res.Status
		if res.Error != "" {
			msg += ": " + res.Error
		}
		if res.Description != "" {
			msg += " (" + res.Description + ")"
		}
		return &exitError{code: exitInvalid, err: errors.New(msg)}
	}
	if res.ActingFor != nil {
		// The names are the delegation's, written by its issuer (the
		// patient or an accredited authority) and checked by the verifier.
		fmt.Fprintf(e.stderr, "VALID presentation %s (%s, delegation %s issued by %s)\n", res.PresentedBy, res.Holder,
			res.ActingFor.Delegation, describe(ctx, namesOf(e), res.ActingFor.Issuer))
	} else {
		fmt.Fprintf(e.stderr, "VALID presentation from %s\n", describe(ctx, namesOf(e), res.Holder))
	}
	writeSetAnswers(e.stderr, res.CredentialSets)
	return nil
}

// writeSetAnswers says which option of every credential set the holder
// answered and which optional sets they left out, numbered from 1 as
// 'vp request' and 'wallet respond --option' number them.
func writeSetAnswers(w io.Writer, sets []openid4vp.SetAnswer) {
	for _, a := range sets {
		kind := "required"
		if !a.Required {
			kind = "optional"
		}
		if a.Skipped {
			fmt.Fprintf(w, "  credential set %d (%s): left out by the holder\n", a.Set+1, kind)
			continue
		}
		fmt.Fprintf(w, "  credential set %d (%s): answered with option %d (%s)\n", a.Set+1, kind, a.Option+1, strings.Join(a.Credentials, " and "))
	}
}
