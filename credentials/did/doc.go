// Package did implements decentralized identifiers for medid: DID and DID
// URL syntax, did:key, DID documents, and resolvers with caching.
//
// # Syntax
//
// [Parse] and [ParseURL] follow the ABNF of W3C DID Core 1.0 §3.1 and §3.2
// exactly; they never normalise, so a parsed DID prints back as the input.
//
// # did:key
//
// [KeyDID], [ParseKeyDID] and [KeyDocument] implement the did:key method for
// Ed25519 ("did:key:z6Mk…") and P-256 ("did:key:zDn…") keys. The document is
// the did:key specification's Multikey document; the tests check it against
// the documents that Digital Bazaar's independent @digitalbazaar/did-method-key
// produces for the specification's test vectors. Errors carry the
// specification's names: invalidDid, invalidPublicKeyLength,
// invalidPublicKey, unsupportedPublicKeyType.
//
// # Documents
//
// [Document] is medid's own type for DID documents; no aries-framework-go
// type appears in this package's API, so the implementation underneath can
// move to aries' maintained successor (trustbloc did-go) without changing
// callers. [ParseDocument] reads the members itself, because aries does not
// interpret the multicodec prefix of Multikey keys (it hands back prefix and
// key as one byte string) and has no document-level controller; it
// validates the result with precise errors, and then also requires the
// document to pass aries' did.ParseDocument (its DID Core JSON schema and
// reference checks). That aries check cost ~85% of the parse time (aries
// compiles its JSON schema on every call: ~300 µs per document, the largest
// part of a registry CheckTx). It is therefore skipped where its verdict is
// already known: documents of the shape medid writes (DID Core context
// first, no duplicate contexts, Multikey or Ed25519VerificationKey2020 keys,
// string references, no services or alsoKnownAs) whose JSON value is
// exactly that of our own serialisation of the parsed result. Aries decides
// on the JSON value alone, and TestAriesAcceptsProvenDocuments and
// FuzzAriesProvenAccepted check that it accepts every such document, so the
// skip changes no verdict; every other document (other software's, with
// services, JWKs, embedded or relative references, extra members) still
// goes through aries. The decision and its figures: BenchmarkParseDocument
// vs BenchmarkParseDocumentWithAries (about 5-10x). [Document.MarshalJSON] writes the JSON itself,
// deterministically, since aries writes publicKeyMultibase
// without the multicodec prefix. See [ParseDocument] for the normalisation
// applied on parse.
//
// [Document.Key] finds the key a signature claims (a JWS kid) and checks the
// document authorises it for the purpose at hand (assertionMethod for
// credentials, authentication for presentations).
//
// # Resolution
//
// A [Resolver] turns a DID into a [Resolution]. [KeyResolver] handles did:key
// without I/O; [Router] dispatches by method (the registry client resolves
// did:medid); [Cache] sits in front of either with a TTL, an LRU bound,
// short negative caching of [ErrNotFound] and single-flight deduplication.
package did
