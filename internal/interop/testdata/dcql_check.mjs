// dcql-ts (OpenWallet Foundation, npm dcql) reads DCQL queries: for each
// query (one JSON per line on stdin) it prints one JSON line: {"ok": true,
// "multiple": [...], "trusted_authorities": [...]} as it parsed and
// validated the query (per credential query), or {"ok": false, "error":
// "..."}. With a "presentation" member beside "query" ({id: [claims...]},
// decoded dc+sd-jwt payloads), it also says whether that presentation
// satisfies the query (DcqlPresentationResult), as {"satisfied": bool}.
import readline from 'node:readline'
import { DcqlQuery, DcqlPresentationResult } from 'dcql'

const rl = readline.createInterface({ input: process.stdin })
for await (const line of rl) {
  if (!line.trim()) continue
  const { query, presentation } = JSON.parse(line)
  const out = {}
  try {
    const q = DcqlQuery.parse(query)
    DcqlQuery.validate(q)
    out.ok = true
    out.multiple = q.credentials.map((c) => c.multiple)
    out.trusted_authorities = q.credentials.map((c) => c.trusted_authorities ?? null)
    if (presentation) {
      try {
        const dp = {}
        for (const [id, list] of Object.entries(presentation)) {
          dp[id] = list.map((claims) => ({ credential_format: 'dc+sd-jwt', vct: claims.vct, claims, cryptographic_holder_binding: true }))
        }
        const r = DcqlPresentationResult.fromDcqlPresentation(dp, { dcqlQuery: q })
        out.satisfied = r.can_be_satisfied
        DcqlPresentationResult.validate(r)
      } catch (e) {
        out.satisfied = false
        out.presentation_error = String(e?.message ?? e).slice(0, 300)
      }
    }
  } catch (e) {
    out.ok = false
    out.error = String(e?.message ?? e).slice(0, 300)
  }
  console.log(JSON.stringify(out))
}
