// Package vc implements W3C Verifiable Credentials Data Model 2.0 credentials
// and presentations secured with JOSE, as W3C "Securing Verifiable
// Credentials using JOSE and COSE" (VC-JOSE-COSE) specifies: the credential
// JSON is the JWT claim set (no "vc" claim wrapper), signed as a compact JWS
// with typ "vc+jwt" (presentations "vp+jwt"), alg EdDSA (Ed25519) or ES256
// (P-256).
//
// # Issuing and verifying
//
// [Issue] validates a [Credential] and signs it with the protected header
// {alg, typ: "vc+jwt", cty: "vc", kid}; the kid is a DID URL of the issuer.
// [Verify] parses strictly, resolves the kid through a [KeyFunc], lets the
// key (never the header) decide the algorithm, checks the signature over the
// exact bytes received, that the kid belongs to the issuer, and the validity
// window (validFrom/validUntil and the JWT nbf/exp claims). [Parse] only
// decodes, for display or routing; it proves nothing.
//
// # Presentations
//
// A [Presentation] carries credentials as EnvelopedVerifiableCredential data
// URLs. [SignPresentation] binds it to one verifier and one request with the
// aud and nonce claims and a short lifetime (iat, exp); [VerifyPresentation]
// checks all of that, every credential, and holder binding: each
// credential's credentialSubject.id must be the holder who signed. A failing
// credential is reported as a [*CredentialError] with its index.
//
// # What is refused
//
// The parsers are deliberately narrow, because every check runs on untrusted
// input before the signature is known to be good: a token must be three
// base64url segments without padding or whitespace; alg "none" and anything
// but EdDSA and ES256 is [ErrUnsupportedAlg]; jwk, jku, x5u, x5c, crit and b64
// headers are refused (keys come only from the KeyFunc); JSON must be I-JSON
// (no repeated member names, valid UTF-8, no lone surrogates); a credential
// has exactly one credentialSubject object; @context entries are URLs.
//
// # VC 1.1
//
// Credentials from other ecosystems in VC Data Model 1.1 (JSON-LD with
// Ed25519Signature2020/2018 or JsonWebSignature2020 proofs, or VC 1.1 JWTs)
// are verified by [VerifyV11] through hyperledger aries, offline: only the
// JSON-LD contexts embedded in aries are ever loaded. The aries types stay
// inside this package; the result is a [Credential].
//
// # Cost
//
// Verification decodes the header and claims once, with a small strict
// parser that returns strings pointing into the decoded payload, and checks
// the signature directly with the key rather than through a generic JOSE
// path. bench_test.go measures the cost against a bare signature check
// (BenchmarkVerifyVsBare); the goal is a ratio of at least 0.6.
package vc
