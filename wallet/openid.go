package wallet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/vc"
)

// AcceptOfferOptions tunes Wallet.AcceptOffer.
type AcceptOfferOptions struct {
	// DID is the wallet DID the credential is bound to; "" means the
	// primary DID. Pairwise DIDs keep issuers from linking the patient.
	DID string
	// TxCode supplies the transaction code (PIN) when the offer asks for
	// one; nil fails such offers.
	TxCode func(*openid4vci.TxCode) (string, error)
	// HTTP makes the requests; nil means the wallet's Config.HTTPClient.
	HTTP *http.Client
}

// AcceptOffer runs the OpenID4VCI pre-authorized code flow for a credential
// offer URI (openid-credential-offer://...): it fetches the issuer's
// metadata, redeems the code (with the PIN), proves possession of the
// holder DID's key and stores each credential with Receive, which verifies
// it first. Issuer refusals are *openid4vci.ProtocolError values; Receive's
// errors (ErrRejected, ErrNotForThisWallet) mean nothing was stored.
func (w *Wallet) AcceptOffer(ctx context.Context, uri string, opts AcceptOfferOptions) ([]Credential, error) {
	toks, err := w.RedeemOffer(ctx, uri, opts)
	if err != nil {
		return nil, err
	}
	var out []Credential
	for _, tok := range toks {
		cr, err := w.Receive(ctx, tok)
		if err != nil {
			return out, err
		}
		out = append(out, cr)
	}
	return out, nil
}

// RedeemOffer runs the OpenID4VCI pre-authorized code flow of
// [Wallet.AcceptOffer] and returns the credentials the issuer gave
// WITHOUT storing them: show them ([Inspect]) and store those the patient
// accepts with [Wallet.Receive]. Errors as AcceptOffer's before storing.
func (w *Wallet) RedeemOffer(ctx context.Context, uri string, opts AcceptOfferOptions) ([]string, error) {
	c := &openid4vci.Client{HTTP: w.cfg.client(opts.HTTP), Now: w.cfg.now}
	offer, ref, err := openid4vci.ParseOfferURI(uri)
	if err != nil {
		return nil, err
	}
	if ref != "" {
		if offer, err = c.FetchOffer(ctx, ref); err != nil {
			return nil, err
		}
	}
	holder := opts.DID
	if holder == "" {
		p, err := w.PrimaryDID()
		if err != nil {
			return nil, err
		}
		holder = p.DID
	}
	k, kid, err := w.SignerFor(holder)
	if err != nil {
		return nil, err
	}
	acc, err := c.Accept(ctx, openid4vci.AcceptRequest{Offer: offer, TxCode: opts.TxCode, Key: k, Kid: kid})
	if err != nil {
		return nil, err
	}
	return acc.Credentials, nil
}

// PresentationRequest is a verifier's OpenID4VP request, checked and
// matched against the wallet's credentials, ready to show the holder.
type PresentationRequest struct {
	// Request is the authorization request.
	Request *openid4vp.Request
	// Verifier is the host the presentation would be sent to (the
	// response URI's): what the holder should recognise.
	Verifier string
	// Name is the verifier's self-declared name (unverified).
	Name string
	// Signer is the verifier's DID when it signed the request and the
	// signature was checked (OpenID4VP decentralized_identifier:): look
	// it up in the directory (registry/directory) to name the verifier.
	// "" for an unsigned request: show it as unverified, with Verifier.
	Signer string
	// Queries are the credential queries, each with the wallet's matching
	// credentials.
	Queries []QueryMatch
}

// QueryMatch is one credential query and the wallet's credentials that
// answer it.
type QueryMatch struct {
	ID    string
	Types []string
	// Claims are the asked claim paths, e.g. credentialSubject.allergy.
	// When the verifier offers alternative claim sets (DCQL claim_sets),
	// they are those of the first set the first candidate satisfies (the
	// one sent unless another credential is chosen), else of the first set.
	Claims []string
	// Candidates are the wallet's valid credentials answering the query,
	// newest first (tokens left out).
	Candidates []Credential
	query      openid4vp.CredentialQuery
}

// ErrNoMatch is returned when the wallet holds no credential for a query.
var ErrNoMatch = errors.New("no credential in the wallet answers the verifier's request")

// FetchPresentationRequest fetches an OpenID4VP request (openid4vp://...)
// and finds the wallet's credentials that answer each of its queries.
// Revoked, suspended and expired credentials are not offered. hc makes the
// request (nil = Config.HTTPClient), as in RespondPresentation and
// DeclinePresentation.
func (w *Wallet) FetchPresentationRequest(ctx context.Context, uri string, hc *http.Client) (*PresentationRequest, error) {
	return w.FetchPresentationRequestWith(ctx, uri, hc, did.KeyResolver{})
}

// FetchPresentationRequestWith is [Wallet.FetchPresentationRequest] with
// the resolver that checks signed requests' verifier DIDs (a registry
// client for did:medid verifiers).
func (w *Wallet) FetchPresentationRequestWith(ctx context.Context, uri string, hc *http.Client, resolver did.Resolver) (*PresentationRequest, error) {
	req, err := (&openid4vp.Client{HTTP: w.cfg.client(hc), Resolver: resolver}).FetchRequest(ctx, uri)
	if err != nil {
		return nil, err
	}
	creds, err := w.Credentials(Filter{})
	if err != nil {
		return nil, err
	}
	sort.Slice(creds, func(i, j int) bool { return creds[i].ReceivedAt.After(creds[j].ReceivedAt) })
	pr := &PresentationRequest{Request: req, Signer: req.Signer}
	if u, err := url.Parse(req.ResponseURI); err == nil {
		pr.Verifier = u.Host
	}
	if req.ClientMetadata != nil {
		pr.Name = req.ClientMetadata.ClientName
	}
	for _, q := range req.DCQLQuery.Credentials {
		m := QueryMatch{ID: q.ID, query: q}
		if len(q.Meta.TypeValues) > 0 {
			m.Types = q.Meta.TypeValues[0]
		}
		for _, vct := range q.Meta.VCTValues {
			m.Types = append(m.Types, sdjwt.CredentialType(vct))
		}
		shown := q.Options()[0]
		for _, c := range creds {
			if c.Status != StatusValid && c.Status != "" {
				continue
			}
			full, err := w.Credential(c.ID)
			if err != nil {
				return nil, err
			}
			opt, ok := answerFor(&q, full)
			if !ok {
				continue
			}
			if len(m.Candidates) == 0 {
				shown = opt
			}
			m.Candidates = append(m.Candidates, c)
		}
		for _, cl := range shown.Claims {
			m.Claims = append(m.Claims, cl.PathString())
		}
		pr.Queries = append(pr.Queries, m)
	}
	return pr, nil
}

// RespondPresentation answers pr with the chosen credentials: choice maps
// each query id to a credential id (or unique prefix); a query without a
// choice gets its first candidate. Each presentation is signed for the
// verifier (aud = client_id) and request (nonce) and recorded in History
// before it is sent. A refusal by the verifier is a *openid4vp.ProtocolError.
func (w *Wallet) RespondPresentation(ctx context.Context, pr *PresentationRequest, choice map[string]string, hc *http.Client) error {
	vpToken := map[string][]string{}
	for _, m := range pr.Queries {
		id := choice[m.ID]
		if id == "" {
			if len(m.Candidates) == 0 {
				return fmt.Errorf("%w: %s (%v)", ErrNoMatch, m.ID, m.Types)
			}
			id = m.Candidates[0].ID
		}
		c, err := w.Credential(id)
		if err != nil {
			return err
		}
		opt, ok := answerFor(&m.query, c)
		if !ok {
			return fmt.Errorf("credential %s does not answer the verifier's query %s", c.ID, m.ID)
		}
		if m.query.Format == openid4vp.FormatSDJWT {
			// Only the Disclosures the claims paths of the first claim
			// set this credential satisfies select leave the wallet.
			p, err := w.PresentSDJWT(ctx, PresentSDJWTRequest{CredentialID: c.ID, Disclose: opt.SDPaths(), Audience: pr.Request.ClientID, Nonce: pr.Request.Nonce})
			if err != nil {
				return err
			}
			vpToken[m.ID] = []string{p.Token}
			continue
		}
		vp, err := w.Present(ctx, PresentRequest{CredentialIDs: []string{c.ID}, Audience: pr.Request.ClientID, Nonce: pr.Request.Nonce})
		if err != nil {
			return err
		}
		vpToken[m.ID] = []string{vp}
	}
	_, err := (&openid4vp.Client{HTTP: w.cfg.client(hc)}).Respond(ctx, pr.Request, vpToken)
	return err
}

// answerFor returns the first option of q (its claim sets in the
// verifier's order, see openid4vp.CredentialQuery.Options) that stored
// credential c answers, and whether there is one.
func answerFor(q *openid4vp.CredentialQuery, c Credential) (openid4vp.CredentialQuery, bool) {
	for _, o := range q.Options() {
		if answers(&o, c) {
			return o, true
		}
	}
	return openid4vp.CredentialQuery{}, false
}

// answers reports whether stored credential c (with its token) answers
// query q (without claim sets): a vc+jwt of the asked types with the asked
// claims, or an SD-JWT VC of an asked vct holding every asked claim path
// (array indexes counted as the holder holds the credential).
func answers(q *openid4vp.CredentialQuery, c Credential) bool {
	if q.Format == openid4vp.FormatSDJWT {
		if c.Format != FormatSDJWT {
			return false
		}
		h, err := sdjwt.Open(c.Token)
		if err != nil {
			return false
		}
		vct, _ := h.Claims["vct"].(string)
		if !slices.Contains(q.Meta.VCTValues, vct) {
			return false
		}
		_, err = h.Present(q.SDPaths(), nil) // fails when a path selects nothing
		return err == nil
	}
	if c.Format == FormatSDJWT {
		return false
	}
	t, err := vc.Parse(c.Token)
	return err == nil && q.Matches(t.Credential)
}

// DeclinePresentation tells the verifier the holder refused
// (error=access_denied). Nothing is shared.
func (w *Wallet) DeclinePresentation(ctx context.Context, pr *PresentationRequest, hc *http.Client) error {
	return (&openid4vp.Client{HTTP: w.cfg.client(hc)}).Decline(ctx, pr.Request)
}
