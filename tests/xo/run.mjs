#!/usr/bin/env node
// ctest entry point: node run.mjs BUILD_DIR
// Exits 77 (skipped) when node_modules is missing (run `npm ci` in tests/xo first).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
if (!fs.existsSync(path.join(here, 'node_modules', 'xen-api', 'package.json'))) {
  console.error('SKIP: tests/xo/node_modules is missing; run `npm ci` in tests/xo (tools/test.sh does it)')
  process.exit(77)
}
const env = { ...process.env }
if (process.argv[2] && env.XG_BUILD_DIR === undefined) env.XG_BUILD_DIR = process.argv[2]
// --test-force-exit exists from Node 20.14 / 22 (Debian 12's apt nodejs is 18.19)
const [major, minor] = process.versions.node.split('.').map(Number)
const flags = ['--test', '--test-reporter=spec']
if (major > 22 || (major === 20 && minor >= 14) || major === 22) flags.push('--test-force-exit')
const r = spawnSync(process.execPath, [...flags, path.join(here, 'xo.test.mjs'), path.join(here, 'xo_session.test.mjs')],
  { env, stdio: 'inherit', cwd: here })
process.exit(r.status ?? 1)
