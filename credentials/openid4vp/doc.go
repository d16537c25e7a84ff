// Package openid4vp implements OpenID for Verifiable Presentations 1.0
// (OpenID4VP) for medid, both sides: a Verifier (an http.Handler an ER or
// pharmacy runs) and the wallet's Client.
//
// # Profile
//
// The Verifier asks with a DCQL query (credential type and claim paths, format
// vc+jwt: VC 2.0 over JOSE, see [FormatVCJWT]), response_type vp_token and response_mode direct_post. The
// authorization request is passed by reference: the openid4vp:// URI (or its
// QR code) carries client_id and request_uri, and the wallet GETs the
// request object there. The client identifier uses the redirect_uri: prefix
// (client_id = "redirect_uri:" + response_uri), so the request object is an
// unsecured JWT (alg "none"), as the specification requires for that prefix:
// the wallet trusts nothing but the response URI, which is what the holder
// is shown. Signed request objects (x509_san_dns, decentralized_identifier)
// are not implemented.
//
// The vp_token is a JSON object mapping each credential query id to an array
// of one vp+jwt whose aud is the client_id and whose nonce is the request's.
// The Verifier checks each through credentials/verify (signatures, issuer,
// accreditation, status, holder binding, audience, nonce), then that the
// credentials are of the asked types and hold the asked claims. A state is
// answered once: a replayed response is refused.
//
// A credential query may offer alternative claim_sets
// ([CredentialQuery.Options]): the wallet answers with the first set its
// credential satisfies, and for dc+sd-jwt discloses that set's claims
// only; the Verifier accepts a response that answers one set and discloses
// nothing beyond it. Claim paths may hold array indexes and null (every
// element); see [CredentialQuery.Unrequested] for what a verifier can
// check of an index in an SD-JWT VC.
//
// credential_sets ([CredentialSetQuery]) name alternative groups of
// credential queries per need of the verifier, required or optional; the
// Verifier accepts a response that is exactly one option of every required
// set and at most one of every optional set, and refuses one holding a
// credential no chosen option asks for ([DCQLQuery.CheckAnswered]).
// Without credential_sets every credential query is required.
//
// # Presenting for someone else
//
// A representative whose delegation allows "present" answers with a
// vp+jwt they sign as holder, holding the patient's credentials and the
// delegation credential in the top-level [DelegationClaim] property. With
// [Config].Delegations set, the Verifier verifies the delegation (issuer
// authority, signature, revocation) and that it lets the holder present
// each credential now (action, period, patient, data class), then verifies
// the presentation with the patient as the required subject; the
// [Result] says who presented for whom ([Result].ActingFor,
// [Result].PresentedBy). A refusal carries a delegation_* reason.
//
// # Errors
//
// A holder who declines sends error=access_denied (Client.Decline). Bad
// responses are answered with an OAuth-style error object (invalid_request,
// with the verify reason code in "reason"); a wrong method on a known path
// with 405 and an Allow header.
//
// # Mutual TLS
//
// Served with mutual TLS ("medid serve verifier --tls-client-ca"), the
// operator's endpoints (POST /requests, GET /results/{state}) need a
// client certificate from that CA; the wallet's (GET /request/{state},
// POST /response) do not. With or without it, GET /results/{state} needs
// the admin token or the request's result key ([Started].ResultKey) as a
// bearer token: the state is in the QR code, and whoever saw the code must
// not read what the holder disclosed.
package openid4vp
