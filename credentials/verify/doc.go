// Package verify is medid's verification pipeline: one call takes a
// credential (vc+jwt or SD-JWT VC dc+sd-jwt) or a presentation (vp+jwt or
// SD-JWT+KB) and returns a [Result] saying whether it is valid and, check
// by check, what was found. [DetectFormat] tells the formats apart by the
// JWS typ; [Verifier.Credential] and [Verifier.Presentation] take either.
//
// # SD-JWT VC
//
// An SD-JWT VC is checked by credentials/sdjwt (every RFC 9901 rule) and
// then like a vc+jwt: issuer (the kid's DID is iss and names an
// assertionMethod key), status (its Token Status List entry: VALID passes,
// INVALID is revoked, SUSPENDED suspended, any other value fails) and
// accreditation (for the medid type its vct names). Its presentation (with
// a Key Binding JWT) gives a presentation Result holding one credential
// sub-result, as a vp+jwt does; a key binding failure fails the
// presentation itself. The Result lists the disclosed claim paths and, per
// object, how many digests stayed hidden; the claims are in Result.SDJWT,
// never in the JSON form.
//
// # Checks
//
// For a credential, in order: format (the token parses), issuer (the kid's
// DID resolves and names an assertionMethod key), signature, validity
// (validFrom, validUntil, nbf, exp), status (each credentialStatus entry,
// against its Bitstring Status List) and accreditation (each credential type
// other than VerifiableCredential, when a trust source is configured). A
// presentation adds its own format, holder (the holder's authentication
// key), signature, audience, nonce and validity checks, and holds one
// sub-result per enveloped credential, each also checked for holder binding
// (its subject is the holder).
//
// # Reasons
//
// A failed check carries one of the stable reason codes below; the Result's
// Reason is the first failing one. Programs branch on these strings; the
// Detail texts are for people and may change.
//
//	bad_signature          the signature does not verify, the alg is not allowed, or the key is not the issuer's
//	unknown_issuer         the issuer's DID does not resolve, or has no such key for assertionMethod
//	expired                past validUntil or exp
//	not_yet_valid          before validFrom, nbf or iat
//	revoked                the revocation bit is set
//	suspended              the suspension bit is set
//	issuer_not_accredited  the issuer is not accredited for a credential type at issuance
//	audience_mismatch      the presentation is for another verifier
//	nonce_mismatch         the presentation answers another request
//	holder_mismatch        the presentation is not signed by its holder, or a credential's subject is not the holder
//	invalid_disclosure     an SD-JWT Disclosure breaks an RFC 9901 rule (the detail starts with the sdjwt reason)
//	malformed              the token or a status entry cannot be parsed
//	status_unavailable     a status list cannot be fetched or trusted and none is cached
//
// # Caching
//
// The hot path is cheap: DID resolutions are cached by a did.Cache, and
// status lists are verified and decoded once, then kept for their ttl (or
// [DefaultStatusCacheTTL]). When a status list cannot be fetched again, the
// last good copy is used, however old, and the status check's Detail says
// so: a verifier that was online once keeps working offline.
package verify
