// An EHR built on fhir-kit-client (an independent FHIR client) and jose:
// it discovers the SMART configuration, obtains a Backend Services token
// with a private_key_jwt assertion signed by its DID key, then writes a
// patient's allergy in a transaction, is refused a read without the
// patient's consent, deposits the patient's grant as an IHE PCF Consent
// (the grant's vc+jwt in sourceAttachment) and reads without a header,
// reads it with the consent grant in the header too, creates another
// record, and searches with paging.
// Usage: node fhir_kit_client.mjs BASE EHR_JWK_FILE KID PATIENT_DID GRANT
import fs from 'node:fs';
import crypto from 'node:crypto';
import { Client } from 'fhir-kit-client';
import { importJWK, SignJWT } from 'jose';

const [base, jwkFile, kid, patientDID, grant] = process.argv.slice(2);
const did = kid.split('#')[0];
const out = {};
const client = new Client({ baseUrl: base });

const meta = await client.smartAuthMetadata();
out.tokenUrl = meta.tokenUrl.toString();

const key = await importJWK(JSON.parse(fs.readFileSync(jwkFile, 'utf8')), 'EdDSA');
const assertion = await new SignJWT({})
  .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
  .setIssuer(did).setSubject(did).setAudience(out.tokenUrl)
  .setExpirationTime('4m').setJti(crypto.randomUUID())
  .sign(key);
const res = await fetch(out.tokenUrl, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({
    grant_type: 'client_credentials',
    scope: 'system/*.rs system/AllergyIntolerance.c system/Patient.c system/Consent.c',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  }),
});
const tok = await res.json();
if (res.status !== 200) throw new Error('token: ' + JSON.stringify(tok));
out.scope = tok.scope;
client.bearerToken = tok.access_token;

const cap = await client.capabilityStatement();
out.fhirVersion = cap.fhirVersion;

const allergy = (patientRef) => ({
  resourceType: 'AllergyIntolerance',
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
  code: { coding: [{ system: 'http://snomed.info/sct', code: '764146007', display: 'Penicillin' }] },
  patient: patientRef,
});
const tx = await client.transaction({
  body: {
    resourceType: 'Bundle', type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:2b9a0c1e-5f7d-4c1a-9f43-0a8f5d1e7c21',
        resource: { resourceType: 'Patient', identifier: [{ system: 'urn:ietf:rfc:3986', value: patientDID }] },
        request: { method: 'POST', url: 'Patient' } },
      { fullUrl: 'urn:uuid:7c6e9d2a-1b3f-4e5d-8a9c-0d1e2f3a4b5c',
        resource: allergy({ reference: 'urn:uuid:2b9a0c1e-5f7d-4c1a-9f43-0a8f5d1e7c21' }),
        request: { method: 'POST', url: 'AllergyIntolerance' } },
    ],
  },
});
out.txType = tx.type;
out.txStatus = tx.entry.map((e) => e.response.status);
const patientRef = tx.entry[0].response.location.replace(/\/_history\/.*/, '');
const allergyId = tx.entry[1].response.location.split('/')[1];

try {
  await client.read({ resourceType: 'AllergyIntolerance', id: allergyId });
  out.deniedStatus = 200;
} catch (e) {
  out.deniedStatus = e.response && e.response.status;
  out.deniedOutcome = e.response && e.response.data && e.response.data.resourceType;
}
const deposited = await client.create({
  resourceType: 'Consent',
  body: {
    resourceType: 'Consent', status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: patientRef },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    sourceAttachment: { contentType: 'application/vc+jwt', data: Buffer.from(grant).toString('base64') },
  },
});
out.depositedProfile = deposited.meta.profile[0];
const afterDeposit = await client.read({ resourceType: 'AllergyIntolerance', id: allergyId });
out.readAfterDeposit = afterDeposit.code.coding[0].code;
const consents = await client.search({ resourceType: 'Consent', searchParams: { patient: patientRef } });
out.consents = (consents.entry || []).map((e) => e.resource.id);
out.depositedId = deposited.id;
const read = await client.read({ resourceType: 'AllergyIntolerance', id: allergyId, options: { headers: { 'MedID-Consent': grant } } });
out.readId = read.id;
out.readCode = read.code.coding[0].code;
out.readPatient = read.patient.reference;
out.patientRef = patientRef;

const created = await client.create({ resourceType: 'AllergyIntolerance', body: allergy({ reference: patientRef }) });
out.createdId = created.id;

const page1 = await client.search({ resourceType: 'AllergyIntolerance', searchParams: { patient: patientRef, _count: 1 } });
out.page1 = (page1.entry || []).map((e) => e.resource.id);
const page2 = await client.nextPage({ bundle: page1 });
out.page2 = (page2.entry || []).map((e) => e.resource.id);
console.log(JSON.stringify(out));
