import type { AskFacts, AskLimits } from './limits.logic.js'
import { describe, expect, it } from 'vitest'
import { checkAsk, evalWindows, inAnySlot, LimitsValidationError, localMinutes, nextSlotStart, parseHm, validateLimitsPatch } from './limits.logic.js'

const at = (iso: string): Date => new Date(iso)

describe('time slots', () => {
  it('parses HH:MM strictly; 24:00 only as an end', () => {
    expect(parseHm('08:30')).toBe(510)
    expect(parseHm('23:59')).toBe(1439)
    expect(parseHm('24:00')).toBeNull()
    expect(parseHm('24:00', true)).toBe(1440)
    for (const bad of ['8:30', '08:60', '25:00', '0830', '08:30:00', ''])
      expect(parseHm(bad)).toBeNull()
  })

  it('reads the clock in the configured time zone, not the server\'s', () => {
    const t = at('2026-03-10T16:30:00Z')
    expect(localMinutes(t, 'UTC')).toBe(16 * 60 + 30)
    expect(localMinutes(t, 'Asia/Shanghai')).toBe(30) // 00:30 next day
    expect(localMinutes(t, 'America/New_York')).toBe(12 * 60 + 30) // EDT (UTC-4) since 8 March
  })

  it('a slot crossing midnight holds late evening and early morning, not midday', () => {
    const slots = [{ start: '22:00', end: '02:00' }]
    expect(inAnySlot(slots, at('2026-01-01T23:15:00Z'), 'UTC')).toBe(true)
    expect(inAnySlot(slots, at('2026-01-01T01:59:59Z'), 'UTC')).toBe(true)
    expect(inAnySlot(slots, at('2026-01-01T02:00:00Z'), 'UTC')).toBe(false) // end is exclusive
    expect(inAnySlot(slots, at('2026-01-01T21:59:59Z'), 'UTC')).toBe(false)
    expect(inAnySlot(slots, at('2026-01-01T12:00:00Z'), 'UTC')).toBe(false)
  })

  it('the same instant is inside a slot in Shanghai and outside it in UTC', () => {
    const slots = [{ start: '08:00', end: '23:30' }]
    const t = at('2026-01-01T02:00:00Z') // 10:00 in Shanghai
    expect(inAnySlot(slots, t, 'Asia/Shanghai')).toBe(true)
    expect(inAnySlot(slots, t, 'UTC')).toBe(false)
    const late = at('2026-01-01T16:00:00Z') // 00:00 in Shanghai
    expect(inAnySlot(slots, late, 'Asia/Shanghai')).toBe(false)
    expect(inAnySlot(slots, late, 'UTC')).toBe(true)
  })

  it('no slots = any time', () => {
    expect(inAnySlot([], at('2026-01-01T03:00:00Z'), 'UTC')).toBe(true)
  })

  it('next slot start is the nearest start ahead, also across midnight and zones', () => {
    const slots = [{ start: '08:00', end: '12:00' }, { start: '14:00', end: '18:00' }]
    expect(nextSlotStart(slots, at('2026-01-01T12:30:00Z'), 'UTC')?.toISOString()).toBe('2026-01-01T14:00:00.000Z')
    expect(nextSlotStart(slots, at('2026-01-01T19:00:00Z'), 'UTC')?.toISOString()).toBe('2026-01-02T08:00:00.000Z')
    // 08:00 in Shanghai is 00:00 UTC
    expect(nextSlotStart(slots, at('2026-01-01T19:00:00Z'), 'Asia/Shanghai')?.toISOString()).toBe('2026-01-02T00:00:00.000Z')
  })
})

describe('rolling windows', () => {
  const w = { model: 'm', max: 2, windowSeconds: 3600 }
  it('counts asks younger than the window and says when the next one fits', () => {
    const now = at('2026-01-01T12:00:00Z')
    const asks = [at('2026-01-01T10:59:00Z'), at('2026-01-01T11:10:00Z'), at('2026-01-01T11:40:00Z')]
    const [e] = evalWindows([w], asks, now)
    expect(e!.used).toBe(2)
    expect(e!.blockedUntil?.toISOString()).toBe('2026-01-01T12:10:00.000Z')
    expect(e!.nextFreeAt?.toISOString()).toBe('2026-01-01T12:10:00.000Z')
  })
  it('an ask exactly windowSeconds old no longer counts', () => {
    const [e] = evalWindows([w], [at('2026-01-01T11:00:00Z'), at('2026-01-01T11:30:00Z')], at('2026-01-01T12:00:00Z'))
    expect(e!.used).toBe(1)
    expect(e!.blockedUntil).toBeNull()
  })
  it('with max N and more than N asks in the window, waits for the (used−N+1)-th oldest', () => {
    const asks = ['11:01', '11:02', '11:03', '11:04'].map(hm => at(`2026-01-01T${hm}:00Z`))
    const [e] = evalWindows([w], asks, at('2026-01-01T12:00:00Z'))
    expect(e!.blockedUntil?.toISOString()).toBe('2026-01-01T12:03:00.000Z')
  })
})

describe('validation', () => {
  const known = new Set(['gpt-4o', 'mini'])
  const msg = (p: Parameters<typeof validateLimitsPatch>[0]): string => {
    try {
      validateLimitsPatch(p, known, 'body')
    }
    catch (err) {
      expect(err).toBeInstanceOf(LimitsValidationError)
      return (err as Error).message
    }
    return ''
  }
  it('names the field for each kind of mistake', () => {
    expect(msg({ allowedModels: ['gpt-4o', 'gpt-5'] })).toMatch(/^body\.allowedModels\[1\]: unknown model "gpt-5"/)
    expect(msg({ modelAsks: { 'gpt-5': 3 } })).toMatch(/^body\.modelAsks\.gpt-5: unknown model/)
    expect(msg({ modelAsks: { mini: -2 } })).toMatch(/^body\.modelAsks\.mini: must be -1/)
    expect(msg({ totalAsks: -5 })).toMatch(/^body\.totalAsks: must be -1/)
    expect(msg({ rateWindows: [{ model: 'mini', max: 3, windowSeconds: 0 }] })).toMatch(/^body\.rateWindows\[0\]\.windowSeconds: a window must be at least 1 second/)
    expect(msg({ rateWindows: [{ model: 'x', max: 3, windowSeconds: 60 }] })).toMatch(/^body\.rateWindows\[0\]\.model: unknown model/)
    expect(msg({ timeSlots: [{ start: '8:00', end: '10:00' }] })).toMatch(/^body\.timeSlots\[0\]\.start: "8:00" is not a time of day/)
    expect(msg({ timeSlots: [{ start: '08:00', end: '24:01' }] })).toMatch(/^body\.timeSlots\[0\]\.end:/)
    expect(msg({ timeSlots: [{ start: '08:00', end: '08:00' }] })).toMatch(/^body\.timeSlots\[0\]: start and end are equal/)
    expect(msg({ timeSlots: [{ start: '08:00', end: '12:00' }, { start: '11:00', end: '13:00' }] })).toMatch(/^body\.timeSlots\[1\]: overlaps timeSlots\[0\]/)
    // A slot across midnight overlapping an early-morning one.
    expect(msg({ timeSlots: [{ start: '01:00', end: '03:00' }, { start: '22:00', end: '02:00' }] })).toMatch(/^body\.timeSlots\[1\]: overlaps timeSlots\[0\]/)
  })
  it('accepts touching slots, 24:00 ends and midnight crossings that do not overlap', () => {
    expect(msg({ timeSlots: [{ start: '08:00', end: '12:00' }, { start: '12:00', end: '24:00' }] })).toBe('')
    expect(msg({ timeSlots: [{ start: '22:00', end: '02:00' }, { start: '02:00', end: '06:00' }] })).toBe('')
    expect(msg({ modelAsks: { 'mini': null, 'gpt-4o': -1 }, totalAsks: 0 })).toBe('')
  })
})

describe('the check order', () => {
  const now = at('2026-01-01T12:00:00Z')
  const all: AskLimits = {
    userEnabled: true,
    limits: {
      enabled: false,
      validUntil: at('2025-01-01T00:00:00Z'),
      allowedModels: ['mini'],
      timeSlots: [{ start: '00:00', end: '01:00' }],
      totalAsks: 0,
      maxConversations: 0,
      rateWindows: [{ model: 'gpt-4o', max: 1, windowSeconds: 3600 }],
    },
    modelAsks: 0,
  }
  const facts: AskFacts = { now, timezone: 'UTC', model: 'gpt-4o', newConversation: true, conversations: 5, windowAsks: [at('2026-01-01T11:30:00Z')] }

  it('reports the first failing check; lifting each reveals the next, in the documented order', () => {
    const l = structuredClone(all)
    const codes: string[] = []
    const lift = [
      () => { l.limits.enabled = true },
      () => { l.limits.validUntil = null },
      () => { l.limits.allowedModels = null },
      () => { l.limits.timeSlots = [] },
      () => { l.limits.totalAsks = -1 },
      () => { l.modelAsks = 5 },
      () => { l.limits.rateWindows = [] },
      () => { l.limits.maxConversations = -1 },
    ]
    for (const step of lift) {
      codes.push(checkAsk(l, facts)?.code ?? 'OK')
      step()
    }
    codes.push(checkAsk(l, facts)?.code ?? 'OK')
    expect(codes).toEqual(['ACCOUNT_DISABLED', 'ACCOUNT_EXPIRED', 'MODEL_NOT_ALLOWED', 'OUTSIDE_TIME_SLOT', 'TOTAL_ASKS_EXHAUSTED', 'MODEL_ASKS_EXHAUSTED', 'RATE_WINDOW_FULL', 'MAX_CONVERSATIONS', 'OK'])
  })

  it('a disabled user account counts as disabled too; MAX_CONVERSATIONS only for a new conversation', () => {
    const ok: AskLimits = { userEnabled: false, limits: { ...all.limits, enabled: true, validUntil: null, allowedModels: null, timeSlots: [], totalAsks: -1, rateWindows: [], maxConversations: 1 }, modelAsks: -1 }
    expect(checkAsk(ok, facts)?.code).toBe('ACCOUNT_DISABLED')
    ok.userEnabled = true
    expect(checkAsk(ok, facts)?.code).toBe('MAX_CONVERSATIONS')
    expect(checkAsk(ok, { ...facts, newConversation: false })).toBeNull()
  })

  it('rATE_WINDOW_FULL carries when the next ask fits; validUntil is inclusive of its instant', () => {
    const l: AskLimits = { userEnabled: true, limits: { ...all.limits, enabled: true, validUntil: now, allowedModels: null, timeSlots: [], totalAsks: -1, maxConversations: -1 }, modelAsks: -1 }
    expect(checkAsk(l, facts)?.code).toBe('ACCOUNT_EXPIRED')
    l.limits.validUntil = new Date(now.getTime() + 1)
    const f = checkAsk(l, facts)
    expect(f?.code).toBe('RATE_WINDOW_FULL')
    expect(f?.nextAllowedAt?.toISOString()).toBe('2026-01-01T12:30:00.000Z')
  })
})
