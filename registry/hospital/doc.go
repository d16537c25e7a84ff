// Package hospital groups the services a hospital runs beside its registry
// node: they are not the ledger, and registryd only hosts them.
//
//   - vault: the record vault server (encrypted FHIR records, consent-checked
//     reads, break-glass, erasure).
//   - vaultapi: the vault's wire contract, shared by server and client.
//   - vaultclient: the vault client a wallet or hospital tool uses, with trail
//     verification.
//   - trail: the access trail's entry format, sealing to the patient, and
//     RFC 6962 Merkle inclusion proofs.
//   - batch: the server side of the trail: a write-ahead file, batches, and
//     one ledger anchor per batch.
//   - fhir: FHIR R4 for EHRs: write checks (one patient per write),
//     transaction Bundles, patient-scoped search and paging cursors,
//     OperationOutcomes, the CapabilityStatement, IHE PCF Consent export.
//   - smart: SMART Backend Services (client_credentials with a
//     private_key_jwt signed by a key of the client's DID, SMART v2 scopes).
//   - cdshooks: the CDS Hooks patient-consent-consult service.
//   - balp: access events as IHE BALP AuditEvents.
package hospital
