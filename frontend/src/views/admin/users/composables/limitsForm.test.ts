import type { Limits } from '@cws/backend/contracts'
import { describe, expect, it } from 'vitest'
import { fieldOfError, generatePassword, slotsOverlap, toForm, toPatch, windowFromSeconds } from './limitsForm'

const base: Limits = {
  enabled: true,
  validUntil: null,
  allowedModels: null,
  maxConversations: -1,
  totalAsks: -1,
  modelAsks: { 'gpt-4o': 40 },
  maxInFlight: 1,
  shareWeight: 1,
  rateWindows: [{ model: 'gpt-4o', max: 40, windowSeconds: 10_800 }],
  timeSlots: [{ start: '22:00', end: '24:00' }],
}
const models = ['gpt-4o', 'mini']

describe('limits form', () => {
  it('round-trips the wire shape', () => {
    const f = toForm(base, models)
    expect(f.modelAsks).toEqual([{ model: 'gpt-4o', mode: 'count', count: 40 }, { model: 'mini', mode: 'default', count: 0 }])
    expect(f.rateWindows).toEqual([{ model: 'gpt-4o', max: 40, amount: 3, unit: 'hours' }])
    expect(f.timeSlots).toEqual([{ start: '22:00', end: '00:00' }])
    expect(toPatch(f)).toEqual({ ...base, modelAsks: { 'gpt-4o': 40 }, timeSlots: [{ start: '22:00', end: '00:00' }] })
  })

  it('sends only what changed, and per-model counts only for models changed', () => {
    const original = toForm(base, models)
    const f = toForm(base, models)
    expect(toPatch(f, { original })).toEqual({})
    f.modelAsks[1] = { model: 'mini', mode: 'count', count: 5 }
    f.totalAsksUnlimited = false
    f.totalAsks = 12
    f.allModels = false
    f.allowedModels = ['mini']
    f.validUntil = Date.parse('2030-01-02T03:04:00Z')
    expect(toPatch(f, { original })).toEqual({ modelAsks: { mini: 5 }, totalAsks: 12, allowedModels: ['mini'], validUntil: '2030-01-02T03:04:00.000Z' })
    f.modelAsks[0] = { model: 'gpt-4o', mode: 'default', count: 0 }
    expect(toPatch(f, { original }).modelAsks).toEqual({ 'gpt-4o': null, 'mini': 5 })
  })

  it('a bulk template carries exactly the chosen fields', () => {
    const f = toForm(base, models)
    f.maxInFlight = 3
    expect(toPatch(f, { only: ['maxInFlight', 'enabled'] })).toEqual({ maxInFlight: 3, enabled: true })
    // The share weight is sent only when changed, as every other field.
    const original = toForm(base, ['gpt-4o'])
    const weighted = toForm(base, ['gpt-4o'])
    weighted.shareWeight = 3
    expect(toPatch(weighted, { original })).toEqual({ shareWeight: 3 })
    expect(toPatch(original, { original })).toEqual({})
  })

  it('defaults have no further default: missing models are unlimited, and none is sent as null', () => {
    const f = toForm({ ...base, modelAsks: {} }, models, true)
    expect(f.modelAsks.map(r => r.mode)).toEqual(['unlimited', 'unlimited'])
    expect(toPatch(f).modelAsks).toEqual({ 'gpt-4o': -1, 'mini': -1 })
  })

  it('picks a readable unit for windows', () => {
    expect(windowFromSeconds(86_400 * 2)).toEqual({ amount: 2, unit: 'days' })
    expect(windowFromSeconds(5400)).toEqual({ amount: 90, unit: 'minutes' })
  })

  it('finds the section a server validation message names', () => {
    expect(fieldOfError('body.timeSlots[1]: overlaps timeSlots[0]')).toBe('timeSlots')
    expect(fieldOfError('body.limits.modelAsks.gpt-4o: unknown model')).toBe('modelAsks')
    expect(fieldOfError('body/totalAsks must be >= -1')).toBe('totalAsks')
    expect(fieldOfError('something else')).toBeNull()
  })

  it('detects overlapping slots, across midnight too', () => {
    expect(slotsOverlap({ start: '08:00', end: '12:00' }, { start: '11:00', end: '13:00' })).toBe(true)
    expect(slotsOverlap({ start: '08:00', end: '12:00' }, { start: '12:00', end: '13:00' })).toBe(false)
    expect(slotsOverlap({ start: '22:00', end: '02:00' }, { start: '01:00', end: '03:00' })).toBe(true)
    expect(slotsOverlap({ start: '22:00', end: '02:00' }, { start: '02:00', end: '22:00' })).toBe(false)
  })

  it('generates strong passwords', () => {
    const a = generatePassword()
    expect(a).toMatch(/^[A-Z2-9]{16}$/i)
    expect(generatePassword()).not.toBe(a)
  })
})
