// Package interop holds interoperability tests of medid against
// independent implementations on npm: its OpenID4VCI issuer and wallet
// against the OpenWallet Foundation's @openid4vc/openid4vci (oid4vc-ts) and
// jose, for vc+jwt and dc+sd-jwt; its wallet against the
// @openid4vc/openid4vp verifier (a DCQL request for one claim of an SD-JWT
// VC); its SD-JWT VCs, presentations and Token Status Lists against
// @sd-jwt/* (sd-jwt-js), both ways, with RFC 9901's examples; the JSON-LD
// of every credential type it issues against jsonld.js in safe mode; and
// the hospital-side FHIR layer (registry/hospital) against FHIR.js (fhir),
// which validates every FHIR resource and Bundle it produces. The tests
// install exact package versions into a temporary folder and run Node
// scripts from testdata/; they are skipped only when node or npm is
// missing. The package has no non-test code.
package interop
