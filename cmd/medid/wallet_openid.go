package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/emergency"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/internal/qr"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/card"
	"github.com/medid/medid/wallet/openid"
)

// uriArg returns the URI given as the one positional argument or decoded
// from the QR code image in qrFile.
func uriArg(pos []string, qrFile, usage string) (string, error) {
	switch {
	case qrFile != "" && len(pos) > 0:
		return "", usagef("give the URI or --qr FILE, not both\nusage: %s", usage)
	case qrFile != "":
		s, err := qr.DecodeFile(qrFile)
		if err == nil {
			s, err = qr.Expand(s)
		}
		if err != nil {
			return "", usagef("--qr: %v", err)
		}
		return s, nil
	case len(pos) == 1:
		return pos[0], nil
	}
	return "", usagef("give one URI, or --qr FILE with its QR code\nusage: %s", usage)
}

// readLine reads one line from the holder on stdin.
func readLine(r io.Reader) (string, error) {
	s, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && s != "") {
		return "", errors.New("no answer on stdin")
	}
	return strings.TrimSpace(s), nil
}

// acceptOffer runs OpenID4VCI: medid wallet accept-offer URI|--qr FILE.
func (c *walletCLI) acceptOffer(ctx context.Context, args []string) error {
	return c.acceptOfferAs(ctx, "", args)
}

// acceptOfferAs is accept-offer, for the person a held delegation is for
// when person is not "" (medid wallet act-for PERSON accept-offer): the
// issuer checks the delegation and issues the credential to them, and the
// wallet keeps it for them.
func (c *walletCLI) acceptOfferAs(ctx context.Context, person string, args []string) error {
	name, usage := "accept-offer", "URI|--qr FILE [--pin-file FILE] [--did DID] [--registry URL] [--status-list FILE]..."
	if person != "" {
		name, usage = "act-for PERSON accept-offer", "URI|--qr FILE [--pin-file FILE] [--registry URL] [--status-list FILE]..."
	}
	fs := c.flags(name, usage)
	qrFile := fs.String("qr", "", "image file with the offer's QR code")
	pinFile := fs.String("pin-file", "", "file holding the offer's PIN (default: $MEDID_TX_CODE, else asked for)")
	holder := new(string)
	if person == "" {
		holder = fs.String("did", "", "wallet DID to bind the credential to (default: the primary DID)")
	}
	var vf verifierFlags
	vf.register(fs)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	uri, err := uriArg(pos, *qrFile, fs.usage)
	if err != nil {
		return err
	}
	w, err := c.verifying(&vf)
	if err != nil {
		return err
	}
	defer w.Close()
	// The PIN comes from the environment (scripts) or is typed by the
	// patient; never from a flag, which would land in shell history.
	txCode := func(tc *openid4vci.TxCode) (string, error) {
		if *pinFile != "" {
			b, err := c.secret(*pinFile, "MEDID_TX_CODE", "PIN")
			return string(b), err
		}
		if v := c.e.getenv("MEDID_TX_CODE"); v != "" {
			return v, nil
		}
		desc := tc.Description
		if desc == "" {
			desc = "the PIN the issuer gave you"
		}
		fmt.Fprintf(c.e.stderr, "This offer needs a PIN (%s", desc)
		if tc.Length > 0 {
			fmt.Fprintf(c.e.stderr, ", %d characters", tc.Length)
		}
		fmt.Fprint(c.e.stderr, "): ")
		return readLine(c.e.stdin)
	}
	var got []wallet.Credential
	var d wallet.Delegation
	if person != "" {
		if d, err = c.actingIn(w, person, delegation.ActionReceive); err != nil {
			return err
		}
		got, err = openid.AcceptOfferFor(ctx, w, d.Hash, uri, openid.AcceptOfferOptions{TxCode: txCode})
	} else {
		got, err = openid.AcceptOffer(ctx, w, uri, openid.AcceptOfferOptions{DID: *holder, TxCode: txCode})
	}
	var pe *openid4vci.ProtocolError
	switch {
	case errors.As(err, &pe):
		return &exitError{code: exitInvalid, err: fmt.Errorf("the issuer refused: %w; nothing was stored", err)}
	case errors.Is(err, wallet.ErrCouldNotCheck):
		return &exitError{code: exitUnchecked, err: fmt.Errorf("%w; nothing was stored", err)}
	case errors.Is(err, wallet.ErrRejected) || errors.Is(err, wallet.ErrNotForThisWallet):
		return &exitError{code: exitInvalid, err: fmt.Errorf("%w; nothing was stored", err)}
	case err != nil:
		return err
	}
	for _, cr := range got {
		fmt.Fprintf(c.e.stdout, "received %s\n  type:    %s\n  issuer:  %s\n  subject: %s\n", cr.ID, credTypes(cr.Types), c.partyName(ctx, w, nil, cr.Issuer), cr.Subject)
		if person != "" {
			fmt.Fprintf(c.e.stdout, "  held for %s (it is theirs: issued to their DID; medid wallet act-for %s respond presents it)\n", d.PersonWords(), person)
		}
	}
	return nil
}

// actingIn finds, in an open wallet, the held delegation person names that
// allows action now (wallet.DelegationFor) and says on stderr whom the
// command acts for (see acting); when there is none it says why, and
// nothing is sent.
func (c *walletCLI) actingIn(w *wallet.Wallet, person string, action delegation.Action) (wallet.Delegation, error) {
	d, err := w.DelegationFor(person, action)
	if err != nil {
		if f, ferr := w.FindDelegation(person); ferr == nil && f.Role == wallet.DelegationHeld {
			actingBanner(c.e.stderr, f, c.e.clock())
		}
		return wallet.Delegation{}, &exitError{code: exitInvalid, err: fmt.Errorf("%w; nothing was sent", err)}
	}
	actingBanner(c.e.stderr, d, c.e.clock())
	return d, nil
}

// respond runs OpenID4VP: medid wallet respond URI|--qr FILE.
func (c *walletCLI) respond(ctx context.Context, args []string) error {
	return c.respondAs(ctx, "", args)
}

// respondAs is respond, for the person a held delegation is for when
// person is not "" (medid wallet act-for PERSON respond): the candidates
// are the credentials held for them, and the presentation, signed by the
// representative, carries the delegation the verifier checks.
func (c *walletCLI) respondAs(ctx context.Context, person string, args []string) error {
	name := "respond"
	if person != "" {
		name = "act-for PERSON respond"
	}
	fs := c.flags(name, "URI|--qr FILE [--credential ID]... [--option N] [--skip-optional] [--yes | --decline]")
	qrFile := fs.String("qr", "", "image file with the request's QR code")
	var chosen stringList
	fs.Var(&chosen, "credential", "credential to share (id or prefix; repeatable; default: the newest that fits each query)")
	option := fs.Int("option", 0, "when the request can be answered in several ways (it lists them), the one to use (1 = the verifier's preferred)")
	skipOptional := fs.Bool("skip-optional", false, "leave out the credentials the verifier marks optional")
	yes := fs.Bool("yes", false, "share without asking (scripts)")
	decline := fs.Bool("decline", false, "refuse: tell the verifier access_denied")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if *yes && *decline {
		return usagef("--yes and --decline contradict each other")
	}
	if *option < 0 {
		return usagef("--option takes a number from the list of ways (1, 2, ...)")
	}
	uri, err := uriArg(pos, *qrFile, fs.usage)
	if err != nil {
		return err
	}
	w, err := c.open(nil)
	if err != nil {
		return err
	}
	defer w.Close()
	names, err := walletNames(c.e, w, "")
	if err != nil {
		return err
	}
	defer w.SaveNames(names)
	var resolver did.Resolver = did.KeyResolver{}
	if u := optionalRegistry(c.e, ""); u != "" {
		rc, err := newRegistryClient(c.e, u)
		if err != nil {
			return err
		}
		resolver = did.NewRouter(map[string]did.Resolver{"key": did.KeyResolver{}, "medid": rc})
	}
	var pr *openid.PresentationRequest
	if person != "" {
		d, err := c.actingIn(w, person, delegation.ActionPresent)
		if err != nil {
			return err
		}
		pr, err = openid.FetchPresentationRequestFor(ctx, w, d.Hash, uri, nil, resolver)
		if err != nil {
			return &exitError{code: exitInvalid, err: fmt.Errorf("cannot answer this request for %s: %w", d.PersonWords(), err)}
		}
	} else if pr, err = openid.FetchPresentationRequest(ctx, w, uri, nil, resolver); err != nil {
		return &exitError{code: exitInvalid, err: fmt.Errorf("cannot answer this request: %w", err)}
	}
	out := c.e.stdout
	in := bufio.NewReader(c.e.stdin) // one reader: the answers may come in one pipe
	claimed := ""
	if pr.Name != "" {
		claimed = fmt.Sprintf(" (calls itself %q)", pr.Name)
	}
	if pr.Signer != "" {
		// Signed by the verifier's DID: the directory names it.
		fmt.Fprintf(out, "%s asks for:\n", describe(ctx, names, pr.Signer))
	} else {
		fmt.Fprintf(out, "unverified: %s%s asks for:\n", pr.Verifier, claimed)
	}
	if *option > len(pr.Ways) && len(pr.Ways) > 0 {
		return usagef("--option %d: this request can be answered in %d way(s)", *option, len(pr.Ways))
	}
	if len(pr.Ways) > 1 {
		fmt.Fprintf(out, "this request can be answered in %d ways:\n", len(pr.Ways))
		for i, way := range pr.Ways {
			fmt.Fprintf(out, "  option %d: %s\n", i+1, wayWords(way))
		}
		if *option == 0 && !*decline {
			if *yes {
				return usagef("this request can be answered in %d ways: choose one with --option N; nothing was sent", len(pr.Ways))
			}
			fmt.Fprintf(c.e.stderr, "Which option? [1-%d] ", len(pr.Ways))
			ans, err := readLine(in)
			n, convErr := strconv.Atoi(ans)
			if err != nil || convErr != nil || n < 1 || n > len(pr.Ways) {
				return &exitError{code: exitInvalid, err: fmt.Errorf("no option chosen (1 to %d): nothing was sent", len(pr.Ways))}
			}
			*option = n
		}
	}
	answer := openid.Answer{Credentials: map[string]string{}}
	if *option > 0 {
		answer.Way = *option - 1
	}
	if *skipOptional && len(pr.Ways) > 0 {
		answer.LeaveOut = pr.Ways[answer.Way].Optional
	}
	// The records each query would get: --credential picks among the
	// candidates of the chosen way's part.
	// A part that accepts several credentials (DCQL multiple) sends every
	// candidate named with --credential.
	if len(pr.Ways) > 0 {
		for _, p := range pr.Ways[answer.Way].Parts {
			var picked []string
			for _, want := range chosen {
				for _, cand := range p.Candidates {
					if strings.HasPrefix(cand.ID, want) && !slices.Contains(picked, cand.ID) {
						picked = append(picked, cand.ID)
					}
				}
			}
			switch {
			case len(picked) > 1 && p.Multiple:
				if answer.Several == nil {
					answer.Several = map[string][]string{}
				}
				answer.Several[p.Query] = picked
			case len(picked) > 0:
				answer.Credentials[p.Query] = picked[len(picked)-1]
			}
		}
	}
	var plan []openid.Sending
	if len(pr.Ways) > 0 && !*decline {
		if plan, err = pr.Plan(w, answer); err != nil {
			return &exitError{code: exitInvalid, err: fmt.Errorf("%w: nothing was sent", err)}
		}
	}
	for _, q := range pr.Queries {
		claims := q.Claims
		var part *openid.Part
		if len(pr.Ways) > 0 {
			for i, p := range pr.Ways[answer.Way].Parts {
				if p.Query == q.ID {
					part, claims = &pr.Ways[answer.Way].Parts[i], p.Claims
				}
			}
		}
		fmt.Fprintf(out, "  %s: a %s", q.ID, strings.Join(q.Types, " / "))
		if len(claims) > 0 {
			fmt.Fprintf(out, " with %s", strings.Join(claims, ", "))
		}
		if part != nil && !part.Required {
			fmt.Fprint(out, " (optional)")
		}
		if q.Multiple {
			fmt.Fprint(out, " (they accept several: one is sent unless you name more with --credential)")
		}
		fmt.Fprintln(out)
		if q.Authorities != "" {
			fmt.Fprintf(out, "      %s\n", q.Authorities)
		}
		if q.Untrusted > 0 {
			fmt.Fprintf(out, "      %d of your credentials would answer, but come from another issuer: not offered\n", q.Untrusted)
		}
		switch {
		case len(q.Candidates) == 0 && pr.For != nil:
			fmt.Fprintf(out, "      you hold no such credential for %s\n", pr.For.PersonWords())
			continue
		case len(q.Candidates) == 0:
			fmt.Fprintln(out, "      you have no such credential")
			continue
		case *decline:
			continue
		case part == nil:
			fmt.Fprintf(out, "      not needed for option %d\n", answer.Way+1)
			continue
		}
		if !slices.ContainsFunc(plan, func(s openid.Sending) bool { return s.Part.Query == q.ID }) {
			fmt.Fprintln(out, "      left out (optional)")
			continue
		}
		for _, s := range plan {
			if s.Part.Query != q.ID {
				continue
			}
			fmt.Fprintf(out, "      would share %s from %s\n", s.Credential.ID, label(ctx, names, s.Credential.Issuer))
			if s.Whole {
				fmt.Fprintln(out, "      the whole credential leaves (a vc+jwt credential cannot be split)")
				continue
			}
			var sends []string
			for _, f := range s.Disclosed {
				sends = append(sends, fmt.Sprintf("%s = %v", f.Path, f.Value))
			}
			fmt.Fprintf(out, "      sends:      %s\n", strings.Join(sends, "; "))
			if len(s.Withheld) > 0 {
				fmt.Fprintf(out, "      keeps back: %s\n", strings.Join(s.Withheld, ", "))
			}
		}
	}
	if !*decline && len(pr.Ways) == 0 {
		return &exitError{code: exitInvalid, err: errors.New("the wallet cannot answer every query: nothing was sent (use --decline to tell the verifier)")}
	}
	if !*decline && !*yes {
		fmt.Fprint(c.e.stderr, "Share these with the verifier? [y/N] ")
		ans, err := readLine(in)
		if err != nil {
			return &exitError{code: exitInvalid, err: errors.New("no answer: nothing was sent (use --yes in scripts)")}
		}
		*decline = !strings.EqualFold(ans, "y") && !strings.EqualFold(ans, "yes")
	}
	if *decline {
		if err := openid.DeclinePresentation(ctx, w, pr, nil); err != nil {
			return err
		}
		fmt.Fprintln(out, "declined: the verifier was told access_denied; nothing was shared")
		return nil
	}
	err = openid.Respond(ctx, w, pr, answer, nil)
	var pe *openid4vp.ProtocolError
	if errors.As(err, &pe) {
		return &exitError{code: exitInvalid, err: fmt.Errorf("the verifier refused the presentation: %w", err)}
	}
	if err != nil {
		return err
	}
	if pr.For != nil {
		fmt.Fprintf(out, "the verifier accepted the presentation you made for %s\n", pr.For.PersonWords())
		return nil
	}
	fmt.Fprintln(out, "the verifier accepted the presentation")
	return nil
}

// actForCredentials lists the credentials held for the person a held
// delegation is for: id, type, issuer, status.
//
// With --export ID --out FILE it writes that credential's token to a new
// file instead, for the person's own wallet (medid wallet receive FILE):
// it is issued to their DID, so it is theirs to hold.
func (c *walletCLI) actForCredentials(ctx context.Context, person string, args []string) error {
	fs := c.flags("act-for PERSON credentials", "[--export ID --out FILE]")
	export := fs.String("export", "", "a credential held for them (id or prefix) to write to --out, for their own wallet")
	out := fs.String("out", "", "with --export: the new file to write the credential to (mode 0600)")
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if (*export == "") != (*out == "") {
		return usagef("--export and --out go together: which credential, and the new file to write it to")
	}
	w, d, err := c.acting(person)
	if err != nil {
		return err
	}
	defer w.Close()
	if *export != "" {
		cr, err := w.HeldCredential(d.Hash, *export)
		if err != nil {
			return err
		}
		if err := createOutput(*out, []byte(cr.Token+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(c.e.stdout, "wrote %s (%s) to %s: it is %s's, issued to their DID; their wallet takes it with medid wallet receive %s\n",
			cr.ID, credTypes(cr.Types), *out, personName(d.PatientName, d.Patient), *out)
		return nil
	}
	held, err := w.HeldFor(d.Hash)
	if err != nil {
		return err
	}
	if len(held) == 0 {
		fmt.Fprintf(c.e.stderr, "you hold no credentials for %s (medid wallet act-for %s accept-offer URI receives one)\n", d.PersonWords(), person)
	}
	for _, cr := range held {
		fmt.Fprintf(c.e.stdout, "%s  %s  %s  received %s\n", cr.ID, credTypes(cr.Types), c.partyName(ctx, w, nil, cr.Issuer), cr.ReceivedAt.Local().Format(time.DateOnly))
	}
	return nil
}

// wayWords lists what one way of answering sends: each credential query
// with its claims, the optional ones apart.
func wayWords(w openid.Way) string {
	var req, opt []string
	for _, p := range w.Parts {
		s := p.Query
		if len(p.Claims) > 0 {
			s += " (" + strings.Join(p.Claims, ", ") + ")"
		}
		if p.Required {
			req = append(req, s)
		} else {
			opt = append(opt, s)
		}
	}
	out := strings.Join(req, ", ")
	if len(opt) > 0 {
		if out != "" {
			out += "; "
		}
		out += "optional: " + strings.Join(opt, ", ")
	}
	return out
}

// emergencyCard writes the offline emergency card QR code.
func (c *walletCLI) emergencyCard(ctx context.Context, args []string) error {
	fs := c.flags("emergency-card", "--out FILE.png [--type T]... [--partial] [--valid-for 8760h] [--token-out FILE] [--registry URL] [--status-list FILE]... [--no-refresh]")
	outFile := fs.String("out", "", "PNG file for the QR code (never overwritten)")
	tokenOut := fs.String("token-out", "", "also write the presentation (vp+jwt) to this file")
	var types stringList
	fs.Var(&types, "type", "credential type to include, in priority order (repeatable; default: "+strings.Join(card.Types, ", ")+")")
	partial := fs.Bool("partial", false, "when not every credential fits in one QR code, make the card with those that do")
	validFor := fs.Duration("valid-for", card.DefaultLifetime, "how long the card is valid")
	noRefresh := fs.Bool("no-refresh", false, "do not check the credentials' status first (use what the wallet last knew)")
	var vf verifierFlags
	vf.register(fs)
	if err := fs.parseNone(args); err != nil {
		return err
	}
	if err := fs.required("out"); err != nil {
		return err
	}
	w, err := c.verifying(&vf)
	if err != nil {
		return err
	}
	defer w.Close()
	// The card is compacted (DEFLATE + Base45, QR alphanumeric mode): about
	// three times as many credentials fit as in the raw JWT.
	ec, err := card.Make(ctx, w, card.Options{Types: types, Lifetime: *validFor, Fits: emergency.FitsQR, Partial: *partial, NoRefresh: *noRefresh})
	var tl *card.TooLargeError
	if errors.As(err, &tl) {
		return &exitError{code: exitInvalid, err: fmt.Errorf("%w (rerun with --partial)", err)}
	}
	if err != nil {
		return err
	}
	payload := emergency.QRText(ec.Token)
	png, err := qr.PNG(payload)
	if err != nil {
		return err
	}
	if err := createOutput(*outFile, png, 0o600); err != nil {
		return err
	}
	if *tokenOut != "" {
		if err := createOutput(*tokenOut, []byte(ec.Token+"\n"), 0o600); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.e.stdout, "emergency card written to %s (a %d-byte presentation, compacted to %d of the %d characters a QR code holds)\n  audience: %s\n  nonce:    %s\n  expires:  %s\n",
		*outFile, len(ec.Token), len(payload), qr.MaxAlphanumeric, emergency.Audience, ec.Nonce, ec.Expires.Format(time.RFC3339))
	for _, cr := range ec.Included {
		fmt.Fprintf(c.e.stdout, "  includes %s (%s)\n", cr.ID, credTypes(cr.Types))
	}
	for _, l := range ec.LeftOut {
		fmt.Fprintf(c.e.stdout, "  LEFT OUT %s (%s): %s\n", l.Credential.ID, credTypes(l.Credential.Types), l.Why)
	}
	if ec.Unchecked != "" {
		fmt.Fprintf(c.e.stderr, "medid wallet: could not check the credentials' status first (%s): the card uses what the wallet last knew\n", ec.Unchecked)
	}
	for _, cr := range ec.Omitted {
		fmt.Fprintf(c.e.stdout, "  LEFT OUT %s (%s): it did not fit\n", cr.ID, credTypes(cr.Types))
	}
	return nil
}
