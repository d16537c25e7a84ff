// Validates FHIR R4 JSON files with FHIR.js (npm "fhir"), an independent
// implementation of the FHIR R4 structure definitions and value sets.
// Usage: node fhir_validate.mjs FILE...; prints one JSON line per file:
// {"file", "valid", "messages"}.
import fs from 'node:fs';
import fhirpkg from 'fhir';

const { Fhir } = fhirpkg;
const fhir = new Fhir();
for (const file of process.argv.slice(2)) {
  const res = JSON.parse(fs.readFileSync(file, 'utf8'));
  const out = fhir.validate(res, { errorOnUnexpected: true });
  const errors = out.messages.filter((m) => m.severity === 'error');
  console.log(JSON.stringify({ file, valid: out.valid && errors.length === 0, messages: out.messages }));
}
