// Package sdjwt implements Selective Disclosure for JWTs (SD-JWT, RFC 9901)
// and SD-JWT-based Verifiable Credentials (SD-JWT VC, typ dc+sd-jwt): a
// patient can show a verifier one fact of a credential (the substance of an
// allergy) and nothing else, and the verifier can check that what it got
// was signed by the issuer and presented by the credential's holder.
//
// # Issuing
//
// [IssueVC] signs a [Credential] with every clinical claim selectively
// disclosable: each member of each object and each element of each array
// gets its own Disclosure (recursively, so code.display can be shown
// without code.system), every _sd array and every array gets random decoy
// digests, and _sd arrays are sorted, so neither the number nor the order
// of the claims shows. iss, iat, nbf, exp, vct, cnf (the holder's key,
// cnf.jwk) and status (a Token Status List reference) stay in the clear, as
// SD-JWT VC requires. [Issue] is the same for any claim set.
//
// # Presenting
//
// [Open] reads an SD-JWT as issued and lists the [Path] of every
// Disclosure; [Holding.Present] keeps the Disclosures that reveal the
// chosen paths (and the enclosing objects on the way), reports what is
// disclosed and withheld, and appends a Key Binding JWT (typ kb+jwt: aud,
// nonce, iat, sd_hash) signed with the holder's key.
//
// # Verifying
//
// [Verify] applies every rule of RFC 9901 §7: the issuer's signature (alg
// EdDSA or ES256; "none" and the rest refused), _sd_alg sha-256, each
// Disclosure well formed and sent once, each digest appearing once, each
// Disclosure referenced exactly once and in the right form (object property
// or array element), no reserved or colliding names, validity times, and
// the Key Binding JWT (signature by cnf.jwk, aud, nonce, freshness,
// sd_hash). [VerifyVC] adds the SD-JWT VC rules (typ, iss matching the
// kid's DID, vct, claims that must not be disclosable). A refusal is a
// [*RefusalError] with a stable reason code ([Reason]); nothing is returned
// unless everything verified, so a claim whose Disclosure did not verify is
// never shown. [Verified] says which paths were disclosed and how many
// digests stayed hidden where (withheld claims and decoys, which are
// indistinguishable by design).
//
// # JOSE
//
// The issuer-signed JWT and the KB-JWT are parsed and verified by
// credentials/vc's one compact-JWS parser ([vc.ParseJWS]) and strict
// I-JSON parser ([vc.ParseJSON]), with the same refusals as a vc+jwt.
package sdjwt
