// Package openid runs the wallet's OpenID for Verifiable Credentials
// workflows over a [Holder] (a *wallet.Wallet): OpenID4VCI, receiving
// credentials from an issuer's offer ([AcceptOffer], [RedeemOffer]), and
// OpenID4VP, answering a verifier's request ([FetchPresentationRequest],
// [RespondPresentation], [DeclinePresentation]), and both for a person the
// holder acts for under a held delegation ([AcceptOfferFor],
// [FetchPresentationRequestFor], [ReceiveFor], [PresentFor]) over the
// store's primitives of a [Representative].
//
// The workflows use only the holder's public API: its DIDs' keys sign the
// proofs of possession, its Receive verifies and stores what an issuer
// gives, its Present and PresentSDJWT sign what leaves (and record it in
// the wallet's history). So the wallet's core stays the encrypted store,
// and a protocol change is made here.
package openid

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/wallet"
)

// Holder is what the workflows need of a wallet; *wallet.Wallet
// implements it. Implementations MUST be safe for concurrent use.
type Holder interface {
	// PrimaryDID and SignerFor give the DID a credential is bound to and
	// its key, for the OpenID4VCI proof of possession.
	PrimaryDID() (wallet.DID, error)
	SignerFor(did string) (*key.PrivateKey, string, error)
	// Receive verifies and stores an issued credential.
	Receive(ctx context.Context, token string) (wallet.Credential, error)
	// Credentials lists the held credentials (without tokens); Credential
	// returns one with its token.
	Credentials(f wallet.Filter) ([]wallet.Credential, error)
	Credential(id string) (wallet.Credential, error)
	// Present and PresentSDJWT sign a presentation and record it.
	Present(ctx context.Context, req wallet.PresentRequest) (string, error)
	PresentSDJWT(ctx context.Context, req wallet.PresentSDJWTRequest) (*sdjwt.Presented, error)
	// HTTPClient is the client for requests made on the holder's behalf
	// when the caller gives none; Now is the holder's clock.
	HTTPClient() *http.Client
	Now() time.Time
}

// client is hc, else the holder's client.
func client(h Holder, hc *http.Client) *http.Client {
	if hc != nil {
		return hc
	}
	return h.HTTPClient()
}

// AcceptOfferOptions tunes [AcceptOffer] and [RedeemOffer].
type AcceptOfferOptions struct {
	// DID is the wallet DID the credential is bound to; "" means the
	// primary DID. Pairwise DIDs keep issuers from linking the patient.
	DID string
	// TxCode supplies the transaction code (PIN) when the offer asks for
	// one; nil fails such offers.
	TxCode func(*openid4vci.TxCode) (string, error)
	// HTTP makes the requests; nil means the holder's HTTPClient.
	HTTP *http.Client
}

// AcceptOffer runs the OpenID4VCI pre-authorized code flow for a credential
// offer URI (openid-credential-offer://...): it fetches the issuer's
// metadata, redeems the code (with the PIN), proves possession of the
// holder DID's key and stores each credential with Receive, which verifies
// it first. Issuer refusals are *openid4vci.ProtocolError values; Receive's
// errors (wallet.ErrRejected, wallet.ErrNotForThisWallet) mean nothing was
// stored.
func AcceptOffer(ctx context.Context, h Holder, uri string, opts AcceptOfferOptions) ([]wallet.Credential, error) {
	toks, err := RedeemOffer(ctx, h, uri, opts)
	if err != nil {
		return nil, err
	}
	var out []wallet.Credential
	for _, tok := range toks {
		cr, err := h.Receive(ctx, tok)
		if err != nil {
			return out, err
		}
		out = append(out, cr)
	}
	return out, nil
}

// RedeemOffer runs the OpenID4VCI pre-authorized code flow of
// [AcceptOffer] and returns the credentials the issuer gave WITHOUT
// storing them: show them (wallet.Inspect) and store those the patient
// accepts with the holder's Receive. Errors as AcceptOffer's before
// storing.
func RedeemOffer(ctx context.Context, h Holder, uri string, opts AcceptOfferOptions) ([]string, error) {
	c := &openid4vci.Client{HTTP: client(h, opts.HTTP), Now: h.Now}
	offer, err := readOffer(ctx, c, uri)
	if err != nil {
		return nil, err
	}
	holder := opts.DID
	if holder == "" {
		p, err := h.PrimaryDID()
		if err != nil {
			return nil, err
		}
		holder = p.DID
	}
	k, kid, err := h.SignerFor(holder)
	if err != nil {
		return nil, err
	}
	acc, err := c.Accept(ctx, openid4vci.AcceptRequest{Offer: offer, TxCode: opts.TxCode, Key: k, Kid: kid})
	if err != nil {
		return nil, err
	}
	return acc.Credentials, nil
}

// readOffer parses a credential offer URI, fetching an offer passed by
// reference.
func readOffer(ctx context.Context, c *openid4vci.Client, uri string) (*openid4vci.Offer, error) {
	offer, ref, err := openid4vci.ParseOfferURI(uri)
	if err != nil || ref == "" {
		return offer, err
	}
	return c.FetchOffer(ctx, ref)
}

// PresentationRequest is a verifier's OpenID4VP request, checked and
// matched against the holder's credentials, ready to show the holder.
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
	// Sets are the verifier's needs (DCQL credential sets; one required
	// set per query when the request has none).
	Sets []CredentialSet
	// Ways are the ways the wallet can answer, in the verifier's order of
	// preference (at most MaxWays); none when a required set cannot be
	// answered. Show them when there are several, and let the holder pick
	// one ([Answer].Way).
	Ways []Way
	// For is set when the request is answered for someone the holder acts
	// for ([FetchPresentationRequestFor]): the candidates are the
	// credentials held for them, and the answer carries this delegation.
	For *wallet.Delegation
}

// QueryMatch is one credential query and the wallet's credentials that
// answer it.
type QueryMatch struct {
	ID    string
	Types []string
	// Claims are the asked claim paths, e.g. credentialSubject.allergy.
	// When the verifier offers alternative claim sets (DCQL claim_sets),
	// they are those the first way the wallet can answer uses (see
	// [PresentationRequest.Ways]), else those of the first set.
	Claims []string
	// Candidates are the wallet's valid credentials answering the query
	// with any of its claim sets, newest first (tokens left out).
	Candidates []wallet.Credential
	// Multiple is true when the verifier accepts several credentials
	// for the query (see [Answer].Several).
	Multiple bool
	// Authorities says which issuers the verifier accepts when the query
	// names trusted authorities ("" when it does not), and Untrusted
	// counts the held credentials that would answer it but come from
	// another issuer: they are not candidates.
	Authorities string
	Untrusted   int
}

// ErrNoMatch is returned when the wallet holds no credential for a query.
var ErrNoMatch = errors.New("no credential in the wallet answers the verifier's request")

// FetchPresentationRequest fetches an OpenID4VP request (openid4vp://...)
// and finds the holder's credentials that answer each of its queries, and
// the ways the wallet can answer it. Revoked, suspended and expired
// credentials are not offered. hc makes the request (nil = the holder's
// HTTPClient), as in RespondPresentation and DeclinePresentation. resolver
// checks a signed request's verifier DID (a registry client for did:medid
// verifiers); nil resolves did:key only.
func FetchPresentationRequest(ctx context.Context, h Holder, uri string, hc *http.Client, resolver did.Resolver) (*PresentationRequest, error) {
	if resolver == nil {
		resolver = did.KeyResolver{}
	}
	req, err := (&openid4vp.Client{HTTP: client(h, hc), Resolver: resolver}).FetchRequest(ctx, uri)
	if err != nil {
		return nil, err
	}
	creds, err := h.Credentials(wallet.Filter{})
	if err != nil {
		return nil, err
	}
	sort.Slice(creds, func(i, j int) bool { return creds[i].ReceivedAt.After(creds[j].ReceivedAt) })
	var held []wallet.Credential // valid, with their tokens
	for _, c := range creds {
		if c.Status != wallet.StatusValid && c.Status != "" {
			continue
		}
		full, err := h.Credential(c.ID)
		if err != nil {
			return nil, err
		}
		held = append(held, full)
	}
	return matchRequest(req, held), nil
}

// matchRequest finds, among held (valid credentials with their tokens,
// newest first), those that answer each query of req, and the ways to
// answer it.
func matchRequest(req *openid4vp.Request, held []wallet.Credential) *PresentationRequest {
	pr := &PresentationRequest{Request: req, Signer: req.Signer}
	if u, err := url.Parse(req.ResponseURI); err == nil {
		pr.Verifier = u.Host
	}
	if req.ClientMetadata != nil {
		pr.Name = req.ClientMetadata.ClientName
	}
	// Per query and claim set, the credentials that answer it.
	cands := map[string][][]wallet.Credential{}
	for _, q := range req.DCQLQuery.Credentials {
		m := QueryMatch{ID: q.ID, Types: queryTypes(&q), Multiple: q.Multiple, Authorities: q.AuthoritiesWords()}
		opts := q.Options()
		per := make([][]wallet.Credential, len(opts))
		for _, c := range held {
			fits := false
			for i := range opts {
				if answers(&opts[i], c) {
					if !q.TrustsIssuer(c.Issuer) {
						// The verifier accepts only other issuers: sending
						// it would be refused (a constraint the wallet
						// cannot meet is never ignored).
						m.Untrusted++
						break
					}
					c := c
					c.Token = ""
					per[i] = append(per[i], c)
					fits = true
				}
			}
			if fits {
				c.Token = ""
				m.Candidates = append(m.Candidates, c)
			}
		}
		cands[q.ID] = per
		shown := opts[0]
		for i := range opts {
			if len(per[i]) > 0 {
				shown = opts[i]
				break
			}
		}
		for _, cl := range shown.Claims {
			m.Claims = append(m.Claims, cl.PathString())
		}
		pr.Queries = append(pr.Queries, m)
	}
	pr.Sets, pr.Ways = ways(&req.DCQLQuery, cands)
	if len(pr.Ways) > 0 {
		for _, p := range pr.Ways[0].Parts {
			for i := range pr.Queries {
				if pr.Queries[i].ID == p.Query {
					pr.Queries[i].Claims = p.Claims
				}
			}
		}
	}
	return pr
}

// RespondPresentation answers pr with the chosen credentials: choice maps
// query ids to credential ids (or unique prefixes). It answers with the
// first of pr.Ways in which every chosen credential answers its part (the
// verifier's preferred way when choice is empty), with every optional
// part; a query without a choice gets its part's first candidate. See
// [Respond] to pick the way and leave optional parts out. A refusal by the
// verifier is a *openid4vp.ProtocolError.
func RespondPresentation(ctx context.Context, h Holder, pr *PresentationRequest, choice map[string]string, hc *http.Client) error {
	if len(pr.Ways) == 0 {
		_, err := pr.Plan(h, Answer{})
		return err
	}
	for i, w := range pr.Ways {
		fits := true
		for _, p := range w.Parts {
			want := choice[p.Query]
			fits = fits && (want == "" || slices.ContainsFunc(p.Candidates, func(c wallet.Credential) bool { return strings.HasPrefix(c.ID, want) }))
		}
		if fits {
			return Respond(ctx, h, pr, Answer{Way: i, Credentials: choice}, hc)
		}
	}
	return fmt.Errorf("the chosen credentials do not answer the verifier's request together")
}

// Representative is what the workflows for someone the holder acts for
// need; *wallet.Wallet implements it. Implementations MUST be safe for
// concurrent use.
type Representative interface {
	Holder
	// DelegationFor returns the held delegation id names if it allows
	// action now, as far as the wallet knows.
	DelegationFor(id string, action delegation.Action) (wallet.Delegation, error)
	// KeepHeld verifies a credential received for the person a held
	// delegation is for and keeps it with that delegation; HeldFor lists
	// those kept and HeldCredential returns one.
	KeepHeld(ctx context.Context, delegationID, token string) (wallet.Credential, error)
	HeldFor(delegationID string) ([]wallet.Credential, error)
	HeldCredential(delegationID, id string) (wallet.Credential, error)
	// RecordPresentedFor writes the history entry of a presentation of
	// credentials held under a delegation, signed by its representative.
	RecordPresentedFor(at time.Time, audience, delegationID string, ids []string) error
}

// ReceiveFor verifies a credential an issuer gave the holder for the
// person a held delegation (delegationID) is for and keeps it with that
// delegation: it must be a vc+jwt about that person (credentialSubject.id
// their DID) and verify (signature, issuer, accreditation, status), and the
// delegation must allow "receive" for its data class. A token already held
// is returned as it is. Errors: wallet.ErrNotDelegated,
// wallet.ErrNotForThisWallet (about someone else), *wallet.RejectedError,
// *wallet.CouldNotCheckError, wallet.ErrNoVerifier.
func ReceiveFor(ctx context.Context, r Representative, delegationID, token string) (wallet.Credential, error) {
	d, err := r.DelegationFor(delegationID, delegation.ActionReceive)
	if err != nil {
		return wallet.Credential{}, err
	}
	token = strings.TrimSpace(token)
	if verify.DetectFormat(token) == verify.FormatSDJWT {
		return wallet.Credential{}, &wallet.RejectedError{Reason: "malformed", Detail: "an SD-JWT VC is bound to its holder's key: a credential for someone else is a vc+jwt issued to them"}
	}
	t, err := vc.Parse(token)
	if err != nil {
		return wallet.Credential{}, &wallet.RejectedError{Reason: "malformed", Detail: err.Error()}
	}
	c := t.Credential
	if sub := c.SubjectID(); sub != d.Patient {
		return wallet.Credential{}, fmt.Errorf("%w: it is about %s, and your delegation is for %s (%s)", wallet.ErrNotForThisWallet, sub, d.PersonWords(), d.Patient)
	}
	if class := delegation.ActClasses(c.Type)[0]; !slices.Contains(d.Classes, delegation.AllClasses) && !slices.Contains(d.Classes, class) {
		return wallet.Credential{}, fmt.Errorf("%w: your delegation for %s covers %s, not %s", wallet.ErrNotDelegated, d.PersonWords(), strings.Join(d.Classes, ","), class)
	}
	return r.KeepHeld(ctx, d.Hash, token)
}

// PresentForRequest is what [PresentFor] signs.
type PresentForRequest struct {
	// Delegation names the held delegation (id, hash, person).
	Delegation string
	// CredentialIDs are credentials held for that person (ids or unique
	// prefixes), at least one.
	CredentialIDs []string
	// Audience and Nonce are the verifier's; both required.
	Audience, Nonce string
}

// PresentFor signs, as the representative, a presentation of credentials
// held for the person a delegation is for, carrying the delegation
// (openid4vp.DelegationClaim): the verifier checks that it lets the
// representative present each credential now, and says who presented for
// whom. The presentation is recorded in the holder's history (holder: the
// representative) before it is returned. Errors: wallet.ErrNotDelegated
// (no "present", or it ended), wallet.ErrNotFound (no such credential held
// for them), *wallet.NotPresentableError (a credential the wallet knows is
// revoked or expired).
func PresentFor(ctx context.Context, r Representative, req PresentForRequest) (string, error) {
	if len(req.CredentialIDs) == 0 {
		return "", errors.New("present: choose at least one credential")
	}
	if req.Audience == "" || req.Nonce == "" {
		return "", errors.New("present: the verifier's audience and nonce are both required")
	}
	d, err := r.DelegationFor(req.Delegation, delegation.ActionPresent)
	if err != nil {
		return "", err
	}
	k, kid, err := r.SignerFor(d.Representative)
	if err != nil {
		return "", err
	}
	now := r.Now()
	p := &vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation}, Holder: d.Representative,
		Extra: map[string]any{openid4vp.DelegationClaim: d.Token}}
	var ids []string
	for _, id := range req.CredentialIDs {
		c, err := r.HeldCredential(d.Hash, id)
		if err != nil {
			return "", err
		}
		if why := c.NotCurrent(now); why != "" {
			return "", &wallet.NotPresentableError{ID: c.ID, Why: why, CheckedAt: c.StatusCheckedAt}
		}
		p.Credentials = append(p.Credentials, c.Token)
		ids = append(ids, c.ID)
	}
	tok, err := vc.SignPresentation(p, k, kid, req.Audience, req.Nonce, vc.WithIssuedAt(now))
	if err != nil {
		return "", fmt.Errorf("sign presentation: %w", err)
	}
	if err := r.RecordPresentedFor(now.UTC(), req.Audience, d.Hash, ids); err != nil {
		return "", err
	}
	return tok, nil
}

// AcceptOfferFor runs the OpenID4VCI flow of [AcceptOffer] for the person
// a held delegation (delegationID: its id, hash or the person's name) is
// for: the proof of possession is the representative's, the credential
// request carries the delegation, and the issuer, having checked that it
// lets the representative receive this credential for that person, issues
// it to that person's DID. Each credential is then verified and kept with
// the delegation ([ReceiveFor]), apart from the holder's own.
// Errors: wallet.ErrNotDelegated before anything is sent when the wallet
// knows the delegation does not allow "receive" now; an issuer's refusal
// is an *openid4vci.ProtocolError (credential_request_denied with the
// reason); opts.DID is ignored.
func AcceptOfferFor(ctx context.Context, r Representative, delegationID, uri string, opts AcceptOfferOptions) ([]wallet.Credential, error) {
	d, err := r.DelegationFor(delegationID, delegation.ActionReceive)
	if err != nil {
		return nil, err
	}
	c := &openid4vci.Client{HTTP: client(r, opts.HTTP), Now: r.Now}
	offer, err := readOffer(ctx, c, uri)
	if err != nil {
		return nil, err
	}
	k, kid, err := r.SignerFor(d.Representative)
	if err != nil {
		return nil, err
	}
	acc, err := c.Accept(ctx, openid4vci.AcceptRequest{Offer: offer, TxCode: opts.TxCode, Key: k, Kid: kid, Delegation: d.Token})
	if err != nil {
		return nil, err
	}
	var out []wallet.Credential
	for _, tok := range acc.Credentials {
		cr, err := ReceiveFor(ctx, r, d.Hash, tok)
		if err != nil {
			return out, err
		}
		out = append(out, cr)
	}
	return out, nil
}

// FetchPresentationRequestFor is [FetchPresentationRequest] for the person
// a held delegation is for: the candidates are the credentials held for
// them, and the answer ([RespondPresentation]) is signed by the
// representative and carries the delegation, which the verifier checks.
// Errors: wallet.ErrNotDelegated when the wallet knows the delegation does
// not allow "present" now.
func FetchPresentationRequestFor(ctx context.Context, r Representative, delegationID, uri string, hc *http.Client, resolver did.Resolver) (*PresentationRequest, error) {
	d, err := r.DelegationFor(delegationID, delegation.ActionPresent)
	if err != nil {
		return nil, err
	}
	if resolver == nil {
		resolver = did.KeyResolver{}
	}
	req, err := (&openid4vp.Client{HTTP: client(r, hc), Resolver: resolver}).FetchRequest(ctx, uri)
	if err != nil {
		return nil, err
	}
	held, err := r.HeldFor(d.Hash)
	if err != nil {
		return nil, err
	}
	held = slices.Clone(held)
	sort.Slice(held, func(i, j int) bool { return held[i].ReceivedAt.After(held[j].ReceivedAt) })
	pr := matchRequest(req, held)
	pr.For = &d
	return pr, nil
}

// answers reports whether stored credential c (with its token) answers
// query q (without claim sets): a vc+jwt of the asked types with the asked
// claims, or an SD-JWT VC of an asked vct holding every asked claim path
// (array indexes counted as the holder holds the credential).
func answers(q *openid4vp.CredentialQuery, c wallet.Credential) bool {
	if q.Format == openid4vp.FormatSDJWT {
		if c.Format != wallet.FormatSDJWT {
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
	if c.Format == wallet.FormatSDJWT {
		return false
	}
	t, err := vc.Parse(c.Token)
	return err == nil && q.Matches(t.Credential)
}

// DeclinePresentation tells the verifier the holder refused
// (error=access_denied). Nothing is shared.
func DeclinePresentation(ctx context.Context, h Holder, pr *PresentationRequest, hc *http.Client) error {
	return (&openid4vp.Client{HTTP: client(h, hc)}).Decline(ctx, pr.Request)
}
