package openid4vp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/key"
)

// Signed request objects (OpenID4VP 1.0 §5.9.3, client identifier prefix
// "decentralized_identifier:"). A verifier with a DID signs its request
// object with a key of that DID (kid = DID URL of a verification method);
// the wallet resolves the DID, checks the signature, and can then show
// who the verifier is from the registry's directory instead of the name
// the request claims. Unsigned requests (prefix "redirect_uri:") are sent
// by value, so no wallet is asked to fetch an alg "none" object (which
// OpenID4VP 1.0 wallets such as @openid4vc/openid4vp refuse), and the
// wallet shows them as unverified, with the response URI's origin.

// PrefixDecentralizedIdentifier is the client identifier prefix of a
// verifier identified by its DID.
const PrefixDecentralizedIdentifier = "decentralized_identifier:"

// RequestJWTType is the typ of a request object.
const RequestJWTType = "oauth-authz-req+jwt"

// signedJWT signs claims as a compact JWS with k under kid.
func signedJWT(claims any, k *key.PrivateKey, kid string) (string, error) {
	h, err := json.Marshal(map[string]string{"alg": string(k.Alg().JWS()), "typ": RequestJWTType, "kid": kid})
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return jose.Sign(h, c, k)
}

// verifySigned checks a signed request object: a JWS whose kid is a DID
// URL of the DID in clientID (decentralized_identifier:DID), signed by a
// verification method of that DID as resolver resolves it. It returns the
// claims and the DID.
func verifySigned(ctx context.Context, j jose.JWS, alg, kid, clientID string, resolver did.Resolver) (string, string, error) {
	bad := func(format string, a ...any) error {
		return &ProtocolError{Code: ErrCodeInvalidRequest, Description: fmt.Sprintf(format, a...)}
	}
	subject, ok := strings.CutPrefix(clientID, PrefixDecentralizedIdentifier)
	if !ok {
		return "", "", &ProtocolError{Code: ErrCodeInvalidClient, Description: fmt.Sprintf("a signed request object needs the %s client identifier prefix, not %q", PrefixDecentralizedIdentifier, clientID)}
	}
	kidDID, frag, ok := strings.Cut(kid, "#")
	if !ok || frag == "" || kidDID != subject {
		return "", "", bad("the request object's kid %.128q is not a key of the verifier %.128s", kid, subject)
	}
	if resolver == nil {
		return "", "", bad("cannot check the verifier's signature: no DID resolver")
	}
	res, err := resolver.Resolve(ctx, subject)
	if err != nil {
		return "", "", bad("resolve the verifier %.128s: %v", subject, err)
	}
	if res.Metadata.Deactivated || res.Document == nil {
		return "", "", bad("the verifier's DID %.128s is deactivated", subject)
	}
	pub, err := res.Document.Key(kid, did.AssertionMethod)
	if err != nil {
		if pub, err = res.Document.Key(kid, did.Authentication); err != nil {
			return "", "", bad("%s is not a verification method of %s", kid, subject)
		}
	}
	if string(pub.Alg().JWS()) != alg {
		return "", "", bad("request object alg %q does not match the key %s", alg, kid)
	}
	if !pub.Verify([]byte(j.SigningInput), j.Signature) {
		return "", "", bad("the request object's signature by %s does not verify", kid)
	}
	return j.Payload, subject, nil
}

// byValueURI is the openid4vp:// URI carrying an unsigned request itself.
func byValueURI(r *Request) (string, error) {
	q := url.Values{
		"response_type": {r.ResponseType}, "client_id": {r.ClientID}, "response_mode": {r.ResponseMode},
		"response_uri": {r.ResponseURI}, "nonce": {r.Nonce},
	}
	if r.State != "" {
		q.Set("state", r.State)
	}
	dq, err := json.Marshal(r.DCQLQuery)
	if err != nil {
		return "", err
	}
	q.Set("dcql_query", string(dq))
	if r.ClientMetadata != nil {
		cm, err := json.Marshal(r.ClientMetadata)
		if err != nil {
			return "", err
		}
		q.Set("client_metadata", string(cm))
	}
	return Scheme + "://?" + q.Encode(), nil
}
