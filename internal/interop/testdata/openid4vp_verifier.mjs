// An independent OpenID4VP verifier: @openid4vc/openid4vp (OpenWallet
// Foundation oid4vc-ts) builds a DCQL authorization request for one claim
// of an SD-JWT VC (passed by value, client id prefix redirect_uri:, response
// mode direct_post), receives the wallet's response on loopback, validates
// it with oid4vc-ts, and verifies the SD-JWT+KB with @sd-jwt/sd-jwt-vc
// (issuer signature, Disclosures, KB-JWT nonce and audience) of every
// credential in it; then dcql (OpenWallet Foundation dcql-ts) checks that
// what arrived satisfies the query: every required credential set (or every
// credential query, without credential_sets) and the asked claims.
//
// usage: node openid4vp_verifier.mjs ISSUER_PUBLIC_JWK_FILE VCT QUERY_JSON
// QUERY_JSON is one claims path (a JSON array), a JSON object with the
// "claims" and "claim_sets" of one credential query "allergy" for VCT, or a
// whole DCQL query (an object with "credentials", VCT unused).
// prints the request URI on the first line of stdout, then, once the
// wallet has answered, one JSON line {"claims": ..., "kb": ...,
// "presented": {id: claims}, "every": {id: [claims...]}, "credential_sets":
// [...]} where claims and kb are those of "allergy", presented the first
// credential's of each query and every all of them (several for a query
// with multiple, which dcql-ts checks the query allows).
import http from 'node:http'
import crypto from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createOpenid4vpAuthorizationRequest, validateOpenid4vpAuthorizationResponsePayload } from '@openid4vc/openid4vp'
import { setGlobalConfig } from '@openid4vc/oauth2'
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc'
import { digest, ES256 } from '@sd-jwt/crypto-nodejs'
import { DcqlQuery, DcqlPresentationResult } from 'dcql'

setGlobalConfig({ allowInsecureUrls: true })

const [issuerJwkFile, vct, pathJSON] = process.argv.slice(2)
const issuerJwk = JSON.parse(readFileSync(issuerJwkFile, 'utf8'))
const verifierFor = async (jwk) => {
  if (jwk.kty === 'EC') return ES256.getVerifier(jwk)
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' })
  return async (data, sig) => crypto.verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'))
}

const claimsOf = (q) => (Array.isArray(q) ? { claims: [{ path: q }] } : q)
const queryArg = JSON.parse(pathJSON)
const dcqlQuery = queryArg.credentials
  ? queryArg
  : { credentials: [{ id: 'allergy', format: 'dc+sd-jwt', meta: { vct_values: [vct] }, ...claimsOf(queryArg) }] }
DcqlQuery.validate(DcqlQuery.parse(dcqlQuery))

const server = http.createServer()
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const base = `http://127.0.0.1:${server.address().port}`
const responseUri = `${base}/response`
const nonce = crypto.randomBytes(16).toString('base64url')
const state = crypto.randomBytes(16).toString('base64url')

const unused = async () => { throw new Error('not needed: the request is passed by value, unsigned') }
const { authorizationRequest, authorizationRequestPayload } = await createOpenid4vpAuthorizationRequest({
  authorizationRequestPayload: {
    response_type: 'vp_token',
    client_id: `redirect_uri:${responseUri}`,
    response_uri: responseUri,
    response_mode: 'direct_post',
    nonce,
    state,
    dcql_query: dcqlQuery,
    client_metadata: { client_name: 'Independent ER', vp_formats_supported: { 'dc+sd-jwt': { 'sd-jwt_alg_values': ['ES256', 'EdDSA'], 'kb-jwt_alg_values': ['ES256', 'EdDSA'] } } },
  },
  callbacks: { signJwt: unused, encryptJwe: unused },
})
console.log(authorizationRequest)

server.on('request', (req, res) => {
  let body = ''
  req.on('data', (c) => { body += c })
  req.on('end', async () => {
    try {
      if (req.method !== 'POST' || req.url !== '/response') throw new Error(`unexpected ${req.method} ${req.url}`)
      const form = new URLSearchParams(body)
      const result = validateOpenid4vpAuthorizationResponsePayload({
        authorizationRequestPayload,
        authorizationResponsePayload: { vp_token: JSON.parse(form.get('vp_token')), state: form.get('state') },
      })
      if (result.type !== 'dcql') throw new Error(`response type ${result.type}`)
      const sd = new SDJwtVcInstance({
        hasher: digest,
        verifier: await verifierFor(issuerJwk),
        kbVerifier: async (data, sig, payload) => (await verifierFor(payload.cnf.jwk))(data, sig),
      })
      const presented = {}
      const kbs = {}
      const dcqlPresentation = {}
      const every = {}
      for (const [id, entries] of Object.entries(result.dcql.presentations)) {
        dcqlPresentation[id] = []
        every[id] = []
        for (const entry of entries) {
          const v = await sd.verify(entry, { keyBindingNonce: nonce })
          if (v.kb?.payload?.aud !== authorizationRequestPayload.client_id) throw new Error(`KB-JWT aud ${v.kb?.payload?.aud}`)
          presented[id] ??= v.payload
          kbs[id] ??= v.kb.payload
          every[id].push(v.payload)
          dcqlPresentation[id].push({ credential_format: 'dc+sd-jwt', vct: v.payload.vct, claims: v.payload, cryptographic_holder_binding: true })
        }
      }
      const satisfied = DcqlPresentationResult.validate(DcqlPresentationResult.fromDcqlPresentation(dcqlPresentation, { dcqlQuery }))
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      console.log(JSON.stringify({ claims: presented.allergy ?? null, kb: kbs.allergy ?? null, presented, every, credential_sets: satisfied.credential_sets ?? null }))
    } catch (e) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_request', error_description: String(e) }))
      console.error(e?.stack ?? String(e))
      process.exitCode = 1
    }
    server.close()
  })
})
