package openid4vci

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/medid/medid/internal/openid"
)

// Protocol constants.
const (
	// GrantPreAuthorized is the pre-authorized code grant type.
	GrantPreAuthorized = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	// FormatVCJWT is the format identifier medid uses for its VC 2.0
	// credentials secured with VC-JOSE (media type application/vc+jwt):
	// the credential is the JWT claim set, with no "vc" claim.
	// OpenID4VCI 1.0 defines no identifier for VC 2.0 over JOSE; its
	// jwt_vc_json is VC 1.1 (a "vc" claim), and a strict 1.1 processor
	// would misread ours, so medid names the format by its media type, as
	// dc+sd-jwt is named (docs/design/0015).
	FormatVCJWT = "vc+jwt"
	// FormatSDJWT is SD-JWT VC (OpenID4VCI 1.0 Appendix A.3): every
	// clinical claim selectively disclosable, bound to the key of the
	// holder's proof (cnf.jwk).
	FormatSDJWT = "dc+sd-jwt"
	// FormatJWTVC is OpenID4VCI's VC 1.1 JWT format. medid does not issue
	// it; its wallet accepts it from other issuers, whose tokens it then
	// verifies like any other.
	FormatJWTVC = "jwt_vc_json"
	// ProofTyp is the typ header of a proof-of-possession JWT.
	ProofTyp = "openid4vci-proof+jwt"
	// OfferScheme is the URI scheme of credential offers.
	OfferScheme = "openid-credential-offer"
	// WellKnownIssuer and WellKnownAS are the metadata paths.
	WellKnownIssuer = "/.well-known/openid-credential-issuer"
	WellKnownAS     = "/.well-known/oauth-authorization-server"
)

// Error codes of OAuth 2.0 (RFC 6749, RFC 6750) and OpenID4VCI.
const (
	ErrCodeInvalidRequest           = "invalid_request"
	ErrCodeInvalidGrant             = "invalid_grant"
	ErrCodeUnsupportedGrantType     = "unsupported_grant_type"
	ErrCodeInvalidToken             = "invalid_token"
	ErrCodeInvalidProof             = "invalid_proof"
	ErrCodeInvalidNonce             = "invalid_nonce"
	ErrCodeInvalidCredentialRequest = "invalid_credential_request"
	ErrCodeUnknownConfiguration     = "unknown_credential_configuration"
	ErrCodeUnsupportedType          = "unsupported_credential_type"
	ErrCodeUnsupportedFormat        = "unsupported_credential_format"
	ErrCodeRequestDenied            = "credential_request_denied"
)

// ErrProtocol is wrapped by every ProtocolError.
var ErrProtocol = errors.New("openid4vci protocol error")

// ProtocolError is an error answer of an OpenID4VCI endpoint: the OAuth
// error code, a description for people, and the HTTP status it was (or is
// to be) sent with.
type ProtocolError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Status      int    `json:"-"`
}

func (e *ProtocolError) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// Unwrap returns ErrProtocol.
func (e *ProtocolError) Unwrap() error { return ErrProtocol }

// TxCode describes the transaction code (PIN) an offer requires.
type TxCode struct {
	InputMode   string `json:"input_mode,omitempty"`
	Length      int    `json:"length,omitempty"`
	Description string `json:"description,omitempty"`
}

// PreAuthorizedGrant is the pre-authorized code grant of an offer.
type PreAuthorizedGrant struct {
	Code   string  `json:"pre-authorized_code"`
	TxCode *TxCode `json:"tx_code,omitempty"`
}

// Offer is a credential offer.
type Offer struct {
	CredentialIssuer string   `json:"credential_issuer"`
	ConfigurationIDs []string `json:"credential_configuration_ids"`
	Grants           struct {
		PreAuthorized *PreAuthorizedGrant `json:"urn:ietf:params:oauth:grant-type:pre-authorized_code,omitempty"`
	} `json:"grants"`
}

// URI returns the offer as an openid-credential-offer:// URI carrying the
// offer by value.
func (o *Offer) URI() (string, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return "", err
	}
	return OfferScheme + "://?credential_offer=" + url.QueryEscape(string(b)), nil
}

// maxOfferBytes bounds an offer read from a URI or QR code.
const maxOfferBytes = 16 << 10

// ParseOfferURI parses a credential offer URI carrying the offer by value
// (credential_offer). An offer by reference (credential_offer_uri) is
// returned with only ByReference set; Client.FetchOffer retrieves it.
// Errors wrap ErrProtocol with code invalid_request.
func ParseOfferURI(s string) (offer *Offer, byReference string, err error) {
	bad := func(format string, a ...any) error {
		return &ProtocolError{Code: ErrCodeInvalidRequest, Description: fmt.Sprintf(format, a...)}
	}
	if len(s) > maxOfferBytes {
		return nil, "", bad("credential offer URI longer than %d bytes", maxOfferBytes)
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, "", bad("not a URI: %v", err)
	}
	if u.Scheme != OfferScheme && u.Scheme != "https" && u.Scheme != "http" {
		return nil, "", bad("scheme %q is not %s://", u.Scheme, OfferScheme)
	}
	q := u.Query()
	if ref := q.Get("credential_offer_uri"); ref != "" {
		return nil, ref, nil
	}
	raw := q.Get("credential_offer")
	if raw == "" {
		return nil, "", bad("the URI has neither credential_offer nor credential_offer_uri")
	}
	o, err := ParseOffer([]byte(raw))
	return o, "", err
}

// ParseOffer parses and checks a credential offer object.
func ParseOffer(data []byte) (*Offer, error) {
	var o Offer
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, &ProtocolError{Code: ErrCodeInvalidRequest, Description: "credential offer is not valid JSON: " + err.Error()}
	}
	if !openid.SecureURL(o.CredentialIssuer) {
		return nil, &ProtocolError{Code: ErrCodeInvalidRequest, Description: fmt.Sprintf("credential_issuer %q is not an https URL (plain http only on loopback)", o.CredentialIssuer)}
	}
	if len(o.ConfigurationIDs) == 0 {
		return nil, &ProtocolError{Code: ErrCodeInvalidRequest, Description: "credential offer names no credential_configuration_ids"}
	}
	if o.Grants.PreAuthorized == nil || o.Grants.PreAuthorized.Code == "" {
		return nil, &ProtocolError{Code: ErrCodeInvalidRequest, Description: "credential offer has no pre-authorized_code grant (the only flow medid supports)"}
	}
	return &o, nil
}

// Display is display metadata in one locale.
type Display struct {
	Name            string `json:"name"`
	Locale          string `json:"locale,omitempty"`
	Description     string `json:"description,omitempty"`
	BackgroundColor string `json:"background_color,omitempty"`
	TextColor       string `json:"text_color,omitempty"`
	Logo            *Logo  `json:"logo,omitempty"`
}

// Logo is a logo in display metadata.
type Logo struct {
	URI     string `json:"uri"`
	AltText string `json:"alt_text,omitempty"`
}

// CredentialDefinition names the W3C credential types of a configuration.
type CredentialDefinition struct {
	Type []string `json:"type"`
}

// ProofType is the metadata of one proof type.
type ProofType struct {
	SigningAlgs []string `json:"proof_signing_alg_values_supported"`
}

// Configuration is one entry of credential_configurations_supported.
type Configuration struct {
	Format string `json:"format"`
	Scope  string `json:"scope,omitempty"`
	// CredentialDefinition is set for vc+jwt, VCT for dc+sd-jwt.
	CredentialDefinition CredentialDefinition `json:"credential_definition,omitzero"`
	VCT                  string               `json:"vct,omitempty"`
	BindingMethods       []string             `json:"cryptographic_binding_methods_supported"`
	SigningAlgs          []string             `json:"credential_signing_alg_values_supported"`
	ProofTypes           map[string]ProofType `json:"proof_types_supported"`
	Display              []Display            `json:"display,omitempty"`
	CredentialMetadata   *CredentialMetadata  `json:"credential_metadata,omitempty"`
}

// CredentialMetadata is the 1.0 home of display and claims metadata.
type CredentialMetadata struct {
	Display []Display `json:"display,omitempty"`
}

// IssuerMetadata is the credential issuer metadata.
type IssuerMetadata struct {
	CredentialIssuer     string                   `json:"credential_issuer"`
	CredentialEndpoint   string                   `json:"credential_endpoint"`
	NonceEndpoint        string                   `json:"nonce_endpoint"`
	AuthorizationServers []string                 `json:"authorization_servers,omitempty"`
	Display              []Display                `json:"display,omitempty"`
	Configurations       map[string]Configuration `json:"credential_configurations_supported"`
}

// ASMetadata is the OAuth authorization server metadata (RFC 8414).
type ASMetadata struct {
	Issuer                    string   `json:"issuer"`
	TokenEndpoint             string   `json:"token_endpoint"`
	GrantTypes                []string `json:"grant_types_supported"`
	PreAuthAnonymousSupported bool     `json:"pre-authorized_grant_anonymous_access_supported"`
	ResponseTypes             []string `json:"response_types_supported"`
}

// TokenResponse is the token endpoint's answer.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	// CNonce is sent for draft-13 wallets; 1.0 wallets use the nonce endpoint.
	CNonce string `json:"c_nonce,omitempty"`
}

// NonceResponse is the nonce endpoint's answer.
type NonceResponse struct {
	CNonce string `json:"c_nonce"`
}

// Proof is a single proof (draft 13-15 "proof").
type Proof struct {
	ProofType string `json:"proof_type"`
	JWT       string `json:"jwt,omitempty"`
}

// CredentialRequest is the credential endpoint's request. Version 1.0 sends
// credential_configuration_id and proofs; draft 13 sends format,
// credential_definition and proof. Both are accepted.
type CredentialRequest struct {
	ConfigurationID      string                `json:"credential_configuration_id,omitempty"`
	Proofs               map[string][]string   `json:"proofs,omitempty"`
	Proof                *Proof                `json:"proof,omitempty"`
	Format               string                `json:"format,omitempty"`
	CredentialDefinition *CredentialDefinition `json:"credential_definition,omitempty"`
	VCT                  string                `json:"vct,omitempty"`
	// Delegation is medid's extension for receiving a credential for
	// someone else: a delegation credential (vc+jwt, see
	// credentials/delegation) given to the proof's holder, with action
	// receive for the credential's data class. The issuer verifies it and
	// issues the credential to the patient it names (credentialSubject.id
	// is the patient's DID, not the proof's holder), which the
	// representative then keeps for them. Issuers without delegation
	// support refuse it (credential_request_denied).
	Delegation string `json:"delegation,omitempty"`
}

// IssuedCredential is one credential of a CredentialResponse.
type IssuedCredential struct {
	Credential string `json:"credential"`
}

// CredentialResponse is the credential endpoint's answer (1.0 shape).
type CredentialResponse struct {
	Credentials []IssuedCredential `json:"credentials"`
}
