// Package delegation implements medid's delegation credentials: who may act
// for a patient (a parent for a child, a court-appointed guardian, a holder
// of a power of attorney, someone the patient chose), on what legal basis,
// for which actions, data classes and purposes, until when, and whether they
// may pass the authority on.
//
// # Credential format
//
// A [Delegation] is a W3C VC 2.0 credential secured as a vc+jwt (see
// credentials/vc). Its credentialSubject is the representative:
//
//	{"id": "<representative DID>", "name": "Maria Silva",
//	 "basis": "parent", "relationship": "DAU", "minor": true,
//	 "represents": {"id": "<patient DID>", "name": "Ana Silva"},
//	 "action": ["view", "consent", "trail"],
//	 "class": ["Immunization"], "purpose": ["TREAT"],
//	 "subDelegation": false}
//
// Two credential types exist. A DelegationCredential is issued by the
// patient themselves (basis "authorisation" or "power-of-attorney"), or, as
// a sub-delegation, by a representative whose own delegation allows it (the
// parent delegation is carried whole in the top-level "parentDelegation"
// property, so a verifier checks the chain without asking anyone). A
// GuardianshipCredential is issued for a minor or an adult who cannot act
// (basis "parent", "guardian" or "power-of-attorney") by an organisation the
// network's governance accredited for the type GuardianshipCredential: a
// birth registry, a court, a hospital's registry office.
//
// Every delegation has an end (validUntil): for a minor ("minor": true, and
// always for basis "parent") it is the day they come of age, and the
// delegation then stops working without anyone acting ([ErrCameOfAge]).
// Every delegation carries one revocation entry of a W3C Bitstring Status
// List: the issuer's list, or for a patient's own delegation a list the
// patient's wallet publishes under a did:key made for it (so the ledger
// never carries the patient's DID); the patient signs the entry and so
// names the list.
//
// # Checking
//
// [Delegation.Allows] checks one act ([Act]: who acts, for whom, which
// [Action], classes, purposes, when) against a delegation that is already
// trusted. [Checker] makes it trusted: it verifies the signature (the kid
// an assertionMethod of the issuer), the issuer's authority (the patient,
// an accredited authority, or a representative allowed to sub-delegate
// within their own scope), and the revocation status, caching verified
// delegations and status lists so a decision on a known delegation costs a
// hash, two map lookups and the scope check. docs/design/0020-delegation.md
// says why it is built this way.
package delegation
