// Package credentials is the root of medid's credentials library: DIDs, keys,
// verifiable credentials and presentations, Bitstring status lists, consent
// grants and the verification pipeline.
//
// The library imports nothing else of medid but internal/ helpers. Where it
// needs something from outside (a DID resolver for did:medid, a status list
// fetcher, a source of issuer accreditations) it declares a small interface
// that the registry client (registry/client) implements; verify.Registry
// names the three together, and verify.Sources puts a verifier's sources
// together in one place for every program.
//
// # Packages
//
//   - key: Ed25519 and P-256 key pairs, JWK files, multikey encoding.
//   - did: DID syntax, did:key, DID documents and resolvers.
//   - jose: the one compact-JWS splitter every signed token goes through
//     (strict base64url, three segments, bounded size), and JWS signing.
//   - vc: VC Data Model 2.0 credentials and presentations secured as VC-JOSE.
//   - sdjwt: SD-JWT (RFC 9901) and SD-JWT VC (dc+sd-jwt): selective
//     disclosure with key binding.
//   - tokenstatus: IETF Token Status List (statuslist+jwt).
//   - statuslist: W3C Bitstring Status List v1.0, and the issuer's side of
//     a list's life (signing, entries, a crash-safe index allocator,
//     changes).
//   - verify: the verification pipeline with stable reason codes, and the
//     one assembly of its sources (Sources, NewFor).
//   - emergency: the offline emergency card (a dated presentation in one QR
//     code) and its verification.
//   - consent: patient consent grants (FHIR Consent provision shape) and
//     access decisions against their status on the ledger.
//   - openid4vci, openid4vp: OpenID for Verifiable Credential Issuance
//     (pre-authorized code) and for Verifiable Presentations (DCQL,
//     direct_post), server, wallet and back-office sides.
//   - licence: practitioner licence credentials from licensing bodies.
//   - credtest: the test kit (reproducible did:key parties, a settable
//     clock) every package's tests share.
//
// JSON that arrives signed or from the network is read by one strict parser,
// internal/ijson (I-JSON: no duplicate members, no invalid UTF-8 or lone
// surrogates); random nonces, tokens and ids come from internal/randid.
package credentials
