// An independent OpenID4VCI issuer: @openid4vc/openid4vci's Openid4vciIssuer
// and @openid4vc/oauth2's Oauth2AuthorizationServer build the metadata, the
// offer, the token and nonce responses, parse credential requests and
// verify the holder's proof JWT; jose signs the vc+jwt credential. medid's
// wallet redeems the offer.
//
// usage: node openid4vci_issuer.mjs ISSUER_PRIVATE_JWK_FILE ISSUER_DID KID
// prints {"offer": URI, "txCode": PIN} once listening; serves until killed.
import { readFileSync } from 'node:fs'
import http from 'node:http'
import crypto from 'node:crypto'
import { Openid4vciIssuer, setGlobalConfig } from '@openid4vc/openid4vci'
import { Oauth2AuthorizationServer, preAuthorizedCodeGrantIdentifier } from '@openid4vc/oauth2'
import * as jose from 'jose'

setGlobalConfig({ allowInsecureUrls: true })

const [jwkFile, issuerDid, kid] = process.argv.slice(2)
const privateJwk = JSON.parse(readFileSync(jwkFile, 'utf8'))
const alg = privateJwk.kty === 'OKP' ? 'EdDSA' : 'ES256'
const issuerKey = await jose.importJWK(privateJwk, alg)
const { d, ...publicJwk } = privateJwk

// did:key (Ed25519 and P-256) to a public JWK, for holder proofs.
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
function base58(s) {
  let n = 0n
  for (const c of s) n = n * 58n + BigInt(B58.indexOf(c))
  let hex = n.toString(16)
  if (hex.length % 2) hex = '0' + hex
  const lead = s.match(/^1*/)[0].length
  return Buffer.concat([Buffer.alloc(lead), Buffer.from(hex, 'hex')])
}
function didKeyJwk(didUrl) {
  const id = didUrl.split('#')[0]
  if (!id.startsWith('did:key:z')) throw new Error('not a did:key: ' + didUrl)
  const raw = base58(id.slice('did:key:z'.length))
  if (raw[0] === 0xed && raw[1] === 0x01) return { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(2).toString('base64url') }
  throw new Error('only Ed25519 did:key holders are supported here')
}

const callbacks = {
  hash: (data, a) => new Uint8Array(crypto.createHash(a.replace('-', '').toLowerCase()).update(data).digest()),
  generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
  signJwt: async (signer, { header, payload }) => {
    const jwt = await new jose.SignJWT(payload).setProtectedHeader({ ...header, alg }).sign(issuerKey)
    return { jwt, signerJwk: publicJwk }
  },
  verifyJwt: async (signer, { compact }) => {
    const jwk = signer.method === 'jwk' ? signer.publicJwk : signer.method === 'did' ? didKeyJwk(signer.didUrl) : null
    if (!jwk) return { verified: false }
    try {
      await jose.compactVerify(compact, await jose.importJWK(jwk, signer.alg))
      return { verified: true, signerJwk: jwk }
    } catch {
      return { verified: false }
    }
  },
  encryptJwe: async () => { throw new Error('not used') },
  decryptJwe: async () => { throw new Error('not used') },
}

const issuer = new Openid4vciIssuer({ callbacks })
const as = new Oauth2AuthorizationServer({ callbacks })

const server = http.createServer()
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const base = `http://127.0.0.1:${server.address().port}`
const credentialIssuer = issuer.createCredentialIssuerMetadata({
  credential_issuer: base,
  credential_endpoint: base + '/credential',
  nonce_endpoint: base + '/nonce',
  display: [{ name: 'Independent Hospital' }],
  credential_configurations_supported: {
    AllergyIntoleranceCredential: {
      format: 'jwt_vc_json',
      credential_definition: { type: ['VerifiableCredential', 'AllergyIntoleranceCredential'] },
      cryptographic_binding_methods_supported: ['did:key'],
      credential_signing_alg_values_supported: ['EdDSA', 'ES256'],
      proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['EdDSA', 'ES256'] } },
    },
  },
})
const asMetadata = as.createAuthorizationServerMetadata({
  issuer: base,
  token_endpoint: base + '/token',
  'pre-authorized_grant_anonymous_access_supported': true,
})
const issuerMetadata = {
  originalDraftVersion: 'v1',
  credentialIssuer,
  authorizationServers: [asMetadata],
  knownCredentialConfigurations: issuer.getKnownCredentialConfigurationsSupported(credentialIssuer),
}

const preAuthorizedCode = crypto.randomBytes(16).toString('hex')
const txCode = String(crypto.randomInt(1000, 9999))
const { credentialOffer } = await issuer.createCredentialOffer({
  issuerMetadata,
  credentialConfigurationIds: ['AllergyIntoleranceCredential'],
  grants: { [preAuthorizedCodeGrantIdentifier]: { 'pre-authorized_code': preAuthorizedCode, tx_code: { input_mode: 'numeric', length: 4 } } },
})

const accessTokens = new Set()
const nonces = new Set()

async function body(req) {
  const chunks = []
  for await (const c of req) chunks.push(c)
  return Buffer.concat(chunks).toString()
}
function send(res, status, obj) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
  res.end(JSON.stringify(obj))
}
function requestLike(req) {
  return { method: req.method, url: base + req.url, headers: new Headers(req.headers) }
}

server.on('request', async (req, res) => {
  try {
    const path = req.url.split('?')[0]
    if (req.method === 'GET' && path === '/.well-known/openid-credential-issuer') return send(res, 200, credentialIssuer)
    if (req.method === 'GET' && path === '/.well-known/oauth-authorization-server') return send(res, 200, asMetadata)
    if (req.method === 'POST' && path === '/token') {
      const form = Object.fromEntries(new URLSearchParams(await body(req)))
      const parsed = as.parseAccessTokenRequest({ request: requestLike(req), accessTokenRequest: form })
      await as.verifyPreAuthorizedCodeAccessTokenRequest({
        authorizationServerMetadata: asMetadata, grant: parsed.grant, accessTokenRequest: parsed.accessTokenRequest,
        request: requestLike(req), expectedPreAuthorizedCode: preAuthorizedCode, expectedTxCode: txCode,
      })
      const response = await as.createAccessTokenResponse({
        authorizationServer: base, audience: base, expiresInSeconds: 300, subject: 'patient',
        signer: { method: 'jwk', publicJwk, alg },
      })
      accessTokens.add(response.access_token)
      return send(res, 200, response)
    }
    if (req.method === 'POST' && path === '/nonce') {
      const cNonce = crypto.randomBytes(16).toString('hex')
      nonces.add(cNonce)
      return send(res, 200, issuer.createNonceResponse({ cNonce, cNonceExpiresIn: 300 }))
    }
    if (req.method === 'POST' && path === '/credential') {
      const token = (req.headers.authorization ?? '').replace(/^(Bearer|DPoP) /, '')
      if (!accessTokens.delete(token)) return send(res, 401, { error: 'invalid_token' })
      const parsed = issuer.parseCredentialRequest({ issuerMetadata, credentialRequest: JSON.parse(await body(req)) })
      const jwt = parsed.proofs?.jwt?.[0] ?? parsed.proof?.jwt
      const nonce = jose.decodeJwt(jwt).nonce
      if (!nonces.delete(nonce)) return send(res, 400, { error: 'invalid_nonce' })
      const verified = await issuer.verifyCredentialRequestJwtProof({ issuerMetadata, jwt, expectedNonce: nonce })
      const holder = (verified.header.kid ?? '').split('#')[0]
      const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 60000).toISOString().replace('.000', '')
      const credential = await new jose.SignJWT({
        '@context': ['https://www.w3.org/ns/credentials/v2'],
        id: 'urn:uuid:' + crypto.randomUUID(),
        type: ['VerifiableCredential', 'AllergyIntoleranceCredential'],
        issuer: issuerDid,
        validFrom: now,
        credentialSubject: { id: holder, allergy: 'peanuts' },
      }).setProtectedHeader({ alg, typ: 'vc+jwt', cty: 'vc', kid }).sign(issuerKey)
      return send(res, 200, issuer.createCredentialResponse({ credentialRequest: parsed, credentials: [{ credential }] }))
    }
    send(res, 404, { error: 'not_found' })
  } catch (e) {
    const data = e.errorResponse ?? { error: 'invalid_request', error_description: String(e.message ?? e) }
    send(res, 400, data)
  }
})

console.log(JSON.stringify({ offer: credentialOffer, txCode }))
