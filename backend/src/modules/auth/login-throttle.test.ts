import { describe, expect, it } from 'vitest'
import { LoginThrottle } from './login-throttle.js'

const MIN = 60_000

describe('login throttle', () => {
  it('locks one account for one source after maxFailures within the window, until the oldest failure leaves it', () => {
    const th = new LoginThrottle({ maxFailures: 5, windowMs: 15 * MIN })
    for (let i = 0; i < 5; i++)
      expect(th.begin('alice', '10.0.0.1', i * MIN).blocked).toBe(false)
    const v = th.check('alice', '10.0.0.1', 5 * MIN)
    expect(v.blocked).toBe(true)
    // The first failure was at t=0: one more attempt is allowed at t=15min.
    expect(v.retryAfterSeconds).toBe(10 * 60)
    expect(th.check('alice', '10.0.0.1', 15 * MIN - 1).blocked).toBe(true)
    expect(th.check('alice', '10.0.0.1', 15 * MIN).blocked).toBe(false)
  })

  it('never locks the account for other sources: they are only slowed, the delay doubling up to its cap', () => {
    const th = new LoginThrottle({ maxFailures: 5, windowMs: 15 * MIN, slowdownStepMs: 250, slowdownMaxMs: 3000 })
    const delays: number[] = []
    for (let i = 0; i < 12; i++) {
      const v = th.begin('admin', `10.0.1.${i}`, i)
      expect(v.blocked).toBe(false)
      delays.push(v.delayMs)
    }
    expect(delays).toEqual([0, 0, 0, 0, 0, 250, 500, 1000, 2000, 3000, 3000, 3000])
    expect(th.check('admin', '10.9.9.9', 20)).toEqual({ blocked: false, retryAfterSeconds: 0, delayMs: 3000 })
  })

  it('slows an IP spraying many accounts, never locks it (NAT, a proxy)', () => {
    const th = new LoginThrottle({ maxFailures: 5, windowMs: 15 * MIN })
    for (let i = 0; i < 20; i++)
      expect(th.begin(`user${i}`, '6.6.6.6', i).blocked).toBe(false)
    const v = th.check('admin', '6.6.6.6', 30)
    expect(v.blocked).toBe(false)
    expect(v.delayMs).toBe(3000)
    expect(th.check('admin', '7.7.7.7', 30).delayMs).toBe(0)
  })

  it('exempts a known device from others\' failures, and counts its own per device', () => {
    const th = new LoginThrottle({ maxFailures: 3, windowMs: 10 * MIN })
    for (let i = 0; i < 50; i++) th.begin('admin', `10.0.${i}.1`, i)
    for (let i = 0; i < 20; i++) th.begin('admin', '192.0.2.1', 100 + i)
    const device = { ip: '192.0.2.1', device: 'dev-A' }
    expect(th.check('admin', device, 200)).toEqual({ blocked: false, retryAfterSeconds: 0, delayMs: 0 })
    for (let i = 0; i < 3; i++) th.begin('admin', device, 300)
    expect(th.check('admin', device, 301).blocked).toBe(true)
    expect(th.check('admin', { ip: '192.0.2.1', device: 'dev-B' }, 301).blocked).toBe(false)
  })

  it('does not count attempts refused while locked (hammering does not extend the lock)', () => {
    const th = new LoginThrottle({ maxFailures: 3, windowMs: 10 * MIN })
    for (let i = 0; i < 3; i++) th.begin('bob', '1.1.1.1', 0)
    for (let i = 0; i < 50; i++) expect(th.begin('bob', '1.1.1.1', 5 * MIN).blocked).toBe(true)
    expect(th.check('bob', '1.1.1.1', 10 * MIN).blocked).toBe(false)
  })

  it('on success clears that source\'s failures and takes back the attempt, keeping the others\'', () => {
    const th = new LoginThrottle({ maxFailures: 2, windowMs: 15 * MIN, slowdownStepMs: 100 })
    th.begin('dave', '9.9.9.1', 1)
    th.begin('dave', '9.9.9.2', 2)
    th.begin('dave', '1.2.3.4', 3)
    th.succeed('dave', '1.2.3.4', 3)
    expect(th.check('dave', '1.2.3.4', 4)).toEqual({ blocked: false, retryAfterSeconds: 0, delayMs: 100 })
  })

  it('counts attempts when they start, so parallel guesses cannot exceed the lock', () => {
    const th = new LoginThrottle({ maxFailures: 5, windowMs: 15 * MIN })
    const verdicts = Array.from({ length: 20 }, () => th.begin('eve', '5.5.5.5', 100))
    expect(verdicts.filter(v => !v.blocked)).toHaveLength(5)
  })

  it('holds a bounded number of keys and hands every change to the store', async () => {
    const saved = new Map<string, number[]>()
    const th = new LoginThrottle({
      maxFailures: 5,
      windowMs: 15 * MIN,
      maxKeys: 100,
      store: { save: async (changes) => {
        for (const [k, v] of changes) v === null ? saved.delete(k) : saved.set(k, v)
      } },
    })
    for (let i = 0; i < 1000; i++) th.begin(`u${i}`, `10.0.${i >> 8}.${i & 255}`, 10 + i)
    await th.saved()
    expect(th.size).toBe(100)
    expect(saved.size).toBe(100)
    const again = new LoginThrottle({ maxFailures: 1, windowMs: 15 * MIN })
    again.load([...saved].map(([key, times]) => ({ key, times })), 2000)
    expect(again.check('u999', '10.0.3.231', 2000).blocked).toBe(true)
    expect(again.check('u0', '10.0.0.0', 2000).blocked).toBe(false)
  })
})
