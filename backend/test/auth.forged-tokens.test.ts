/**
 * The eight forged or dead session tokens of issue #15 §2, each refused with 401 on a real route,
 * as Bearer and as the cookie, while the genuine token of the same member keeps working.
 */
import type { TestApp, TestSession } from './helper.js'
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, buildTestApp, createUser, injectAs, loginAs } from './helper.js'

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')

/** A JWT built by hand (the real wire format), signed HMAC-SHA256 with `key`, or unsigned. */
function forge(header: Record<string, unknown>, payload: Record<string, unknown>, key: string | null): string {
  const data = `${b64(header)}.${b64(payload)}`
  return `${data}.${key === null ? '' : createHmac('sha256', key).update(data).digest('base64url')}`
}

const claims = (token: string): Record<string, any> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
const HS256 = { alg: 'HS256', typ: 'JWT' }

describe('forged tokens: the 8 variants', () => {
  let t: TestApp
  let other: TestApp
  /** The secret this instance generated for itself (`<dataDir>/jwt_secret`): tokens signed with it are genuine. */
  let secret: string
  let member: TestSession
  let refused = 0

  beforeAll(async () => {
    // Both instances generate their own secret, as a fresh install does.
    ;[t, other] = await Promise.all([buildTestApp(), buildTestApp()])
    secret = readFileSync(path.join(t.dataDir, 'jwt_secret'), 'utf8').trim()
    const m = await createUser(t.app, { username: 'forge-member' })
    member = await loginAs(t.app, 'forge-member', m.password)
  })
  afterAll(async () => {
    console.log(`forged tokens: ${refused} of 8 refused`)
    await Promise.all([t.close(), other.close()])
  })

  const me = (headers: Record<string, string>) => t.app.inject({ method: 'GET', url: '/api/me', headers })

  /** Refused as Bearer and as the cookie (which is then cleared); the genuine token still works. */
  async function expectRefused(token: string): Promise<void> {
    const viaBearer = await me({ authorization: `Bearer ${token}` })
    expect(viaBearer.statusCode).toBe(401)
    expect(viaBearer.json().code).toMatch(/^(UNAUTHORIZED|SESSION_EXPIRED)$/)
    const viaCookie = await me({ cookie: `cws_session=${token}` })
    expect(viaCookie.statusCode).toBe(401)
    expect(String(viaCookie.headers['set-cookie'])).toMatch(/^cws_session=;/)
    refused++
  }

  it('the control: a token signed with this instance\'s secret is accepted', async () => {
    const now = Math.floor(Date.now() / 1000)
    const resigned = forge(HS256, { ...claims(member.token), iat: now }, secret)
    expect((await me({ authorization: `Bearer ${resigned}` })).statusCode).toBe(200)
  })

  it('1. alg none (unsigned, or with the real signature kept)', async () => {
    await expectRefused(forge({ alg: 'none', typ: 'JWT' }, claims(member.token), null))
    const [, p, s] = member.token.split('.')
    expect((await me({ authorization: `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${p}.${s}` })).statusCode).toBe(401)
  })

  it('2. the right claims signed with a wrong key', async () => {
    await expectRefused(forge(HS256, claims(member.token), 'a-wrong-key-a-wrong-key-a-wrong-key-0000'))
  })

  it('3. expired (signed with the real secret)', async () => {
    const now = Math.floor(Date.now() / 1000)
    await expectRefused(forge(HS256, { ...claims(member.token), iat: now - 7200, exp: now - 1 }, secret))
  })

  it('4. no exp (signed with the real secret)', async () => {
    const { exp: _exp, ...rest } = claims(member.token)
    await expectRefused(forge(HS256, rest, secret))
  })

  it('5. tampered payload (sub → the admin) with the original signature', async () => {
    const admin = await t.app.db.user.findUniqueOrThrow({ where: { username: ADMIN.username } })
    const [h, , s] = member.token.split('.')
    await expectRefused(`${h}.${b64({ ...claims(member.token), sub: String(admin.id) })}.${s}`)
  })

  it('6. a deleted session: ended by logout (row revoked), or its row gone altogether', async () => {
    const m = await createUser(t.app, { username: 'forge-logout' })
    const s = await loginAs(t.app, 'forge-logout', m.password)
    expect((await me({ cookie: s.cookie })).statusCode).toBe(200)
    expect((await injectAs(t.app, s, { method: 'POST', url: '/api/auth/logout' })).statusCode).toBeLessThan(300)
    expect((await t.app.db.session.findUniqueOrThrow({ where: { id: claims(s.token).sid } })).revokedAt).not.toBeNull()
    await expectRefused(s.token)
    const gone = await loginAs(t.app, 'forge-logout', m.password)
    expect((await me({ cookie: gone.cookie })).statusCode).toBe(200)
    await t.app.db.session.delete({ where: { id: claims(gone.token).sid } })
    expect((await me({ authorization: `Bearer ${gone.token}` })).statusCode).toBe(401)
  })

  it('7. a disabled member (the session row may remain; the member may not)', async () => {
    const m = await createUser(t.app, { username: 'forge-disabled' })
    const s = await loginAs(t.app, 'forge-disabled', m.password)
    const admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
    const res = await injectAs(t.app, admin, { method: 'PATCH', url: `/api/admin/users/${m.user.id}`, payload: { enabled: false } })
    expect(res.statusCode).toBe(200)
    await expectRefused(s.token)
  })

  it('8. a genuine token of another instance (its own generated key), and our claims signed with that key', async () => {
    const m = await createUser(other.app, { username: 'forge-member' })
    const foreign = await loginAs(other.app, 'forge-member', m.password)
    expect((await other.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: foreign.cookie } })).statusCode).toBe(200)
    await expectRefused(foreign.token)
    const otherSecret = readFileSync(path.join(other.dataDir, 'jwt_secret'), 'utf8').trim()
    expect(otherSecret).not.toBe(secret)
    expect((await me({ authorization: `Bearer ${forge(HS256, claims(member.token), otherSecret)}` })).statusCode).toBe(401)
  })

  it('after all that, the genuine token still works', async () => {
    expect((await me({ cookie: member.cookie })).statusCode).toBe(200)
    expect(refused).toBe(8)
  })
})
