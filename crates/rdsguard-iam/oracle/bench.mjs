// Throughput of the oracle (@cloud-copilot/iam-simulate) on the engine benchmark's realistic
// request (24 policies, rds:DeleteDBInstance), for the ratio reported in BENCHMARKS.md.
// Usage: node bench.mjs [iterations]
import { runSimulation } from '@cloud-copilot/iam-simulate'

const ACCT = '111122223333'
const template = (id) => {
  switch (id % 8) {
    case 0: return { Version: '2012-10-17', Statement: [{ Sid: `Read${id}`, Effect: 'Allow', Action: ['rds:Describe*', 'rds:ListTagsForResource', 'ec2:Describe*', 'cloudwatch:GetMetricData'], Resource: '*' }] }
    case 1: return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'rds:*', Resource: [`arn:aws:rds:*:${ACCT}:db:app${id}-*`, `arn:aws:rds:*:${ACCT}:snapshot:app${id}-*`] }, { Effect: 'Deny', Action: 'rds:Delete*', Resource: '*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } }] }
    case 2: return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['rds:Modify*', 'rds:Reboot*', 'rds:Start*', 'rds:Stop*'], Resource: '*', Condition: { StringEquals: { 'rds:db-tag/team': '${aws:PrincipalTag/team}' } } }, { Effect: 'Allow', Action: 'rds:AddTagsToResource', Resource: '*', Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env', `cost${id}`] } } }] }
    case 3: return { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': [`10.${id % 250}.0.0/16`, '192.0.2.0/24', '2001:db8::/32'] }, Bool: { 'aws:ViaAWSService': 'false' } } }] }
    case 4: return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*', 'kms:DescribeKey'], Resource: `arn:aws:kms:us-east-1:${ACCT}:key/k${id}`, Condition: { StringEquals: { 'kms:ViaService': 'rds.us-east-1.amazonaws.com' } } }] }
    case 5: return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', NotAction: ['iam:*', 'organizations:*', 'account:*'], Resource: '*', Condition: { DateLessThan: { 'aws:CurrentTime': `2027-0${1 + (id % 9)}-01T00:00:00Z` } } }] }
    case 6: return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::bucket-${id}/*` }, { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::bucket-${id}` }] }
    default: return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['rds:CreateDBInstance', 'rds:CreateDBSnapshot'], Resource: `arn:aws:rds:us-east-1:${ACCT}:db:svc${id}`, Condition: { Bool: { 'rds:StorageEncrypted': 'true' }, StringLike: { 'aws:userid': 'AIDA*' } } }] }
  }
}
const simulation = (n) => ({
  request: {
    principal: `arn:aws:iam::${ACCT}:user/alice`,
    action: 'rds:DeleteDBInstance',
    resource: { resource: `arn:aws:rds:us-east-1:${ACCT}:db:orders`, accountId: ACCT },
    contextVariables: { 'aws:SourceIp': '10.3.4.5', 'aws:MultiFactorAuthPresent': 'true', 'aws:PrincipalTag/team': 'payments', 'rds:db-tag/team': 'payments', 'aws:CurrentTime': '2026-06-01T00:00:00Z' }
  },
  identityPolicies: Array.from({ length: n }, (_, i) => ({ name: `p${i}`, policy: template(i) })),
  serviceControlPolicies: [],
  resourceControlPolicies: []
})
const iterations = Number(process.argv[2] || 2000)
for (const n of [24, 6]) {
  const sim = simulation(n)
  let result
  for (let i = 0; i < 50; i++) result = await runSimulation(sim, {})
  const start = process.cpuUsage()
  for (let i = 0; i < iterations; i++) result = await runSimulation(sim, {})
  const used = process.cpuUsage(start)
  const seconds = (used.user + used.system) / 1e6
  console.log(`${n} policies: ${result.overallResult}, ${(iterations / seconds).toFixed(0)} evaluations/s of CPU time (${iterations} runs)`)
}
