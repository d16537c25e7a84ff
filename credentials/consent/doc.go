// Package consent implements medid's consent grants: a patient's permission
// for one provider to access, correct or disclose some classes of their
// health data for some purposes during a period, shaped like the provision
// of a FHIR R4 Consent.
//
// # Grant format
//
// A [Grant] is secured as a W3C VC 2.0 credential (vc+jwt, see
// credentials/vc) of type ["VerifiableCredential", "ConsentGrant"]: the issuer
// is the patient's DID (or a pairwise DID of the patient), credentialSubject.id
// is the provider's DID, credentialSubject carries action, purpose (HL7 v3
// PurposeOfUse codes), class (FHIR resource type names) and breakGlass,
// validFrom/validUntil is the period, and anchor the grant's anchor DID. [Issue] signs one, [Verify] checks its
// signature, [Parse] only decodes it. [Grant.MarshalFHIR] and [ParseFHIR]
// convert to and from a FHIR R4 Consent resource.
//
// # The ledger
//
// The registry never sees a grant, nor the patient's DID. Each grant names
// its own anchor DID ([Grant].Anchor, the top-level "anchor" claim): a
// did:key made for that grant alone (a wallet derives it from its seed and
// the grant's ID). That key anchors [Hash] of the token (hex SHA-256) with a
// consent.anchor transaction carrying only that hash and the period, and
// ends it with consent.revoke; the ledger keys the anchor by (anchor DID,
// hash), so nobody else's anchor of the same hash counts. [Checker] decides
// an access: the grant's signature (by its patient, which makes the anchor
// DID the patient's word), [Grant.Permits] for the request, and the ledger
// status of the hash under that anchor DID (same period, not revoked, in
// force), with verified grants and ledger answers cached so a decision costs
// a few map lookups. A grant without an anchor (made before) is refused
// with [ErrLegacyGrant]. docs/design/0008-consent.md says why.
package consent
