import { describe, expect, it } from 'vitest'
import { LoginThrottle } from './login-throttle.js'

const MIN = 60_000

describe('login throttle', () => {
  it('blocks an account after maxFailures within the window, until the oldest failure leaves it', () => {
    const th = new LoginThrottle({ maxFailures: 5, windowMs: 15 * MIN })
    for (let i = 0; i < 5; i++) {
      expect(th.begin('alice', '10.0.0.1', i * MIN).blocked).toBe(false)
    }
    const v = th.check('alice', '10.0.0.2', 5 * MIN)
    expect(v).toMatchObject({ blocked: true, scope: 'account' })
    // The first failure was at t=0: one more attempt is allowed at t=15min.
    expect(v.retryAfterSeconds).toBe(10 * 60)
    expect(th.check('alice', '10.0.0.2', 15 * MIN - 1).blocked).toBe(true)
    expect(th.check('alice', '10.0.0.2', 15 * MIN).blocked).toBe(false)
  })

  it('does not count attempts refused while blocked (hammering does not extend the block)', () => {
    const th = new LoginThrottle({ maxFailures: 3, windowMs: 10 * MIN })
    for (let i = 0; i < 3; i++) th.begin('bob', '1.1.1.1', 0)
    for (let i = 0; i < 50; i++) expect(th.begin('bob', '1.1.1.1', 5 * MIN).blocked).toBe(true)
    expect(th.check('bob', '1.1.1.1', 10 * MIN).blocked).toBe(false)
  })

  it('leaves other accounts alone, from the same IP or another one', () => {
    const th = new LoginThrottle({ maxFailures: 5, windowMs: 15 * MIN })
    for (let i = 0; i < 5; i++) th.begin('victim', '6.6.6.6', 0)
    expect(th.check('victim', '6.6.6.6', 1).blocked).toBe(true)
    expect(th.check('carol', '6.6.6.6', 1).blocked).toBe(false)
    expect(th.check('carol', '7.7.7.7', 1).blocked).toBe(false)
  })

  it('blocks an IP after ipFactor × maxFailures across many accounts, only that IP', () => {
    const th = new LoginThrottle({ maxFailures: 2, windowMs: 15 * MIN, ipFactor: 4 })
    for (let i = 0; i < 8; i++) expect(th.begin(`user${i}`, '6.6.6.6', i).blocked).toBe(false)
    expect(th.check('fresh', '6.6.6.6', 10)).toMatchObject({ blocked: true, scope: 'ip' })
    expect(th.check('fresh', '7.7.7.7', 10).blocked).toBe(false)
  })

  it('takes back the attempt on success and clears the account, but not the IP\'s earlier failures', () => {
    const th = new LoginThrottle({ maxFailures: 2, windowMs: 15 * MIN, ipFactor: 2 })
    th.begin('dave', '1.2.3.4', 1)
    th.begin('mallory', '1.2.3.4', 2)
    th.begin('dave', '1.2.3.4', 3)
    th.succeed('dave', '1.2.3.4', 3)
    expect(th.check('dave', '9.9.9.9', 4).blocked).toBe(false)
    // IP holds failures at t=1 and t=2 (the success at t=3 was taken back): 2 < 4, not blocked...
    expect(th.check('x', '1.2.3.4', 4).blocked).toBe(false)
    th.begin('y', '1.2.3.4', 5)
    th.begin('z', '1.2.3.4', 6)
    // ...and two more failures reach 4.
    expect(th.check('x', '1.2.3.4', 7)).toMatchObject({ blocked: true, scope: 'ip' })
  })

  it('counts attempts when they start, so parallel guesses cannot exceed the limit', () => {
    const th = new LoginThrottle({ maxFailures: 5, windowMs: 15 * MIN })
    const verdicts = Array.from({ length: 20 }, () => th.begin('eve', '5.5.5.5', 100))
    expect(verdicts.filter(v => !v.blocked)).toHaveLength(5)
  })

  it('holds a bounded number of keys: the least recently touched are forgotten, the recent kept', () => {
    const th = new LoginThrottle({ maxFailures: 5, windowMs: 15 * MIN, ipFactor: 1000, maxKeys: 100 })
    for (let i = 0; i < 5; i++) th.begin('victim', '9.9.9.9', i)
    expect(th.check('victim', '9.9.9.9', 10).blocked).toBe(true)
    for (let i = 0; i < 1000; i++) th.begin(`u${i}`, `10.0.${i >> 8}.${i & 255}`, 10 + i)
    // 'victim' was pushed out by a thousand newer keys: memory stays bounded.
    expect(th.check('victim', '9.9.9.9', 2000).blocked).toBe(false)
    // The newest keys are still counted: four more failures block u999.
    for (let i = 0; i < 4; i++) th.begin('u999', '10.0.3.231', 2000 + i)
    expect(th.check('u999', '1.1.1.1', 2010)).toMatchObject({ blocked: true, scope: 'account' })
  })
})
