import { readFileSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import process from 'node:process'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { buildTestApp, injectAs, loginAs, tempDataDir } from './helper.js'

/** What the server writes to stdout while `fn` runs (the real stream, observed, not replaced). */
async function stdoutDuring<T>(fn: () => Promise<T>): Promise<{ out: string, value: T }> {
  const chunks: string[] = []
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString())
    return true
  }) as typeof process.stdout.write)
  try {
    const value = await fn()
    return { out: chunks.join(''), value }
  }
  finally {
    spy.mockRestore()
  }
}

describe('first start', () => {
  const dirs: string[] = []
  let dir: string
  beforeEach(() => {
    dir = tempDataDir()
    dirs.push(dir)
  })
  afterEach(() => vi.restoreAllMocks())
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('generates the admin password, prints it once to stdout, never again; the JWT secret is kept in a 0600 file', async () => {
    const first = await stdoutDuring(() => buildTestApp({ admin: {} }, { dataDir: dir }))
    const m = /username: (\S+)\n\s+password: (\S+)\n/.exec(first.out)
    expect(m, first.out).not.toBeNull()
    const [, username, password] = m!
    expect(username).toBe('admin')
    expect(password!.length).toBeGreaterThanOrEqual(16)
    expect(first.out).toContain('shown only this once')

    const secretFile = path.join(dir, 'jwt_secret')
    expect(statSync(secretFile).mode & 0o777).toBe(0o600)
    const secret = readFileSync(secretFile, 'utf8').trim()
    expect(secret.length).toBeGreaterThanOrEqual(43) // 32 random bytes, base64url

    const session = await loginAs(first.value.app, username!, password!)
    expect(session.user.role).toBe('admin')
    await first.value.close()

    // Second start on the same data dir: no banner, same secret, the session survives the restart.
    const second = await stdoutDuring(() => buildTestApp({ admin: {} }, { dataDir: dir }))
    try {
      expect(second.out).not.toContain(password)
      expect(second.out).not.toContain('first admin')
      expect(readFileSync(secretFile, 'utf8').trim()).toBe(secret)
      expect((await injectAs(second.value.app, session, { method: 'GET', url: '/api/me' })).statusCode).toBe(200)
      expect(await second.value.app.db.user.count()).toBe(1)
    }
    finally {
      await second.value.close()
    }
  })

  it('uses admin.username / admin.password from the config and prints nothing', async () => {
    const { out, value: t } = await stdoutDuring(() => buildTestApp({ admin: { username: 'Boss', password: 'a-long-config-passphrase' } }, { dataDir: dir }))
    try {
      expect(out).not.toContain('a-long-config-passphrase')
      expect(out).not.toContain('first admin')
      const s = await loginAs(t.app, 'boss', 'a-long-config-passphrase')
      expect(s.user).toMatchObject({ username: 'boss', role: 'admin' })
    }
    finally {
      await t.close()
    }
  })

  it('refuses to start with a common admin.password', async () => {
    await expect(buildTestApp({ admin: { password: 'password123' } }, { dataDir: dir })).rejects.toThrow(/admin\.password.*too common/)
  })
})
