// An independent OpenID4VCI wallet: @openid4vc/openid4vci (OpenWallet
// Foundation oid4vc-ts) with jose for the keys and signatures. It redeems
// a pre-authorized code offer from medid's issuer, proving possession of a
// fresh Ed25519 key given as a jwk, and verifies the credential it gets
// with jose against the issuer's public key.
//
// usage: node openid4vci_client.mjs OFFER_URI TX_CODE ISSUER_PUBLIC_JWK_FILE [dc+sd-jwt]
// prints {"credential": ..., "holderJwk": ..., "payload": ...} on success.
// With dc+sd-jwt the offered configuration must be of that format; jose
// verifies the issuer-signed JWT (typ dc+sd-jwt) and the payload printed
// is its (undisclosed) claim set.
import { readFileSync } from 'node:fs'
import crypto from 'node:crypto'
import { Openid4vciClient } from '@openid4vc/openid4vci'
import { setGlobalConfig, clientAuthenticationAnonymous } from '@openid4vc/oauth2'
import * as jose from 'jose'

// medid's test issuer listens on plain http on loopback.
setGlobalConfig({ allowInsecureUrls: true })

const [offerUri, txCode, issuerJwkFile, mode] = process.argv.slice(2)
const { publicKey, privateKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519' })
const holderJwk = await jose.exportJWK(publicKey)

const callbacks = {
  hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
  generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
  clientAuthentication: clientAuthenticationAnonymous(),
  signJwt: async (signer, { header, payload }) => {
    const jwt = await new jose.SignJWT(payload).setProtectedHeader(header).sign(privateKey)
    return { jwt, signerJwk: holderJwk }
  },
  verifyJwt: async () => { throw new Error('not needed by this wallet') },
  encryptJwe: async () => { throw new Error('not needed') },
  decryptJwe: async () => { throw new Error('not needed') },
}

const client = new Openid4vciClient({ callbacks })
const offer = await client.resolveCredentialOffer(offerUri)
const metadata = await client.resolveIssuerMetadata(offer.credential_issuer)
const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
  credentialOffer: offer,
  issuerMetadata: metadata,
  txCode: txCode === '-' ? undefined : txCode,
})
const { c_nonce } = await client.requestNonce({ issuerMetadata: metadata })
const configId = offer.credential_configuration_ids[0]
const format = metadata.credentialIssuer.credential_configurations_supported[configId].format
if (mode === 'dc+sd-jwt' && format !== 'dc+sd-jwt') throw new Error(`configuration ${configId} is ${format}`)
const { jwt } = await client.createCredentialRequestJwtProof({
  issuerMetadata: metadata,
  credentialConfigurationId: configId,
  signer: { method: 'jwk', publicJwk: holderJwk, alg: 'EdDSA' },
  nonce: c_nonce,
})
const res = await client.retrieveCredentials({
  issuerMetadata: metadata,
  accessToken: accessTokenResponse.access_token,
  credentialConfigurationId: configId,
  proofs: { jwt: [jwt] },
})
if (!res.ok) {
  console.error(JSON.stringify(res.credentialErrorResponseResult?.data ?? res))
  process.exit(1)
}
const credential = res.credentialResponse.credentials[0].credential

// An independent check of the credential: jose verifies it with the
// issuer's public key, and it must be bound to our key.
const issuerJwk = JSON.parse(readFileSync(issuerJwkFile, 'utf8'))
const issuerKey = await jose.importJWK(issuerJwk, issuerJwk.kty === 'OKP' ? 'EdDSA' : 'ES256')
const { payload, protectedHeader } = mode === 'dc+sd-jwt'
  ? await jose.jwtVerify(credential.split('~')[0], issuerKey, { typ: 'dc+sd-jwt' })
  : await jose.jwtVerify(credential, issuerKey, { typ: 'vc+jwt' })
console.log(JSON.stringify({ credential, holderJwk, payload, header: protectedHeader }))
