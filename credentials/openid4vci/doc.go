// Package openid4vci implements OpenID for Verifiable Credential Issuance 1.0
// (OpenID4VCI) for medid, both sides: an Issuer (an http.Handler a hospital
// runs) and a Client (what a wallet runs). Only the pre-authorized code flow
// is supported, with an optional transaction code (a PIN the patient gets out
// of band). Formats: medid's VC Data Model 2.0 credentials secured with
// JOSE, under the format identifier vc+jwt (OpenID4VCI's jwt_vc_json means
// VC 1.1; see [FormatVCJWT]), and SD-JWT VC, dc+sd-jwt
// ([NewSDJWTConfiguration]): every clinical claim selectively disclosable,
// bound to the proof's key, with a random Token Status List entry. A credential request may be repeated with the
// same access token and proof within [Config].RetryWindow and gets the same
// credential, for wallets whose response was lost.
//
// # Issuer endpoints
//
//	GET  /.well-known/openid-credential-issuer   credential issuer metadata
//	GET  /.well-known/oauth-authorization-server authorization server metadata
//	POST /token       pre-authorized code (+ tx_code) -> access token
//	POST /nonce       a fresh c_nonce
//	POST /credential  access token + proof JWT -> credential bound to the holder
//	POST /admin/offers (bearer admin token) -> credential offer URI and PIN
//
// A wrong method on a known path is answered 405 with an Allow header.
// Served with mutual TLS ("medid serve issuer --tls-client-ca"), the admin
// endpoint also needs a client certificate from that CA.
//
// # Holder binding
//
// The credential request carries a proof-of-possession JWT (typ
// "openid4vci-proof+jwt") whose key is named by kid, a DID URL resolved
// through Config.Resolver (did:key, did:medid), or given as a jwk (then the
// holder is that key's did:key). Its aud must be the credential issuer, its
// nonce a c_nonce this issuer handed out and has not seen used, and its iat
// recent. The credential's credentialSubject.id is the holder DID.
//
// # Receiving for someone else
//
// A representative (a parent, a guardian, a carer) whose delegation allows
// "receive" (credentials/delegation) redeems an offer with their own proof
// and the delegation in the credential request ([CredentialRequest].Delegation,
// a medid extension). With [Config].Delegations set, the Issuer verifies the
// delegation and that it lets the proof's holder receive, now, a credential
// of the configuration's data class for the patient, who must be the
// offer's subject when [OfferRequest].Subject names one; the credential is
// then issued to the patient's DID. A refusal is
// credential_request_denied with the reason. docs/design/0020-delegation.md
// says why the credential is the patient's.
//
// # Errors
//
// Failures are OAuth-style JSON errors with the codes of the specifications
// (see [ProtocolError]): invalid_grant for a wrong, reused or expired
// pre-authorized code or a wrong transaction code, invalid_request,
// unsupported_grant_type, invalid_token, invalid_proof, invalid_nonce,
// invalid_credential_request, unknown_credential_configuration and
// unsupported_credential_type (draft 13 requests by format and type).
package openid4vci
