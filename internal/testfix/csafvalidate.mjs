// Runs the CSAF TC's reference validator (@secvisogram/csaf-validator-lib) on CSAF 2.0 documents: the strict
// schema test and every mandatory test. Usage: node csafvalidate.mjs LIBDIR FILE...; prints one JSON line per file,
// {"file", "isValid", "errors": [{"test", "instancePath", "message"}]}, and exits 0 (the Go test judges).
// It calls lib/validate.js, which validateStrict.js wraps: the wrapper only refuses test functions from outside the
// library (these are all the library's), and importing it compiles the JSON type definitions of every optional and
// informative test too, which is three quarters of the run's CPU time (about 10 of 13 s).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [lib, ...files] = process.argv.slice(2)
const load = (m) => import(pathToFileURL(join(lib, m)).href)
const validate = (await load('lib/validate.js')).default
const mandatory = await load('mandatoryTests.js')
const schema = await load('schemaTests.js')
const tests = [schema.csaf_2_0_strict, ...Object.values(mandatory)]

for (const file of files) {
  const doc = JSON.parse(readFileSync(file, 'utf8'))
  const res = await validate(tests, doc)
  const errors = []
  for (const t of res.tests) {
    for (const e of t.errors ?? []) errors.push({ test: t.name, instancePath: e.instancePath, message: e.message })
  }
  console.log(JSON.stringify({ file, isValid: res.isValid, errors }))
}
