// Package interop holds interoperability tests of medid's OpenID4VCI
// issuer and wallet against independent implementations on npm: the
// OpenWallet Foundation's @openid4vc/openid4vci (oid4vc-ts) and jose. The
// tests install exact package versions into a temporary folder and run
// Node scripts from testdata/; they are skipped only when node or npm is
// missing. The package has no non-test code.
package interop
