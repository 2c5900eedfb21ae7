import { describe, expect, it } from 'vitest'
import { createAggregate, createBucketer } from './stats.logic.js'

const at = (iso: string): Date => new Date(iso)

describe('createBucketer', () => {
  it('labels days and hours in the configured zone, not UTC', () => {
    const day = createBucketer('Asia/Shanghai', 'day')
    // 2024-03-01 17:30 UTC is 2024-03-02 01:30 in Shanghai (UTC+8).
    expect(day.label(at('2024-03-01T17:30:00Z'))).toBe('2024-03-02')
    expect(day.label(at('2024-03-01T15:59:59Z'))).toBe('2024-03-01')
    expect(new Date(day.startOf(at('2024-03-01T17:30:00Z'))).toISOString()).toBe('2024-03-01T16:00:00.000Z')
    const hour = createBucketer('Asia/Shanghai', 'hour')
    expect(hour.label(at('2024-03-01T17:30:00Z'))).toBe('2024-03-02 01:00')
  })

  it('lists every bucket of a range, empty ones included, with where each starts', () => {
    const day = createBucketer('UTC', 'day')
    const s = day.series(at('2024-03-01T10:00:00Z'), at('2024-03-04T00:00:00Z'))
    expect(s.map(b => b.key)).toEqual(['2024-03-01', '2024-03-02', '2024-03-03'])
    expect(new Date(s[1]!.start).toISOString()).toBe('2024-03-02T00:00:00.000Z')
  })

  it('handles half-hour zones (buckets start at :30 UTC)', () => {
    const hour = createBucketer('Asia/Kolkata', 'hour')
    const s = hour.series(at('2024-03-01T00:00:00Z'), at('2024-03-01T03:00:00Z'))
    expect(s.map(b => b.key)).toEqual(['2024-03-01 05:00', '2024-03-01 06:00', '2024-03-01 07:00', '2024-03-01 08:00'])
    expect(s.map(b => new Date(b.start).toISOString().slice(11, 16))).toEqual(['23:30', '00:30', '01:30', '02:30'])
  })

  it('has a 23-hour and a 25-hour day across daylight saving changes', () => {
    const day = createBucketer('Europe/Berlin', 'day')
    const spring = day.series(at('2024-03-30T12:00:00Z'), at('2024-04-01T12:00:00Z'))
    expect(spring.map(b => b.key)).toEqual(['2024-03-30', '2024-03-31', '2024-04-01'])
    expect(spring[2]!.start - spring[1]!.start).toBe(23 * 3_600_000)
    const autumn = day.series(at('2024-10-26T12:00:00Z'), at('2024-10-28T12:00:00Z'))
    expect(autumn[2]!.start - autumn[1]!.start).toBe(25 * 3_600_000)
    const hour = createBucketer('Europe/Berlin', 'hour')
    // 02:00–03:00 does not exist on 2024-03-31.
    const h = hour.series(at('2024-03-31T00:00:00Z'), at('2024-03-31T02:00:00Z')).map(b => b.key)
    expect(h).toEqual(['2024-03-31 01:00', '2024-03-31 03:00'])
  })
})

describe('createAggregate', () => {
  it('counts outcomes and averages only known timings', () => {
    const agg = createAggregate()
    agg.add({ outcome: 'done', queueWaitMs: 100, ttftMs: 300, charsIn: 10, charsOut: 200, tokensOut: 50 })
    agg.add({ outcome: 'stopped', queueWaitMs: 300, ttftMs: null, charsIn: 5, charsOut: 0, tokensOut: null })
    agg.add({ outcome: 'error', queueWaitMs: null, ttftMs: null, charsIn: 1, charsOut: 0, tokensOut: null })
    agg.add({ outcome: 'interrupted', queueWaitMs: null, ttftMs: 500, charsIn: 0, charsOut: 7, tokensOut: null })
    expect(agg.finish()).toEqual({ asks: 4, done: 1, stopped: 1, error: 1, other: 1, avgQueueWaitMs: 200, avgTtftMs: 400, charsIn: 16, charsOut: 207, tokensOut: 50 })
    expect(createAggregate().finish()).toMatchObject({ asks: 0, avgQueueWaitMs: null, avgTtftMs: null, tokensOut: null })
  })
})
