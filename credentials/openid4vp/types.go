package openid4vp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/internal/openid"
)

// Protocol constants.
const (
	// Scheme is the URI scheme of authorization requests to wallets.
	Scheme = "openid4vp"
	// FormatVCJWT is the DCQL format of medid's VC 2.0 credentials
	// secured with VC-JOSE (media type application/vc+jwt). OpenID4VP 1.0's
	// jwt_vc_json means VC 1.1 (a "vc" claim); medid neither asks for it
	// nor answers it, so that no VC 1.1 verifier misreads a VC 2.0 token
	// (docs/design/0015).
	FormatVCJWT = "vc+jwt"
	// FormatSDJWT is the DCQL format of SD-JWT VCs: the wallet sends an
	// SD-JWT+KB with only the Disclosures the claims paths select, and the
	// Verifier refuses a response that discloses anything else.
	FormatSDJWT = "dc+sd-jwt"
	// ResponseModeDirectPost is the only response mode.
	ResponseModeDirectPost = "direct_post"
	// PrefixRedirectURI is the client identifier prefix used.
	PrefixRedirectURI = "redirect_uri:"
	// RequestObjectType is the media type of request objects.
	RequestObjectType = "application/oauth-authz-req+jwt"
)

// Error codes.
const (
	ErrCodeInvalidRequest = "invalid_request"
	ErrCodeAccessDenied   = "access_denied"
	ErrCodeInvalidClient  = "invalid_client"
	// ErrCodeInvalidToken answers an operator endpoint (POST /requests,
	// GET /results/{state}) called without a valid bearer token.
	ErrCodeInvalidToken = "invalid_token"
)

// ErrProtocol is wrapped by every ProtocolError.
var ErrProtocol = errors.New("openid4vp protocol error")

// ProtocolError is an error answer: an OAuth error code, a description,
// and for refused presentations the verify reason code.
type ProtocolError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Status      int    `json:"-"`
}

func (e *ProtocolError) Error() string {
	s := e.Code
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// Unwrap returns ErrProtocol.
func (e *ProtocolError) Unwrap() error { return ErrProtocol }

// DCQLQuery is a Digital Credentials Query Language query (OpenID4VP 1.0
// §6). Without CredentialSets every credential query is asked for; with
// them, the verifier asks for one option of every required set and lets
// the holder add one of every optional set (see [DCQLQuery.Sets],
// [DCQLQuery.CheckAnswered]). A credential query may offer alternative
// claim sets (see [CredentialQuery.ClaimSets]).
type DCQLQuery struct {
	Credentials    []CredentialQuery    `json:"credentials"`
	CredentialSets []CredentialSetQuery `json:"credential_sets,omitempty"`
}

// CredentialQuery asks for one credential.
type CredentialQuery struct {
	ID     string        `json:"id"`
	Format string        `json:"format"`
	Meta   Meta          `json:"meta"`
	Claims []ClaimsQuery `json:"claims,omitempty"`
	// ClaimSets, when present, are the alternative sets of claims (by
	// ClaimsQuery.ID) the verifier accepts, most preferred first: the
	// wallet answers with the first set the credential satisfies and
	// discloses only its claims (OpenID4VP 1.0 §6.4.1). See [Options].
	ClaimSets [][]string `json:"claim_sets,omitempty"`
	// Multiple lets the holder answer with several credentials (at most
	// MaxMultiple), each matching the query; false (the default) asks
	// for exactly one.
	Multiple bool `json:"multiple,omitempty"`
	// TrustedAuthorities, when present, are the issuers the verifier
	// accepts: every credential answering the query must match one (see
	// [CredentialQuery.TrustsIssuer], [DCQLQuery.Checkable]).
	TrustedAuthorities []TrustedAuthority `json:"trusted_authorities,omitempty"`
	// RequireHolderBinding is require_cryptographic_holder_binding; nil
	// means true. See [CredentialQuery.HolderBinding].
	RequireHolderBinding *bool `json:"require_cryptographic_holder_binding,omitempty"`
}

// Options returns the alternatives q accepts, in the verifier's order of
// preference: one query per claim set, each asking for that set's claims
// only and without claim_sets, or q itself when it has no claim_sets.
// Call it on a query that passed [DCQLQuery.Validate] (an unknown claim id
// in a set is skipped).
func (q *CredentialQuery) Options() []CredentialQuery {
	if len(q.ClaimSets) == 0 {
		return []CredentialQuery{*q}
	}
	out := make([]CredentialQuery, 0, len(q.ClaimSets))
	for _, set := range q.ClaimSets {
		o := *q
		o.ClaimSets, o.Claims = nil, nil
		for _, id := range set {
			for _, cl := range q.Claims {
				if cl.ID == id {
					o.Claims = append(o.Claims, cl)
					break
				}
			}
		}
		out = append(out, o)
	}
	return out
}

// Meta is the meta of a credential query. For vc+jwt the credential must
// have all the types of one of the TypeValues entries; for dc+sd-jwt its
// vct must be one of VCTValues.
type Meta struct {
	TypeValues [][]string `json:"type_values,omitempty"`
	VCTValues  []string   `json:"vct_values,omitempty"`
}

// ClaimsQuery asks for a claim by its path in the credential. Path
// elements are strings (object members), numbers (array indexes) or null
// (every array element).
type ClaimsQuery struct {
	ID   string `json:"id,omitempty"`
	Path []any  `json:"path"`
}

// PathString renders a claim path for people, e.g. credentialSubject.allergies.
func (c ClaimsQuery) PathString() string {
	parts := make([]string, len(c.Path))
	for i, p := range c.Path {
		switch p := p.(type) {
		case string:
			parts[i] = p
		case nil:
			parts[i] = "*"
		default:
			parts[i] = fmt.Sprint(p)
		}
	}
	return strings.Join(parts, ".")
}

// NewQuery returns a credential query for credential type credType asking
// for the credentialSubject claims named.
func NewQuery(id, credType string, claims ...string) CredentialQuery {
	q := CredentialQuery{ID: id, Format: FormatVCJWT, Meta: Meta{TypeValues: [][]string{{vc.TypeCredential, credType}}}}
	for _, c := range claims {
		path := []any{"credentialSubject"}
		for _, p := range strings.Split(c, ".") {
			path = append(path, p)
		}
		q.Claims = append(q.Claims, ClaimsQuery{Path: path})
	}
	return q
}

// NewSDJWTQuery returns a dc+sd-jwt credential query for the SD-JWT VC
// type vct asking for the claims at paths (dotted, as sdjwt.ParsePath
// reads them: code.display, reaction.*.manifestation).
func NewSDJWTQuery(id, vct string, paths ...string) (CredentialQuery, error) {
	q := CredentialQuery{ID: id, Format: FormatSDJWT, Meta: Meta{VCTValues: []string{vct}}}
	for _, s := range paths {
		p, err := sdjwt.ParsePath(s)
		if err != nil {
			return q, err
		}
		path := make([]any, len(p))
		for i, e := range p {
			if n, ok := e.(int); ok {
				path[i] = float64(n) // as a JSON number decodes
			} else {
				path[i] = e
			}
		}
		q.Claims = append(q.Claims, ClaimsQuery{Path: path})
	}
	return q, nil
}

// SDPaths returns the query's claims paths in sdjwt form.
func (q *CredentialQuery) SDPaths() []sdjwt.Path {
	out := make([]sdjwt.Path, len(q.Claims))
	for i, cl := range q.Claims {
		p := make(sdjwt.Path, len(cl.Path))
		for j, e := range cl.Path {
			if f, ok := e.(float64); ok {
				p[j] = int(f)
			} else {
				p[j] = e
			}
		}
		out[i] = p
	}
	return out
}

// MatchesSDJWT reports whether a verified SD-JWT VC answers q (without
// claim_sets; see [Options]): its vct is one of q's vct_values and it
// holds every asked claim. An array index in a path is matched as any
// element: the verifier sees only the disclosed elements, so its indexes
// are not the holder's (see [Unrequested] for how many may be disclosed).
func (q *CredentialQuery) MatchesSDJWT(v *sdjwt.VerifiedVC) bool {
	if v == nil || !slices.Contains(q.Meta.VCTValues, v.Credential.VCT) {
		return false
	}
	for _, cl := range q.Claims {
		if len(selectPath(any(v.Claims), anyIndex(cl.Path))) == 0 {
			return false
		}
	}
	return true
}

// anyIndex returns path with every array index replaced by null (any
// element).
func anyIndex(path []any) []any {
	out := make([]any, len(path))
	for i, e := range path {
		if _, ok := e.(float64); !ok {
			out[i] = e
		}
	}
	return out
}

// Unrequested returns the disclosed paths of v that q (without
// claim_sets; see [Options]) did not ask for: neither on the way to an
// asked claim (an enclosing object or array) nor at or below one. A
// response with any is refused: the verifier can then show that nothing
// else was sent.
//
// An array index in an asked path counts elements as the holder holds the
// credential; the verifier sees only the disclosed elements (decoys and
// withheld elements are indistinguishable), so it cannot tell which
// element was sent. It checks instead that no array discloses more
// elements than the distinct indexes asked of it; null (every element)
// sets no bound.
func (q *CredentialQuery) Unrequested(v *sdjwt.VerifiedVC) []sdjwt.Path {
	asked := q.SDPaths()
	loose := make([]sdjwt.Path, len(asked))
	for i, a := range asked {
		loose[i] = sdjwt.Path(anyIndex(a))
	}
	var out []sdjwt.Path
	elements := map[string][]sdjwt.Path{} // array path -> its disclosed elements
	var arrays []string
	for _, d := range v.Disclosed {
		ok := false
		for _, a := range loose {
			if a.Within(d) {
				ok = true
				break
			}
		}
		if !ok {
			out = append(out, d)
			continue
		}
		if n := len(d); n > 0 {
			if _, isElem := d[n-1].(int); isElem {
				k := d[:n-1].String()
				if _, seen := elements[k]; !seen {
					arrays = append(arrays, k)
				}
				elements[k] = append(elements[k], d)
			}
		}
	}
	for _, k := range arrays {
		elems := elements[k]
		arr := elems[0][:len(elems[0])-1]
		indexes := map[int]bool{}
		every := false
		for i, a := range asked {
			if len(a) <= len(arr) || !loose[i][:len(arr)].Matches(arr) {
				continue
			}
			switch e := a[len(arr)].(type) {
			case nil:
				every = true
			case int:
				indexes[e] = true
			}
		}
		if !every && len(elems) > len(indexes) {
			out = append(out, elems[len(indexes):]...)
		}
	}
	return out
}

// ClaimValuesSDJWT returns the values of the asked claims in v, keyed by
// PathString.
func (q *CredentialQuery) ClaimValuesSDJWT(v *sdjwt.VerifiedVC) map[string]any {
	out := map[string]any{}
	for _, cl := range q.Claims {
		vals := selectPath(any(v.Claims), anyIndex(cl.Path))
		switch len(vals) {
		case 0:
		case 1:
			out[cl.PathString()] = vals[0]
		default:
			out[cl.PathString()] = vals
		}
	}
	return out
}

// Validate checks a query is one this package can answer and check.
func (q *DCQLQuery) Validate() error {
	if len(q.Credentials) == 0 {
		return errors.New("dcql_query asks for no credentials")
	}
	if len(q.Credentials) > MaxCredentialQueries {
		return fmt.Errorf("dcql_query asks for %d credentials; at most %d are supported", len(q.Credentials), MaxCredentialQueries)
	}
	seen := map[string]bool{}
	for _, c := range q.Credentials {
		if c.ID == "" || seen[c.ID] {
			return fmt.Errorf("credential query id %q is empty or repeated", c.ID)
		}
		seen[c.ID] = true
		switch c.Format {
		case FormatVCJWT:
		case FormatSDJWT:
			if len(c.Meta.VCTValues) == 0 {
				return fmt.Errorf("credential query %s asks for %s without meta.vct_values", c.ID, FormatSDJWT)
			}
			if len(c.Claims) == 0 {
				// Without claims every Disclosure would be sent: the
				// opposite of what selective disclosure is for.
				return fmt.Errorf("credential query %s asks for a %s credential without naming the claims it needs", c.ID, FormatSDJWT)
			}
		default:
			return fmt.Errorf("credential query %s asks for format %q; only %s and %s are supported (jwt_vc_json is VC 1.1, which medid credentials are not)", c.ID, c.Format, FormatVCJWT, FormatSDJWT)
		}
		if err := c.validClaimSets(); err != nil {
			return err
		}
		if err := c.validAuthorities(); err != nil {
			return err
		}
		for _, cl := range c.Claims {
			if len(cl.Path) == 0 {
				return fmt.Errorf("credential query %s has a claim with an empty path", c.ID)
			}
			for _, p := range cl.Path {
				switch p := p.(type) {
				case string, nil:
				case float64:
					if p < 0 || p != float64(int(p)) {
						return fmt.Errorf("credential query %s: claim path index %v", c.ID, p)
					}
				default:
					return fmt.Errorf("credential query %s: claim path element %v is not a string, index or null", c.ID, p)
				}
			}
		}
	}
	return q.validCredentialSets()
}

// validClaimSets checks q's claim ids and claim_sets: ids unique and
// made of letters, digits, '_' and '-'; with claim_sets, every claim has an
// id, and every set is non-empty and names claims of q.
func (q *CredentialQuery) validClaimSets() error {
	ids := map[string]bool{}
	for _, cl := range q.Claims {
		if cl.ID == "" {
			if len(q.ClaimSets) > 0 {
				return fmt.Errorf("credential query %s has claim_sets, so every claim needs an id", q.ID)
			}
			continue
		}
		if ids[cl.ID] || strings.TrimLeft(cl.ID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
			return fmt.Errorf("credential query %s: claim id %q is repeated or not made of letters, digits, _ and -", q.ID, cl.ID)
		}
		ids[cl.ID] = true
	}
	if q.ClaimSets != nil && len(q.ClaimSets) == 0 {
		return fmt.Errorf("credential query %s has an empty claim_sets", q.ID)
	}
	if len(q.ClaimSets) > 0 && len(q.Claims) == 0 {
		return fmt.Errorf("credential query %s has claim_sets but no claims", q.ID)
	}
	for _, set := range q.ClaimSets {
		if len(set) == 0 {
			return fmt.Errorf("credential query %s has an empty claim set", q.ID)
		}
		for _, id := range set {
			if !ids[id] {
				return fmt.Errorf("credential query %s: claim set names %q, which is not one of its claims", q.ID, id)
			}
		}
	}
	return nil
}

// Matches reports whether credential c answers q (without claim_sets; see
// [Options]): it has all the types of one type_values entry and every
// asked claim.
func (q *CredentialQuery) Matches(c *vc.Credential) bool {
	typeOK := len(q.Meta.TypeValues) == 0
	for _, set := range q.Meta.TypeValues {
		all := true
		for _, t := range set {
			if !c.HasType(t) {
				all = false
				break
			}
		}
		if all {
			typeOK = true
			break
		}
	}
	if !typeOK {
		return false
	}
	if len(q.Claims) == 0 {
		return true
	}
	doc, err := credentialDoc(c)
	if err != nil {
		return false
	}
	for _, cl := range q.Claims {
		if len(selectPath(doc, cl.Path)) == 0 {
			return false
		}
	}
	return true
}

// ClaimValues returns the values of the asked claims in c, keyed by PathString.
func (q *CredentialQuery) ClaimValues(c *vc.Credential) map[string]any {
	doc, err := credentialDoc(c)
	if err != nil {
		return nil
	}
	out := map[string]any{}
	for _, cl := range q.Claims {
		vals := selectPath(doc, cl.Path)
		switch len(vals) {
		case 0:
		case 1:
			out[cl.PathString()] = vals[0]
		default:
			out[cl.PathString()] = vals
		}
	}
	return out
}

func credentialDoc(c *vc.Credential) (any, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var doc any
	err = json.Unmarshal(b, &doc)
	return doc, err
}

// selectPath implements DCQL claim path selection.
func selectPath(doc any, path []any) []any {
	cur := []any{doc}
	for _, p := range path {
		var next []any
		for _, v := range cur {
			switch p := p.(type) {
			case string:
				if m, ok := v.(map[string]any); ok {
					if x, ok := m[p]; ok {
						next = append(next, x)
					}
				}
			case float64:
				if a, ok := v.([]any); ok && int(p) < len(a) {
					next = append(next, a[int(p)])
				}
			case nil:
				if a, ok := v.([]any); ok {
					next = append(next, a...)
				}
			}
		}
		cur = next
	}
	return cur
}

// ClientMetadata is the verifier metadata sent in the request.
type ClientMetadata struct {
	VPFormatsSupported map[string]any `json:"vp_formats_supported,omitempty"`
	ClientName         string         `json:"client_name,omitempty"`
}

// Request is an authorization request (the request object's claims).
type Request struct {
	ResponseType   string          `json:"response_type"`
	ClientID       string          `json:"client_id"`
	ResponseMode   string          `json:"response_mode"`
	ResponseURI    string          `json:"response_uri"`
	Nonce          string          `json:"nonce"`
	State          string          `json:"state,omitempty"`
	DCQLQuery      DCQLQuery       `json:"dcql_query"`
	ClientMetadata *ClientMetadata `json:"client_metadata,omitempty"`
	Audience       string          `json:"aud,omitempty"`
	IssuedAt       int64           `json:"iat,omitempty"`
	ExpiresAt      int64           `json:"exp,omitempty"`

	// Signer is the verifier's DID when the request object was signed by
	// a key of it and the signature checked (client identifier prefix
	// decentralized_identifier:); "" for an unsigned request, whose only
	// trustworthy fact is the response URI's origin. Not part of the
	// request's JSON.
	Signer string `json:"-"`
}

// Validate checks the request is one this wallet can answer: vp_token,
// direct_post, a redirect_uri: client id naming the response URI, a nonce
// and a valid DCQL query.
func (r *Request) Validate() error {
	bad := func(format string, a ...any) error {
		return &ProtocolError{Code: ErrCodeInvalidRequest, Description: fmt.Sprintf(format, a...)}
	}
	switch {
	case r.ResponseType != "vp_token":
		return bad("response_type %q is not supported (vp_token)", r.ResponseType)
	case r.ResponseMode != ResponseModeDirectPost:
		return bad("response_mode %q is not supported (direct_post)", r.ResponseMode)
	case r.Nonce == "":
		return bad("the request has no nonce")
	case r.ResponseURI == "":
		return bad("the request has no response_uri")
	}
	switch {
	case strings.HasPrefix(r.ClientID, PrefixDecentralizedIdentifier):
		if !strings.HasPrefix(strings.TrimPrefix(r.ClientID, PrefixDecentralizedIdentifier), "did:") {
			return &ProtocolError{Code: ErrCodeInvalidClient, Description: fmt.Sprintf("client_id %q: the %s prefix takes a DID", r.ClientID, PrefixDecentralizedIdentifier)}
		}
	case strings.HasPrefix(r.ClientID, PrefixRedirectURI):
		// With the redirect_uri prefix the client identifier IS the
		// response URI: the presentation can only go where the holder
		// was told.
		if strings.TrimPrefix(r.ClientID, PrefixRedirectURI) != r.ResponseURI {
			return &ProtocolError{Code: ErrCodeInvalidClient, Description: "client_id does not name the response_uri"}
		}
	default:
		return &ProtocolError{Code: ErrCodeInvalidClient, Description: fmt.Sprintf("client_id %q: only the %s and %s prefixes are supported", r.ClientID, PrefixDecentralizedIdentifier, PrefixRedirectURI)}
	}
	if !openid.SecureURL(r.ResponseURI) {
		return bad("response_uri %q is not an https URL (plain http only on loopback)", r.ResponseURI)
	}
	if err := r.DCQLQuery.Validate(); err != nil {
		return bad("%v", err)
	}
	return nil
}

// URI returns the openid4vp:// URI that starts the flow by reference.
func URI(clientID, requestURI string) string {
	return Scheme + "://?client_id=" + url.QueryEscape(clientID) + "&request_uri=" + url.QueryEscape(requestURI)
}

// maxURIBytes bounds an authorization request URI.
const maxURIBytes = 16 << 10

// ParseURI parses an openid4vp:// (or https) authorization request URI.
// It returns the request itself when it is passed by value (then
// requestURI is ""), or the client_id and request_uri to fetch it from.
func ParseURI(s string) (clientID, requestURI string, byValue *Request, err error) {
	bad := func(format string, a ...any) error {
		return &ProtocolError{Code: ErrCodeInvalidRequest, Description: fmt.Sprintf(format, a...)}
	}
	if len(s) > maxURIBytes {
		return "", "", nil, bad("request URI longer than %d bytes", maxURIBytes)
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", "", nil, bad("not a URI: %v", err)
	}
	if u.Scheme != Scheme && u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "mdoc-openid4vp" {
		return "", "", nil, bad("scheme %q is not %s://", u.Scheme, Scheme)
	}
	q := u.Query()
	clientID = q.Get("client_id")
	if clientID == "" {
		return "", "", nil, bad("the request URI has no client_id")
	}
	if ru := q.Get("request_uri"); ru != "" {
		if !openid.SecureURL(ru) {
			return "", "", nil, bad("request_uri %q is not an https URL (plain http only on loopback)", ru)
		}
		if m := q.Get("request_uri_method"); m != "" && m != "get" {
			return "", "", nil, bad("request_uri_method %q is not supported (get)", m)
		}
		return clientID, ru, nil, nil
	}
	r := &Request{
		ResponseType: q.Get("response_type"), ClientID: clientID, ResponseMode: q.Get("response_mode"),
		ResponseURI: q.Get("response_uri"), Nonce: q.Get("nonce"), State: q.Get("state"),
	}
	if strings.HasPrefix(clientID, PrefixDecentralizedIdentifier) {
		return "", "", nil, bad("a %s request must come as a signed request object (request_uri), not by value", PrefixDecentralizedIdentifier)
	}
	if err := json.Unmarshal([]byte(q.Get("dcql_query")), &r.DCQLQuery); err != nil {
		return "", "", nil, bad("dcql_query is not JSON: %v", err)
	}
	if cm := q.Get("client_metadata"); cm != "" {
		r.ClientMetadata = &ClientMetadata{}
		if err := json.Unmarshal([]byte(cm), r.ClientMetadata); err != nil {
			return "", "", nil, bad("client_metadata is not JSON: %v", err)
		}
	}
	if err := r.Validate(); err != nil {
		return "", "", nil, err
	}
	return clientID, "", r, nil
}
