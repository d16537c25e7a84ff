// Independent check of medid's VC-JOSE tokens with the npm `jose` package.
//
//   node jose_interop.mjs verify TOKEN_FILE PUBLIC_JWK_FILE
//     verifies a vc+jwt signed by medid; prints the protected header and the
//     credential (the JWT claims) as JSON; exits 1 if verification fails.
//   node jose_interop.mjs sign PRIVATE_JWK_FILE KID CREDENTIAL_JSON_FILE
//     signs the credential JSON as a vc+jwt (typ vc+jwt, cty vc, kid) with
//     jose and prints the compact JWS.
//
// Run by cmd/medid/interop_cli_test.go, which installs jose into a temporary
// directory first (NODE_PATH is not honoured by ESM imports, so the test
// copies this script next to node_modules).
import { readFileSync } from 'node:fs';
import { importJWK, compactVerify, CompactSign, decodeProtectedHeader } from 'jose';

function algFor(jwk) {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  throw new Error(`unsupported JWK kty=${jwk.kty} crv=${jwk.crv}`);
}

const [mode, ...args] = process.argv.slice(2);
try {
  if (mode === 'verify') {
    const token = readFileSync(args[0], 'utf8').trim();
    const jwk = JSON.parse(readFileSync(args[1], 'utf8'));
    const alg = algFor(jwk);
    const pub = await importJWK(jwk, alg);
    // compactVerify with an explicit algorithm allow-list: the token's alg
    // must be the one the key implies.
    const { payload, protectedHeader } = await compactVerify(token, pub, { algorithms: [alg] });
    if (protectedHeader.typ !== 'vc+jwt') throw new Error(`typ is ${protectedHeader.typ}, want vc+jwt`);
    const credential = JSON.parse(new TextDecoder().decode(payload));
    process.stdout.write(JSON.stringify({ header: protectedHeader, credential }, null, 2) + '\n');
  } else if (mode === 'sign') {
    const jwk = JSON.parse(readFileSync(args[0], 'utf8'));
    const kid = args[1];
    const credential = readFileSync(args[2]);
    const alg = algFor(jwk);
    const priv = await importJWK(jwk, alg);
    const token = await new CompactSign(credential)
      .setProtectedHeader({ alg, typ: 'vc+jwt', cty: 'vc', kid })
      .sign(priv);
    // sanity: the header we set is what we produced
    decodeProtectedHeader(token);
    process.stdout.write(token + '\n');
  } else {
    console.error('usage: node jose_interop.mjs verify TOKEN JWK | sign JWK KID CREDENTIAL_JSON');
    process.exit(2);
  }
} catch (err) {
  console.error(`jose: ${err.code ?? ''} ${err.message}`);
  process.exit(1);
}
