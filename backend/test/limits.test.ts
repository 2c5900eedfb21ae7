/**
 * Limits through HTTP: the admin API (read, partial update, validation, bulk apply, defaults for new
 * members) and what members see (GET /api/models, GET /api/me). Real SQLite file, injected clock.
 */
import type { TestApp, TestSession } from './helper.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, buildTestApp, createUser, injectAs, loginAs } from './helper.js'

/** The clock is injected, but session tokens expire by the real clock: stay on today's date (UTC). */
const DAY = new Date(new Date().toISOString().slice(0, 10)).getTime()
const at = (hm: string): Date => new Date(DAY + (Number(hm.slice(0, 2)) * 60 + Number(hm.slice(3, 5))) * 60_000)
const iso = (hm: string): string => at(hm).toISOString()

const CONFIG = {
  limits: { timezone: 'Asia/Shanghai' },
  upstreams: [{
    id: 'demo',
    type: 'demo',
    speed: 1_000_000,
    first_token_ms: 0,
    models: [{ key: 'gpt-4o', name: 'GPT-4o', slug: 'gpt-4o' }, { key: 'mini', name: 'Mini', slug: 'mini' }],
  }],
}

describe('limits: admin API and member visibility', () => {
  let t: TestApp
  let admin: TestSession
  let clock = at('04:00') // 12:00 in Shanghai
  const as = (s: TestSession, method: 'GET' | 'PATCH' | 'POST' | 'PUT', url: string, payload?: object) =>
    injectAs(t.app, s, { method, url, ...(payload === undefined ? {} : { payload }) })

  beforeAll(async () => {
    t = await buildTestApp(CONFIG, { now: () => clock })
    admin = await loginAs(t.app, ADMIN.username, ADMIN.password)
  })
  afterAll(() => t.close())

  it('the first admin is unlimited', async () => {
    const res = await as(admin, 'GET', `/api/admin/users/${admin.user.id}/limits`)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      enabled: true,
      validUntil: null,
      allowedModels: null,
      maxConversations: -1,
      totalAsks: -1,
      modelAsks: {},
      maxInFlight: 4,
      rateWindows: [],
      timeSlots: [],
      shareWeight: 1,
    })
  })

  it('new members start from the defaults in settings (built-in until the admin edits them)', async () => {
    const builtIn = await as(admin, 'GET', '/api/admin/limits/defaults')
    expect(builtIn.json()).toMatchObject({ allowedModels: null, totalAsks: -1, maxInFlight: 1, rateWindows: [], timeSlots: [] })

    const put = await as(admin, 'PUT', '/api/admin/limits/defaults', {
      allowedModels: ['mini'],
      totalAsks: 10,
      modelAsks: { mini: 5 },
      maxConversations: 3,
      rateWindows: [{ model: 'mini', max: 4, windowSeconds: 3600 }],
    })
    expect(put.statusCode).toBe(200)
    expect(put.json()).toMatchObject({ allowedModels: ['mini'], totalAsks: 10, modelAsks: { mini: 5 }, maxInFlight: 1, timeSlots: [] })
    expect((await as(admin, 'GET', '/api/admin/limits/defaults')).json()).toEqual(put.json())

    const created = await as(admin, 'POST', '/api/admin/users', { username: 'newbie', password: 'newbie-pass-1234' })
    expect(created.statusCode).toBe(201)
    const limits = await as(admin, 'GET', `/api/admin/users/${created.json().id}/limits`)
    expect(limits.json()).toEqual({ ...put.json(), validUntil: null, enabled: true })

    // Back to the built-in defaults for the rest of the file.
    expect((await as(admin, 'PUT', '/api/admin/limits/defaults', {})).json()).toEqual(builtIn.json())
    // Members keep the defaults they were created with.
    expect((await as(admin, 'GET', `/api/admin/users/${created.json().id}/limits`)).json()).toEqual(limits.json())
  })

  describe('with a member', () => {
    let member: TestSession
    let memberId: number
    beforeAll(async () => {
      const { user, password } = await createUser(t.app, { username: 'alice' })
      memberId = user.id
      member = await loginAs(t.app, 'alice', password)
    })

    it('a PATCH is partial: only the given fields change; modelAsks merges per model, null removes one', async () => {
      let res = await as(admin, 'PATCH', `/api/admin/users/${memberId}/limits`, { totalAsks: 7, modelAsks: { 'gpt-4o': 2, 'mini': 9 } })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ totalAsks: 7, modelAsks: { 'gpt-4o': 2, 'mini': 9 }, maxInFlight: 1, allowedModels: null })

      res = await as(admin, 'PATCH', `/api/admin/users/${memberId}/limits`, { modelAsks: { mini: null }, maxInFlight: 2, validUntil: '2026-12-31T00:00:00.000Z' })
      expect(res.json()).toMatchObject({ totalAsks: 7, modelAsks: { 'gpt-4o': 2 }, maxInFlight: 2, validUntil: '2026-12-31T00:00:00.000Z' })
      expect(res.json().modelAsks).not.toHaveProperty('mini')
      expect((await as(admin, 'GET', `/api/admin/users/${memberId}/limits`)).json()).toEqual(res.json())
    })

    it('refuses bad limits with VALIDATION_FAILED and a message naming the field; nothing changes', async () => {
      const before = (await as(admin, 'GET', `/api/admin/users/${memberId}/limits`)).json()
      const cases: Array<[object, RegExp]> = [
        [{ totalAsks: -2 }, /body\.totalAsks/],
        [{ modelAsks: { mini: -3 } }, /body\.modelAsks\.mini/],
        [{ maxConversations: -7 }, /body\.maxConversations/],
        [{ allowedModels: ['gpt-4o', 'gpt-5'] }, /body\.allowedModels\[1\]: unknown model "gpt-5"/],
        [{ modelAsks: { 'gpt-5': 1 } }, /body\.modelAsks\.gpt-5: unknown model/],
        [{ rateWindows: [{ model: 'mini', max: 3, windowSeconds: 0 }] }, /body\.rateWindows\.0\.windowSeconds/],
        [{ rateWindows: [{ model: 'nope', max: 3, windowSeconds: 60 }] }, /body\.rateWindows\[0\]\.model: unknown model/],
        [{ timeSlots: [{ start: '8am', end: '10:00' }] }, /body\.timeSlots\[0\]\.start/],
        [{ timeSlots: [{ start: '09:00', end: '09:00' }] }, /body\.timeSlots\[0\]: start and end are equal/],
        [{ timeSlots: [{ start: '22:00', end: '02:00' }, { start: '01:00', end: '05:00' }] }, /body\.timeSlots\[1\]: overlaps timeSlots\[0\]/],
        [{ totalAsks: 5, colour: 'red' }, /unknown field "colour"/],
      ]
      for (const [body, message] of cases) {
        const res = await as(admin, 'PATCH', `/api/admin/users/${memberId}/limits`, body)
        expect(res.statusCode, JSON.stringify(body)).toBe(400)
        expect(res.json().code).toBe('VALIDATION_FAILED')
        expect(res.json().message).toMatch(message)
      }
      expect((await as(admin, 'GET', `/api/admin/users/${memberId}/limits`)).json()).toEqual(before)
    })

    it('members cannot read or change limits; unknown users answer 404', async () => {
      expect((await as(member, 'GET', `/api/admin/users/${memberId}/limits`)).statusCode).toBe(403)
      expect((await as(member, 'PATCH', `/api/admin/users/${memberId}/limits`, { totalAsks: -1 })).statusCode).toBe(403)
      expect((await as(member, 'PUT', '/api/admin/limits/defaults', {})).statusCode).toBe(403)
      expect((await as(member, 'POST', '/api/admin/limits/apply', { userIds: [memberId], limits: { totalAsks: -1 } })).statusCode).toBe(403)
      expect((await as(admin, 'GET', '/api/admin/users/99999/limits')).statusCode).toBe(404)
      expect((await as(admin, 'PATCH', '/api/admin/users/99999/limits', { totalAsks: 1 })).statusCode).toBe(404)
    })

    it('bulk apply sets the template on every member given, and nothing when an id is unknown', async () => {
      const { user: bob } = await createUser(t.app, { username: 'bob' })
      const template = { totalAsks: 30, rateWindows: [{ model: 'gpt-4o', max: 10, windowSeconds: 10_800 }], timeSlots: [{ start: '08:00', end: '23:30' }] }
      const bad = await as(admin, 'POST', '/api/admin/limits/apply', { userIds: [memberId, 99999], limits: template })
      expect(bad.statusCode).toBe(404)
      expect(bad.json().message).toMatch(/99999/)
      expect((await as(admin, 'GET', `/api/admin/users/${bob.id}/limits`)).json().totalAsks).toBe(-1)

      const res = await as(admin, 'POST', '/api/admin/limits/apply', { userIds: [memberId, bob.id], limits: template })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({ updated: [memberId, bob.id] })
      for (const id of [memberId, bob.id])
        expect((await as(admin, 'GET', `/api/admin/users/${id}/limits`)).json()).toMatchObject(template)
      // The rest of alice's limits are untouched by the template.
      expect((await as(admin, 'GET', `/api/admin/users/${memberId}/limits`)).json()).toMatchObject({ maxInFlight: 2, modelAsks: { 'gpt-4o': 2 } })
    })

    it('the member sees in GET /api/models the allowed models with remaining counts, windows and why not', async () => {
      const patched = await as(admin, 'PATCH', `/api/admin/users/${memberId}/limits`, {
        allowedModels: ['gpt-4o', 'mini'],
        totalAsks: 5,
        modelAsks: { 'gpt-4o': 0, 'mini': 3 },
        rateWindows: [{ model: 'mini', max: 2, windowSeconds: 3600 }],
        timeSlots: [],
      })
      expect(patched.statusCode, patched.body).toBe(200)
      let res = await as(member, 'GET', '/api/models')
      expect(res.statusCode).toBe(200)
      const [g, m] = res.json().models
      expect(g).toMatchObject({ key: 'gpt-4o', name: 'GPT-4o', upstreamType: 'demo', isDemo: true, remaining: { total: 5, model: 0 }, available: false, reason: 'MODEL_ASKS_EXHAUSTED', nextAllowedAt: null, windows: [] })
      expect(m).toMatchObject({ key: 'mini', remaining: { total: 5, model: 3 }, available: true, reason: null, windows: [{ max: 2, windowSeconds: 3600, used: 0, nextFreeAt: null }] })

      // Only allowed models are listed.
      await as(admin, 'PATCH', `/api/admin/users/${memberId}/limits`, { allowedModels: ['mini'] })
      res = await as(member, 'GET', '/api/models')
      expect(res.json().models.map((x: { key: string }) => x.key)).toEqual(['mini'])

      // Two asks fill the window: the model says when it frees up.
      for (let i = 0; i < 2; i++) {
        const ask = await as(member, 'POST', '/api/chat', { model: 'mini', content: `question ${i}` })
        expect(ask.statusCode).toBe(200)
        expect(ask.body).toContain('event: done')
      }
      res = await as(member, 'GET', '/api/models')
      expect(res.json().models[0]).toMatchObject({
        remaining: { total: 3, model: 1 },
        available: false,
        reason: 'RATE_WINDOW_FULL',
        nextAllowedAt: iso('05:00'),
        windows: [{ used: 2, nextFreeAt: iso('05:00') }],
      })
      clock = at('05:00')
      res = await as(member, 'GET', '/api/models')
      expect(res.json().models[0]).toMatchObject({ available: true, windows: [{ used: 0 }] })
    })

    it('time slots are read in limits.timezone (Asia/Shanghai here), and the model says when the next opens', async () => {
      // 13:00 in Shanghai = 05:00 UTC; slot 22:00–02:00 Shanghai (crosses midnight).
      await as(admin, 'PATCH', `/api/admin/users/${memberId}/limits`, { timeSlots: [{ start: '22:00', end: '02:00' }] })
      let res = await as(member, 'GET', '/api/models')
      expect(res.json().models[0]).toMatchObject({ available: false, reason: 'OUTSIDE_TIME_SLOT', nextAllowedAt: iso('14:00') })
      clock = at('17:30') // 01:30 in Shanghai, inside the slot (UTC would be outside)
      res = await as(member, 'GET', '/api/models')
      expect(res.json().models[0]).toMatchObject({ available: true, reason: null })
      clock = at('18:00') // 02:00 in Shanghai: the slot just ended
      res = await as(member, 'GET', '/api/models')
      expect(res.json().models[0].reason).toBe('OUTSIDE_TIME_SLOT')
      await as(admin, 'PATCH', `/api/admin/users/${memberId}/limits`, { timeSlots: [] })
    })

    it('the member sees their limits and what remains in GET /api/me', async () => {
      await as(admin, 'PATCH', `/api/admin/users/${memberId}/limits`, { maxConversations: 4, validUntil: null })
      const res = await as(member, 'GET', '/api/me')
      expect(res.statusCode).toBe(200)
      expect(res.json().limits).toMatchObject({
        enabled: true,
        validUntil: null,
        allowedModels: ['mini'],
        totalAsks: 3,
        maxInFlight: 2,
        conversations: { used: 2, max: 4 },
        timezone: 'Asia/Shanghai',
        inTimeSlot: true,
        models: [{ key: 'mini', remaining: { total: 3, model: 1 }, available: true }],
      })
    })

    it('a disabled or expired member sees every model unavailable with the reason', async () => {
      await as(admin, 'PATCH', `/api/admin/users/${memberId}/limits`, { validUntil: clock.toISOString() })
      expect((await as(member, 'GET', '/api/models')).json().models[0].reason).toBe('ACCOUNT_EXPIRED')
      await as(admin, 'PATCH', `/api/admin/users/${memberId}/limits`, { enabled: false })
      expect((await as(member, 'GET', '/api/models')).json().models[0].reason).toBe('ACCOUNT_DISABLED')
      expect((await as(member, 'GET', '/api/me')).json().limits.enabled).toBe(false)
      await as(admin, 'PATCH', `/api/admin/users/${memberId}/limits`, { enabled: true, validUntil: null })
    })
  })
})
