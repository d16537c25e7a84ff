// Independent checks of medid's SD-JWT VC, Token Status List and JSON-LD
// output with @sd-jwt/* 0.19.0 (OpenWallet Foundation sd-jwt-js) and
// jsonld 9 (Digital Bazaar). Reads one JSON request on stdin, writes one
// JSON answer on stdout; a failure exits non-zero with the error on stderr.
import crypto from 'node:crypto';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { SDJwtInstance } from '@sd-jwt/core';
import { digest, generateSalt, ES256 } from '@sd-jwt/crypto-nodejs';
import { decodeSdJwt, getClaims } from '@sd-jwt/decode';
import { getListFromStatusListJWT } from '@sd-jwt/jwt-status-list';
import jsonld from 'jsonld';
import { contexts } from '@digitalbazaar/credentials-context';

const b64u = (b) => Buffer.from(b).toString('base64url');

// A verifier callback for a public JWK: ES256 through crypto-nodejs,
// EdDSA (Ed25519) through node's own crypto (crypto-nodejs has no EdDSA).
async function verifierFor(jwk) {
  if (jwk.kty === 'EC') return ES256.getVerifier(jwk);
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  return async (data, sig) => crypto.verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
}

async function signerFor(jwk) {
  if (jwk.kty === 'EC') return ES256.getSigner(jwk);
  const key = crypto.createPrivateKey({ key: jwk, format: 'jwk' });
  return async (data) => b64u(crypto.sign(null, Buffer.from(data), key));
}

const algOf = (jwk) => (jwk.kty === 'EC' ? 'ES256' : 'EdDSA');

async function readStdin() {
  let s = '';
  for await (const chunk of process.stdin) s += chunk;
  return JSON.parse(s);
}

const cmds = {
  // Verify a medid SD-JWT VC presentation: issuer signature, disclosures,
  // KB-JWT (nonce, sd_hash; aud checked here), Token Status List status.
  async verify(req) {
    const issuerVerifier = await verifierFor(req.issuerJwk);
    const sd = new SDJwtVcInstance({
      hasher: digest,
      verifier: issuerVerifier,
      kbVerifier: async (data, sig, payload) => (await verifierFor(payload.cnf.jwk))(data, sig),
      statusListFetcher: async (uri) => {
        if (uri !== req.statusListURI) throw new Error(`unexpected status list ${uri}`);
        return req.statusList;
      },
      statusVerifier: issuerVerifier,
    });
    const opts = req.nonce ? { keyBindingNonce: req.nonce } : {};
    const res = await sd.verify(req.token, opts);
    if (req.aud && res.kb?.payload?.aud !== req.aud) throw new Error(`KB-JWT aud ${res.kb?.payload?.aud}, want ${req.aud}`);
    return { claims: res.payload, typ: res.header.typ, kid: res.header.kid, kb: res.kb?.payload ?? null };
  },

  // Issue an SD-JWT VC with sd-jwt-js and present it with a KB-JWT.
  async issue(req) {
    const sd = new SDJwtVcInstance({
      hasher: digest,
      saltGenerator: generateSalt,
      signer: await signerFor(req.issuerJwk),
      signAlg: algOf(req.issuerJwk),
      kbSigner: await signerFor(req.holderJwk),
      kbSignAlg: algOf(req.holderJwk),
    });
    const issued = await sd.issue(req.claims, req.disclosureFrame, { header: { kid: req.kid } });
    const presentation = await sd.present(issued, req.presentationFrame, {
      kb: { payload: { aud: req.aud, nonce: req.nonce, iat: req.iat } },
    });
    return { issued, presentation };
  },

  // Decode any SD-JWT (RFC 9901's examples) and return its claims.
  async decode(req) {
    const d = await decodeSdJwt(req.token, digest);
    const claims = await getClaims(d.jwt.payload, d.disclosures, digest);
    let verified = null;
    if (req.issuerJwk) {
      const core = new SDJwtInstance({ hasher: digest, verifier: await verifierFor(req.issuerJwk) });
      verified = (await core.verify(req.token)).payload;
    }
    return { claims, verified };
  },

  // Read statuses from a Status List Token.
  async statuslist(req) {
    const list = getListFromStatusListJWT(req.jwt);
    return { statuses: req.indexes.map((i) => list.getStatus(i)), bits: list.getBitsPerStatus() };
  },

  // Expand credentials with jsonld in safe mode, offline: only the VC 2.0
  // context (from @digitalbazaar/credentials-context) and the medid context
  // given in the request are loadable.
  async jsonld(req) {
    const docs = new Map(contexts);
    docs.set(req.medidContextURL, req.medidContext);
    const documentLoader = async (url) => {
      if (!docs.has(url)) throw new Error(`no context ${url} offline`);
      return { contextUrl: null, documentUrl: url, document: docs.get(url) };
    };
    const out = {};
    for (const [name, doc] of Object.entries(req.docs)) {
      try {
        const expanded = await jsonld.expand(doc, { documentLoader, safe: true });
        out[name] = { ok: true, nodes: expanded.length };
      } catch (e) {
        out[name] = { ok: false, error: `${e.name}: ${e.message} ${JSON.stringify(e.details ?? {}).slice(0, 300)}` };
      }
    }
    return out;
  },
};

const req = await readStdin();
const fn = cmds[process.argv[2]];
if (!fn) {
  console.error(`unknown command ${process.argv[2]}`);
  process.exit(2);
}
try {
  process.stdout.write(JSON.stringify(await fn(req)));
} catch (e) {
  console.error(e?.stack ?? String(e));
  process.exit(1);
}
