import type { TestApp, TestSession } from './helper.js'
import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, buildTestApp, createUser, injectAs, loginAs } from './helper.js'

const SECRET = `${'k'.repeat(20)}test-secret-0123456789`

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')

/** A JWT built by hand (the real wire format), signed HMAC-SHA256/512 with `key`, or unsigned. */
function forge(header: Record<string, unknown>, payload: Record<string, unknown>, key: string | null, hash: 'sha256' | 'sha512' = 'sha256'): string {
  const data = `${b64(header)}.${b64(payload)}`
  const sig = key === null ? '' : createHmac(hash, key).update(data).digest('base64url')
  return `${data}.${sig}`
}

function claims(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
}

describe('session tokens', () => {
  let t: TestApp
  let member: TestSession
  let memberId: number
  beforeAll(async () => {
    t = await buildTestApp({ auth: { jwt_secret: SECRET } })
    const m = await createUser(t.app, { username: 'tok-member' })
    memberId = m.user.id
    member = await loginAs(t.app, 'tok-member', m.password)
  })
  afterAll(() => t.close())

  const me = (headers: Record<string, string>) => t.app.inject({ method: 'GET', url: '/api/me', headers })

  it('carries an HS256 JWT naming the session and the user, with exp at the session\'s absolute end', () => {
    const header = JSON.parse(Buffer.from(member.token.split('.')[0]!, 'base64url').toString())
    expect(header.alg).toBe('HS256')
    const c = claims(member.token)
    expect(c.sub).toBe(String(memberId))
    expect(typeof c.sid).toBe('string')
    // Default session_max_days = 30.
    expect(c.exp - c.iat).toBe(30 * 86_400)
  })

  it('works as cookie and as Authorization: Bearer', async () => {
    expect((await me({ cookie: member.cookie })).statusCode).toBe(200)
    const res = await injectAs(t.app, { bearer: member.token }, { method: 'GET', url: '/api/me' })
    expect(res.statusCode).toBe(200)
    expect(res.json().user.username).toBe('tok-member')
  })

  it('refuses forged tokens with 401: alg none, other algorithm, wrong key, tampered, expired, no exp, no sid, foreign sub', async () => {
    const real = claims(member.token)
    const now = Math.floor(Date.now() / 1000)
    const adminId = (await t.app.db.user.findUniqueOrThrow({ where: { username: ADMIN.username } })).id
    const [h, p, s] = member.token.split('.')
    const cases: Record<string, string> = {
      'alg none': forge({ alg: 'none', typ: 'JWT' }, real, null),
      'alg none, signature kept': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.${s}`,
      'HS512 with the right key': forge({ alg: 'HS512', typ: 'JWT' }, real, SECRET, 'sha512'),
      'wrong key': forge({ alg: 'HS256', typ: 'JWT' }, real, 'another-secret-another-secret-0000'),
      'tampered payload (sub → admin)': `${h}.${b64({ ...real, sub: String(adminId) })}.${s}`,
      'tampered signature': `${h}.${p}.${s!.slice(0, -2)}${s!.endsWith('AA') ? 'BB' : 'AA'}`,
      'expired': forge({ alg: 'HS256', typ: 'JWT' }, { ...real, iat: now - 7200, exp: now - 3600 }, SECRET),
      'no exp': forge({ alg: 'HS256', typ: 'JWT' }, { sub: real.sub, sid: real.sid, iat: now }, SECRET),
      'no sid': forge({ alg: 'HS256', typ: 'JWT' }, { sub: real.sub, iat: now, exp: now + 3600 }, SECRET),
      'sid of one user, sub of another': forge({ alg: 'HS256', typ: 'JWT' }, { ...real, sub: String(adminId) }, SECRET),
      'unknown sid': forge({ alg: 'HS256', typ: 'JWT' }, { ...real, sid: 'nope' }, SECRET),
      'garbage': 'not-a-jwt',
    }
    for (const [name, token] of Object.entries(cases)) {
      const viaBearer = await me({ authorization: `Bearer ${token}` })
      expect(viaBearer.statusCode, `${name} (bearer)`).toBe(401)
      expect(viaBearer.json().code, name).toMatch(/^(UNAUTHORIZED|SESSION_EXPIRED)$/)
      const viaCookie = await me({ cookie: `cws_session=${token}` })
      expect(viaCookie.statusCode, `${name} (cookie)`).toBe(401)
      // A dead cookie is cleared.
      expect(String(viaCookie.headers['set-cookie']), name).toMatch(/^cws_session=;/)
    }
    // The control: the genuine token still works after all that.
    expect((await me({ cookie: member.cookie })).statusCode).toBe(200)
  })

  it('refuses a token signed with the right key whose exp passed on the server clock', async () => {
    const real = claims(member.token)
    const token = forge({ alg: 'HS256', typ: 'JWT' }, { ...real, exp: Math.floor(Date.now() / 1000) - 1 }, SECRET)
    expect((await me({ authorization: `Bearer ${token}` })).statusCode).toBe(401)
  })

  it('refuses a token once exp passes even after it was accepted (verified tokens are remembered only until exp)', async () => {
    let now = Date.now()
    const clocked = await buildTestApp({ auth: { jwt_secret: SECRET } }, { now: () => new Date(now) })
    try {
      const m = await createUser(clocked.app, { username: 'tok-clock' })
      const s = await loginAs(clocked.app, 'tok-clock', m.password)
      // The real session, with an exp 60 s from now (the session itself lives for days).
      const short = forge({ alg: 'HS256', typ: 'JWT' }, { ...claims(s.token), exp: Math.floor(now / 1000) + 60 }, SECRET)
      const get = () => clocked.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${short}` } })
      expect((await get()).statusCode).toBe(200)
      expect((await get()).statusCode).toBe(200)
      now += 61_000
      expect((await get()).statusCode).toBe(401)
      // The session is still alive: the login token works.
      expect((await clocked.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: s.cookie } })).statusCode).toBe(200)
    }
    finally {
      await clocked.close()
    }
  })

  it('refuses an Authorization header that is not Bearer', async () => {
    const res = await me({ authorization: `Basic ${Buffer.from('tok-member:member-pass-1234').toString('base64')}` })
    expect(res.statusCode).toBe(401)
  })
})

describe('the session cookie', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ server: { trust_proxy: true } })
  })
  afterAll(() => t.close())

  const login = (headers: Record<string, string> = {}) => t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: ADMIN.username, password: ADMIN.password }, headers })

  it('is HttpOnly, SameSite=Strict, Path=/, expires with the session, not Secure over plain HTTP; the token is not in the JSON', async () => {
    const res = await login()
    expect(res.statusCode).toBe(200)
    const raw = String(res.headers['set-cookie'])
    expect(raw).toMatch(/^cws_session=[\w-]+\.[\w-]+\.[\w-]+;/)
    expect(raw).toContain('HttpOnly')
    expect(raw).toContain('SameSite=Strict')
    expect(raw).toContain('Path=/')
    expect(raw).not.toContain('Secure')
    const cookie = res.cookies.find(c => c.name === 'cws_session')!
    const days = ((cookie.expires as Date).getTime() - Date.now()) / 86_400_000
    expect(days).toBeGreaterThan(29.9)
    expect(days).toBeLessThanOrEqual(30)
    expect(res.body).not.toContain(cookie.value)
    expect(res.body).not.toMatch(/scrypt|passwordHash/)
    expect(res.json().user).toMatchObject({ username: 'admin', role: 'admin', enabled: true })
  })

  it('is Secure when the request came over HTTPS (auto)', async () => {
    const res = await login({ 'x-forwarded-proto': 'https' })
    expect(String(res.headers['set-cookie'])).toContain('Secure')
  })

  it('is always Secure with server.cookie_secure = always', async () => {
    const t2 = await buildTestApp({ server: { cookie_secure: 'always' } })
    try {
      const res = await t2.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: ADMIN.username, password: ADMIN.password } })
      expect(String(res.headers['set-cookie'])).toContain('Secure')
    }
    finally {
      await t2.close()
    }
  })
})
