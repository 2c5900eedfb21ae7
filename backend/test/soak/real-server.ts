/**
 * The REAL built server (`node backend/dist/server.js`) as a child process, for the fault suites
 * that kill it, stop it or read its output: a config file and data dir of the suite's choosing
 * (kept across restarts), everything it prints kept, and its exit awaited.
 */
import type { ChildProcess } from 'node:child_process'
import type { TestSession } from '../helper.js'
import { spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { serverNodeFlags } from '../../../scripts/node-flags.mjs'

export const BACKEND = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SERVER_JS = path.join(BACKEND, 'dist/server.js')

export const SOAK_ADMIN = { username: 'admin', password: 'soak-Admin-Pass-4e2a91' }

export interface RealServer {
  url: string
  child: ChildProcess
  /** Everything the server printed so far (stdout and stderr). */
  output: () => string
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** SIGTERM, then SIGKILL after 10 s; resolves when it exited. */
  stop: () => Promise<void>
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0))
    })
  })
}

/** Starts the built server on `dataDir` with `config` (written as its config.yaml); resolves once /api/health answers. */
export async function startRealServer(dataDir: string, config: Record<string, unknown>, env: Record<string, string> = {}): Promise<RealServer> {
  if (!existsSync(SERVER_JS))
    throw new Error('The soak suites need the built server. Run `pnpm build` first (`pnpm test` does it).')
  const port = await freePort()
  const configFile = path.join(dataDir, 'config.yaml')
  writeFileSync(configFile, JSON.stringify(config))
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CWS_') && k !== 'PORT' && k !== 'HOST'))
  const child = spawn(process.execPath, [...serverNodeFlags(), SERVER_JS], {
    cwd: dataDir,
    env: {
      ...inherited,
      CWS_CONFIG: configFile,
      CWS_DATA_DIR: dataDir,
      CWS_SERVER__HOST: '127.0.0.1',
      CWS_SERVER__PORT: String(port),
      CWS_ADMIN__USERNAME: SOAK_ADMIN.username,
      CWS_ADMIN__PASSWORD: SOAK_ADMIN.password,
      CWS_LOG__FILE: 'false',
      CWS_LOG__LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  child.stdout!.on('data', (d: Buffer) => void (log += d.toString()))
  child.stderr!.on('data', (d: Buffer) => void (log += d.toString()))
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.once('exit', (code, signal) => resolve({ code, signal })))
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
  }
  const deadline = Date.now() + 30_000
  while (true) {
    if (child.exitCode !== null)
      throw new Error(`The server exited with code ${child.exitCode} before it was healthy:\n${log.slice(-4000)}`)
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`The server did not answer /api/health within 30 s:\n${log.slice(-4000)}`)
    }
    try {
      if ((await fetch(`${url}/api/health`)).ok)
        break
    }
    catch {
      // not listening yet
    }
    await new Promise(r => setTimeout(r, 100))
  }
  return { url, child, output: () => log, exited, stop }
}

/** Logs in through the real route (a session usable by the chat helpers). */
export async function loginReal(url: string, username: string, password: string): Promise<TestSession> {
  const res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })
  if (!res.ok)
    throw new Error(`login as ${username} failed: ${res.status} ${await res.text()}`)
  const cookie = res.headers.getSetCookie().find(c => c.startsWith('cws_session='))!.split(';')[0]!
  return { cookie, token: cookie.slice('cws_session='.length), user: ((await res.json()) as { user: TestSession['user'] }).user }
}
