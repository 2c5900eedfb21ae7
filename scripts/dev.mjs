#!/usr/bin/env node
// `pnpm dev`: the server with reload (tsx watch) and Vite with HMR; Vite proxies /api to the server.
import { spawn } from 'node:child_process'
import path from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const env = { ...process.env, CWS_DATA_DIR: process.env.CWS_DATA_DIR ?? path.join(root, 'data') }
const procs = [
  spawn('pnpm', ['--filter', '@cws/backend', 'exec', 'prisma', 'generate'], { cwd: root, stdio: 'inherit', env }),
]
procs[0].on('exit', (code) => {
  if (code !== 0)
    process.exit(code ?? 1)
  procs.push(
    spawn('pnpm', ['--filter', '@cws/backend', 'dev'], { cwd: root, stdio: 'inherit', env }),
    spawn('pnpm', ['--filter', '@cws/frontend', 'dev'], { cwd: root, stdio: 'inherit', env }),
  )
  for (const p of procs.slice(1))
    p.on('exit', c => shutdown(c ?? 0))
})
function shutdown(code) {
  for (const p of procs) p.kill('SIGTERM')
  process.exit(code)
}
process.on('SIGINT', () => shutdown(0))
process.on('SIGTERM', () => shutdown(0))
