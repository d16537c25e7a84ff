// An independent wallet (@openid4vc/openid4vp) parses and resolves a medid
// verifier's OpenID4VP request: by reference with a signed request object
// (decentralized_identifier:), or by value unsigned (redirect_uri:). The
// JWT signature is checked with jose against the verifier's public JWK
// (what a DID resolver would give the wallet for did:key). With "dcql" as
// the third argument, the DCQL query is then parsed and validated by dcql
// (OpenWallet Foundation dcql-ts, the DCQL library of oid4vc-ts wallets)
// and printed as it parsed it (dcql-ts knows no vc+jwt format, medid's
// label for VC 2.0 JOSE credentials, so it is for dc+sd-jwt queries).
// usage: node openid4vp_wallet.mjs URI VERIFIER_JWK_FILE [dcql]
import { Openid4vpClient } from '@openid4vc/openid4vp'
import { DcqlQuery } from 'dcql'
import * as jose from 'jose'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'

const [uri, jwkFile, mode] = process.argv.slice(2)
const jwk = JSON.parse(readFileSync(jwkFile, 'utf8'))
let signerDidUrl = null
const client = new Openid4vpClient({
  callbacks: {
    fetch,
    hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
    verifyJwt: async (signer, { compact }) => {
      if (signer.method !== 'did') return { verified: false }
      signerDidUrl = signer.didUrl
      try {
        await jose.compactVerify(compact, await jose.importJWK(jwk, signer.alg))
        return { verified: true, signerJwk: jwk }
      } catch (e) {
        return { verified: false }
      }
    },
  },
})
try {
  const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: uri })
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params })
  let dcql = resolved.dcql?.query ?? null
  if (mode === 'dcql') {
    dcql = DcqlQuery.parse(resolved.dcql.query)
    DcqlQuery.validate(dcql)
  }
  console.log(JSON.stringify({
    prefix: resolved.client.prefix,
    identifier: resolved.client.identifier,
    didUrl: resolved.client.didUrl ?? null,
    signerDidUrl,
    signed: resolved.jar !== undefined,
    nonce: resolved.authorizationRequestPayload.nonce,
    responseUri: resolved.authorizationRequestPayload.response_uri,
    dcql,
  }))
} catch (e) {
  console.error(String(e?.message ?? e), JSON.stringify(e?.errorResponse ?? {}))
  process.exit(1)
}
