import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { serverNodeFlags } from '../../scripts/node-flags.mjs'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SERVER_JS = path.join(ROOT, 'backend/dist/server.js')
const INDEX_HTML = path.join(ROOT, 'frontend/dist/index.html')

export const ADMIN = { username: 'admin', password: 'e2e-Admin-Pass-7d1f9c' }

export interface RunningServer {
  url: string
  port: number
  dataDir: string
  /** Everything the server printed (for failure messages). */
  output: () => string
  stop: () => Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`The server exited with code ${child.exitCode} before it was healthy:\n${output()}`)
    try {
      const res = await fetch(`${url}/api/health`)
      if (res.ok)
        return
    }
    catch {
      // not listening yet
    }
    await new Promise(r => setTimeout(r, 150))
  }
  throw new Error(`The server did not answer /api/health within ${timeoutMs / 1000} s:\n${output()}`)
}

/**
 * Starts the REAL built server (`node backend/dist/server.js`) on a free port with a temporary data
 * dir and a known admin password. Call `stop()` in afterAll.
 */
export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  if (!existsSync(SERVER_JS) || !existsSync(INDEX_HTML))
    throw new Error('The browser tests need the built app. Run `pnpm build` first (`pnpm test` does it).')
  const port = await freePort()
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cws-e2e-'))
  let log = ''
  // Only our settings: no config file (cwd is the empty temp dir), no inherited PORT/HOST/CWS_*.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CWS_') && k !== 'PORT' && k !== 'HOST'))
  const child = spawn(process.execPath, [...serverNodeFlags(), SERVER_JS], {
    cwd: dataDir,
    env: {
      ...inherited,
      CWS_DATA_DIR: dataDir,
      CWS_SERVER__HOST: '127.0.0.1',
      CWS_SERVER__PORT: String(port),
      CWS_ADMIN__USERNAME: ADMIN.username,
      CWS_ADMIN__PASSWORD: ADMIN.password,
      CWS_LOG__FILE: 'false',
      CWS_LOG__LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (d: Buffer) => void (log += d.toString()))
  child.stderr?.on('data', (d: Buffer) => void (log += d.toString()))
  const url = `http://127.0.0.1:${port}`
  const output = () => log.slice(-4000)

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000)
      await exited
      clearTimeout(timer)
    }
    rmSync(dataDir, { recursive: true, force: true })
  }

  try {
    await waitForHealth(url, child, output)
  }
  catch (err) {
    await stop()
    throw err
  }
  return { url, port, dataDir, output, stop }
}

/** `startServer` with this configuration in a temporary config file (YAML is a superset of JSON). */
export async function startServerWithConfig(config: Record<string, unknown>, env: Record<string, string> = {}): Promise<RunningServer> {
  const configFile = path.join(mkdtempSync(path.join(tmpdir(), 'cws-e2e-config-')), 'config.yaml')
  writeFileSync(configFile, JSON.stringify(config))
  return startServer({ CWS_CONFIG: configFile, ...env })
}

/** Logs in through the API and returns the session cookie header value. */
export async function apiLogin(baseUrl: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  if (!res.ok)
    throw new Error(`login as ${username} failed: ${res.status} ${await res.text()}`)
  const cookie = res.headers.getSetCookie().find(c => c.startsWith('cws_session='))
  if (!cookie)
    throw new Error('login answered without a cws_session cookie')
  return cookie.split(';')[0]!
}

/** One request to the API as the admin (a fresh session), with a JSON body when one is given. */
export async function apiAsAdmin(baseUrl: string, method: string, pathname: string, body?: unknown): Promise<Response> {
  const cookie = await apiLogin(baseUrl, ADMIN.username, ADMIN.password)
  return fetch(`${baseUrl}${pathname}`, { method, headers: { Cookie: cookie, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })
}

/** Creates a member (or admin) through the admin API. */
export async function createUser(baseUrl: string, user: { username: string, password: string, nickname?: string, role?: 'admin' | 'member' }): Promise<void> {
  const cookie = await apiLogin(baseUrl, ADMIN.username, ADMIN.password)
  const res = await fetch(`${baseUrl}/api/admin/users`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Cookie': cookie },
    body: JSON.stringify(user),
  })
  if (res.status !== 201)
    throw new Error(`creating ${user.username} failed: ${res.status} ${await res.text()}`)
}
