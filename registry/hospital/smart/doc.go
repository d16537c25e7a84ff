// Package smart is the authorization server of a hospital's FHIR API for
// other systems: SMART App Launch 2.2 Backend Services.
//
// A client (an EHR, a lab system) is registered by its DID with the
// scopes it may ask for. It obtains an access token from the token
// endpoint with grant_type client_credentials and a private_key_jwt
// client assertion (RFC 7523): a JWT it signs with an authentication key
// of its DID document, iss = sub = its DID, aud = the token endpoint,
// exp at most five minutes ahead, and a jti that is never accepted twice
// (across restarts too, when Config.UsedFile is set: the vault sets it).
// The key comes from the DID document through a did.Resolver, so a key
// rotated on the ledger is rotated here as soon as the resolver sees the
// new document: there is no JWKS to register or fetch.
//
// Scopes are SMART v2 ([ParseScope]): patient/ or system/ context, a
// resource type or *, permissions from c r u d s, and optionally one
// ?category=system|code restriction. A request for a scope the client is
// not registered for, or wider than one it is, is refused (invalid_scope),
// never silently narrowed.
//
// Access tokens are opaque, random, short-lived (Config.TokenTTL, five
// minutes by default), kept in memory as hashes, and bound to the client:
// [Server.Introspect] returns the client's DID and scopes, and the FHIR
// layer attributes every access to that DID and checks the patient's
// consent for it. docs/design/0017-fhir-smart-cds-hooks.md has the reasons.
package smart
