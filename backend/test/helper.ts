import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Config } from '../src/config/schema.js'
import type { PublicUser, Role } from '../src/contracts/auth.js'
import type { AdminUser } from '../src/contracts/users.js'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildApp } from '../src/app.js'
import { parseConfig } from '../src/config/load.js'

/** The first admin every test app starts with (unless the test passes its own `admin` config). */
export const ADMIN = { username: 'admin', password: 'test-admin-pass-1' } as const

export interface TestApp {
  app: FastifyInstance
  dataDir: string
  close: () => Promise<void>
}

/** A temp data dir with a real SQLite file; removed by close(). */
export function tempDataDir(prefix = 'cws-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix))
}

/**
 * Builds the real app on a fresh SQLite file. `config` is raw config (as from YAML), validated
 * through the same schema the server uses.
 */
export async function buildTestApp(config: Record<string, unknown> = {}, opts: { dataDir?: string, now?: () => Date, webDir?: string } = {}): Promise<TestApp> {
  const dataDir = opts.dataDir ?? tempDataDir()
  const cfg: Config = parseConfig({ log: { level: 'silent', file: false }, admin: { username: ADMIN.username, password: ADMIN.password }, ...config })
  const app = await buildApp({ config: cfg, dataDir, now: opts.now, webDir: opts.webDir })
  await app.ready()
  return {
    app,
    dataDir,
    close: async () => {
      await app.close()
      if (!opts.dataDir)
        rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** A logged-in session: the cookie header value and the bare token (usable as Bearer). */
export interface TestSession {
  cookie: string
  token: string
  user: PublicUser
}

/** Logs in through the real route; throws with the answer when login fails. */
export async function loginAs(app: FastifyInstance, username: string, password: string): Promise<TestSession> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } })
  if (res.statusCode !== 200)
    throw new Error(`login as ${username} failed: ${res.statusCode} ${res.body}`)
  const cookie = res.cookies.find(c => c.name === 'cws_session')
  if (!cookie)
    throw new Error('login answered 200 without a cws_session cookie')
  return { cookie: `cws_session=${cookie.value}`, token: cookie.value, user: res.json().user }
}

/** `app.inject` as the given session (cookie), or with `{ bearer }` as `Authorization: Bearer`. */
export function injectAs(app: FastifyInstance, as: TestSession | { bearer: string }, opts: InjectOptions): Promise<LightMyRequestResponse> {
  const auth = 'bearer' in as ? { authorization: `Bearer ${as.bearer}` } : { cookie: as.cookie }
  return app.inject({ ...opts, headers: { ...opts.headers, ...auth } })
}

let userSeq = 0
/**
 * Creates a member (or admin) through the users service (one scrypt hash, ~0.5 s: create few and
 * reuse them). Returns the user and the password to log in with.
 */
export async function createUser(app: FastifyInstance, fields: { username?: string, password?: string, nickname?: string, role?: Role, remark?: string } = {}): Promise<{ user: AdminUser, password: string }> {
  const password = fields.password ?? 'member-pass-1234'
  const username = fields.username ?? `member${++userSeq}`
  const user = await app.users.create({ username, password, nickname: fields.nickname, role: fields.role, remark: fields.remark })
  return { user, password }
}
