import type { TestApp } from './helper.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, createUser } from './helper.js'

const MIN = 60_000

function loginFrom(t: TestApp, ip: string, username: string, password: string) {
  return t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, remoteAddress: ip })
}

describe('login throttle per account (5 failures / 15 min)', () => {
  let t: TestApp
  let offset = 0
  const pw: Record<string, string> = {}
  beforeAll(async () => {
    t = await buildTestApp({}, { now: () => new Date(Date.now() + offset) })
    for (const name of ['victim', 'bystander', 'para'])
      pw[name] = (await createUser(t.app, { username: name })).password
  })
  afterAll(() => t.close())

  it('answers 429 with Retry-After after 5 failures, refuses the right password during the block, and lets it in after the window', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await loginFrom(t, '10.0.0.1', 'victim', `wrong-guess-${i}`)
      expect(res.statusCode).toBe(401)
      expect(res.json().code).toBe('INVALID_CREDENTIALS')
    }
    const blocked = await loginFrom(t, '10.0.0.1', 'victim', pw.victim!)
    expect(blocked.statusCode).toBe(429)
    expect(blocked.json().code).toBe('LOGIN_THROTTLED')
    expect(blocked.headers['set-cookie']).toBeUndefined()
    const retry = Number(blocked.headers['retry-after'])
    expect(retry).toBeGreaterThan(14 * 60)
    expect(retry).toBeLessThanOrEqual(15 * 60)
    expect(blocked.json().retryAfterSeconds).toBe(retry)

    // The block is on the account: another IP with the right password is refused too...
    expect((await loginFrom(t, '10.0.0.2', 'victim', pw.victim!)).statusCode).toBe(429)
    // ...but other accounts log in fine, from the attacker's IP and from elsewhere.
    expect((await loginFrom(t, '10.0.0.1', 'bystander', pw.bystander!)).statusCode).toBe(200)

    offset = 15 * MIN + 1000
    expect((await loginFrom(t, '10.0.0.2', 'victim', pw.victim!)).statusCode).toBe(200)
    offset = 0
  }, 60_000)

  it('does not let parallel guesses past the limit', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => loginFrom(t, '10.0.0.3', 'para', `parallel-${i}`)))
    const codes = answers.map(a => a.statusCode).sort()
    expect(codes.filter(c => c === 401)).toHaveLength(5)
    expect(codes.filter(c => c === 429)).toHaveLength(5)
  }, 60_000)

  it('spends as much time on an unknown username as on a wrong password (no user enumeration by timing)', async () => {
    const time = async (username: string) => {
      const start = performance.now()
      const res = await loginFrom(t, '10.0.0.4', username, 'some-wrong-password')
      expect(res.json().code).toBe('INVALID_CREDENTIALS')
      return performance.now() - start
    }
    await time('nobody-warmup') // the first unknown name also computes the dummy hash
    const known = await time('bystander')
    const unknown = await time('nobody-at-all')
    // Without the dummy hash an unknown name answers in a few ms against hundreds for scrypt; the
    // loose bound keeps a noisy shared machine from failing the test for nothing.
    expect(unknown / known).toBeGreaterThan(0.1)
  }, 60_000)
})

describe('login throttle per IP (4 × the account bound)', () => {
  let t: TestApp
  let zedPassword: string
  beforeAll(async () => {
    t = await buildTestApp({ auth: { login_max_failures: 2 } })
    zedPassword = (await createUser(t.app, { username: 'zed' })).password
  })
  afterAll(() => t.close())

  it('blocks an IP spraying many accounts, for every account, without affecting other IPs', async () => {
    for (let i = 0; i < 8; i++)
      expect((await loginFrom(t, '192.0.2.66', `spray${i}`, 'password-guess')).statusCode).toBe(401)
    const blocked = await loginFrom(t, '192.0.2.66', 'zed', zedPassword)
    expect(blocked.statusCode).toBe(429)
    expect(blocked.json().code).toBe('LOGIN_THROTTLED')
    expect((await loginFrom(t, '192.0.2.77', 'zed', zedPassword)).statusCode).toBe(200)
  }, 60_000)
})
