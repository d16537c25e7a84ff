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
// PurposeOfUse codes), class (FHIR resource type names) and breakGlass, and
// validFrom/validUntil is the period. [Issue] signs one, [Verify] checks its
// signature, [Parse] only decodes it. [Grant.MarshalFHIR] and [ParseFHIR]
// convert to and from a FHIR R4 Consent resource.
//
// # The ledger
//
// The registry never sees a grant. The patient anchors [Hash] of the token
// (hex SHA-256) with a consent.anchor transaction carrying only that hash and
// the period, and ends it with consent.revoke. [Checker] decides an access:
// the grant's signature, [Grant.Permits] for the request, and the ledger
// status of the hash (anchored by the grant's patient, same period, not
// revoked, in force), with verified grants and ledger answers cached so a
// decision costs a few map lookups. docs/design/0008-consent.md says why.
package consent
