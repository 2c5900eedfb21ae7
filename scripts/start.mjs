#!/usr/bin/env node
// `pnpm start`: build what is missing or stale (SPA, server), then run the server in this process's
// working directory, so data lands in ./data unless CWS_DATA_DIR says otherwise.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { serverNodeFlags } from './node-flags.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function newest(dir) {
  let t = 0
  if (!existsSync(dir))
    return t
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name === 'generated')
      continue
    const p = path.join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

function stale(output, ...inputs) {
  if (!existsSync(output))
    return true
  const built = statSync(output).mtimeMs
  return inputs.some(i => newest(i) > built)
}

function run(args) {
  const r = spawnSync('pnpm', args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
  if (r.status !== 0)
    process.exit(r.status ?? 1)
}

const web = path.join(root, 'frontend/dist/index.html')
if (stale(web, path.join(root, 'frontend/src'), path.join(root, 'frontend/public'))) {
  console.log('Building the web app…')
  run(['--filter', '@cws/frontend', 'build'])
}
const server = path.join(root, 'backend/dist/server.js')
if (stale(server, path.join(root, 'backend/src'), path.join(root, 'backend/prisma'))) {
  console.log('Building the server…')
  run(['--filter', '@cws/backend', 'build'])
}

const child = spawn(process.execPath, [...serverNodeFlags(), server], { stdio: 'inherit' })
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)))
