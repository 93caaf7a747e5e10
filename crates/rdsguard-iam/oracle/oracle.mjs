// Differential-test oracle for rdsguard-iam: evaluates a batch of requests with
// @cloud-copilot/iam-simulate (AGPL-3.0-or-later), run as a separate process only; it is never
// bundled with or linked into rdsguard.
//
// Usage: node oracle.mjs cases.jsonl > answers.jsonl
// Each input line uses rdsguard's batch format (see crates/rdsguard-iam/src/simulate.rs):
//   {"id", "identityPolicies", "permissionBoundaries", "scpLevels", "rcpLevels",
//    "sessionPolicy", "resourcePolicy", "request": {"principal", "action", "resource",
//    "resourceAccount", "context"}}
// Each output line: {"id", "decision": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | null,
//                    "error": null | string}
import { readFileSync } from 'node:fs'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const path = process.argv[2]
if (!path) {
  console.error('usage: node oracle.mjs cases.jsonl')
  process.exit(2)
}
const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim().length > 0)

const named = (prefix, list) => (list || []).map((policy, i) => ({ name: `${prefix}-${i}`, policy }))
const levels = (prefix, list) =>
  (list || []).map((level, i) => ({ orgIdentifier: `${prefix}-level-${i}`, policies: named(`${prefix}-${i}`, level) }))

const accountOf = (arn) => {
  const parts = arn.split(':')
  return parts.length >= 5 ? parts[4] : ''
}

const out = []
for (const line of lines) {
  let c
  try {
    c = JSON.parse(line)
  } catch (e) {
    out.push(JSON.stringify({ id: null, decision: null, error: `bad input line: ${e}` }))
    continue
  }
  const r = c.request
  const principalAccount = r.principal.startsWith('arn:') ? accountOf(r.principal) : ''
  const resourceAccount = r.resourceAccount || (r.resource === '*' ? '' : accountOf(r.resource)) || principalAccount
  const pbs = named('boundary', c.permissionBoundaries)
  const simulation = {
    request: {
      principal: r.principal,
      action: r.action,
      resource: { resource: r.resource, accountId: resourceAccount },
      contextVariables: r.context || {}
    },
    identityPolicies: named('identity', c.identityPolicies),
    serviceControlPolicies: levels('scp', c.scpLevels),
    resourceControlPolicies: levels('rcp', c.rcpLevels),
    resourcePolicy: c.resourcePolicy || undefined,
    permissionBoundaryPolicies: pbs.length > 0 ? pbs : undefined,
    sessionPolicy: c.sessionPolicy || undefined
  }
  try {
    const result = await runSimulation(simulation, {})
    if (result.resultType === 'error') {
      out.push(JSON.stringify({ id: c.id, decision: null, error: JSON.stringify(result.errors) }))
    } else {
      out.push(JSON.stringify({ id: c.id, decision: result.overallResult, error: null }))
    }
  } catch (e) {
    out.push(JSON.stringify({ id: c.id, decision: null, error: `oracle exception: ${e}` }))
  }
}
process.stdout.write(out.join('\n') + '\n')
