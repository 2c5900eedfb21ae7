import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { ADMIN, buildTestApp, loginAs, tempDataDir } from './helper.js'

const run = promisify(execFile)
const cli = path.resolve(import.meta.dirname, '../src/cli.ts')
const tsx = path.resolve(import.meta.dirname, '../node_modules/.bin/tsx')

function cws(dataDir: string, ...args: string[]) {
  return run(tsx, [cli, ...args], { env: { ...process.env, CWS_DATA_DIR: dataDir, CWS_CONFIG: '' }, cwd: dataDir })
}

describe('cws reset-password (operator CLI)', () => {
  const dataDir = tempDataDir('cws-cli-')
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('sets a new password, ends old sessions, and the old password stops working', async () => {
    const t = await buildTestApp({}, { dataDir })
    const before = await loginAs(t.app, ADMIN.username, ADMIN.password)
    await t.app.close()

    const { stdout } = await cws(dataDir, 'reset-password', 'admin')
    const generated = /New password of "admin": (\S+)/.exec(stdout)?.[1]
    expect(generated).toBeTruthy()

    const again = await buildTestApp({}, { dataDir })
    try {
      const old = await again.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: before.cookie } })
      expect(old.statusCode).toBe(401)
      const wrong = await again.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: ADMIN.password } })
      expect(wrong.statusCode).toBe(401)
      const ok = await again.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: generated } })
      expect(ok.statusCode).toBe(200)
    }
    finally {
      await again.app.close()
    }
  }, 60_000)

  it('refuses an unknown user and a weak password with a clear message and a non-zero exit', async () => {
    await expect(cws(dataDir, 'reset-password', 'nobody')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('No user named "nobody"') })
    await expect(cws(dataDir, 'reset-password', 'admin', '--password', 'password')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/too common/) })
    await expect(cws(dataDir, 'frobnicate')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage') })
  }, 60_000)
})
