// Package interop holds interoperability tests of medid against
// independent implementations on npm: its OpenID4VCI issuer and wallet
// against the OpenWallet Foundation's @openid4vc/openid4vci (oid4vc-ts)
// and jose, and the hospital-side FHIR layer (registry/hospital) against
// FHIR.js (fhir), which validates every FHIR resource and Bundle it
// produces. The tests install exact package versions into a temporary
// folder and run Node scripts from testdata/; they are skipped only when
// node or npm is missing. The package has no non-test code.
package interop
