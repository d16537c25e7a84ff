package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

// adminPost posts a JSON body to a service's admin endpoint with the token.
func adminPost(ctx context.Context, e *env, u string, token []byte, body, out any) error {
	hc, err := e.httpClient()
	if err != nil {
		return err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return usagef("bad URL %s: %v", u, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+string(token))
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var pe struct {
			Code   string `json:"error"`
			Desc   string `json:"error_description"`
			Detail string `json:"detail"` // an RFC 9457 problem (e.g. mutual TLS)
		}
		if json.Unmarshal(data, &pe) == nil && pe.Code != "" {
			return fmt.Errorf("the service refused: %s: %s", pe.Code, pe.Desc)
		}
		if pe.Detail != "" {
			return fmt.Errorf("the service refused (HTTP %d): %s", resp.StatusCode, pe.Detail)
		}
		return fmt.Errorf("the service answered HTTP %d", resp.StatusCode)
	}
	return json.Unmarshal(data, out)
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
	fs := newFlagSet(e, "issue offer", "medid issue offer --issuer-url URL --admin-token-file FILE --type T --subject-claims FILE [--pin] [--qr FILE.png] [--terminal-qr=false]")
	issuerURL := fs.String("issuer-url", "", "the running issuer's URL ('medid serve issuer')")
	issuerURLFile := fs.String("issuer-url-file", "", "read the issuer URL from this file (written by 'medid serve issuer --url-file')")
	tokenFile := fs.String("admin-token-file", "", "the issuer's admin token file")
	typ := fs.String("type", "", "credential type (a configuration the issuer offers)")
	claimsFile := fs.String("subject-claims", "", "JSON file whose object becomes credentialSubject (without id: the wallet's DID is added)")
	pin := fs.Bool("pin", false, "protect the offer with a 6-digit PIN, to give the patient separately")
	qrFile := fs.String("qr", "", "also write the offer as a QR code PNG to this file")
	terminal := fs.Bool("terminal-qr", true, "draw the QR code in the terminal")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("admin-token-file", "type", "subject-claims"); err != nil {
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
	var res openid4vci.OfferResult
	if err := adminPost(ctx, e, base+"/admin/offers", tok, openid4vci.OfferRequest{ConfigurationID: *typ, Claims: claims, TxCode: *pin}, &res); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "credential offer (%s, expires %s):\n%s\n", *typ, res.ExpiresAt.UTC().Format(time.RFC3339), res.URI)
	if res.TxCode != "" {
		fmt.Fprintf(e.stdout, "PIN: %s (give it to the patient separately, not with the QR code)\n", res.TxCode)
	}
	return showQR(e, res.URI, *qrFile, *terminal)
}

// vpRequest asks a running verifier to start a presentation request.
func vpRequest(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "vp request", "medid vp request --verifier-url URL --admin-token-file FILE --type T [--claim NAME]... [--id ID] [--qr FILE.png] [--terminal-qr=false]")
	verifierURL := fs.String("verifier-url", "", "the running verifier's URL ('medid serve verifier')")
	verifierURLFile := fs.String("verifier-url-file", "", "read the verifier URL from this file (written by 'medid serve verifier --url-file')")
	tokenFile := fs.String("admin-token-file", "", "the verifier's admin token file")
	var types, claims stringList
	fs.Var(&types, "type", "credential type to ask for (repeatable: one credential of each)")
	fs.Var(&claims, "claim", "credentialSubject claim to ask for, e.g. allergy (repeatable; applies to every --type)")
	qrFile := fs.String("qr", "", "also write the request as a QR code PNG to this file")
	terminal := fs.Bool("terminal-qr", true, "draw the QR code in the terminal")
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
	var q openid4vp.DCQLQuery
	for i, t := range types {
		q.Credentials = append(q.Credentials, openid4vp.NewQuery(fmt.Sprintf("c%d", i+1), t, claims...))
	}
	var st openid4vp.Started
	if err := adminPost(ctx, e, base+"/requests", tok, q, &st); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "presentation request (state %s, expires %s):\n%s\nresult: %s/results/%s\n", st.State, st.ExpiresAt.UTC().Format(time.RFC3339), st.URI, base, st.State)
	return showQR(e, st.URI, *qrFile, *terminal)
}

// vpResult prints a verifier's result for a request and exits 0 only when
// the presentation was accepted.
func vpResult(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "vp result", "medid vp result --verifier-url URL STATE")
	verifierURL := fs.String("verifier-url", "", "the running verifier's URL")
	verifierURLFile := fs.String("verifier-url-file", "", "read the verifier URL from this file")
	arg, err := fs.parseOne(args, "give the request's state")
	if err != nil {
		return err
	}
	base, err := serviceURL(ctx, *verifierURL, *verifierURLFile, "verifier")
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/results/"+url.PathEscape(arg), nil)
	if err != nil {
		return usagef("%v", err)
	}
	hc, err := e.httpClient()
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var res openid4vp.Result
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&res); err != nil || res.State == "" {
		return fmt.Errorf("no result for state %s (HTTP %d)", arg, resp.StatusCode)
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
	fmt.Fprintf(e.stderr, "VALID presentation from %s\n", res.Holder)
	return nil
}
